"""Fuzzing the engine: for every encoded violation type under each regime, Hypothesis draws valid
cases and checks the law's invariants on every one.

One test per (violation code, regime of the act): 40 × 2. A case's act (its end, for a continuing
act) falls before 2026-08-15 (``pre2026``: the separate laws; decided on either side of the date, so
the lighter-law comparison is exercised) or on/after it (``code2026``: the Code). Facts come from
the violation's compiled facts (type and bounds: what ``GET /v1/violations/{code}`` publishes as its
JSON Schema), always with those the regimes involved require; circumstances are a random subset
of the violation's own, sometimes with a full set of exemption grounds; Yunnan or Kunming,
sometimes asking for the draft Code-aligned edition; a unit or an individual.

For each case:

- no exception at all (the drawn cases are valid by construction, so a refusal here is a bug:
  decided for this file; ``tests/test_properties.py`` covers wilder cases and documented refusals);
- durable_rules and the reference evaluator give identical results;
- the regime applied is the one the dates allow (``code2026`` acts only under the Code);
- every recommended fine (unit and individuals, applied and compared regime) lies inside its
  statutory range, unless 减轻 applied, and then below the minimum but not below the edition's
  floor (floor_ratio × minimum, rounded up to the edition's step);
- adding one mitigating circumstance never raises the recommended fine, adding one aggravating
  circumstance never lowers it (a waiver or a time bar counts as 0);
- a waiver (``no_penalty``) has an exemption step citing a statute (《…》) and a legal basis in the
  result; a time bar cites its limitation article.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from strategies import CODE_DATE, DRAFT_EDITION, JURISDICTIONS, fact_values, first_decision_date, regimes_for, required_facts

from api.clock import today
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.inputs import facts_for_matching
from discretion.engine.results import Assessment, RegimeResult
from discretion.errors import InputError
from discretion.review.synth import consistent
from discretion.rulebooks import editions
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.tree import SHIPPED

with warnings.catch_warnings():  # see tests/test_properties.py: the patching import warns on a failure
    warnings.simplefilter("ignore")
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover
        pass

# The shipped violation types, from the file names (one file per type, named for its code): read
# at collection time without loading the rulebooks; test_every_encoded_violation_is_fuzzed checks
# the list against the loaded set.
CODES = sorted(p.stem for p in (SHIPPED / "law" / "violations").glob("*.yaml"))
REGIMES = ("pre2026", "code2026")
FIRST_ACT = dt.date(2021, 8, 1)
LAST_ACT = today()  # no act or discovery after today (Beijing time), as the service requires
MAX_GAP_DAYS = 500

# 2 × (number of types) tests × this many cases, each assessed four times (durable, reference,
# +mitigating, +aggravating): with 147 types about 6,000 cases, a minute or two on 2 cores.
EXAMPLES = 20
FUZZ: dict[str, Any] = dict(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)


class Ctx:
    """The session's rulebooks and engines behind a short repr (Hypothesis prints arguments)."""

    def __init__(self, rulebooks: RulebookSet, engine: Engine, reference: Engine) -> None:
        self.rulebooks = rulebooks
        self.engine = engine
        self.reference = reference
        self.first_decision = first_decision_date(rulebooks)
        self.groups = {c.id: c.group for c in rulebooks.circumstances.values()}
        self.exemption_sets = [
            ("minor", "corrected_promptly", "no_harm"),
            ("first_offense", "slight_harm", "corrected_promptly"),
            ("no_fault",),
            ("positive_list", "minor", "corrected_promptly", "no_harm"),
        ]

    def __repr__(self) -> str:
        return "Ctx(shipped rulebooks, durable and reference engines)"


@pytest.fixture(scope="module")
def ctx(rulebooks: RulebookSet, engine: Engine, reference_engine: Engine) -> Ctx:
    return Ctx(rulebooks, engine, reference_engine)


def test_every_encoded_violation_is_fuzzed(rulebooks: RulebookSet) -> None:
    """The parametrisation (file names) is exactly the loaded set's violation codes."""
    assert CODES and CODES == sorted(rulebooks.violations)


# --- the cases --------------------------------------------------------------------------------


