"""Service throughput on loopback: POST /v1/assessments against a trivial echo endpoint on the
same server in the same run (``discretion serve --workers 2``), with wrk from Debian.

Target (issue 3): assessments reach at least 0.5 of the echo endpoint's throughput; p50 and p99
latency reported; the service is ready within 2 s of start. Skipped when wrk is not installed
(``apt-get install wrk``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from benchmarks.serving import post_script, serve, warm

ROOT = Path(__file__).resolve().parent.parent
DURATION = int(os.environ.get("BENCH_WRK_SECONDS", "8"))
CONNECTIONS = 32

CASE = {
    "violation": "water_over_standard",
    "facts": {"exceedance_ratio": 0.6, "pollutant_class": "characteristic", "discharge_area": "residential", "duration_days": 12},
    "circumstances": ["confessed"],
    "violation_date": "2025-03-01",
    "decision_date": "2025-09-01",
}


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="discretion-bench-")
    try:
        with serve(Path(tmp), "service", {"DISCRETION_DATABASE_URL": f"sqlite:///{tmp}/bench.db"}, workers=2, timeout_s=30) as srv:
            yield {"url": srv.url, "ready_s": srv.ready_s, "tmp": tmp}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bodies(n: int = 500) -> list[str]:
    """Varied, valid cases (the seeded generator of benchmarks/cases.py) as request bodies."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import cases as case_gen
    from discretion.engine.assessment import Engine
    from discretion.rulebooks import tree

    engine = Engine(tree.load(), "reference")
    def encode(v: Any) -> Any:
        return v.isoformat() if hasattr(v, "isoformat") else float(v)  # dates as text, Decimals as JSON numbers

    return [json.dumps(c.model_dump(exclude_none=True), ensure_ascii=False, default=encode) for c in case_gen.generate_valid(engine, n, today=case_gen.TODAY)]


def _wrk(url: str, path: str, tmp: str, bodies: list[str]) -> dict[str, float]:
    """wrk with a Lua script that sends the bodies in turn (the echo endpoint gets the same bodies)."""
    script = post_script(Path(tmp), bodies)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-s", str(script), url + path],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        return float(m.group(1)) * scale

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"), "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
            "socket_errors": 1.0 if errors else 0.0}


def test_assessments_throughput_against_echo(server: dict[str, Any], benchmark: Any) -> None:
    """POST /v1/assessments keeps at least half the throughput of an echo endpoint on the same server."""
    # warm up both endpoints (lazy ruleset registration, connection pools)
    warm(server["url"], [json.dumps(CASE)] * 20)
    results: dict[str, dict[str, float]] = {}
    bodies = _bodies()
    warm(server["url"], bodies)  # every ruleset the bodies need is registered before measuring

    def run() -> None:
        results["echo"] = _wrk(server["url"], "/_echo", server["tmp"], bodies)
        results["assess"] = _wrk(server["url"], "/v1/assessments", server["tmp"], bodies)

    benchmark.pedantic(run, rounds=1, iterations=1)
    echo, assess = results["echo"], results["assess"]
    ratio = assess["rps"] / echo["rps"]
    benchmark.extra_info.update(
        {
            "ready_s": round(server["ready_s"], 3),
            "echo_rps": echo["rps"], "echo_p50_ms": echo["p50_ms"], "echo_p99_ms": echo["p99_ms"],
            "assess_rps": assess["rps"], "assess_p50_ms": assess["p50_ms"], "assess_p99_ms": assess["p99_ms"],
            "ratio": round(ratio, 3), "target_ratio": 0.5,
        }
    )
    print(
        f"\nservice: ready {server['ready_s']:.2f} s; echo {echo['rps']:.0f} req/s (p50 {echo['p50_ms']:.2f} ms, p99 {echo['p99_ms']:.2f} ms); "
        f"assessments {assess['rps']:.0f} req/s (p50 {assess['p50_ms']:.2f} ms, p99 {assess['p99_ms']:.2f} ms); ratio {ratio:.2f} (target ≥ 0.5)"
    )
    assert assess["non_2xx"] == 0 and echo["non_2xx"] == 0, results
    if os.environ.get("BENCH_ENFORCE"):
        assert ratio >= 0.5, results
        assert server["ready_s"] <= 2.0, server["ready_s"]
