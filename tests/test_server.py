"""`discretion serve` as a real process: start-up time, real HTTP, and refusal to serve a broken rulebook tree."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_with_db(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("DISCRETION_RULEBOOKS", None)
    env["DISCRETION_DATABASE_URL"] = f"sqlite:///{db}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post_json(url: str, payload: Any) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_healthy(proc: subprocess.Popen[bytes], base: str, deadline_s: float) -> float:
    """Poll /healthz until it answers 200; returns the seconds since `proc` was started (measured by the caller)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            status, body = get(base + "/healthz", timeout=0.5)
            if status == 200 and json.loads(body) == {"status": "ok"}:
                return time.monotonic()
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"/healthz did not answer within {deadline_s} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def start(args: list[str], env: dict[str, str], log: Path | None = None, new_session: bool = False,
          cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """Start `python -m api.cli ARGS` in ``cwd``; output goes to `log` (a long-running server; appended) or to
    pipes (read by communicate). ``new_session``: in its own process group, to signal it with its workers."""
    cmd = [sys.executable, "-m", "api.cli", *args]
    if log is None:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=new_session)
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=new_session)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, float, Path]]:
    port = free_port()
    db = tmp_path / "db" / "serve.db"
    t0 = time.monotonic()
    log = tmp_path / "serve.log"
    proc = start(["serve", "--port", str(port)], env_with_db(db), log)
    try:
        try:
            ready = wait_healthy(proc, f"http://127.0.0.1:{port}", deadline_s=30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; server output:\n{log.read_text(errors='replace')}") from None
        yield f"http://127.0.0.1:{port}", ready - t0, db
    finally:
        stop(proc)


def test_serve_answers_healthz_quickly(server: tuple[str, float, Path]) -> None:
    """`discretion serve` answers /healthz soon after start (target 2 s; asserted < 10 s, the measured time printed)."""
    _, elapsed, _ = server
    print(f"\n`discretion serve` answered /healthz after {elapsed:.2f} s (target 2 s)")
    assert elapsed < 10.0


def test_serve_computes_and_stores_over_real_http(server: tuple[str, float, Path]) -> None:
    """The served API computes a case over real HTTP, stores it in DISCRETION_DATABASE_URL and reads it back."""
    base, _, db = server
    status, body = post_json(
        base + "/v1/assessments",
        {"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
         "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
    )
    assert status == 201, body
    assert body["fine"]["recommended"] == 136000
    assert db.exists()
    status, raw = get(f"{base}/v1/assessments/{body['id']}")
    stored = json.loads(raw)  # the result as POST answered it, plus its record and decision
    assert status == 200 and {k: stored[k] for k in body} == body and stored["decision"] is None
    status, raw = get(base + "/")
    assert status == 200 and "选择违法行为".encode() in raw


def test_serve_rejects_oversized_chunked_body_over_real_http(server: tuple[str, float, Path]) -> None:
    """Over a real socket, a chunked body larger than the limit answers 422 body_too_large."""
    base, _, _ = server
    host, port = base.removeprefix("http://").split(":")
    chunk = b"x" * 8192
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            for _ in range(20):  # 160 KiB > 64 KiB
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        data = b""
        while True:
            try:
                part = s.recv(65536)
            except ConnectionResetError:
                break
            if not part:
                break
            data += part
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 422"), data[:300]
    assert json.loads(body)["code"] == "body_too_large"


def test_serve_refuses_a_broken_rulebook_tree_with_file_and_line(tmp_path: Path) -> None:
    """`--rulebooks DIR serve` on a tree with an unknown key exits non-zero, names file:line on stderr and never serves."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(ROOT / "rulebooks", tree)
    target = tree / "law" / "violations" / "water_over_standard.yaml"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines.insert(title + 1, "bogus_key: 1\n")
    target.write_text("".join(lines), encoding="utf-8")
    bad_line = title + 2  # 1-based line of the inserted key

    port = free_port()
    proc = start(["--rulebooks", str(tree), "serve", "--port", str(port)], env_with_db(tmp_path / "never.db"))
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    stderr = err.decode("utf-8", "replace")
    print(stderr)
    assert proc.returncode != 0
    assert f"water_over_standard.yaml:{bad_line}" in stderr, stderr
    assert "bogus_key" in stderr
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not (tmp_path / "never.db").exists()


def test_serve_refuses_a_broken_rulebook_tree_from_the_environment(tmp_path: Path) -> None:
    """DISCRETION_RULEBOOKS pointing at a broken tree also stops `serve` with a non-zero exit and file:line."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(ROOT / "rulebooks", tree)
    target = tree / "law" / "violations" / "water_over_standard.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text + "bogus_key: 1\n", encoding="utf-8")
    bad_line = len((text + "bogus_key: 1\n").splitlines())
    env = env_with_db(tmp_path / "never.db")
    env["DISCRETION_RULEBOOKS"] = str(tree)
    port = free_port()
    proc = start(["serve", "--port", str(port)], env)
    try:
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            status = None
            try:
                status, _ = get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except OSError:
                pass
            pytest.fail(f"serve kept running with a broken DISCRETION_RULEBOOKS tree (healthz: {status})")
    finally:
        stop(proc)
    stderr = err.decode("utf-8", "replace")
    assert proc.returncode != 0
    assert f"water_over_standard.yaml:{bad_line}" in stderr, stderr


def _worker_pids(base: str, want: int = 2, tries: int = 200) -> set[int]:
    pids: set[int] = set()
    for _ in range(tries):
        _, raw = get(base + "/healthz?detail=true")
        pids.add(int(json.loads(raw)["pid"]))
        if len(pids) >= want:
            break
    return pids


def caught(pid: int) -> set[int]:
    """The signals process ``pid`` has handlers for (SigCgt in /proc/PID/status)."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("SigCgt:"))
    mask = int(line.split()[1], 16)
    return {n for n in range(1, 65) if mask >> (n - 1) & 1}


def test_serve_with_two_workers_forks_them_from_the_process_that_loaded_the_rulebooks(tmp_path: Path) -> None:
    """With --workers 2 the rulebooks are loaded and compiled once, in the parent; the workers are forked
    from it (their command line is the parent's, not multiprocessing's spawn), and both compute."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    t0 = time.monotonic()
    proc = start(["serve", "--port", str(port), "--workers", "2"], env_with_db(tmp_path / "db" / "w2.db"), log)
    try:
        try:
            ready = wait_healthy(proc, base, deadline_s=30) - t0
        except AssertionError as exc:
            raise AssertionError(f"{exc}; server output:\n{log.read_text(errors='replace')}") from None
        print(f"\n`discretion serve --workers 2` answered /healthz after {ready:.2f} s (target 2 s)")
        pids = _worker_pids(base)
        assert len(pids) == 2 and proc.pid not in pids
        parent_cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        for pid in pids:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"multiprocessing" not in cmdline and cmdline == parent_cmdline, cmdline
            # the supervisor's handlers (SIGUSR1, SIGTTIN, SIGWINCH …) are not inherited by the workers
            assert not caught(pid) & {signal.SIGUSR1, signal.SIGTTIN, signal.SIGWINCH}, caught(pid)
        assert {signal.SIGUSR1, signal.SIGTTIN, signal.SIGWINCH} <= caught(proc.pid)
        for _ in range(6):  # both workers answer with the preloaded set
            status, body = post_json(base + "/v1/assessments", {
                "violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
                "violation_date": "2025-03-01", "decision_date": "2025-09-01"})
            assert status == 201 and body["fine"]["recommended"] == 136000, body
    finally:
        stop(proc)


def refused_start(args: list[str], env: dict[str, str]) -> str:
    """Run `ARGS --port P`, expect exit 1 and nothing listening on P; returns stderr."""
    port = free_port()
    proc = start([*args, "--port", str(port)], env)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    stderr = err.decode("utf-8", "replace")
    assert proc.returncode == 1, stderr
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    return stderr


def test_serve_with_two_workers_refuses_a_broken_rulebook_tree_with_file_and_line(tmp_path: Path) -> None:
    """The preload of --workers 2 stops start-up on a broken tree, names file:line and never serves."""
    tree = tmp_path / "rulebooks"
    shutil.copytree(ROOT / "rulebooks", tree)
    target = tree / "law" / "violations" / "water_over_standard.yaml"
    text = target.read_text(encoding="utf-8") + "bogus_key: 1\n"
    target.write_text(text, encoding="utf-8")
    stderr = refused_start(["--rulebooks", str(tree), "serve", "--workers", "2"], env_with_db(tmp_path / "w2.db"))
    assert f"water_over_standard.yaml:{len(text.splitlines())}" in stderr and "bogus_key" in stderr, stderr


def test_serve_with_two_workers_stops_when_the_database_cannot_be_migrated(tmp_path: Path) -> None:
    """The migration runs in a forked child beside the preload; a database it cannot take over (a
    records table outside migration management) stops start-up with the child's Chinese message and
    exit 1, and nothing is served."""
    import sqlite3

    db = tmp_path / "foreign.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE assessments (id TEXT PRIMARY KEY)")
    stderr = refused_start(["serve", "--workers", "2"], env_with_db(db))
    assert "启动失败" in stderr and "未经迁移管理" in stderr, stderr
