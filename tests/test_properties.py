"""Property-based tests of the assessment pipeline over random valid cases (see tests/strategies.py).

Run with ``python3 -m pytest -q tests/test_properties.py`` (add ``--hypothesis-show-statistics``
to see how often each outcome, regime and reduction was exercised).
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st
from strategies import cases, fact_values, ruleset_for

from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.citation import cite
from discretion.engine.inputs import circumstance_counts, facts_for_matching
from discretion.engine.results import Assessment, RegimeResult
from discretion.errors import InputError
from discretion.rulebooks import editions
from discretion.rulebooks.compiler import RuleSet
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import MultipleFine, RateFine

# The codes with which the pipeline refuses a case (discretion/assessment.py, editions.py,
# errors.py): the only errors a client may ever see for a well-formed case.
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
    "contradictory_inputs",
    "regime_not_encoded",  # an act under a regime whose provision is not encoded (before_code: not_encoded)
}

# No example database (the tests write nothing into the repository) and no explain phase (it only
# annotates a failure, and doubles the time a failing property takes to report).
FAST: dict[str, Any] = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)

# On a failure the Hypothesis pytest plugin imports libcst (to suggest an @example patch), and that
# import warns; under filterwarnings=error a clean failure report would become an INTERNALERROR.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover - libcst not installed
        pass


class Ctx:
    """The session's rulebooks and engines behind a short repr: Hypothesis prints every argument of
    a failing test, and the repr of a rulebook set runs to megabytes (a warning, hence an error).
    A plain class, not a dataclass: Hypothesis prints a dataclass field by field."""

    def __init__(self, rulebooks: RulebookSet, engine: Engine, reference_engine: Engine) -> None:
        self.rulebooks = rulebooks
        self.engine = engine
        self.reference_engine = reference_engine

    def __repr__(self) -> str:
        return "Ctx(shipped rulebooks, durable and reference engines)"


@pytest.fixture(scope="module")
def ctx(rulebooks: RulebookSet, engine: Engine, reference_engine: Engine) -> Ctx:
    return Ctx(rulebooks, engine, reference_engine)


def _draw_case(data: st.DataObject, ctx: Ctx, **kw: Any) -> Case:
    return data.draw(cases(ctx.rulebooks, ctx.engine.compiled, **kw), label="case")


def _amount(a: Assessment) -> int:
    """The recommended fine of the applied regime; a waiver or a barred case fines nothing."""
    if a.outcome != "penalty" or a.applied.fine is None:
        return 0
    return a.applied.fine.recommended


def _by_regime(a: Assessment) -> dict[str, RegimeResult]:
    return {r.regime: r for r in (a.applied, a.compared) if r is not None}


def _top(x: int | None) -> float:
    return math.inf if x is None else x


def _with(case: Case, **update: Any) -> Case:
    """A validated copy of a case with some fields replaced."""
    return Case(**{**case.model_dump(), **update})


def _consistent(ctx: Ctx, case: Case) -> bool:
    """Whether no two inputs of the case deny each other (a contradictory case is refused, 422 contradictory_inputs)."""
    le, _ = editions.in_force(ctx.rulebooks.editions, case.jurisdiction, case.decision_date, case.edition)
    ruleset = ctx.engine.compiled.get(case.violation, le.key)
    return ctx.engine.unit(case.violation, le).consistency.check(case, facts_for_matching(ruleset, case)) is None


def _answer(engine: Engine, case: Case) -> Any:
    """The result as data, or the refusal (code, field, message)."""
    try:
        return engine.assess(case).to_dict()
    except InputError as exc:
        return (exc.code, exc.field, exc.message)


def _note(a: Assessment) -> None:
    event(f"outcome={a.outcome} regime={a.applied.regime} compared={a.compared is not None} reduced={a.applied.reduced}")


# --- 1. the rules engine agrees with the reference evaluator ---------------------------------


def _engine_fact(ctx: Ctx, case: Case) -> tuple[RuleSet, dict[str, Any]]:
    """The ruleset and the fact the pipeline asserts for a case (as ``assessment._assess`` builds it), without the regime."""
    ruleset = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case)
    fact = facts_for_matching(ruleset, case)
    fact.update(circumstance_counts(ctx.rulebooks, case))
    fact["violation"] = case.violation
    fact["party"] = case.party
    return ruleset, fact


def _saturated(ctx: Ctx, case: Case) -> Case:
    """The same case with every bool fact true and every circumstance present (still a valid case)."""
    ruleset = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case)
    bools = {n: True for n, f in ruleset.facts.items() if f.type == "bool"}
    return _with(case, facts={**case.facts, **bools}, circumstances=list(ruleset.circumstances))


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_durable_and_reference_fire_the_same_rules(data: st.DataObject, ctx: Ctx) -> None:
    """durable_rules and the reference evaluator fire the same rules in the same order, and the two engines give equal results."""
    case = _draw_case(data, ctx)
    # the saturated twin makes every `a or b` of bools true on both sides, which random cases rarely do
    for c in (case, _saturated(ctx, case)):
        ruleset, fact = _engine_fact(ctx, c)
        for regime in ("pre2026", "code2026"):
            f = dict(fact, regime=regime)
            fired = ctx.engine.matcher.match(ruleset, f)
            expected = ctx.reference_engine.matcher.match(ruleset, f)
            twin = "" if c is case else " (saturated twin: every bool fact true, every circumstance present)"
            assert fired == expected, f"{ruleset.name} under {regime}{twin}: durable fired {fired}, reference fired {expected}"
        # the saturated twin has inputs that deny each other (初次违法 beside 多次被处罚): both refuse it alike
        assert _answer(ctx.engine, c) == _answer(ctx.reference_engine, c)


# --- 2. valid cases are answered ---------------------------------------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_valid_cases_raise_nothing_but_documented_input_errors(data: st.DataObject, ctx: Ctx) -> None:
    """A random valid case is answered by both engines, or refused only with an InputError of a documented code."""
    case = _draw_case(data, ctx, max_gap_days=2500, max_circumstances=12)
    for eng in (ctx.engine, ctx.reference_engine):
        try:
            a = eng.assess(case)
        except InputError as exc:
            assert exc.code in DOCUMENTED_INPUT_CODES, exc
        else:
            _note(a)
            assert a.outcome in ("penalty", "no_penalty", "time_barred")
            assert a.reasoning


# --- 3. the statutory range ------------------------------------------------------------------------


def _check_range(ctx: Ctx, case: Case, a: Assessment) -> None:
    fine = a.applied.fine
    if a.outcome != "penalty" or fine is None:
        return
    lo, top, rec = fine.legal_min, _top(fine.legal_max), fine.recommended
    assert 0 <= lo <= top, fine
    if not a.applied.reduced:
        assert lo <= rec <= top, fine
        assert lo <= fine.band[0] <= fine.band[1] <= top, fine
        for ind in a.applied.individual_fines:
            if ind["recommended"] is not None:
                assert ind["legal_min"] <= ind["recommended"] <= _top(ind["legal_max"]), ind
        return
    le, _ = editions.in_force(ctx.rulebooks.editions, case.jurisdiction, case.decision_date, case.edition)
    e = le.effective
    assert e.reduction is not None and e.rounding is not None
    step = e.rounding.step
    floor = math.ceil(Decimal(lo) * e.reduction.floor_ratio / step) * step  # floor_ratio × legal_min, rounded up
    assert any(s.step == "reduction" for s in a.applied.steps)
    assert rec < lo, f"减轻 (reduced) without a fine below the statutory minimum: {fine}, floor {floor}"
    assert rec >= floor, f"减轻 below the edition's floor {floor}: {fine}"
    assert floor <= fine.band[0] <= fine.band[1] <= lo, f"band of a reduced fine outside [floor {floor}, minimum]: {fine}"


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_result_stays_inside_the_statutory_range_unless_reduced(data: st.DataObject, ctx: Ctx) -> None:
    """The recommended fine and its band lie inside the statutory range, except under 减轻, which goes below the minimum but not below the edition's floor."""
    case = _draw_case(data, ctx)
    a = ctx.engine.assess(case)
    _note(a)
    _check_range(ctx, case, a)


