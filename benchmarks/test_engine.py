"""Speed benchmarks (pytest-benchmark) for the issue's targets, durable path and reference side by side.

- one typical case, full ``Engine.assess`` (matching, trail, reasoning text): p50 ≤ 250 µs;
- a batch of 10,000 varied cases on one core: ≥ 5,000 cases/s;
- loading and compiling every shipped rulebook: ≤ 1 s;
- durable registration of every ruleset (lazy in production), measured on its own;
- a lighter-law case (both regimes evaluated and compared).

``python3 -m pytest benchmarks --benchmark-only``; ``BENCH_ENFORCE=1`` fails on a missed target
(the durable path, which is what production runs).
"""

from __future__ import annotations

import os
from typing import Any, Callable

import pytest

from benchmarks import cases as case_gen
from benchmarks.cases import BATCH_SIZE, MATCHERS, TARGET_CASES_PER_S, TARGET_LOAD_S, TARGET_P50_US
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.matching import make_matcher
from discretion.rulebooks import conditions, tree
from discretion.rulebooks.compiler import Compiled, compile_all
from discretion.rulebooks.loaded import RulebookSet

ENFORCE = os.environ.get("BENCH_ENFORCE", "") not in ("", "0")
Record = Callable[..., None]


def _stats(benchmark: Any) -> Any:
    """The timing statistics, or None when benchmarks are disabled (plain ``pytest`` run)."""
    meta = getattr(benchmark, "stats", None)
    return getattr(meta, "stats", None) if meta is not None else None


def _percentile(data: list[float], q: float) -> float:
    xs = sorted(data)
    k = min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))
    return xs[k]


def _matcher_name(engine: Engine) -> str:
    return "durable" if type(engine.matcher).__name__ == "DurableMatcher" else "reference"


