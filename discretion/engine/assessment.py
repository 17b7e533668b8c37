"""The assessment pipeline (design.md): :class:`Engine` answers one case.

``assess(case)`` runs the stages of :mod:`discretion.engine.stages` in order — regime and edition,
limitation, exemption, statutory range, factor placement, adjustments and 减轻, measures and
flags, the lighter-law comparison — over the case-independent parts prepared once per engine
(:mod:`discretion.engine.prepared`), then renders the reasoning. The matcher only matches
conditions; everything else is plain Python over the loaded rulebook set.
"""

from __future__ import annotations

from typing import Any

from ..rulebooks.loaded import RulebookSet
from . import stages
from .case import Case
from .matching import Matcher, make_matcher
from .prepared import Plan, Preparation, Prov
from .reasoning import render
from .results import Assessment, RegimeResult, new_assessment, new_result


class Engine(Preparation):
    """A compiled rulebook set and a matcher: ``assess(case)`` answers one case."""

    def __init__(self, rulebooks: RulebookSet, matcher: Matcher | str = "durable") -> None:
        super().__init__(rulebooks)
        self.matcher = make_matcher(matcher) if isinstance(matcher, str) else matcher

    def assess(self, case: Case) -> Assessment:
        result = _assess(self, case)
        result.reasoning = render(result)
        return result


def _assess(engine: Engine, case: Case) -> Assessment:
    """The result of ``case`` without the reasoning text (the impact replay compares results only)."""
    unit, regimes, steps, dates = stages.regimes_and_edition(engine, case)
    fact, counts = stages.matching_fact(engine, unit, case, steps)
    plans = stages.plans(unit, regimes, case)
    results = []
    for plan in plans:
        each = fact if len(plans) == 1 else dict(fact)  # each matcher call gets its own fact
        each["regime"] = plan.regime
        own = stages.statutory_counts(plan, case.circumstances, counts)
        each["mitigating_count"] = own["mitigating_count"]
        fired = set(engine.matcher.match(plan.matching, each))
        results.append(_evaluate(engine, plan, case, fired, own, dates, each))
    applied, compared, lighter = stages.lighter_law(engine, results, steps)
    plan = plans[0] if applied is results[0] else plans[-1]
    not_applied, facts, defaulted, notes = stages.notices(
        engine, unit, plan, applied, regimes[-1], case, steps, compared.regime if compared is not None else None
    )
    a = new_assessment(case, applied, compared, lighter, dict(unit.rulebook), steps, unit.violation.title)
    a.circumstances_not_applied = not_applied
    a.facts_not_applied = facts
    a.factors_defaulted = defaulted
    a.notes = notes
    return a


def _evaluate(
    engine: Engine, plan: Plan, case: Case, fired: set[str], counts: dict[str, int], dates: stages.Dates, fact: dict[str, Any]
) -> RegimeResult:
    """The result under one regime: the stages from limitation to the procedural flags."""
    out = new_result(plan.regime, "penalty")
    if stages.limitation(plan, fired, dates, out):
        return out
    provisions = stages.applicable_provisions(plan, fired, out)
    if not provisions:
        return out
    if stages.exemption(plan, provisions, fired, out):
        if out.discretionary:  # 可以不予处罚: the fine if the bureau punishes all the same
            shadow = new_result(plan.regime, "penalty")
            _punish(engine, plan, case, fired, counts, provisions, shadow, fact)
            stages.if_punished(plan, shadow, out)
            out.shadow = shadow
        return out
    _punish(engine, plan, case, fired, counts, provisions, out, fact)
    return out


def _punish(
    engine: Engine, plan: Plan, case: Case, fired: set[str], counts: dict[str, int], provisions: list[Prov], out: RegimeResult,
    fact: dict[str, Any],
) -> None:
    """The stages from the statutory range to the procedural flags, for a case that is punished."""
    evaluated, winner = stages.statutory_range(plan, provisions, case.facts, fired, engine.range_of, out)
    measures, flags = stages.measures_and_flags(plan, evaluated, fired)
    if winner is None:
        stages.without_fine(plan, evaluated, measures, flags, out)
        return
    position = stages.factor_placement(plan, fired, out, fact)
    position = stages.adjustments(plan, position, case.circumstances, out)
    stages.fine(plan, winner, position, fired, counts, out, case.circumstances)
    stages.individual_fines(plan, winner, position, case.facts, engine.range_of, out)
    stages.procedural_flags(plan, case.party, measures, flags, out)
