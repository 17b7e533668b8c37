"""Fixtures for the speed benchmarks, and a summary of the figures against the issue's targets.

Run with ``python3 -m pytest benchmarks --benchmark-only``. Set ``BENCH_ENFORCE=1`` to turn a
missed target (on the durable path) into a test failure; by default the figures are reported,
not enforced, because they depend on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks.cases` without install

from benchmarks import cases as case_gen  # noqa: E402
from discretion.engine.assessment import Engine  # noqa: E402
from discretion.engine.case import Case  # noqa: E402
from discretion.rulebooks import tree  # noqa: E402
from discretion.rulebooks.loaded import RulebookSet  # noqa: E402

_FIGURES = pytest.StashKey[dict[str, dict[str, Any]]]()


@pytest.fixture(scope="session")
def rulebooks() -> RulebookSet:
    return tree.load()


@pytest.fixture(scope="session")
def engines(rulebooks: RulebookSet) -> dict[str, Engine]:
    return {m: Engine(rulebooks, m) for m in case_gen.MATCHERS}


@pytest.fixture(scope="session", params=case_gen.MATCHERS)
def engine(request: pytest.FixtureRequest, engines: dict[str, Engine]) -> Engine:
    return engines[request.param]


@pytest.fixture(scope="session")
def batch(engines: dict[str, Engine]) -> list[Case]:
    """10,000 varied valid cases (checked with the reference evaluator; ≥ 99 % of those drawn valid)."""
    return case_gen.generate_valid(engines["reference"], case_gen.BATCH_SIZE, today=case_gen.TODAY)


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``record(name, key=value, ...)``: a figure for the summary printed at the end of the run."""
    store = request.config.stash.setdefault(_FIGURES, {})

    def _record(name: str, **figures: Any) -> None:
        store.setdefault(name, {}).update(figures)

    return _record


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, {})
    if not figures:
        return
    tr = terminalreporter
    tr.section("discretion: measured figures against the targets")
    for name in sorted(figures):
        tr.write_line(f"{name:28} " + "  ".join(f"{k}={v}" for k, v in figures[name].items()))