def _per_case(benchmark: Any, record: Record, engine: Engine, case: Case, name: str, rounds: int) -> None:
    result = benchmark.pedantic(engine.assess, args=(case,), rounds=rounds, warmup_rounds=rounds // 10, iterations=1)
    assert result.reasoning and result.trail
    st = _stats(benchmark)
    if st is None:
        return
    m = _matcher_name(engine)
    p50 = st.median * 1e6
    p99 = _percentile(list(st.data), 0.99) * 1e6
    benchmark.extra_info.update(
        {
            "p50_us": round(p50, 1),
            "p99_us": round(p99, 1),
            "target_p50_us": TARGET_P50_US,
            "p50_vs_target": round(p50 / TARGET_P50_US, 3),
        }
    )
    record(f"{name}[{m}]", p50_us=round(p50, 1), p99_us=round(p99, 1), ratio_to_250us=round(p50 / TARGET_P50_US, 2))
    if ENFORCE and m == "durable" and name == "typical":
        assert p50 <= TARGET_P50_US, f"p50 {p50:.1f} µs > {TARGET_P50_US} µs"


# --- (a) one typical case -------------------------------------------------------------------------


@pytest.mark.benchmark(group="a-typical-case")
def test_typical_case(benchmark: Any, engine: Engine, record: Record) -> None:
    """water_over_standard, four factor facts and one mitigating circumstance; one regime."""
    _per_case(benchmark, record, engine, case_gen.TYPICAL, "typical", rounds=3000)


@pytest.mark.benchmark(group="a-typical-case-to-dict")
def test_typical_case_with_dict(benchmark: Any, engine: Engine, record: Record) -> None:
    """The same, plus ``to_dict()`` (what the API serialises): the cost of the output shape."""

    def run() -> dict[str, Any]:
        return engine.assess(case_gen.TYPICAL).to_dict()

    out = benchmark.pedantic(run, rounds=1000, warmup_rounds=100, iterations=1)
    assert out["reasoning"]
    st = _stats(benchmark)
    if st is not None:
        record(f"typical+to_dict[{_matcher_name(engine)}]", p50_us=round(st.median * 1e6, 1))


# --- (e) a lighter-law case ------------------------------------------------------------------------


@pytest.mark.benchmark(group="e-lighter-law-case")
def test_lighter_law_case(benchmark: Any, engine: Engine, record: Record) -> None:
    """eia_unapproved_construction, act before 2026-08-15, decision after: two regimes compared."""
    _per_case(benchmark, record, engine, case_gen.LIGHTER_LAW, "lighter_law", rounds=2000)
    assert engine.assess(case_gen.LIGHTER_LAW).lighter_law is not None


# --- (b) a batch of 10,000 varied cases ------------------------------------------------------------


@pytest.mark.benchmark(group="b-batch-10000")
def test_batch(benchmark: Any, engine: Engine, batch: list[Case], record: Record) -> None:
    """One round assesses the whole batch; the warm-up round registers the durable rulesets it needs."""
    assess = engine.assess

    def run() -> int:
        n = 0
        for c in batch:
            assess(c)
            n += 1
        return n

    assert benchmark.pedantic(run, rounds=3, warmup_rounds=1, iterations=1) == BATCH_SIZE
    st = _stats(benchmark)
    if st is None:
        return
    m = _matcher_name(engine)
    rate = BATCH_SIZE / st.median
    benchmark.extra_info.update(
        {
            "cases": BATCH_SIZE,
            "cases_per_s": round(rate),
            "us_per_case": round(1e6 / rate, 1),
            "target_cases_per_s": TARGET_CASES_PER_S,
            "rate_vs_target": round(rate / TARGET_CASES_PER_S, 3),
            **case_gen.describe(batch),
        }
    )
    ratio = round(rate / TARGET_CASES_PER_S, 2)
    record(f"batch[{m}]", cases_per_s=round(rate), us_per_case=round(1e6 / rate, 1), ratio_to_5000=ratio)
    if ENFORCE and m == "durable":
        assert rate >= TARGET_CASES_PER_S, f"{rate:.0f} cases/s < {TARGET_CASES_PER_S:.0f}"


# --- (c) loading and compiling every shipped rulebook ---------------------------------------------


@pytest.mark.benchmark(group="c-load-compile")
def test_load_and_compile(benchmark: Any, record: Record) -> None:
    """``tree.load()`` + ``compile_all()``: YAML parse, validation, cross-checks, every ruleset compiled
    (the conditions' parse cache cleared each round, as in a fresh process)."""

    def cold() -> Compiled:
        conditions.parse.cache_clear()
        return compile_all(tree.load())

    compiled = benchmark.pedantic(cold, rounds=5, warmup_rounds=1, iterations=1)
    assert len(compiled.rulesets) >= 40
    st = _stats(benchmark)
    if st is None:
        return
    ratio = round(st.median / TARGET_LOAD_S, 3)
    benchmark.extra_info.update({"rulesets": len(compiled.rulesets), "target_s": TARGET_LOAD_S, "vs_target": ratio})
    record("load+compile", seconds=round(st.median, 3), ratio_to_1s=round(ratio, 2), rulesets=len(compiled.rulesets))
    if ENFORCE:
        assert st.median <= TARGET_LOAD_S, f"load+compile {st.median:.3f} s > {TARGET_LOAD_S} s"


@pytest.mark.benchmark(group="c-load-compile")
def test_load_and_engine_ready(benchmark: Any, record: Record) -> None:
    """What a service start does: ``tree.load()`` and an :class:`Engine` (rulesets compiled on first use)."""

    def cold() -> Engine:
        conditions.parse.cache_clear()
        return Engine(tree.load(), "reference")

    benchmark.pedantic(cold, rounds=5, warmup_rounds=1, iterations=1)
    st = _stats(benchmark)
    if st is not None:
        record("load+engine (lazy compile)", seconds=round(st.median, 3), ratio_to_1s=round(st.median / TARGET_LOAD_S, 2))


@pytest.mark.benchmark(group="c-load-compile")
def test_compile_only(benchmark: Any, rulebooks: RulebookSet, record: Record) -> None:
    """``compile_all()`` alone, to split (c) into loading and compiling."""
    compiled = benchmark.pedantic(compile_all, args=(rulebooks,), rounds=10, warmup_rounds=1, iterations=1)
    st = _stats(benchmark)
    if st is not None:
        record("compile_all only", seconds=round(st.median, 4), rulesets=len(compiled.rulesets))


# --- (d) registration of every ruleset with the matcher --------------------------------------------


@pytest.mark.benchmark(group="d-registration")
@pytest.mark.parametrize("kind", MATCHERS)
def test_register_all_rulesets(benchmark: Any, engines: dict[str, Engine], kind: str, record: Record) -> None:
    """``prepare(all rulesets)`` on a fresh matcher: durable_rules registration (lazy in production,
    one ruleset at the first case of its type) against building the reference predicates."""
    rulesets = list(engines["reference"].compiled.rulesets.values())

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (make_matcher(kind),), {}

    def run(m: Any) -> None:
        m.prepare(rulesets)

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    st = _stats(benchmark)
    if st is None:
        return
    per = st.median / len(rulesets) * 1e3
    benchmark.extra_info.update({"rulesets": len(rulesets), "ms_per_ruleset": round(per, 3)})
    record(f"register all[{kind}]", seconds=round(st.median, 3), ms_per_ruleset=round(per, 2), rulesets=len(rulesets))
