"""Start-up and memory: ``discretion serve --workers 2`` from the command to the first /healthz
answer (target ≤ 2 s), and the resident memory of each worker right after start and after it has
assessed a case of every violation type (its rulesets compiled on first use).

Run: ``python -m pytest benchmarks/test_startup.py --benchmark-only -s``.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

from benchmarks.serving import serve
from discretion.rulebooks.loaded import RulebookSet

TARGET_READY_S = 2.0
Record = Callable[..., None]


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def workers(pid: int) -> list[int]:
    """The supervisor's worker processes (its children, less the migration child that has ended)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def assess_every_type(url: str, codes: list[str], rounds: int) -> None:
    """Post a pre-Code and a Code-era case of every type ``rounds`` times (each worker gets some)."""
    for _ in range(rounds):
        for code in codes:
            for day in ("2025-03-01", "2026-09-01"):
                body = json.dumps({"violation": code, "violation_date": day, "decision_date": "2026-10-01"}).encode()
                req = urllib.request.Request(f"{url}/v1/assessments", data=body, headers={"Content-Type": "application/json"})
                try:
                    urllib.request.urlopen(req, timeout=10).close()
                except urllib.error.HTTPError as exc:  # 422 for a case lacking a required fact: compiled all the same
                    assert exc.code == 422, exc.read()


@pytest.mark.benchmark(group="startup")
def test_service_ready_and_worker_memory(benchmark: Any, tmp_path: Path, rulebooks: RulebookSet, record: Record) -> None:
    """Ready time of two workers (several starts), then each worker's memory before and after use."""
    home = tmp_path / "home"
    env = {"DISCRETION_HOME": str(home)}
    starts: list[float] = []

    def start() -> None:
        with serve(tmp_path, f"start{len(starts)}", env, workers=2) as srv:
            starts.append(srv.ready_s)

    benchmark.pedantic(start, rounds=3, warmup_rounds=1, iterations=1)
    with serve(tmp_path, "memory", env, workers=2) as srv:
        pids = workers(srv.pid)
        before = [rss_mib(p) for p in pids]
        assess_every_type(srv.url, sorted(rulebooks.violations), rounds=2)
        after = [rss_mib(p) for p in pids if os.path.exists(f"/proc/{p}")]
    ready = sorted(starts)[len(starts) // 2]
    figures = {
        "ready_s": round(ready, 3), "ratio_to_2s": round(ready / TARGET_READY_S, 2),
        "worker_rss_mib_started": round(max(before), 1), "worker_rss_mib_after_every_type": round(max(after), 1),
        "types": len(rulebooks.violations),
    }
    benchmark.extra_info.update(figures)
    record("serve --workers 2", **figures)
