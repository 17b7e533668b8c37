"""api/storage/failures.py and its use: when the records' database is read-only, full, unreachable
or hanging, the service answers 503 ``storage_unavailable`` (the JSON error shape, or a Chinese page
for the web form) with ``Connection: close`` within the configured timeouts, ``/healthz`` names the
database as failing, the service recovers by itself once the database does, and a database the
service could not write is refused at start-up (exit 1, Chinese message)."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbfixtures import POSTGRES, Databases, TcpProxy, postgres_via
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from api.settings import DatabaseTimeouts, Settings
from api.storage import Store
from api.storage.schema import assessments
from discretion.errors import DiscretionError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.concurrency import LiveServer  # noqa: E402

FAST = DatabaseTimeouts(connect_timeout_s=2, statement_timeout_s=2, lock_timeout_s=1, pool_timeout_s=1)
BOUND_S = FAST.request_s + 1.0 + 1.5  # the request bound, the writer's grace, and slack for a loaded machine
CASE = {"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
        "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
FORM = {"party": "unit", "jurisdiction": "yunnan", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
        "fact.exceedance_ratio": "0.5"}


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files or folders read-only for this process, even for root: ``chattr +i`` as root (root
    ignores permission bits), ``chmod a-w`` otherwise; restored afterwards."""
    paths = tuple(p for p in paths if p.exists())
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *map(str, paths)]).returncode != 0:
            pytest.skip("as root only an immutable file is read-only, and chattr +i is not available here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        return
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(modes[p] & ~0o222)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def assert_unavailable(r: Any, *why: str) -> dict[str, Any]:
    """A 503 in the error shape, naming the database, closing the connection, saying why in Chinese."""
    assert r.status_code == 503, (r.status_code, r.text[:500])
    assert r.headers["connection"] == "close"
    got = r.json()
    assert (got["code"], got["field"]) == ("storage_unavailable", "database"), got
    assert got["errors"] == [{"code": "storage_unavailable", "message": got["message"], "field": "database"}]
    assert got["message"].startswith("记录数据库暂时不可用"), got
    assert any(w in got["message"] for w in why), got["message"]
    return got  # type: ignore[no-any-return]


def assert_health_failing(client: TestClient) -> None:
    r = client.get("/healthz")
    got = assert_unavailable(r, "")
    assert (got["status"], got["checks"]) == ("unavailable", {"database": "failing"}), got
    assert client.head("/healthz").status_code == 503


def timed(call: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    r = call()
    return r, time.monotonic() - t0


def count(app: FastAPI) -> int:
    with app.state.discretion.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(assessments)).scalar_one())


def app_on(url: str) -> FastAPI:
    return create_app(Settings(database_url=url, database_timeouts=FAST))


def csrf(client: TestClient, page: str) -> str:
    import re

    return re.findall(r'name="csrf_token" value="([^"]+)"', client.get(page).text)[0]


# --- SQLite, in process ----------------------------------------------------------------------------


def test_a_sqlite_file_made_read_only_mid_run_answers_503_and_the_service_recovers(tmp_path: Path) -> None:
    """The database file (and its WAL) made read-only while the service runs: assessments answer 503
    ``storage_unavailable`` in time, the web form a Chinese 503 page, /healthz names the database;
    once writable again the next assessment is stored, /healthz is 200 and the chain is sound."""
    db = tmp_path / "ro.db"
    app = app_on(f"sqlite:///{db}")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/v1/assessments", json=CASE).status_code == 201
        token = csrf(client, "/assess/water_over_standard")
        with read_only(db, Path(f"{db}-wal")):
            r, took = timed(lambda: client.post("/v1/assessments", json=CASE))
            assert_unavailable(r, "只读", "磁盘")
            assert took < BOUND_S, took
            assert_health_failing(client)
            page = client.post("/assess/water_over_standard", data={**FORM, "csrf_token": token},
                               headers={"accept": "text/html"}, follow_redirects=False)
            assert page.status_code == 503 and page.headers["connection"] == "close"
            assert page.headers["content-type"].startswith("text/html")
            assert "记录数据库暂时不可用" in page.text and '<html lang="zh-CN">' in page.text
            assert client.get("/v1/assessments").status_code == 200  # reading still works
        assert client.post("/v1/assessments", json=CASE).status_code == 201
        assert client.get("/healthz").json() == {"status": "ok"}
        assert count(app) == 2
        assert app.state.discretion.store.verify().sound


