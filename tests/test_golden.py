"""The golden cases beside the rulebooks, one pytest item each, under both matchers."""

from __future__ import annotations

import pytest

from discretion.engine.assessment import Engine
from discretion.review import golden

CASES = golden.load_cases()


def test_there_are_golden_cases_for_every_violation_type() -> None:
    """At least three hand-worked cases exist for each encoded violation type."""
    from discretion.rulebooks import tree

    rs = tree.load()
    counts: dict[str, int] = {code: 0 for code in rs.violations}
    for lc in CASES:
        code = lc.case.input.get("violation")
        if code in counts:
            counts[code] += 1
    thin = {code: n for code, n in counts.items() if n < 3}
    assert not thin, f"violation types with fewer than three golden cases: {thin}"


@pytest.mark.parametrize("lc", CASES, ids=[f"{c.file}:{c.line} {c.name}" for c in CASES])
def test_golden_case(lc: golden.Loaded, any_engine: Engine) -> None:
    """The engine reproduces the values worked out by hand from the statute and the benchmark."""
    diffs = golden.run(any_engine, lc)
    assert not diffs, golden.report(lc, diffs)
