"""Compiling rulebooks into ordered condition rules, one ruleset per (edition, violation type).

Every condition of the law layer and of the benchmark edition that applies to one violation
type becomes a :class:`Rule` with a unique id and a priority (its position). The rules engine
(durable_rules, behind :mod:`discretion.engine._durable`) and the plain-Python reference evaluator
(:mod:`discretion.engine.reference`) match the same rules and must fire the same ids in the same order.
Unconditional parts of the law (``when: null``) need no matching and are not rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from . import conditions
from .checks import DERIVED
from .conditions import And, Cmp, Node
from .loaded import LoadedEdition, RulebookSet
from .models import BenchmarkEdition, FactDef, LawEdition, RegimeRules, Violation


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # provision, escalation, individual_fine, measure, flag, limitation, exemption,
    #            duty, level, edition_exemption, reduction
    regime: str | None  # None: a benchmark rule, matched under whichever regime is evaluated
    node: Node
    target: Any  # the rulebook object this rule decides about


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per compiled factor
class FactorInfo:
    """A benchmark factor, prepared for fast level lookup."""

    factor: Any  # models.Factor
    prefix: str  # "factor" (个性) or "common" (共性)
    matched: tuple[tuple[str, int, str], ...]  # (rule id, level, label) of levels with a condition
    default: tuple[int, str]  # the level without a condition, else the lowest
    has_default: bool
    lowest: int
    highest: int


def factor_info(factor: Any, prefix: str) -> FactorInfo:
    matched = tuple((f"{prefix}/{factor.id}/{lv.level}", lv.level, lv.label) for lv in factor.levels if lv.when)
    default = next((lv for lv in factor.levels if lv.when is None), None)
    lowest = min(factor.levels, key=lambda x: x.level)
    chosen = default or lowest
    numbers = [lv.level for lv in factor.levels]
    return FactorInfo(factor, prefix, matched, (chosen.level, chosen.label), default is not None, min(numbers), max(numbers))


@dataclass
class RuleSet:
    """The compiled rules for one violation type under one edition."""

    name: str  # e.g. "yunnan@2023/water_over_standard" or, per regime, ".../water_over_standard/pre2026"
    violation: Violation
    edition: BenchmarkEdition | None
    edition_key: str | None
    rules: list[Rule]
    facts: dict[str, FactDef]  # every fact a case of this type may carry
    bools: tuple[str, ...]  # bool facts and circumstances: asserted as False when absent
    circumstances: tuple[str, ...]
    by_id: dict[str, Rule] = field(default_factory=dict)
    regime: str | None = None  # set for a per-regime ruleset: its rules carry no regime test
    factors: tuple[FactorInfo, ...] = ()  # 个性 factors of this violation type
    common: tuple[FactorInfo, ...] = ()  # 共性 factors of the edition

    false_bools: dict[str, bool] = field(default_factory=dict)  # every bool asserted False, copied per case
    known_circumstances: frozenset[str] = frozenset()  # the circumstances, for a quick membership test
    not_applicable: dict[str, str] = field(default_factory=dict)  # defined, but not for this type: id → label

    def __post_init__(self) -> None:
        self.false_bools = dict.fromkeys(self.bools, False)
        self.known_circumstances = frozenset(self.circumstances)
        self.by_id = {r.id: r for r in self.rules}
        if len(self.by_id) != len(self.rules):
            dup = sorted({r.id for r in self.rules if sum(1 for x in self.rules if x.id == r.id) > 1})
            raise ValueError(f"duplicate rule ids in {self.name}: {dup}")


def _scoped_by_regime(regime: str | None, text: str | None) -> Node:
    node = conditions.parse(text) if text else conditions.always()
    if regime is None:
        return node
    return And((Cmp("regime", "==", regime), node))


def _unscoped(regime: str | None, text: str | None) -> Node:
    return conditions.parse(text) if text else conditions.always()



def _law_rules(law: LawEdition, v: Violation, only: str | None = None) -> Iterator[Rule]:
    """The law's conditional rules for a violation type; with ``only``, for that one regime and
    without the regime test in each condition (a per-regime ruleset needs none)."""
    regimes = [only] if only else list(law.general)
    for regime in regimes:
        gen = law.general[regime]  # type: ignore[index]
        rules = v.regimes.get(regime)  # type: ignore[call-overload]
        scope = _unscoped if only else _scoped_by_regime
        for lim in gen.limitation:
            if lim.when:
                yield Rule(f"{regime}/limitation/{lim.id}", "limitation", regime, scope(regime, lim.when), lim)
        for ex in gen.exemptions:
            yield Rule(f"{regime}/exemption/{ex.id}", "exemption", regime, scope(regime, ex.when), ex)
        if rules is not None:
            for k, (duty, rid) in enumerate(zip(rules.violated, duty_rule_ids(regime, rules))):
                if rid == f"{regime}/violated/{k}":  # a condition of its own (else a provision's rule selects it)
                    yield Rule(rid, "duty", regime, scope(regime, duty.when), duty)
        for p in rules.provisions if rules is not None else []:
            pid = f"{regime}/{p.id}"
            if p.when:
                yield Rule(pid, "provision", regime, scope(regime, p.when), p)
            for k, f in enumerate(p.individual_fines):
                if f.when:
                    yield Rule(f"{pid}/individual/{k}", "individual_fine", regime, scope(regime, f.when), f)
            for k, m in enumerate(p.measures):
                if m.when:
                    yield Rule(f"{pid}/measure/{k}", "measure", regime, scope(regime, m.when), m)
            for k, fl in enumerate(p.flags):
                if fl.when:
                    yield Rule(f"{pid}/flag/{k}", "flag", regime, scope(regime, fl.when), fl)
            for esc in p.escalations:
                eid = f"{pid}/{esc.id}"
                yield Rule(eid, "escalation", regime, scope(regime, esc.when), esc)
                for k, f in enumerate(esc.individual_fines or []):
                    if f.when:
                        yield Rule(f"{eid}/individual/{k}", "individual_fine", regime, scope(regime, f.when), f)
                for k, m in enumerate(esc.measures):
                    if m.when:
                        yield Rule(f"{eid}/measure/{k}", "measure", regime, scope(regime, m.when), m)
                for k, fl in enumerate(esc.flags):
                    if fl.when:
                        yield Rule(f"{eid}/flag/{k}", "flag", regime, scope(regime, fl.when), fl)


def duty_rule_ids(regime: str, rules: RegimeRules) -> list[str | None]:
    """The rule whose firing selects each duty (``violated``) of a regime: None for a duty without
    ``when``; the rule of a provision (or of an earlier duty) with the same condition; else the
    duty's own, ``{regime}/violated/{k}``. Sharing a rule, the matcher fires each condition once."""
    by_node: dict[Node, str] = {}
    for p in rules.provisions:
        if p.when:
            by_node.setdefault(conditions.parse(p.when), f"{regime}/{p.id}")
    out: list[str | None] = []
    for k, duty in enumerate(rules.violated):
        out.append(None if duty.when is None else by_node.setdefault(conditions.parse(duty.when), f"{regime}/violated/{k}"))
    return out