def test_a_sqlite_database_locked_by_another_process_answers_503_within_the_lock_timeout(tmp_path: Path) -> None:
    """Another program holding the write lock (an operator's open transaction) makes the service wait
    at most the lock timeout (SQLite busy_timeout) before 503; released, writing goes on."""
    db = tmp_path / "locked.db"
    app = app_on(f"sqlite:///{db}")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/v1/assessments", json=CASE).status_code == 201
        other = sqlite3.connect(db, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            r, took = timed(lambda: client.post("/v1/assessments", json=CASE))
            assert_unavailable(r, "锁")
            assert FAST.lock_timeout_s * 0.9 <= took < FAST.lock_timeout_s + 2.5, took
            print(f"\nlocked SQLite: 503 after {took:.2f} s (lock timeout {FAST.lock_timeout_s:g} s)")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert client.post("/v1/assessments", json=CASE).status_code == 201
        assert count(app) == 2 and app.state.discretion.store.verify().sound


# --- PostgreSQL through a proxy that can hang or refuse ---------------------------------------------


def test_a_hanging_then_unreachable_postgresql_answers_503_in_time_and_the_service_recovers(databases: Databases) -> None:
    """PostgreSQL behind a loopback proxy: when it hangs (connections accepted, nothing answered; the
    open ones stalled) assessments and /healthz answer 503 within the request bound; when it is down
    (refused) they answer 503 at once; relayed again, writing goes on. No 503 left a record behind."""
    url = databases.new("postgresql")
    proxy = TcpProxy(("127.0.0.1", 5432))
    try:
        app = app_on(postgres_via(proxy.port, url))
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.post("/v1/assessments", json=CASE).status_code == 201
            proxy.stall()
            r, took = timed(lambda: client.post("/v1/assessments", json=CASE))
            assert_unavailable(r, "秒内", "超时")
            assert took < BOUND_S, took
            (h, htook) = timed(lambda: client.get("/healthz"))
            assert h.status_code == 503 and htook < BOUND_S, (h.status_code, htook)
            print(f"\nhanging PostgreSQL: 503 after {took:.2f} s, healthz after {htook:.2f} s (bound {FAST.request_s:g} s)")
            proxy.refuse()
            r, took = timed(lambda: client.post("/v1/assessments", json=CASE))
            assert_unavailable(r, "连接", "秒内")
            assert took < BOUND_S, took
            proxy.forward()
            end = time.monotonic() + 30
            while (r := client.post("/v1/assessments", json=CASE)).status_code != 201 and time.monotonic() < end:
                time.sleep(0.2)
            assert r.status_code == 201, r.text
            assert client.get("/healthz").status_code == 200
            assert count(app) == 2 and app.state.discretion.store.verify().sound
    finally:
        proxy.close()


def test_a_read_only_postgresql_session_is_refused_when_the_store_opens(databases: Databases) -> None:
    """A PostgreSQL session that cannot write (a standby, default_transaction_read_only) is refused
    with ``database_read_only`` and a Chinese message, instead of a service that fails every write."""
    url = databases.new("postgresql")
    Store(url).close()  # migrated
    with pytest.raises(DiscretionError) as got:
        Store(url.replace("options=", "options=-cdefault_transaction_read_only%3Don%20"))
    assert got.value.code == "database_read_only" and "只读" in got.value.message, got.value


# --- the real server ---------------------------------------------------------------------------------


def serve_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "DISCRETION_RULEBOOKS", "DISCRETION_RELOAD_FILE"):
        env.pop(name, None)
    env["DISCRETION_DATABASE_URL"] = url
    env["DISCRETION_DB_CONNECT_TIMEOUT_S"] = "2"
    return env


