"""Impact replay speed: 100,000 synthetic cases under two editions on both cores (target ≤ 30 s).

One round reads the JSONL case file, decodes and validates every row, assesses each case under
yunnan@2023 and yunnan@2026-draft in two worker processes, compares the two results and their
trails, and summarises by violation type (no output file, no chart: those are timed apart).

Also measured on 20,000 cases: one process against two, and the two ways of giving each worker
its engine (``fork`` after loading the rulebooks once: the children compile from the parent's
copy; ``spawn``: each child imports and loads the rulebooks itself). CPU seconds of the workers
are reported next to the wall time, because the wall time depends on what else the machine runs.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from benchmarks.cases import REPLAY_CASES, SEED, TARGET_REPLAY_S, TODAY
from discretion.review import casefile, replay, synth
from discretion.rulebooks.compiler import compile_all
from discretion.rulebooks.loaded import RulebookSet

ENFORCE = os.environ.get("BENCH_ENFORCE", "") not in ("", "0")
FROM, TO = "yunnan@2023", "yunnan@2026-draft"
SMALL = 20_000
Record = Callable[..., None]


@pytest.fixture(scope="session")
def replay_file(rulebooks: RulebookSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 synthetic cases as JSONL (generated once, not timed)."""
    cases = synth.generate(rulebooks, compile_all(rulebooks), REPLAY_CASES, SEED, today=TODAY)
    path = tmp_path_factory.mktemp("replay") / "cases.jsonl"
    casefile.write_cases(path, list(synth.entries(cases, SEED)))
    return path


def _stats(benchmark: Any) -> Any:
    meta = getattr(benchmark, "stats", None)
    return getattr(meta, "stats", None) if meta is not None else None


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # pool workers, once joined
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _replay(rulebooks: RulebookSet, path: Path, n: int | None, **kwargs: Any) -> tuple[replay.Summary, float]:
    cpu = _cpu()
    cases = casefile.read(path)
    if n is not None:
        cases.records = cases.records[:n]
    _, summary = replay.run(rulebooks, cases, FROM, TO, **kwargs)
    return summary, _cpu() - cpu


@pytest.mark.benchmark(group="f-replay-100000")
def test_replay_100000_cases_on_two_cores(benchmark: Any, rulebooks: RulebookSet, replay_file: Path, record: Record) -> None:
    out: dict[str, Any] = {}

    def run() -> replay.Summary:
        out["summary"], out["cpu"] = _replay(rulebooks, replay_file, None, workers=2)
        return out["summary"]

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    assert summary.rows == REPLAY_CASES and summary.invalid == 0
    assert summary.total.changed > 0
    st = _stats(benchmark)
    if st is None:
        return
    wall = st.median
    rate = REPLAY_CASES / wall
    figures = {
        "seconds": round(wall, 2),
        "cases_per_s": round(rate),
        "cpu_seconds": round(out["cpu"], 1),
        "cases_per_cpu_s": round(REPLAY_CASES / out["cpu"]),
        "changed": summary.total.changed,
        "ratio_to_30s": round(wall / TARGET_REPLAY_S, 2),
    }
    benchmark.extra_info.update(figures)
    record("replay 100k [2 workers]", **figures)
    if ENFORCE:
        assert wall <= TARGET_REPLAY_S, f"replay of {REPLAY_CASES:,} cases took {wall:.1f} s > {TARGET_REPLAY_S} s"


@pytest.mark.benchmark(group="g-replay-20000")
@pytest.mark.parametrize(("workers", "method"), [(1, None), (2, "fork"), (2, "spawn")])
def test_replay_20000_cases_by_workers_and_start_method(
    benchmark: Any, rulebooks: RulebookSet, replay_file: Path, record: Record, workers: int, method: str | None
) -> None:
    out: dict[str, Any] = {}

    def run() -> replay.Summary:
        out["summary"], out["cpu"] = _replay(rulebooks, replay_file, SMALL, workers=workers, start_method=method)
        return out["summary"]

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    assert summary.rows == SMALL
    st = _stats(benchmark)
    if st is not None:
        record(f"replay 20k [{workers} {method or 'in-process'}]", seconds=round(st.median, 2),
               cases_per_s=round(SMALL / st.median), cpu_seconds=round(out["cpu"], 1))


@pytest.mark.benchmark(group="h-replay-outputs")
def test_writing_results_and_chart_for_100000_cases(benchmark: Any, rulebooks: RulebookSet, replay_file: Path, record: Record, tmp_path: Path) -> None:
    """Outside the target: the per-case CSV and the SVG chart of the 100,000-case replay."""
    from discretion.review import chart

    results, summary = replay.run(rulebooks, casefile.read(replay_file), FROM, TO, workers=2)

    def run() -> None:
        casefile.write_table(tmp_path / "r.csv", replay.RESULT_COLUMNS, replay.result_rows(results))
        chart.save(summary, tmp_path / "c.svg")

    t = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)
    record("replay outputs 100k", csv_and_svg_seconds=round(time.perf_counter() - t, 2),
           csv_mb=round((tmp_path / "r.csv").stat().st_size / 1e6, 1))