def _edition_rules(e: BenchmarkEdition, code: str) -> Iterator[Rule]:
    vb = e.violations.get(code)
    for factor in vb.factors if vb else []:
        for lv in factor.levels:
            if lv.when:
                yield Rule(f"factor/{factor.id}/{lv.level}", "level", None, _unscoped(None, lv.when), (factor, lv))
    for factor in e.common_factors or []:
        for lv in factor.levels:
            if lv.when:
                yield Rule(f"common/{factor.id}/{lv.level}", "level", None, _unscoped(None, lv.when), (factor, lv))
    for entry in e.exemptions or []:
        if code in entry.violations:
            yield Rule(f"edition-exemption/{entry.id}", "edition_exemption", None, _unscoped(None, entry.when), entry)
    if e.reduction is not None:
        yield Rule("reduction", "reduction", None, _unscoped(None, e.reduction.when), e.reduction)


def compile_ruleset(rs: RulebookSet, code: str, le: LoadedEdition | None, regime: str | None = None) -> RuleSet:
    """Compile the rules for one violation type under one edition (or none): for every regime,
    or for one regime only (the rulesets the engine matches: half the rules, no regime tests)."""
    lv = rs.violation(code)
    e = le.effective if le else None
    rules = list(_law_rules(rs.law, lv.model, regime))
    if e is not None:
        rules.extend(_edition_rules(e, code))
    facts: dict[str, FactDef] = dict(lv.facts)
    if e is not None:
        for f in e.facts:
            facts.setdefault(f.name, f)
    circs = applicable_circumstances(rs, lv.model)
    bools = tuple(n for n, f in facts.items() if f.type == "bool") + circs
    name = f"{le.key if le else '-'}/{code}" + (f"/{regime}" if regime else "")
    vb = e.violations.get(code) if e is not None else None
    return RuleSet(
        regime=regime,
        factors=tuple(factor_info(f, "factor") for f in (vb.factors if vb else [])),
        common=tuple(factor_info(f, "common") for f in (e.common_factors or [] if e is not None else [])),
        name=name,
        violation=lv.model,
        edition=e,
        edition_key=le.key if le else None,
        rules=rules,
        facts=facts,
        bools=bools,
        circumstances=circs,
        not_applicable={c: d.label for c, d in rs.circumstances.items() if c not in circs},
    )