def refused(workers: int, env: dict[str, str]) -> tuple[str, float]:
    """`discretion serve --workers N` expected to refuse to start: (stderr, seconds taken)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
                          cwd=ROOT, env=env, capture_output=True, timeout=120)
    took = time.monotonic() - t0
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    return err, took


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_refuses_a_read_only_sqlite_database_at_start_up(tmp_path: Path, workers: int) -> None:
    """A database file the service could not write is refused before serving: exit 1, a Chinese
    message naming the file; the same with its folder read-only."""
    db = tmp_path / "data" / "ro.db"
    Store(f"sqlite:///{db}").close()
    with read_only(db):
        err, _ = refused(workers, serve_env(f"sqlite:///{db}"))
    assert "启动失败" in err and "数据库不可写" in err and f"{db} 只读" in err, err
    with read_only(db.parent):
        err, _ = refused(workers, serve_env(f"sqlite:///{db}"))
    assert "启动失败" in err and f"数据库所在目录 {db.parent} 不可写" in err, err


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_refuses_an_unreachable_postgresql_quickly(workers: int) -> None:
    """A PostgreSQL URL to a closed local port: exit 1 with a Chinese message, within seconds."""
    err, took = refused(workers, serve_env("postgresql+psycopg://postgres@127.0.0.1:1/test"))
    assert "启动失败" in err and "无法连接" in err, err
    assert took < 30, took


def test_a_full_disk_mid_run_answers_503_until_there_is_room_again(tmp_path: Path) -> None:
    """`discretion serve`, whose files may suddenly grow no further (RLIMIT_FSIZE set on the running
    process: a full disk as SQLite sees it): assessments answer 503 ``storage_unavailable``, /healthz
    names the database (the failed writes, as a rolled-back check needs no room); with room again the
    next assessment is stored and /healthz is 200."""
    db = tmp_path / "full.db"
    with LiveServer(workers=1, env={"DISCRETION_DATABASE_URL": f"sqlite:///{db}"}) as server:
        def post() -> tuple[int, dict[str, Any]]:
            status, raw = server.request("POST", "/v1/assessments", json.dumps(CASE).encode())
            return status, json.loads(raw)

        assert post()[0] == 201
        # no file of the server may grow past 8 KiB: the next WAL frame (or checkpoint) cannot be written
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
        try:
            status, got = post()
            assert (status, got["code"], got["field"]) == (503, "storage_unavailable", "database"), got
            assert "磁盘" in got["message"], got
            status, raw = server.request("GET", "/healthz")
            assert status == 503 and json.loads(raw)["checks"] == {"database": "failing"}, raw
        finally:
            resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        assert post()[0] == 201
        assert server.request("GET", "/healthz")[0] == 200
        assert server.alive()
    store = Store(f"sqlite:///{db}")
    try:
        report = store.verify()
        assert report.sound and report.records == 2, report
    finally:
        store.close()


def test_the_database_timeouts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISCRETION_DB_*_TIMEOUT_S set the waits; they reach SQLite's busy_timeout and PostgreSQL's
    start-up options (after any the URL gives, which win) and connect_timeout."""
    from api.storage.database import _postgresql_args, make_engine

    monkeypatch.setenv("DISCRETION_DB_LOCK_TIMEOUT_S", "2.5")
    monkeypatch.setenv("DISCRETION_DB_STATEMENT_TIMEOUT_S", "7")
    t = Settings().database_timeouts
    assert (t.lock_timeout_s, t.statement_timeout_s, t.connect_timeout_s, t.pool_timeout_s) == (2.5, 7, 5, 5)
    engine = make_engine("sqlite://", t)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()
    args = _postgresql_args(f"{POSTGRES}?options=-csearch_path%3Dx", t)
    assert args == {"connect_timeout": 5, "options": "-c statement_timeout=7000 -c lock_timeout=2500 -csearch_path=x"}
    monkeypatch.setenv("DISCRETION_DB_LOCK_TIMEOUT_S", "0")
    with pytest.raises(ValueError):
        Settings()
