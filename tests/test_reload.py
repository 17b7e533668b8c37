"""api/reload.py and POST /v1/admin/reload: a running service reloads its rulebooks without a
restart, swaps them atomically, and keeps serving the last good set (saying why) when the new
set is broken; with ``discretion serve --workers 2`` both workers converge, after the endpoint
and after SIGHUP."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import signal
import sys
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Principal
from api.main import create_app
from api.settings import Settings
from discretion.rulebooks.tree import SHIPPED

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks.concurrency: the live-server helper (python3 -m pytest has it already)
    sys.path.insert(0, str(ROOT))

from benchmarks.concurrency import LiveServer  # noqa: E402

EDITION = Path("yunnan") / "2023.yaml"
VIOLATION = Path("law") / "violations" / "water_over_standard.yaml"
CASE = {
    "violation": "water_over_standard",
    "facts": {"exceedance_ratio": 0.5},
    "circumstances": ["confessed"],
    "violation_date": "2025-03-01",
    "decision_date": "2025-09-01",
}


def touch(tree: Path, rel: Path, note: str) -> str:
    """A harmless change (a YAML comment): the set loads as before, with a new hash. Returns the file's sha256."""
    p = tree / rel
    p.write_text(p.read_text(encoding="utf-8") + f"\n# {note}\n", encoding="utf-8")
    return hashlib.sha256(p.read_bytes()).hexdigest()


def break_file(tree: Path) -> int:
    """An unknown key in a violation file (the whole set is refused); returns its 1-based line."""
    p = tree / VIOLATION
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines.insert(title + 1, "bogus_key: 1\n")
    p.write_text("".join(lines), encoding="utf-8")
    return title + 2


def mend_file(tree: Path) -> None:
    p = tree / VIOLATION
    p.write_text(p.read_text(encoding="utf-8").replace("bogus_key: 1\n", ""), encoding="utf-8")


def as_role(app: FastAPI, role: str) -> Callable[..., Any]:
    """The app behind a caller of ``role`` (what api/auth.py sets for a token's owner)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = Principal(name=f"a-{role}", role=role, via="token")
        await app(scope, receive, send)

    return wrapped


# --- in process -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reload") / "rulebooks"
    shutil.copytree(SHIPPED, root)
    return root


@pytest.fixture(scope="module")
def reload_app(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    db = tmp_path_factory.mktemp("reload-db") / "t.db"
    return create_app(Settings(database_url=f"sqlite:///{db}", rulebooks=tree))


@pytest.fixture(scope="module")
def rc(reload_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(reload_app, raise_server_exceptions=False) as c:
        yield c


def test_reload_of_unchanged_files_answers_unchanged_and_keeps_the_state(rc: TestClient, reload_app: FastAPI) -> None:
    """POST /v1/admin/reload with the files as loaded answers 200 "unchanged" and keeps the very same State."""
    before = reload_app.state.discretion
    r = rc.post("/v1/admin/reload")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "unchanged"
    assert reload_app.state.discretion is before
    assert r.json()["rulebook_set"] == before.rulebook_set != ""


def test_a_good_change_replaces_the_whole_state_and_new_results_carry_the_new_edition(
    rc: TestClient, reload_app: FastAPI, tree: Path
) -> None:
    """A valid change is loaded, compiled and swapped in as a new State object (the old one untouched);
    the next assessment names the changed edition file's sha256; healthz reports the new set and generation."""
    old = reload_app.state.discretion
    old_rulebooks, old_engine = old.rulebooks, old.engine
    new_sha = touch(tree, EDITION, "reload test: a new revision")
    r = rc.post("/v1/admin/reload")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "reloaded" and body["generation"] == old.generation + 1
    edition = next(e for e in body["editions"] if e["key"] == "yunnan@2023")
    assert edition["sha256"] == new_sha
    new = reload_app.state.discretion
    assert new is not old and new.rulebook_set == body["rulebook_set"] != old.rulebook_set
    assert old.rulebooks is old_rulebooks and old.engine is old_engine  # replaced, never mutated
    assert new.store is old.store and new.settings is old.settings
    a = rc.post("/v1/assessments", json=CASE)
    assert a.status_code == 201, a.text
    assert a.json()["rulebook"]["sha256"] == new_sha
    h = rc.get("/healthz", params={"detail": "true"}).json()
    assert h["rulebooks"]["rulebook_set"] == body["rulebook_set"] and h["rulebooks"]["generation"] == body["generation"]
    assert h["reload"]["last"]["ok"] is True


