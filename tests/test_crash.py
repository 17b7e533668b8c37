"""Crash safety: `discretion serve --workers 2` on a SQLite file is killed with SIGKILL (the whole
process group) in the middle of a burst of writes. After a restart on the same file the hash chain
verifies and every assessment and decision that was answered 201 is there, unchanged."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_server import env_with_db, free_port, get, start, wait_healthy
from test_server import post_json as post

from api.cli import main

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("process groups and SIGKILL are POSIX", allow_module_level=True)

CASES = [
    {"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
     "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
    {"violation": "eia_unapproved_construction", "facts": {"total_investment": 100000000, "eia_document": "report"},
     "violation_date": "2026-03-01", "decision_date": "2026-10-01"},
    {"violation": "water_over_standard", "circumstances": ["minor", "corrected_promptly", "no_harm"],
     "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
]
THREADS = 12
KILL_AFTER = 120  # answered writes before the kill


def start_server(port: int, db: Path, log: Path) -> subprocess.Popen[bytes]:
    return start(["serve", "--port", str(port), "--workers", "2"], env_with_db(db), log, new_session=True)


def kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the server and its workers (its own process group), then wait until all are gone."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)


def test_sigkill_during_a_burst_loses_no_answered_write_and_keeps_the_chain(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    log = tmp_path / "serve.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, db, log)
    answered: dict[str, dict[str, Any]] = {}  # id -> body answered 201
    decided: dict[str, dict[str, Any]] = {}  # assessment id -> decision answered 201
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    try:
        wait_healthy(proc, base, deadline_s=60)

        def hammer(n: int) -> None:
            i = n
            while not stop.is_set():
                i += THREADS
                try:
                    status, body = post(base + "/v1/assessments", CASES[i % len(CASES)])
                    if status != 201:
                        failures.append(f"{status}: {body}")
                        continue
                    with lock:
                        answered[body["id"]] = body
                    if i % 4 == 0:  # a share of decisions, the other kind of record
                        status, dec = post(f"{base}/v1/assessments/{body['id']}/decision", {"amount": 1234, "reason": "压力测试"})
                        if status == 201:
                            with lock:
                                decided[body["id"]] = dec
                except (OSError, ValueError, http.client.HTTPException):  # the server died under us: stop
                    return

        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        end = time.monotonic() + 120
        while len(answered) < KILL_AFTER and time.monotonic() < end and not failures:
            time.sleep(0.01)
        kill_group(proc, signal.SIGKILL)  # mid-burst: every thread has a request in flight
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        stop.set()
        kill_group(proc, signal.SIGKILL)
    assert not failures, failures[:5]
    assert len(answered) >= KILL_AFTER, f"only {len(answered)} answered before the kill; log:\n{log.read_text(errors='replace')}"

    # restart on the same file
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, db, log)
    try:
        wait_healthy(proc, base, deadline_s=60)
        for rid, body in answered.items():
            status, raw = get(f"{base}/v1/assessments/{rid}", timeout=10)
            assert status == 200, f"answered 201 but lost after the crash: {rid}"
            got = json.loads(raw)
            assert {k: got[k] for k in body} == body
            if rid in decided:
                assert got["decision"] == decided[rid]
        # the restarted service appends to the same chain
        status, body = post(base + "/v1/assessments", CASES[0])
        assert status == 201
    finally:
        kill_group(proc, signal.SIGTERM)
    assert main(["audit", "verify", "--database-url", f"sqlite:///{db}"]) == 0
    print(f"\n{len(answered)} assessments and {len(decided)} decisions answered 201 before SIGKILL; all present, chain sound")