@settings(max_examples=200, **FAST)
@given(data=st.data())
def test_a_reduced_fine_is_below_the_minimum_and_not_below_the_floor(data: st.DataObject, ctx: Ctx) -> None:
    """With two or more mitigating and no aggravating circumstances (减轻), a rate/multiple fine lies in [floor, legal_min), small bases included."""
    # the violation types with rate/multiple fines: their minimum can be a few yuan (all types are in the test above)
    case = _draw_case(data, ctx, violations=sorted(_base_facts(ctx.rulebooks)))
    groups = ctx.rulebooks.circumstances
    ruleset = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case)
    mitigating = [c for c in ruleset.circumstances if c in groups and groups[c].group == "mitigating"]
    chosen = data.draw(st.lists(st.sampled_from(mitigating), unique=True, min_size=2, max_size=4), label="mitigating")
    keep = [c for c in case.circumstances if c not in groups or groups[c].group != "aggravating"]
    case = _with(case, circumstances=list(dict.fromkeys([*keep, *chosen])))
    a = ctx.engine.assess(case)
    _note(a)
    _check_range(ctx, case, a)


def _statutory_grounds(ctx: Ctx, regime: str) -> dict[str, str]:
    """The regime's statutory 减轻 grounds (行政处罚法第三十二条; a law under its item (五)) → their citation."""
    return {a.circumstance: cite(a.basis.ref) for a in ctx.rulebooks.law.general[regime].adjustments if a.direction == "mitigate"}


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_below_the_minimum_only_on_a_statutory_ground_the_trail_cites(data: st.DataObject, ctx: Ctx) -> None:
    """Over every violation type: the recommended fine (the unit's and each individual's) is never below
    the statutory minimum unless a statutory 减轻 ground of the applied regime is among the circumstances
    (行政处罚法第三十二条), and then the trail's 减轻 step cites it; 酌定 circumstances alone never reduce."""
    case = _draw_case(data, ctx)
    groups = ctx.rulebooks.circumstances
    ruleset = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case)
    mitigating = [c for c in ruleset.circumstances if c in groups and groups[c].group == "mitigating"]
    chosen = data.draw(st.lists(st.sampled_from(mitigating), unique=True, max_size=4), label="mitigating")
    keep = [c for c in case.circumstances if c not in groups or groups[c].group != "aggravating"]
    case = _with(case, circumstances=list(dict.fromkeys([*keep, *chosen])))
    a = ctx.engine.assess(case)
    _note(a)
    r = a.applied
    if a.outcome != "penalty" or r.fine is None:
        return
    grounds = _statutory_grounds(ctx, r.regime)
    present = [grounds[c] for c in case.circumstances if c in grounds]
    for ind in r.individual_fines:
        if ind["recommended"] is not None:
            assert ind["recommended"] >= ind["legal_min"], f"an individual's fine below its own minimum: {ind}"
    if r.fine.recommended >= r.fine.legal_min:
        return
    assert r.reduced and present, f"below the minimum without a statutory 减轻 ground: {case.circumstances} ({r.regime})"
    step = next(s for s in r.steps if s.step == "reduction")
    assert set(present) <= set(step.basis), f"the 减轻 step does not cite the grounds {present}: {step.basis}"