def test_a_broken_set_is_refused_with_file_and_line_and_the_last_good_set_keeps_serving(
    rc: TestClient, reload_app: FastAPI, tree: Path
) -> None:
    """A syntax error: 422 rulebook_invalid naming file:line in the documented error shape; the State is
    unchanged, assessments still answer with the last good set, and healthz says why."""
    good = reload_app.state.discretion
    line = break_file(tree)
    try:
        r = rc.post("/v1/admin/reload")
        assert r.status_code == 422, r.text
        body = r.json()
        assert set(body) == {"code", "message", "field", "errors"}
        assert body["code"] == "rulebook_invalid" and "继续使用原规则集" in body["message"]
        where = f"rulebooks/{VIOLATION.as_posix()}:{line}"
        assert body["field"] == where, body
        assert any(e["field"] == where and "bogus_key" in e["message"] for e in body["errors"]), body["errors"]
        assert reload_app.state.discretion is good
        a = rc.post("/v1/assessments", json=CASE)
        assert a.status_code == 201 and a.json()["fine"]["recommended"] > 0
        last = rc.get("/healthz?detail=true").json()["reload"]["last"]
        assert last["ok"] is False and any(i["field"] == where for i in last["issues"])
    finally:
        mend_file(tree)


def test_an_edition_with_a_forged_approval_is_refused_on_reload_and_at_start(
    rc: TestClient, reload_app: FastAPI, tree: Path, tmp_path: Path
) -> None:
    """An approval re-signed with a key nobody registered: reload answers 422 naming the edition and
    keeps serving the last good set (as for any broken set); a service started on those files
    refuses to start."""
    import datetime as dt

    from discretion.errors import RulebookError
    from discretion.rulebooks import approval, loading, signing
    from discretion.rulebooks.models import BenchmarkEdition

    good = reload_app.state.discretion
    path = tree / EDITION
    original = path.read_bytes()
    e = loading.validate(loading.read(path), BenchmarkEdition)
    assert e.approval is not None
    forged = signing.sign(signing.new_key(), "yunnan@2023", e.approval, dt.datetime.now(dt.UTC))
    path.write_text(approval.rewrite(original.decode("utf-8"), "published", forged), encoding="utf-8")
    try:
        r = rc.post("/v1/admin/reload")
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "rulebook_invalid" and body["field"].startswith(f"rulebooks/{EDITION.as_posix()}:")
        assert any("yunnan@2023" in x["message"] and "不是审核人" in x["message"] for x in body["errors"]), body
        assert reload_app.state.discretion is good
        assert rc.post("/v1/assessments", json=CASE).status_code == 201
        with pytest.raises(RulebookError) as refused:
            create_app(Settings(database_url=f"sqlite:///{tmp_path / 'start.db'}", rulebooks=tree))
        assert "yunnan@2023" in str(refused.value)
    finally:
        path.write_bytes(original)


