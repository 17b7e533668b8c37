"""Synthetic cases: a seeded generator of realistic, valid cases for demos, tests and benchmarks.

``generate(rulebooks, compiled, n, seed, today=…)`` draws ``n`` cases with a seeded :class:`random.Random`
(the same seed and ``today`` give the same cases; ``today`` is given, the generator does not read the clock):

- the violation type from all types, weighted toward the common ones (over-standard discharge,
  no permit, EIA, hazardous waste, monitoring, evading supervision);
- the facts from the compiled ruleset of the edition in force on the decision date: every fact a
  regime ``requires``, the law layer's optional facts, the facts the edition's factors, common
  factors and exemption entries read, each with a sensible value for its name and type;
- circumstances at rough real-world frequencies (most cases have none or one);
- violation dates on both sides of 2026-08-15, the day the 《生态环境法典》 took effect (some just
  before it, so that both regimes are evaluated; only after it for a type whose pre-Code provision
  is not encoded, ``before_code: not_encoded``), a quarter of them continuing acts with an end
  date; the decision 30–200 days after the act (its end for a continuing act); a discovery date
  for half of them; no date after ``today`` (an act at the latest 30 days before it, the decision
  on ``today`` at the latest), as the service refuses acts and discoveries after today;
- Yunnan and Kunming (which falls back to the province after its 2021 edition).

``generate_valid`` also assesses every case and keeps the ones that do not raise
:class:`~discretion.errors.InputError`, topping up from the same random stream until it has ``n``.

Synthetic cases are not real cases. The mark lives outside the case (the :class:`~discretion.engine.case.Case`
stays the contract's assessment input): case files written by :mod:`discretion.review.casefile` carry
``source = "synthetic"`` and a reference ``SYN-<seed>-<n>`` on every row (see :func:`entries`).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator, Literal

from ..engine.assessment import Engine
from ..engine.case import Case
from ..engine.consistency import Consistency
from ..engine.inputs import facts_for_matching
from ..errors import DiscretionError, InputError
from ..rulebooks import conditions, editions
from ..rulebooks.compiler import Compiled, RuleSet
from ..rulebooks.loaded import RulebookSet
from ..rulebooks.models import FactDef

SEED = 20260815
CODE_DAY = dt.date(2026, 8, 15)  # 《中华人民共和国生态环境法典》施行
MIN_GAP = dt.timedelta(days=30)  # the shortest time from the act (its end) to the decision
SOURCE = "synthetic"  # the mark every synthetic case carries in a case file

# Relative frequency of each violation type (unlisted types weigh 1).
VIOLATION_WEIGHTS: dict[str, float] = {
    "water_over_standard": 14,
    "air_over_standard": 14,
    "discharge_without_permit": 9,
    "eia_unapproved_construction": 9,
    "acceptance_not_done_operation": 7,
    "hazardous_waste_management": 8,
    "hazardous_waste_dumping": 3,
    "air_monitoring_violation": 5,
    "water_monitoring_violation": 5,
    "air_evading_supervision": 4,
    "water_evading_supervision": 4,
    "permit_conditions_violation": 4,
    "permit_ledger_violation": 4,
    "dusty_material_uncovered": 4,
    "voc_dust_control_violation": 4,
    "industrial_solid_waste_management": 3,
    "eia_measures_not_implemented": 2,
    "construction_noise_violation": 2,
    "restaurant_fumes": 2,
    "inspection_refused": 2,
}

# Probability that a case carries each circumstance.
CIRCUMSTANCE_RATES: dict[str, float] = {
    # exemption grounds
    "first_offense": 0.35,
    "corrected_promptly": 0.25,
    "no_harm": 0.18,
    "slight_harm": 0.10,
    "minor": 0.04,
    "positive_list": 0.04,
    "no_fault": 0.005,
    # mitigating
    "eliminated_harm": 0.12,
    "confessed": 0.07,
    "ecological_restoration": 0.04,
    "self_reported": 0.04,
    "compensation_paid": 0.03,
    "meritorious": 0.015,
    "coerced": 0.005,
    # aggravating
    "refused_correction": 0.05,
    "sensitive_area": 0.05,
    "repeat_offense": 0.04,
    "serious_harm": 0.025,
    "heavy_pollution_alert": 0.02,
    "malicious": 0.01,
    "obstructed_inspection": 0.01,
    # limitation
    "harm_caused": 0.10,
    "endangers_life_health": 0.01,
}
OTHER_CIRCUMSTANCE_RATE = 0.05  # a violation type's own circumstances, if any

BOOL_RATES: dict[str, float] = {
    "serious": 0.10,
    "not_corrected": 0.08,
    "stopped_voluntarily": 0.15,
    "fault_reported_24h": 0.05,
    "refused_stop": 0.04,
    "refused_restore": 0.02,
    "severe_consequences": 0.03,
    "severe_consequence": 0.03,
    "especially_serious": 0.02,
}
DEFAULT_BOOL_RATE = 0.10

# (median, spread) of log-normal money amounts in yuan, by fact name
MONEY: dict[str, tuple[float, float]] = {
    "total_investment": (2e7, 1.4),
    "disposal_cost": (2e5, 1.2),
    "direct_loss": (1e6, 1.5),
    "illegal_income": (5e4, 1.2),
    "fees_received": (1e5, 1.0),
    "goods_value": (1e5, 1.2),
    "contract_price": (1e7, 1.3),
    "previous_year_income": (1.2e5, 0.8),
}

JURISDICTIONS = (("yunnan", 0.85), ("yunnan/kunming", 0.15))


@dataclass(frozen=True)
class _Shape:
    """What the generator needs to know about one ruleset (one violation type under one edition)."""

    required: tuple[str, ...]  # required by some regime
    law_optional: tuple[str, ...]  # the law layer's other facts
    factor_facts: tuple[str, ...]  # read by the edition's factors for this type
    common_facts: tuple[str, ...]  # read by the edition's common factors
    exemption_facts: tuple[str, ...]  # read by the edition's exemption entries for this type
    circumstances: tuple[str, ...]


class CaseGenerator:
    """Draws one case at a time from a seeded stream (the same seed gives the same cases)."""

    def __init__(self, rulebooks: RulebookSet, compiled: Compiled, seed: int = SEED, *, today: dt.date) -> None:
        """``today``: no date drawn lies after it (the caller's day: the generator does not read the clock)."""
        self.rs = rulebooks
        self.compiled = compiled
        self.rng = random.Random(seed)
        self.today = today
        self.codes = sorted(rulebooks.violations)
        self.code_weights = [VIOLATION_WEIGHTS.get(c, 1.0) for c in self.codes]
        self._shapes: dict[str, _Shape] = {}
        self._consistency: dict[str, Consistency] = {}
        # types whose pre-Code provision is not encoded: an act before the Code cannot be assessed
        # (422 regime_not_encoded), so their acts are drawn from the Code's day on
        self._code_only = frozenset(
            code for code, v in rulebooks.violations.items()
            if v.model.before_code is not None and v.model.before_code.status == "not_encoded"
        )

    # --- shape of a ruleset -------------------------------------------------------------------

    def shape(self, ruleset: RuleSet) -> _Shape:
        got = self._shapes.get(ruleset.name)
        if got is not None:
            return got
        v = ruleset.violation
        lv = self.rs.violations[v.code]
        required = tuple(dict.fromkeys(n for rules in v.regimes.values() for n in rules.requires))
        law_optional = tuple(n for n in lv.facts if n not in required)
        e = ruleset.edition

        def read(texts: Iterator[str | None]) -> tuple[str, ...]:
            out: dict[str, None] = {}
            for t in texts:
                if t:
                    for name in sorted(conditions.names(conditions.parse(t))):
                        if name in ruleset.facts and name not in lv.facts:
                            out[name] = None
            return tuple(out)

        factor_facts: tuple[str, ...] = ()
        common_facts: tuple[str, ...] = ()
        exemption_facts: tuple[str, ...] = ()
        if e is not None:
            vb = e.violations.get(v.code)
            factor_facts = read(lv_.when for f in (vb.factors if vb else []) for lv_ in f.levels)
            common_facts = read(lv_.when for f in e.common_factors or [] for lv_ in f.levels)
            exemption_facts = read(x.when for x in e.exemptions or [] if v.code in x.violations)
            common_facts = tuple(n for n in common_facts if n not in factor_facts)
            exemption_facts = tuple(n for n in exemption_facts if n not in factor_facts and n not in common_facts)
        got = _Shape(required, law_optional, factor_facts, common_facts, exemption_facts, ruleset.circumstances)
        self._shapes[ruleset.name] = got
        return got

    # --- values ---------------------------------------------------------------------------------

    def _enum(self, f: FactDef) -> str:
        # choices are listed from the least to the most serious: the lighter ones are commoner
        choices = list(f.choices or {})
        weights = [len(choices) - i + 1 for i in range(len(choices))]
        return self.rng.choices(choices, weights)[0]

    def _clamp(self, f: FactDef, x: Any) -> Any:
        if f.min is not None and x < f.min:
            x = type(x)(f.min) if isinstance(x, int) else Decimal(f.min)
        if f.max is not None and x > f.max:
            x = type(x)(f.max) if isinstance(x, int) else Decimal(f.max)
        return x

    def value(self, f: FactDef) -> Any:
        r = self.rng
        name = f.name
        if f.type == "bool":
            return r.random() < BOOL_RATES.get(name, DEFAULT_BOOL_RATE)
        if f.type == "enum":
            return self._enum(f)
        if f.type == "money":
            median, sigma = MONEY.get(name, (1e5, 1.0))
            return self._clamp(f, max(1, int(round(r.lognormvariate(0, sigma) * median, -2 if median >= 1e5 else 0))))
        if f.type == "count":
            if name == "duration_days":
                x = int(r.expovariate(1 / 15)) + 1
            elif name == "violations_in_two_years":
                x = r.choices((1, 2, 3, 4), (70, 20, 7, 3))[0]
            elif name == "corrected_within_days":
                x = int(r.expovariate(1 / 6))
            elif name == "corrected_within_workdays":
                x = int(r.expovariate(1 / 5))
            elif name == "vehicles":
                x = int(r.expovariate(1 / 4)) + 1
            elif name == "occurrences":
                x = r.choices((1, 2, 3, 4, 5), (60, 20, 10, 6, 4))[0]
            else:
                x = int(r.expovariate(1 / 5)) + 1
            return self._clamp(f, x)
        if f.type == "number":
            if name == "exceedance_ratio":
                ratio = min(r.lognormvariate(-0.8, 1.0), 12.0)  # median about 0.45 times over the limit
                return self._clamp(f, Decimal(f"{ratio:.2f}"))
            if name.endswith("_tonnes"):
                tonnes = r.lognormvariate(-1.0, 1.6)
                return self._clamp(f, Decimal(f"{tonnes:.3f}"))
            return self._clamp(f, Decimal(f"{r.lognormvariate(0, 1):.2f}"))
        if f.type == "date":
            return min(dt.date(2025, 1, 1) + dt.timedelta(days=r.randrange(700)), self.today).isoformat()
        raise ValueError(f"no generator for fact type {f.type}")

    # --- dates ----------------------------------------------------------------------------------

    def _violation_date(self, code_only: bool = False) -> dt.date:
        r = self.rng
        bucket = r.random()
        if code_only:
            lo, hi = CODE_DAY, dt.date(2027, 6, 30)
        elif bucket < 0.15:  # the 2021 editions (and Kunming's own) are in force at the decision
            lo, hi = dt.date(2022, 1, 1), dt.date(2023, 8, 31)
        elif bucket < 0.50:
            lo, hi = dt.date(2023, 9, 1), dt.date(2026, 1, 31)
        elif bucket < 0.65:  # just before the Code: the decision often falls after it
            lo, hi = dt.date(2026, 2, 1), CODE_DAY - dt.timedelta(days=1)
        else:
            lo, hi = CODE_DAY, dt.date(2027, 6, 30)
        hi = min(hi, self.today - MIN_GAP)  # decided (at least MIN_GAP later) by today
        lo = min(lo, hi)
        return lo + dt.timedelta(days=r.randrange((hi - lo).days + 1))

    # --- cases ----------------------------------------------------------------------------------

    def case(self) -> Case:
        r = self.rng
        code = r.choices(self.codes, self.code_weights)[0]
        jurisdiction = "yunnan" if r.random() < JURISDICTIONS[0][1] else JURISDICTIONS[1][0]
        start = self._violation_date(code in self._code_only)
        end: dt.date | None = None
        if r.random() < 0.25:
            end = min(start + dt.timedelta(days=int(r.expovariate(1 / 20)) + 1), max(start, self.today - MIN_GAP))
        decision = min((end or start) + dt.timedelta(days=r.randint(MIN_GAP.days, 200)), self.today)
        discovered: dt.date | None = None
        if r.random() < 0.5:
            discovered = start + dt.timedelta(days=r.randrange((decision - start).days - 20))

        le, _ = editions.in_force(self.rs.editions, jurisdiction, decision)
        ruleset = self.compiled.get(code, le.key)
        s = self.shape(ruleset)
        facts: dict[str, Any] = {}
        for name in s.required:
            facts[name] = self.value(ruleset.facts[name])
        for name in s.law_optional:
            f = ruleset.facts[name]
            if f.type == "bool":
                if r.random() < BOOL_RATES.get(name, DEFAULT_BOOL_RATE):
                    facts[name] = True
            elif r.random() < 0.6:
                facts[name] = self.value(f)
        for name in s.factor_facts:
            if r.random() < 0.85:
                facts[name] = self.value(ruleset.facts[name])
        for name in s.common_facts:
            if r.random() < 0.6:
                facts[name] = self.value(ruleset.facts[name])
        for name in s.exemption_facts:
            if r.random() < 0.25:
                facts[name] = self.value(ruleset.facts[name])
        if end is not None and "duration_days" in facts:
            facts["duration_days"] = (end - start).days + 1
        circumstances = [
            c for c in s.circumstances if r.random() < CIRCUMSTANCE_RATES.get(c, OTHER_CIRCUMSTANCE_RATE)
        ]
        party: Literal["unit", "individual"] = "unit" if r.random() < 0.92 else "individual"
        case = Case(
            violation=code,
            jurisdiction=jurisdiction,
            party=party,
            facts=facts,
            circumstances=circumstances,
            violation_date=start,
            violation_end_date=end,
            discovered_date=discovered,
            decision_date=decision,
        )
        consistency = self._consistency.get(ruleset.name)
        if consistency is None:
            consistency = self._consistency[ruleset.name] = Consistency(self.rs, ruleset, le.effective, code)
        return consistent(consistency, ruleset, case, r)


def consistent(consistency: Consistency, ruleset: RuleSet, case: Case, rng: random.Random) -> Case:
    """``case`` with its contradictory inputs mended, as a handler who knows the case would give
    them: an edition fact the law's fact leaves no choice for is left to be read from it (or another
    allowed value drawn), and of inputs that deny each other a circumstance (the last named) is
    dropped, else a fact that no regime requires, else the party is the other kind (an act only a
    unit commits)."""
    facts, circumstances, party = dict(case.facts), list(case.circumstances), case.party
    for r in consistency.readings:
        law_value, own = facts.get(r.law_fact), facts.get(r.fact)
        if law_value is not None and own is not None and own not in r.allowed[law_value]:
            allowed = r.allowed[law_value]
            if len(allowed) > 1:
                facts[r.fact] = rng.choice(allowed)
            else:
                del facts[r.fact]
    for _ in range(16):  # each round drops one input; a case has few that can contradict
        now = case.model_copy(update={"facts": facts, "circumstances": circumstances, "party": party})
        found = consistency.check(now, facts_for_matching(ruleset, now))
        if found is None:
            return now
        # a circumstance first (the last named), else a fact no regime requires
        required = {n for rules in ruleset.violation.regimes.values() for n in rules.requires}
        named = [w for w in found.fields if w.startswith("circumstances[")]
        named = named or [w for w in found.fields if w.startswith("facts.") and w[len("facts."):] not in required]
        if not named and "party" in found.fields:  # an act only the other kind of party commits
            party = "unit" if party == "individual" else "individual"
            continue
        if not named:  # pragma: no cover - every rule names an input that may be left out
            break
        where = named[-1]
        if where.startswith("circumstances["):
            del circumstances[int(where[len("circumstances["):-1])]
        else:
            del facts[where[len("facts."):]]
    return case.model_copy(update={"facts": facts, "circumstances": circumstances, "party": party})


def generate(rulebooks: RulebookSet, compiled: Compiled, n: int, seed: int = SEED, *, today: dt.date) -> list[Case]:
    """``n`` varied cases, no date after ``today`` (deterministic for a seed and day); not yet checked
    against the engine."""
    g = CaseGenerator(rulebooks, compiled, seed, today=today)
    return [g.case() for _ in range(n)]


def generate_valid(engine: Engine, n: int, seed: int = SEED, min_valid: float = 0.99, *, today: dt.date) -> list[Case]:
    """``n`` varied cases that assess without InputError (deterministic for a seed).

    Raises :class:`~discretion.errors.DiscretionError` (``synth_invalid``) when fewer than
    ``min_valid`` of the drawn cases were valid: the generator no longer fits the rulebooks."""
    g = CaseGenerator(engine.rulebooks, engine.compiled, seed, today=today)
    out: list[Case] = []
    drawn = 0
    errors: dict[str, int] = {}
    while len(out) < n:
        c = g.case()
        drawn += 1
        try:
            engine.assess(c)
        except InputError as exc:
            key = f"{c.violation}:{exc.code}:{exc.field}"
            errors[key] = errors.get(key, 0) + 1
            if drawn >= 100 and len(out) / drawn < min_valid * 0.5:  # hopeless: stop early
                break
            continue
        out.append(c)
    valid = len(out) / drawn if drawn else 1.0
    if len(out) < n or valid < min_valid:
        raise DiscretionError(
            message=f"合成案例中只有 {valid:.2%} 能够计算（{errors}），生成器与规则集不再相符",
            code="synth_invalid",
        )
    return out


def ref(seed: int, i: int) -> str:
    """The reference of the ``i``-th synthetic case (1-based) of a seed: ``SYN-<seed>-<i>``."""
    return f"SYN-{seed}-{i:06d}"


def entries(cases: list[Case], seed: int) -> Iterator[tuple[str, str, Case]]:
    """``(ref, source, case)`` for each case, marked synthetic, for :func:`discretion.review.casefile.write_cases`."""
    for i, c in enumerate(cases, 1):
        yield ref(seed, i), SOURCE, c


def describe(cases: list[Case]) -> dict[str, Any]:
    """A few counts showing how varied a batch is."""
    codes = {c.violation for c in cases}
    after = sum(1 for c in cases if c.end_date >= CODE_DAY)
    both = sum(1 for c in cases if c.end_date < CODE_DAY <= c.decision_date)
    return {
        "cases": len(cases),
        "violation_types": len(codes),
        "act_on_or_after_2026_08_15": after,
        "lighter_law_comparisons": both,
        "continuing": sum(1 for c in cases if c.violation_end_date),
        "with_circumstances": sum(1 for c in cases if c.circumstances),
        "kunming": sum(1 for c in cases if c.jurisdiction != "yunnan"),
    }
