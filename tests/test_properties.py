"""Property-based tests of the assessment pipeline over random valid cases (see tests/strategies.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from discretion import benchmark
from discretion.assessment import Assessment, Engine, RegimeResult, _circumstance_counts, _facts_for_matching
from discretion.case import Case
from discretion.errors import InputError
from discretion.models import MultipleFine, RateFine
from discretion.rulebook import RulebookSet

from strategies import cases, fact_values, ruleset_for

# The codes with which the pipeline refuses a case (discretion/assessment.py, benchmark.py):
# the only errors a client may ever see for a well-formed case.
DOCUMENTED_INPUT_CODES = {
    "invalid_input",
    "invalid_date",
    "invalid_fact",
    "missing_fact",
    "unknown_fact",
    "unknown_circumstance",
    "unknown_violation",
    "unknown_jurisdiction",
    "unknown_edition",
    "no_edition_in_force",
    "date_out_of_range",
}

FAST = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _amount(a: Assessment) -> int:
    """The recommended fine of the applied regime; a waiver or a barred case fines nothing."""
    if a.outcome != "penalty" or a.applied.fine is None:
        return 0
    return a.applied.fine.recommended


def _by_regime(a: Assessment) -> dict[str, RegimeResult]:
    return {r.regime: r for r in (a.applied, a.compared) if r is not None}


def _with(case: Case, **update: Any) -> Case:
    return Case(**{**case.model_dump(), **update})


# --- 1. the rules engine agrees with the reference evaluator ---------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_durable_and_reference_fire_the_same_rules(
    data: st.DataObject, rulebooks: RulebookSet, engine: Engine, reference_engine: Engine
) -> None:
    """durable_rules and the reference evaluator fire the same rules in the same order and give the same result."""
    case = data.draw(cases(rulebooks, engine.compiled))
    ruleset = ruleset_for(rulebooks, engine.compiled, case)
    fact = _facts_for_matching(ruleset, case)
    fact.update(_circumstance_counts(rulebooks, case))
    fact["violation"] = case.violation
    fact["party"] = case.party
    for regime in ("pre2026", "code2026"):
        f = dict(fact, regime=regime)
        assert engine.matcher.match(ruleset, f) == reference_engine.matcher.match(ruleset, f), (regime, f)
    assert engine.assess(case).to_dict() == reference_engine.assess(case).to_dict()


# --- 2. valid cases are answered ---------------------------------------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_valid_cases_raise_nothing_but_documented_input_errors(
    data: st.DataObject, rulebooks: RulebookSet, engine: Engine, reference_engine: Engine
) -> None:
    """A random valid case is answered by both engines, or refused only with an InputError of a documented code."""
    case = data.draw(cases(rulebooks, engine.compiled, max_gap_days=2500, max_circumstances=12))
    for eng in (engine, reference_engine):
        try:
            a = eng.assess(case)
        except InputError as exc:
            assert exc.code in DOCUMENTED_INPUT_CODES, exc
        else:
            assert a.outcome in ("penalty", "no_penalty", "time_barred")
            assert a.reasoning


# --- 3. the statutory range ------------------------------------------------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_result_stays_inside_the_statutory_range_unless_reduced(
    data: st.DataObject, rulebooks: RulebookSet, engine: Engine
) -> None:
    """The recommended fine and its band lie inside the statutory range, except under 减轻, which stays at or above the edition's floor."""
    case = data.draw(cases(rulebooks, engine.compiled))
    a = engine.assess(case)
    fine = a.applied.fine
    if a.outcome != "penalty" or fine is None:
        return
    lo, hi, rec = fine.legal_min, fine.legal_max, fine.recommended
    top = math.inf if hi is None else hi
    assert 0 <= lo <= top
    if not a.applied.reduced:
        assert lo <= rec <= top, fine
        assert lo <= fine.band[0] <= fine.band[1] <= top, fine
        for ind in a.applied.individual_fines:
            if ind["recommended"] is not None:
                assert ind["legal_min"] <= ind["recommended"] <= (math.inf if ind["legal_max"] is None else ind["legal_max"]), ind
        return
    le, _ = benchmark.in_force(rulebooks.editions, case.jurisdiction, case.decision_date, case.edition)
    e = le.effective
    assert e.reduction is not None and e.rounding is not None
    step = e.rounding.step
    floor = math.ceil(Decimal(lo) * e.reduction.floor_ratio / step) * step
    assert any(s.step == "reduction" for s in a.applied.steps)
    assert rec < lo, f"减轻 without a fine below the statutory minimum: {fine} (floor {floor})"
    assert rec >= floor, f"减轻 below the edition's floor {floor}: {fine}"


# --- 4. circumstances move the fine the right way -------------------------------------------------


def _added_circumstance(data: st.DataObject, rulebooks: RulebookSet, engine: Engine, group: str) -> tuple[Case, Case]:
    case = data.draw(cases(rulebooks, engine.compiled))
    ruleset = ruleset_for(rulebooks, engine.compiled, case)
    choices = [
        c for c in ruleset.circumstances
        if c not in case.circumstances and c in rulebooks.circumstances and rulebooks.circumstances[c].group == group
    ]
    assume(choices)
    extra = data.draw(st.sampled_from(choices), label=f"added {group}")
    return case, _with(case, circumstances=[*case.circumstances, extra])


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_a_mitigating_circumstance_never_raises_the_fine(data: st.DataObject, rulebooks: RulebookSet, engine: Engine) -> None:
    """Adding a mitigating circumstance never increases the recommended fine (a waiver counts as 0)."""
    before, after = _added_circumstance(data, rulebooks, engine, "mitigating")
    a0, a1 = engine.assess(before), engine.assess(after)
    assert _amount(a1) <= _amount(a0), (
        f"{after.circumstances[-1]} raised the fine: {_amount(a0)} ({a0.applied.regime}) -> {_amount(a1)} ({a1.applied.regime})"
    )


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_an_aggravating_circumstance_never_lowers_the_fine(data: st.DataObject, rulebooks: RulebookSet, engine: Engine) -> None:
    """Adding an aggravating circumstance never decreases the recommended fine (a waiver counts as 0)."""
    before, after = _added_circumstance(data, rulebooks, engine, "aggravating")
    a0, a1 = engine.assess(before), engine.assess(after)
    assert _amount(a1) >= _amount(a0), (
        f"{after.circumstances[-1]} lowered the fine: {_amount(a0)} ({a0.applied.regime}) -> {_amount(a1)} ({a1.applied.regime})"
    )


