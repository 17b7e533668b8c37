"""The soak test (``benchmarks/soak.py``), shorter: 100,000 assessments in this process by default
(``BENCH_SOAK_N``; the full million is ``python3 -m benchmarks.soak --n 1000000``).

Always asserted (correctness, not speed): no durable_rules session is open between cases, and
never more than one at a time (so never more than one per ruleset: durable_rules fails at 1,024).
The memory target (RSS growth after the warm-up < 5 %) is reported, and enforced with
``BENCH_ENFORCE=1`` like the other targets: in November 2026 bounded caches take more than the
warm-up to fill and the target is missed (see benchmarks/README.md, "Reliability").
"""

from __future__ import annotations

import os
from typing import Any, Callable

import pytest

from benchmarks.soak import MAX_GROWTH, soak

N = int(os.environ.get("BENCH_SOAK_N", "100000"))
ENFORCE = os.environ.get("BENCH_ENFORCE") == "1"
WARMUP = max(1, min(50_000, N // 5))


@pytest.mark.benchmark(group="i-soak")
def test_soak(benchmark: Any, record: Callable[..., None]) -> None:
    """N varied assessments (every violation type, both regimes, every edition incl. Kunming and the draft) in one process."""
    figures = benchmark.pedantic(lambda: soak(N, WARMUP, sample_every=max(1, N // 10)), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in figures.items() if k != "rss_samples_mib"})
    record(
        "soak",
        cases=figures["cases"],
        cases_per_s=figures["cases_per_s"],
        rss_growth_pct=figures["rss_growth_pct"],
        rss_growth_second_half_pct=figures["rss_growth_second_half_pct"],
        peak_live_sessions=figures["peak_live_sessions"],
        busiest_ruleset_sessions=figures["busiest_ruleset_sessions"],
    )
    assert figures["violation_types"] == 40 and len(figures["editions"]) >= 4, figures
    assert figures["live_sessions_end"] == 0 and figures["live_sessions_max_between_chunks"] == 0
    assert figures["peak_live_sessions"] <= 1, figures
    assert figures["refused_input_errors"] <= figures["cases"] // 100, figures
    if ENFORCE:
        assert figures["rss_growth_pct"] < MAX_GROWTH * 100, figures["rss_samples_mib"]