def test_only_an_admin_may_reload(reload_app: FastAPI) -> None:
    """A handler or reviewer gets 403 forbidden (documented error shape); an admin gets 200."""
    for role, status in (("handler", 403), ("reviewer", 403), ("admin", 200)):
        with TestClient(as_role(reload_app, role), raise_server_exceptions=False) as c:
            r = c.post("/v1/admin/reload")
        assert r.status_code == status, (role, r.text)
        if status == 403:
            assert r.json()["code"] == "forbidden" and set(r.json()) == {"code", "message", "field", "errors"}


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_replaced_engines_are_released_and_reloads_do_not_grow_memory(rc: TestClient, reload_app: FastAPI, tree: Path) -> None:
    """After a reload the old engine is freed (its durable_rules rulesets deleted from the C core): eight
    reloads, each with all 200 rulesets registered, grow resident memory by less than 20 MiB from the
    third on (leaked rulesets cost about 70 MiB a reload; a frozen, uncollected durable host about 10)."""
    sizes = []
    for i in range(8):
        s = reload_app.state.discretion
        s.engine.matcher.prepare(s.engine.compiled.rulesets.values())  # every ruleset in the C core
        old = weakref.ref(s.engine)
        released = s.engine.matcher._release  # the adapter's finalizer: runs when the matcher is dropped
        del s
        touch(tree, EDITION, f"reload {i}")
        r = rc.post("/v1/admin/reload")
        assert r.status_code == 200 and r.json()["status"] == "reloaded", r.text
        end = time.monotonic() + 5  # the app's thread drops its last references just after answering
        while (old() is not None or released.alive) and time.monotonic() < end:
            gc.collect()
            time.sleep(0.05)
        assert old() is None, "the replaced engine is still referenced"
        assert not released.alive, "the replaced matcher's rulesets were not deleted"
        sizes.append(rss_mib())
    # the peak of the last four reloads against the peak of the first four: resident memory may
    # alternate between two levels (the allocator keeping one generation's arenas), which is no growth
    growth = max(sizes[4:]) - max(sizes[:4])
    print(f"\nRSS over reloads (MiB): {[round(x, 1) for x in sizes]}; growth of the later peak: {growth:.1f} MiB")
    assert growth < 20, sizes


# --- a real server -------------------------------------------------------------------------------


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if check():
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def sets(server: LiveServer) -> dict[int, str]:
    return {pid: h["rulebooks"]["rulebook_set"] for pid, h in server.worker_health().items()}


def post_case(server: LiveServer) -> dict[str, Any]:
    status, raw = server.request("POST", "/v1/assessments", json.dumps(CASE).encode())
    assert status == 201, raw
    return json.loads(raw)  # type: ignore[no-any-return]


def test_both_workers_follow_the_endpoint_and_sighup_and_keep_the_last_good_set(tmp_path: Path) -> None:
    """`discretion serve --workers 2`: a reload through the endpoint reaches both workers; a broken set
    (endpoint, then SIGHUP to the supervisor) leaves both on the last good set, with the reason in
    healthz and the log; a mended set after SIGHUP reaches both; no worker is ever restarted."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, tree)
    with LiveServer(workers=2, rulebooks=tree) as server:
        pids = server.children()
        assert len(pids) == 2
        s0 = set(sets(server).values())
        assert len(s0) == 1

        # 1. the endpoint: the answering worker swaps, the other follows
        sha1 = touch(tree, EDITION, "first revision")
        status, raw = server.request("POST", "/v1/admin/reload")
        assert status == 200, raw
        s1 = json.loads(raw)["rulebook_set"]
        assert {s1} != s0
        took = wait_for(lambda: set(sets(server).values()) == {s1}, 15, "both workers on the new set")
        print(f"\nthe second worker followed the endpoint's reload within {took:.2f} s")
        assert all(post_case(server)["rulebook"]["sha256"] == sha1 for _ in range(6))

        # 2. a broken set through the endpoint: 422, nothing changes anywhere
        line = break_file(tree)
        status, raw = server.request("POST", "/v1/admin/reload")
        assert status == 422, raw
        assert json.loads(raw)["field"] == f"rulebooks/{VIOLATION.as_posix()}:{line}"
        time.sleep(1.5)  # three polls
        assert set(sets(server).values()) == {s1}

        # 3. SIGHUP to the supervisor with the set still broken: both try, both refuse, both say why
        server.signal(signal.SIGHUP)
        wait_for(lambda: all((h["reload"]["last"] or {}).get("trigger") == "generation" and not h["reload"]["last"]["ok"]
                             for h in server.worker_health().values()), 20, "both workers refused the broken set")
        assert set(sets(server).values()) == {s1}
        assert all(post_case(server)["rulebook"]["sha256"] == sha1 for _ in range(6))
        assert f"water_over_standard.yaml:{line}" in server.output()

        # 4. mended, SIGHUP again: both converge on the new set
        mend_file(tree)
        sha2 = touch(tree, EDITION, "second revision")
        server.signal(signal.SIGHUP)
        wait_for(lambda: len(set(sets(server).values()) - {s1}) == 1 and len(set(sets(server).values())) == 1, 20,
                 "both workers on the mended set")
        assert all(post_case(server)["rulebook"]["sha256"] == sha2 for _ in range(6))
        assert server.alive() and server.children() == pids, "a worker was restarted"


def test_sighup_reloads_a_single_process_server_instead_of_ending_it(tmp_path: Path) -> None:
    """`discretion serve` (one process): SIGHUP (whose default action ends a process) reloads the set in place."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, tree)
    with LiveServer(workers=1, rulebooks=tree) as server:
        before = server.health()["rulebooks"]["rulebook_set"]
        sha = touch(tree, EDITION, "revision")
        server.signal(signal.SIGHUP)
        wait_for(lambda: server.health()["rulebooks"]["rulebook_set"] != before, 20, "the new set after SIGHUP")
        assert server.alive()
        assert post_case(server)["rulebook"]["sha256"] == sha