def applicable_circumstances(rs: RulebookSet, v: Violation) -> tuple[str, ...]:
    """The circumstances a case of violation type ``v`` may carry: every circumstance of the law
    layer except those marked ``listed_only``, which apply only where the type lists them."""
    return tuple(c for c, d in rs.circumstances.items() if not d.listed_only or c in v.circumstances)


class Compiled:
    """The rulesets of a rulebook set, each compiled on first use: per violation type and edition
    (both regimes: the facts, the catalogue) and per regime too (what the engine matches). Starting a
    service compiles nothing (the set's checks ran when it was loaded); ``rulesets`` and ``matching``
    compile the whole set for the tools that walk it."""

    def __init__(self, rulebooks: RulebookSet) -> None:
        self.rulebooks = rulebooks
        self._rulesets: dict[str, RuleSet] = {}
        self._matching: dict[str, RuleSet] = {}

    def get(self, code: str, edition_key: str | None, regime: str | None = None) -> RuleSet:
        """The ruleset of ``code`` under the edition ``edition_key`` (None: the law's alone), for
        ``regime`` or both; KeyError for a code, edition or regime the set does not hold."""
        name = f"{edition_key or '-'}/{code}"
        cache, key = (self._rulesets, name) if regime is None else (self._matching, f"{name}/{regime}")
        found = cache.get(key)
        if found is None:
            rs = self.rulebooks
            if code not in rs.violations or (edition_key is not None and edition_key not in rs.editions) or (
                regime is not None and regime not in rs.law.general
            ):
                raise KeyError(key)
            found = cache[key] = compile_ruleset(rs, code, rs.editions[edition_key] if edition_key else None, regime)
        return found

    def find(self, code: str, edition_key: str | None) -> RuleSet | None:
        """:meth:`get` for both regimes, or None when the set holds no such type or edition."""
        try:
            return self.get(code, edition_key)
        except KeyError:
            return None

    def compile_everything(self) -> None:
        for code in self.rulebooks.violations:
            for key in [None, *self.rulebooks.editions]:
                self.get(code, key)
                for regime in self.rulebooks.law.general:
                    self.get(code, key, regime)

    @property
    def rulesets(self) -> dict[str, RuleSet]:
        """Every ruleset for both regimes, by ``edition/code`` (compiles the whole set)."""
        self.compile_everything()
        return self._rulesets

    @property
    def matching(self) -> dict[str, RuleSet]:
        """Every per-regime ruleset, by ``edition/code/regime`` (compiles the whole set)."""
        self.compile_everything()
        return self._matching


def compile_all(rs: RulebookSet) -> Compiled:
    """The set with every ruleset compiled now."""
    out = Compiled(rs)
    out.compile_everything()
    return out


__all__ = ["Rule", "RuleSet", "Compiled", "compile_all", "compile_ruleset", "duty_rule_ids", "DERIVED"]
