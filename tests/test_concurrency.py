"""Concurrency (the short CI version of ``python3 -m benchmarks.concurrency``): 32 clients against
a real ``discretion serve --workers 2`` for about 10 s. Zero transport errors, zero non-201
answers, both workers alive and never replaced, and every answer identical to the same request
evaluated one at a time in this process."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.concurrency import run  # noqa: E402

CLIENTS = 32
SECONDS = 10
CASES = 400


def test_32_concurrent_clients_get_only_correct_answers_from_two_workers() -> None:
    """Varied cases from 32 keep-alive clients for 10 s: no error, no mismatch, no lost worker."""
    figures = run(clients=CLIENTS, seconds=SECONDS, workers=2, n_cases=CASES)
    print("\n" + "  ".join(f"{k}={v}" for k, v in figures.items() if k not in ("server_log", "first_errors")))
    assert figures["errors"] == 0 and figures["mismatches"] == 0, figures["first_errors"]
    assert figures["server_alive"] and len(figures["workers_before"]) == 2, figures
    assert figures["workers_after"] == figures["workers_before"], "a worker crashed and was replaced"
    assert figures["requests"] >= CASES, f"too few requests to say anything: {figures['requests']}"
    assert figures["ok"], figures
