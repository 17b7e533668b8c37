"""Hypothesis strategies: random VALID assessment cases for any encoded violation type.

A case drawn by :func:`cases` passes every input check of the assessment pipeline: dates are
ordered, a published benchmark edition is in force on the decision date, every fact is of its
declared type and inside its bounds, every fact the regimes involved ``require`` is given, and
every circumstance belongs to the violation type's ruleset, and no two inputs deny each other (the
contradictory ones are mended as :func:`discretion.review.synth.consistent` does). So an assessment
of such a case may only answer, never raise (see ``tests/test_properties.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from api.clock import today
from discretion.engine.case import Case
from discretion.engine.consistency import Consistency
from discretion.engine.dates import regime_on
from discretion.review.synth import consistent
from discretion.rulebooks import editions
from discretion.rulebooks.compiler import Compiled, RuleSet
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import FactDef

CODE_DATE = dt.date(2026, 8, 15)  # 《生态环境法典》 in force
FIRST_VIOLATION = dt.date(2021, 8, 1)
LAST_VIOLATION = today()  # no act or discovery after today (Beijing time): the service refuses them
JURISDICTIONS = ("yunnan", "yunnan/kunming")
DRAFT_EDITION = "yunnan@2026-draft"

MAX_MONEY = 10**9
MAX_COUNT = 10**4
MAX_NUMBER = Decimal(1000)


def first_decision_date(rs: RulebookSet) -> dt.date:
    """The first day a published provincial edition is in force (earlier decisions have none)."""
    return min(le.model.effective_from for le in rs.editions.values() if le.model.status == "published" and "/" not in le.model.id)


def _bounds(f: FactDef, lo: Decimal, hi: Decimal) -> tuple[Decimal, Decimal]:
    if f.min is not None:
        lo = max(lo, f.min)
    if f.max is not None:
        hi = min(hi, f.max)
    return lo, hi


def fact_values(f: FactDef) -> st.SearchStrategy[Any]:
    """Valid values of one fact, by its declared type and bounds."""
    if f.type == "bool":
        return st.booleans()
    if f.type == "enum":
        return st.sampled_from(sorted(f.choices or {}))
    if f.type == "date":
        return st.dates(FIRST_VIOLATION, LAST_VIOLATION).map(dt.date.isoformat)
    if f.type == "count":
        lo, hi = _bounds(f, Decimal(0), Decimal(MAX_COUNT))
        return st.integers(int(lo.to_integral_value(rounding="ROUND_CEILING")), int(hi.to_integral_value(rounding="ROUND_FLOOR")))
    if f.type == "money":
        lo, hi = _bounds(f, Decimal(0), Decimal(MAX_MONEY))
        lo_i, hi_i = int(lo.to_integral_value(rounding="ROUND_CEILING")), int(hi.to_integral_value(rounding="ROUND_FLOOR"))
        whole = st.integers(lo_i, hi_i)
        # small amounts too: a rate or multiple of a small base gives a statutory minimum of a few yuan
        small = st.integers(lo_i, max(lo_i, min(hi_i, 10_000)))
        cents = st.decimals(min_value=lo, max_value=hi, places=2, allow_nan=False, allow_infinity=False)
        return st.one_of(whole, small, cents)
    if f.type == "number":
        lo, hi = _bounds(f, Decimal(0), MAX_NUMBER)
        return st.decimals(min_value=lo, max_value=hi, places=3, allow_nan=False, allow_infinity=False)
    raise AssertionError(f"unknown fact type {f.type!r}")  # pragma: no cover


def regimes_for(rs: RulebookSet, end: dt.date, decision: dt.date) -> list[str]:
    """The regimes an assessment evaluates: the one of the act, and the one of the decision."""
    r_act = regime_on(rs.law, end)
    r_dec = regime_on(rs.law, decision)
    assert r_act is not None and r_dec is not None
    return [r_act] if r_act == r_dec else [r_act, r_dec]


def required_facts(rs: RulebookSet, code: str, regimes: list[str]) -> list[str]:
    """The facts the regimes involved require (fine bases, alternatives), in order, once each."""
    v = rs.violations[code].model
    out: list[str] = []
    for r in regimes:
        rules = v.regimes.get(r)  # type: ignore[call-overload]
        for name in rules.requires if rules is not None else []:
            if name not in out:
                out.append(name)
    return out


def ruleset_for(rs: RulebookSet, compiled: Compiled, case: Case) -> RuleSet:
    """The compiled ruleset the assessment of ``case`` uses."""
    le, _ = editions.in_force(rs.editions, case.jurisdiction, case.decision_date, case.edition)
    return compiled.get(case.violation, le.key)


def _draw_dates(draw: st.DrawFn, first_decision: dt.date, max_gap_days: int, code_only: bool = False) -> dict[str, dt.date | None]:
    # half of the cases start shortly before the Code, so both regimes are compared often; a type
    # whose pre-Code provision is not encoded (before_code: not_encoded) is valid only from the Code on
    near_code = st.dates(max(FIRST_VIOLATION, CODE_DATE - dt.timedelta(days=max(max_gap_days, 400))), CODE_DATE - dt.timedelta(days=1))
    if code_only:
        violation = draw(st.dates(CODE_DATE, LAST_VIOLATION))
    else:
        violation = draw(st.one_of(st.dates(FIRST_VIOLATION, LAST_VIOLATION), near_code))
    end: dt.date | None = None
    if draw(st.booleans()):
        end = draw(st.dates(violation, min(LAST_VIOLATION, violation + dt.timedelta(days=730))))
    last = end or violation
    earliest = max(last, first_decision)
    decision = draw(st.dates(earliest, max(earliest, last + dt.timedelta(days=max_gap_days))))
    discovered: dt.date | None = None
    if draw(st.booleans()):
        discovered = draw(st.dates(violation, min(decision, LAST_VIOLATION)))
    return {"violation_date": violation, "violation_end_date": end, "discovered_date": discovered, "decision_date": decision}


def cases(
    rs: RulebookSet,
    compiled: Compiled,
    violations: list[str] | None = None,
    max_gap_days: int = 400,
    max_circumstances: int = 5,
    drafts: bool = True,
) -> st.SearchStrategy[Case]:
    """A random valid case of one of ``violations`` (default: every encoded violation type).

    Dates fall on both sides of 2026-08-15 (only after it for a type whose pre-Code provision is not
    encoded) (violation 2021-08-01..today in Beijing time, an optional
    end date up to today, the decision 0..``max_gap_days`` days after the end (it may lie ahead: a
    planned decision) and never before the first published edition, an optional discovery date
    between, up to today); the jurisdiction is Yunnan or
    Kunming, occasionally asking for the draft Code-aligned edition; facts are drawn from the
    ruleset's facts by type, always including those the regimes involved require; and a
    random subset of the ruleset's circumstances is present.
    """
    codes = sorted(violations or rs.violations)
    code_only = {c for c in codes if (b := rs.violations[c].model.before_code) is not None and b.status == "not_encoded"}
    first_decision = first_decision_date(rs)
    checks: dict[str, Consistency] = {}  # per ruleset: the inputs that may not be given together

    # a closure, so that Hypothesis never renders the (large) rulebook set in a repr
    @st.composite
    def case(draw: st.DrawFn) -> Case:
        code = draw(st.sampled_from(codes))
        dates = _draw_dates(draw, first_decision, max_gap_days, code in code_only)
        jurisdiction = draw(st.sampled_from(JURISDICTIONS))
        edition = DRAFT_EDITION if drafts and DRAFT_EDITION in rs.editions and draw(st.integers(0, 9)) == 0 else None
        party = draw(st.sampled_from(("unit", "individual")))
        decision = dates["decision_date"]
        assert decision is not None
        le, _ = editions.in_force(rs.editions, jurisdiction, decision, edition)
        ruleset = compiled.get(code, le.key)
        required = required_facts(rs, code, regimes_for(rs, dates["violation_end_date"] or dates["violation_date"], decision))  # type: ignore[arg-type]
        facts: dict[str, Any] = {}
        for name in sorted(ruleset.facts):
            if name in required or draw(st.booleans()):
                facts[name] = draw(fact_values(ruleset.facts[name]))
        circumstances = draw(
            st.lists(st.sampled_from(ruleset.circumstances), unique=True, max_size=max_circumstances)
        )
        drawn = Case(
            violation=code,
            jurisdiction=jurisdiction,
            party=party,
            facts=facts,
            circumstances=circumstances,
            edition=edition,
            **dates,
        )
        c = checks.get(ruleset.name)
        if c is None:
            c = checks[ruleset.name] = Consistency(rs, ruleset, le.effective, code)
        return consistent(c, ruleset, drawn, draw(st.randoms(use_true_random=False)))

    return case()