def respawned(server: LiveServer, killed: int, before: list[int]) -> int:
    """SIGKILL worker ``killed``; returns the pid of the worker the supervisor starts in its place, once it answers."""
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: len(server.children()) == len(before) and killed not in server.children(), 30, "a new worker")
    (new,) = set(server.children()) - set(before)
    wait_for(lambda: new in sets(server), 30, "the new worker answering")
    return new


def test_a_worker_restarted_while_the_files_are_broken_serves_the_last_good_set(tmp_path: Path) -> None:
    """`discretion serve --workers 2`: a worker killed (SIGKILL) after a reload was announced, while a
    rulebook file is broken, is restarted on the last good set (the start-up set after a refused
    SIGHUP; the reloaded set after a good reload), with one Chinese warning naming file:line and its
    refused attempt in healthz, instead of failing at every restart; both workers answer with that set."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, tree)
    with LiveServer(workers=2, rulebooks=tree) as server:
        s0 = set(sets(server).values())
        assert len(s0) == 1

        # 1. broken, SIGHUP: every worker refuses and keeps the start-up set; one is killed
        line = break_file(tree)
        where = f"rulebooks/{VIOLATION.as_posix()}:{line}"
        server.signal(signal.SIGHUP)
        wait_for(lambda: all((h["reload"]["last"] or {}).get("trigger") == "generation"
                             for h in server.worker_health().values()), 20, "both workers refused the broken set")
        pids = server.children()
        new = respawned(server, pids[0], pids)
        health = server.worker_health()
        assert set(sets(server).values()) == s0, "the restarted worker serves the start-up set"
        last = health[new]["reload"]["last"]
        assert (last["trigger"], last["ok"]) == ("restart", False) and last["issues"][0]["field"] == where, last

        # 2. mended and reloaded (a new set), broken again: a killed worker comes back on the reloaded set
        mend_file(tree)
        sha1 = touch(tree, EDITION, "revision")
        status, raw = server.request("POST", "/v1/admin/reload")
        assert status == 200, raw
        s1 = json.loads(raw)["rulebook_set"]
        wait_for(lambda: set(sets(server).values()) == {s1}, 15, "both workers on the reloaded set")
        line = break_file(tree)
        pids = server.children()
        new = respawned(server, pids[1], pids)
        assert set(sets(server).values()) == {s1}
        assert server.worker_health()[new]["reload"]["last"]["issues"][0]["field"] == f"rulebooks/{VIOLATION.as_posix()}:{line}"
        assert all(post_case(server)["rulebook"]["sha256"] == sha1 for _ in range(8))

        time.sleep(3)  # six polls of the supervisor: a worker failing at start would have been restarted again
        assert server.alive() and len(server.children()) == 2 and new in server.children()
        log = server.log.read_text(encoding="utf-8", errors="replace")
        assert log.count("沿用最近一次有效的规则集") == 2, log[-3000:]
        assert log.count(where) >= 2 and "Traceback" not in log, log[-3000:]
