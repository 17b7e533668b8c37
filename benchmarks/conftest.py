"""Fixtures for the speed benchmarks, and a summary of the figures against the issue's targets.

Run with ``python3 -m pytest benchmarks --benchmark-only``. Set ``BENCH_ENFORCE=1`` to turn a
missed target into a test failure (by default the figures are reported, not enforced, because
they depend on the machine).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks.cases` without install

from benchmarks import cases as case_gen  # noqa: E402
from discretion import rulebook  # noqa: E402
from discretion.assessment import Engine  # noqa: E402
from discretion.case import Case  # noqa: E402
from discretion.rulebook import RulebookSet  # noqa: E402

MATCHERS = ["durable", "reference"]
BATCH_SIZE = 10_000

# The targets
TARGET_P50_US = 250.0
TARGET_CASES_PER_S = 5_000.0
TARGET_LOAD_S = 1.0

ENFORCE = os.environ.get("BENCH_ENFORCE", "") not in ("", "0")

# name -> figures, filled by the tests, printed at the end of the run
RESULTS: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def rulebooks() -> RulebookSet:
    return rulebook.load()


@pytest.fixture(scope="session")
def engines(rulebooks: RulebookSet) -> dict[str, Engine]:
    return {m: Engine(rulebooks, m) for m in MATCHERS}


@pytest.fixture(scope="session", params=MATCHERS)
def engine(request: pytest.FixtureRequest, engines: dict[str, Engine]) -> Engine:
    return engines[request.param]


@pytest.fixture(scope="session")
def batch(engines: dict[str, Engine]) -> list[Case]:
    """10,000 varied valid cases (validated with the reference evaluator; ≥ 99 % drawn valid)."""
    return case_gen.generate_valid(engines["reference"], BATCH_SIZE)


def record(name: str, **figures: Any) -> None:
    RESULTS.setdefault(name, {}).update(figures)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section("discretion speed figures vs targets")
    for name in sorted(RESULTS):
        figs = RESULTS[name]
        text = ", ".join(f"{k}={v}" for k, v in figs.items())
        tr.write_line(f"{name}: {text}")