# --- 5. waivers cite their article -------------------------------------------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_a_waiver_always_cites_its_article(data: st.DataObject, rulebooks: RulebookSet, engine: Engine) -> None:
    """An exemption has an "exemption" step citing a statute (《…》), and a time bar has a limitation step with its basis."""
    case = data.draw(cases(rulebooks, engine.compiled, max_gap_days=2500))
    waivers = sorted(c.id for c in rulebooks.circumstances.values() if c.group == "exemption")
    extra = data.draw(st.lists(st.sampled_from(waivers), unique=True, max_size=4), label="exemption circumstances")
    case = _with(case, circumstances=list(dict.fromkeys([*case.circumstances, *extra])))
    a = engine.assess(case)
    applied = a.applied
    if a.outcome == "no_penalty" and applied.exemption is not None:
        steps = [s for s in applied.steps if s.step == "exemption"]
        assert steps, applied.steps
        assert all(s.basis and all(b.startswith("《") for b in s.basis) for s in steps), steps
        assert a.to_dict()["law"]["basis"], "an exemption without a legal basis in the result"
    if a.outcome == "time_barred":
        steps = [s for s in applied.steps if s.step == "limitation"]
        assert steps, applied.steps
        assert all(s.basis and all(b.startswith("《") for b in s.basis) for s in steps), steps


# --- 6. determinism ---------------------------------------------------------------------------------------


@settings(max_examples=100, **FAST)
@given(data=st.data())
def test_assessing_twice_gives_the_same_result(data: st.DataObject, rulebooks: RulebookSet, engine: Engine) -> None:
    """Assessing the same case twice gives identical results."""
    case = data.draw(cases(rulebooks, engine.compiled))
    assert engine.assess(case).to_dict() == engine.assess(case).to_dict()


# --- 7. monotone in the base ------------------------------------------------------------------------------


def _base_facts(rulebooks: RulebookSet) -> dict[str, list[str]]:
    """Violation code -> the facts its rate/multiple fines (unit or individual) are computed from."""
    out: dict[str, list[str]] = {}
    for code, lv in rulebooks.violations.items():
        fines = []
        for rules in lv.model.regimes.values():
            for p in rules.provisions:
                fines += [p.fine] + [f.fine for f in p.individual_fines]
                for x in p.escalations:
                    fines += [x.fine] + [f.fine for f in x.individual_fines or []]
        bases = sorted({f.base for f in fines if isinstance(f, (RateFine, MultipleFine))})
        if bases:
            out[code] = bases
    return out


def test_there_are_rate_and_multiple_fines_to_test() -> None:
    """The monotonicity property below has rate/multiple fines to work on (e.g. 总投资额百分之一以上百分之五以下)."""
    from discretion import rulebook

    bases = _base_facts(rulebook.load())
    assert "total_investment" in bases.get("eia_unapproved_construction", [])


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_a_larger_base_never_gives_a_smaller_range(data: st.DataObject, rulebooks: RulebookSet, engine: Engine) -> None:
    """Under each regime, a larger base (investment, disposal cost, loss, fees) never gives a smaller legal_min or legal_max."""
    bases = _base_facts(rulebooks)
    case = data.draw(cases(rulebooks, engine.compiled, violations=sorted(bases)))
    base = data.draw(st.sampled_from(bases[case.violation]), label="base fact")
    fdef = ruleset_for(rulebooks, engine.compiled, case).facts[base]
    small, large = sorted(data.draw(st.lists(fact_values(fdef), min_size=2, max_size=2), label="two bases"))
    r_small = _by_regime(engine.assess(_with(case, facts={**case.facts, base: small})))
    r_large = _by_regime(engine.assess(_with(case, facts={**case.facts, base: large})))
    for regime, rs in r_small.items():
        rl = r_large.get(regime)
        if rl is None or rs.fine is None or rl.fine is None:
            continue
        assert rl.fine.legal_min >= rs.fine.legal_min, (regime, base, small, large, rs.fine, rl.fine)
        top_s = math.inf if rs.fine.legal_max is None else rs.fine.legal_max
        top_l = math.inf if rl.fine.legal_max is None else rl.fine.legal_max
        assert top_l >= top_s, (regime, base, small, large, rs.fine, rl.fine)
        if [i["role"] for i in rs.individual_fines] == [i["role"] for i in rl.individual_fines]:
            for i_s, i_l in zip(rs.individual_fines, rl.individual_fines):
                assert i_l["legal_min"] >= i_s["legal_min"], (regime, base, small, large, i_s, i_l)
                assert (math.inf if i_l["legal_max"] is None else i_l["legal_max"]) >= (
                    math.inf if i_s["legal_max"] is None else i_s["legal_max"]
                ), (regime, base, small, large, i_s, i_l)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
