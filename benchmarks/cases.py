"""The benchmarks' cases and targets; the varied-case generator itself is :mod:`discretion.review.synth`.

``generate(rulebooks, compiled, n, seed, today=TODAY)`` draws ``n`` varied cases (deterministic for a seed
and day; no date after today in Beijing time, which the service would refuse) and
``generate_valid(engine, n, today=TODAY)`` keeps those that assess without :class:`~discretion.errors.InputError`,
asserting that at least 99 % of the drawn cases were valid; both are re-exported from
:mod:`discretion.review.synth`, which documents the violation mix, fact distributions, circumstance
frequencies and dates. ``TYPICAL`` and ``LIGHTER_LAW`` are the two fixed cases of the per-case
benchmarks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from api.clock import today
from discretion.engine.case import Case
from discretion.review.synth import (  # noqa: F401  (re-exported for the benchmarks)
    CIRCUMSTANCE_RATES,
    CODE_DAY,
    JURISDICTIONS,
    SEED,
    VIOLATION_WEIGHTS,
    CaseGenerator,
    describe,
    generate,
    generate_valid,
)

TODAY = today()  # the day the benchmarks' synthetic cases are drawn up to (Beijing time)

# Shared by the benchmarks: the matchers compared, the batch size and the targets.
MATCHERS = ("durable", "reference")
BATCH_SIZE = 10_000
TARGET_P50_US = 250.0  # one full assessment of a typical case, median
TARGET_CASES_PER_S = 5_000.0  # a batch of 10,000 varied cases on one core
TARGET_LOAD_S = 1.0  # rulebook.load() + compile_all()
REPLAY_CASES = 100_000
TARGET_REPLAY_S = 30.0  # replay of 100,000 synthetic cases under two editions, both cores


TYPICAL = Case(
    violation="water_over_standard",
    facts={
        "exceedance_ratio": Decimal("0.6"),
        "pollutant_class": "characteristic",
        "discharge_area": "residential",
        "duration_days": 12,
        "violations_in_two_years": 1,
    },
    circumstances=["confessed"],
    violation_date=dt.date(2025, 3, 1),
    decision_date=dt.date(2025, 6, 1),
)

# Violation before 2026-08-15, decision after it: both regimes are evaluated and compared.
LIGHTER_LAW = Case(
    violation="eia_unapproved_construction",
    facts={
        "total_investment": 30_000_000,
        "eia_document": "report",
        "eia_category": "report_production",
        "build_location": "non_compliant",
        "build_stage": "main_works",
        "violations_in_two_years": 1,
    },
    circumstances=["eliminated_harm"],
    violation_date=dt.date(2026, 4, 1),
    decision_date=dt.date(2026, 10, 15),
)