# --- 4. circumstances move the fine the right way -------------------------------------------------


def _added_circumstance(data: st.DataObject, ctx: Ctx, group: str) -> tuple[Case, Case]:
    case = _draw_case(data, ctx)
    groups = ctx.rulebooks.circumstances
    ruleset = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case)
    choices = [c for c in ruleset.circumstances if c not in case.circumstances and c in groups and groups[c].group == group]
    # one that denies a circumstance the case has (多次被处罚 beside 初次违法) is refused, not weighed
    choices = [c for c in choices if _consistent(ctx, _with(case, circumstances=[*case.circumstances, c]))]
    assume(choices)
    extra = data.draw(st.sampled_from(choices), label=f"added {group} circumstance")
    return case, _with(case, circumstances=[*case.circumstances, extra])


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_a_mitigating_circumstance_never_raises_the_fine(data: st.DataObject, ctx: Ctx) -> None:
    """Adding a mitigating circumstance never increases the recommended fine (a waiver or a time bar counts as 0)."""
    before, after = _added_circumstance(data, ctx, "mitigating")
    a0, a1 = ctx.engine.assess(before), ctx.engine.assess(after)
    _note(a1)
    assert _amount(a1) <= _amount(a0), (
        f"{after.circumstances[-1]} raised the fine: {_amount(a0)} ({a0.applied.regime}) -> {_amount(a1)} ({a1.applied.regime})"
    )


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_an_aggravating_circumstance_never_lowers_the_fine(data: st.DataObject, ctx: Ctx) -> None:
    """Adding an aggravating circumstance never decreases the recommended fine (a waiver or a time bar counts as 0)."""
    before, after = _added_circumstance(data, ctx, "aggravating")
    a0, a1 = ctx.engine.assess(before), ctx.engine.assess(after)
    _note(a1)
    assert _amount(a1) >= _amount(a0), (
        f"{after.circumstances[-1]} lowered the fine: {_amount(a0)} ({a0.applied.regime}) -> {_amount(a1)} ({a1.applied.regime})"
    )