def _dates(draw: st.DrawFn, regime: str, first_decision: dt.date) -> dict[str, dt.date | None]:
    if regime == "pre2026":
        last_act = CODE_DATE - dt.timedelta(days=1)
        near = st.dates(CODE_DATE - dt.timedelta(days=MAX_GAP_DAYS), last_act)  # decided on either side
        violation = draw(st.one_of(st.dates(FIRST_ACT, last_act), near))
    else:
        last_act = LAST_ACT
        violation = draw(st.dates(CODE_DATE, last_act))
    end = draw(st.none() | st.dates(violation, min(last_act, violation + dt.timedelta(days=400))))
    act = end or violation
    earliest = max(act, first_decision)
    decision = draw(st.dates(earliest, earliest + dt.timedelta(days=MAX_GAP_DAYS)))
    discovered = draw(st.none() | st.dates(violation, min(decision, LAST_ACT)))
    return {"violation_date": violation, "violation_end_date": end, "discovered_date": discovered, "decision_date": decision}


def sometimes(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` draws (``integers(0, n) == 0`` would be far likelier: Hypothesis favours 0)."""
    return st.sampled_from([False] * (n - 1) + [True])


def cases(ctx: Ctx, code: str, regime: str) -> st.SearchStrategy[Case]:
    rs, compiled = ctx.rulebooks, ctx.engine.compiled

    @st.composite
    def case(draw: st.DrawFn) -> Case:
        dates = _dates(draw, regime, ctx.first_decision)
        jurisdiction = draw(st.sampled_from(JURISDICTIONS))
        edition = DRAFT_EDITION if draw(sometimes(8)) else None
        decision = dates["decision_date"]
        assert decision is not None
        le, _ = editions.in_force(rs.editions, jurisdiction, decision, edition)
        ruleset = compiled.get(code, le.key)
        act = dates["violation_end_date"] or dates["violation_date"]
        assert act is not None
        required = required_facts(rs, code, regimes_for(rs, act, decision))
        facts = {name: draw(fact_values(ruleset.facts[name]), label=name)
                 for name in sorted(ruleset.facts) if name in required or draw(st.booleans())}
        # mitigating, aggravating and other circumstances freely; exemption grounds sparingly (any
        # one of them may waive the fine, and waived cases say nothing about ranges), and now and
        # then a full set of grounds, so that waivers are still common
        others = [c for c in ruleset.circumstances if ctx.groups.get(c) != "exemption"]
        grounds = [c for c in ruleset.circumstances if ctx.groups.get(c) == "exemption"]
        circumstances = draw(st.lists(st.sampled_from(others), unique=True, max_size=5)) if others else []
        if grounds and draw(sometimes(3)):
            circumstances += draw(st.lists(st.sampled_from(grounds), unique=True, min_size=1, max_size=2))
        if draw(sometimes(6)):
            full = draw(st.sampled_from(ctx.exemption_sets))
            circumstances += [c for c in full if c in ruleset.circumstances and c not in circumstances]
        drawn = Case(violation=code, jurisdiction=jurisdiction, party=draw(st.sampled_from(("unit", "individual"))),
                     facts=facts, circumstances=circumstances, edition=edition, **dates)
        # inputs that deny each other are refused: mend them as a handler who knows the case would
        return consistent(ctx.engine.unit(code, le).consistency, ruleset, drawn, draw(st.randoms(use_true_random=False)))

    return case()


# --- the invariants --------------------------------------------------------------------------


def _top(x: int | None) -> float:
    return math.inf if x is None else x


def amount(a: Assessment) -> int:
    """The recommended fine of the applied regime; a waiver or a time bar fines nothing."""
    if a.outcome != "penalty" or a.applied.fine is None:
        return 0
    return a.applied.fine.recommended


def check_range(ctx: Ctx, case: Case, r: RegimeResult) -> None:
    fine = r.fine
    if r.outcome != "penalty" or fine is None:
        return
    lo, top, rec = fine.legal_min, _top(fine.legal_max), fine.recommended
    assert 0 <= lo <= top, fine
    for ind in r.individual_fines:
        if ind["recommended"] is not None and not r.reduced:
            assert ind["legal_min"] <= ind["recommended"] <= _top(ind["legal_max"]), ind
    if not r.reduced:
        assert lo <= rec <= top, f"{r.regime}: recommended outside the statutory range: {fine}"
        assert lo <= fine.band[0] <= fine.band[1] <= top, fine
        return
    le, _ = editions.in_force(ctx.rulebooks.editions, case.jurisdiction, case.decision_date, case.edition)
    e = le.effective
    assert e.reduction is not None and e.rounding is not None, f"减轻 under {le.key}, which has no reduction rule"
    step = e.rounding.step
    floor = math.ceil(Decimal(lo) * e.reduction.floor_ratio / step) * step
    assert any(s.step == "reduction" for s in r.steps), r.steps
    assert rec < lo, f"{r.regime}: 减轻 without a fine below the statutory minimum: {fine}"
    assert rec >= floor, f"{r.regime}: 减轻 below the edition's floor {floor}: {fine}"
    assert floor <= fine.band[0] <= fine.band[1] <= lo, f"{r.regime}: reduced band outside [floor {floor}, minimum]: {fine}"


def check_cited(a: Assessment) -> None:
    applied = a.applied
    if a.outcome == "no_penalty" and applied.exemption is not None:
        steps = [s for s in applied.steps if s.step == "exemption"]
        assert steps, f"a waiver without an exemption step: {applied.steps}"
        assert all(s.basis and all(b.startswith("《") for b in s.basis) for s in steps), steps
        assert a.to_dict()["law"]["basis"], "a waiver without a legal basis in the result"
    if a.outcome == "time_barred":
        steps = [s for s in applied.steps if s.step == "limitation"]
        assert steps and all(s.basis and all(b.startswith("《") for b in s.basis) for s in steps), steps


def with_extra(ctx: Ctx, case: Case, group: str, data: st.DataObject) -> Case | None:
    """The case plus one circumstance of ``group`` it does not have yet (None if there is none, or if
    it contradicts the case's inputs)."""
    le, _ = editions.in_force(ctx.rulebooks.editions, case.jurisdiction, case.decision_date, case.edition)
    ruleset = ctx.engine.compiled.get(case.violation, le.key)
    choices = [c for c in ruleset.circumstances if ctx.groups.get(c) == group and c not in case.circumstances]
    if not choices:
        return None
    extra = data.draw(st.sampled_from(choices), label=f"added {group}")
    more = Case(**{**case.model_dump(), "circumstances": [*case.circumstances, extra]})
    if ctx.engine.unit(case.violation, le).consistency.check(more, facts_for_matching(ruleset, more)) is not None:
        return None  # the added circumstance denies one the case has (e.g. 多次被处罚 beside 初次违法): refused
    return more


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("code", CODES)
def test_engine_invariants_hold_for_random_valid_cases(code: str, regime: str, ctx: Ctx) -> None:
    """Random valid cases of this violation type with the act under this regime: no exception, durable
    == reference, the regime the dates allow, every fine inside its statutory range (or, under 减轻,
    not below the edition's floor), a mitigating circumstance never raises the fine and an
    aggravating one never lowers it, a waiver or time bar cites its article. A type whose pre-Code
    provision is not encoded (``before_code: not_encoded``) has every act of that time refused by both
    engines (422 ``regime_not_encoded``), never a guess."""
    before = ctx.rulebooks.violations[code].model.before_code
    not_encoded = regime == "pre2026" and before is not None and before.status == "not_encoded"

    @settings(**FUZZ)
    @given(case=cases(ctx, code, regime), data=st.data())
    def run(case: Case, data: st.DataObject) -> None:
        if not_encoded:
            for engine in (ctx.engine, ctx.reference):
                with pytest.raises(InputError) as exc:
                    engine.assess(case)
                assert exc.value.code == "regime_not_encoded", exc.value
            return
        a = ctx.engine.assess(case)
        ref = ctx.reference.assess(case)
        assert a.to_dict() == ref.to_dict(), "durable_rules and the reference evaluator disagree"
        event(f"outcome={a.outcome} applied={a.applied.regime} compared={a.compared is not None} reduced={a.applied.reduced}")
        if regime == "code2026" or case.decision_date < CODE_DATE:
            assert a.applied.regime == regime and a.compared is None, (a.applied.regime, a.compared)
        else:
            assert a.applied.regime in REGIMES and a.compared is not None and a.compared.regime != a.applied.regime
        for r in (a.applied, a.compared):
            if r is not None:
                check_range(ctx, case, r)
        check_cited(a)
        before = amount(a)
        more = with_extra(ctx, case, "mitigating", data)
        if more is not None:
            after = amount(ctx.engine.assess(more))
            assert after <= before, f"{more.circumstances[-1]} raised the fine: {before} -> {after}"
        more = with_extra(ctx, case, "aggravating", data)
        if more is not None:
            after = amount(ctx.engine.assess(more))
            assert after >= before, f"{more.circumstances[-1]} lowered the fine: {before} -> {after}"

    run()