# --- 5. waivers cite their article -------------------------------------------------------------------


@settings(max_examples=300, **FAST)
@given(data=st.data())
def test_a_waiver_always_cites_its_article(data: st.DataObject, ctx: Ctx) -> None:
    """An exemption has an "exemption" step citing a statute (《…》), and a time bar has a limitation step with its basis."""
    case = _draw_case(data, ctx, max_gap_days=2500)
    waivers = sorted(c.id for c in ctx.rulebooks.circumstances.values() if c.group == "exemption")
    extra = data.draw(st.lists(st.sampled_from(waivers), unique=True, max_size=4), label="exemption circumstances")
    for c in extra:  # each ground that does not deny the case's inputs (没有造成危害后果 beside 危害后果轻微 is refused)
        more = _with(case, circumstances=list(dict.fromkeys([*case.circumstances, c])))
        if _consistent(ctx, more):
            case = more
    a = ctx.engine.assess(case)
    _note(a)
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
def test_assessing_twice_gives_the_same_result(data: st.DataObject, ctx: Ctx) -> None:
    """Assessing the same case twice gives identical results."""
    case = _draw_case(data, ctx)
    assert ctx.engine.assess(case).to_dict() == ctx.engine.assess(case).to_dict()


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


def test_there_are_rate_and_multiple_fines_to_test(rulebooks: RulebookSet) -> None:
    """The monotonicity property has rate/multiple fines to work on (e.g. 总投资额百分之一以上百分之五以下)."""
    assert "total_investment" in _base_facts(rulebooks).get("eia_unapproved_construction", [])


@settings(max_examples=250, **FAST)
@given(data=st.data())
def test_a_larger_base_never_gives_a_smaller_range(data: st.DataObject, ctx: Ctx) -> None:
    """Under each regime, a larger base (investment, disposal cost, loss, fees, income) never gives a smaller legal_min or legal_max."""
    bases = _base_facts(ctx.rulebooks)
    case = _draw_case(data, ctx, violations=sorted(bases))
    base = data.draw(st.sampled_from(bases[case.violation]), label="base fact")
    fdef = ruleset_for(ctx.rulebooks, ctx.engine.compiled, case).facts[base]
    small, large = sorted(data.draw(st.lists(fact_values(fdef), min_size=2, max_size=2), label="two bases"))
    r_small = _by_regime(ctx.engine.assess(_with(case, facts={**case.facts, base: small})))
    r_large = _by_regime(ctx.engine.assess(_with(case, facts={**case.facts, base: large})))
    for regime, rs in r_small.items():
        rl = r_large.get(regime)
        if rl is None or rs.fine is None or rl.fine is None:
            continue
        event(f"compared {case.violation} {regime}")
        why = (regime, base, small, large, rs.fine, rl.fine)
        assert rl.fine.legal_min >= rs.fine.legal_min, why
        assert _top(rl.fine.legal_max) >= _top(rs.fine.legal_max), why
        if [i["role"] for i in rs.individual_fines] == [i["role"] for i in rl.individual_fines]:
            for i_s, i_l in zip(rs.individual_fines, rl.individual_fines):
                assert i_l["legal_min"] >= i_s["legal_min"], (regime, base, small, large, i_s, i_l)
                assert _top(i_l["legal_max"]) >= _top(i_s["legal_max"]), (regime, base, small, large, i_s, i_l)
