"""One fact, asked once; inputs that deny each other refused (docs/rulebooks.md “基准读取法律层的事实”
and “相互矛盾的输入”).

Where a benchmark edition grades with its own enum what the law layer's enum fact of the violation
type already selects (``from_law`` of the edition's per-violation benchmark), the edition's fact is
read from the law's: set when the law's choice allows one value, refined by the caller among the
values it allows, refused when the caller's value is not among them. An unfilled 违法行为持续时间
(``duration_days``) is read from the act's dates when its end is given (:data:`DATED_FACT`).
Contradiction rules (of the law layer and of the edition) are conditions a case may not meet. All
are prepared once per violation type and edition (:class:`Consistency`, held by the prepared unit)
and applied to each case's matcher fact before matching (:meth:`Consistency.apply`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from ..errors import ContradictionError
from ..rulebooks import conditions
from ..rulebooks.checks import CASE_DERIVED, DERIVED
from ..rulebooks.compiler import FactorInfo, RuleSet
from ..rulebooks.loaded import RulebookSet
from ..rulebooks.models import BenchmarkEdition, Contradiction, FactDef, FromLaw
from .case import Case
from .citation import edition_citation
from .trail import Step, make_step


class Reading:
    """An edition fact read from the law's fact (``from_law``): the values each law choice allows."""

    __slots__ = ("allowed", "derived", "fact", "law_fact")

    def __init__(self, fl: FromLaw) -> None:
        self.fact = fl.fact
        self.law_fact = fl.law_fact
        self.allowed: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in fl.values.items()}
        self.derived: dict[str, str] = {k: v[0] for k, v in fl.values.items() if len(v) == 1}


class Rule:
    """A contradiction rule, prepared: a name that must be given (true, for a bool or circumstance) for
    it to hold, checked first and cheaply; then the rest of the test: ``exceeds`` (the two names,
    ``act_days`` derived from the dates) or the predicates of the other conjuncts of ``when``; and the
    names it reads, in order (for the message)."""

    __slots__ = ("exceeds", "gate", "gate_true", "id", "names", "rest", "rest_node", "reason", "uses_dates")

    def __init__(self, rule: Contradiction) -> None:
        self.id = rule.id
        self.reason = rule.reason
        self.gate: str | None
        self.exceeds: tuple[str, str] | None = None
        self.rest: tuple[Callable[[Mapping[str, Any]], bool], ...] = ()
        self.rest_node: conditions.Node | None = None
        if rule.exceeds is not None:
            a, b = rule.exceeds
            self.names: tuple[str, ...] = (a, b)
            self.exceeds = (a, b)
            self.gate, self.gate_true = (b, False) if a in CASE_DERIVED else (a, False)
        else:
            assert rule.when is not None
            node = conditions.parse(rule.when)
            self.names = tuple(dict.fromkeys(c.name for c in conditions.comparisons(node)))
            parts = node.parts if isinstance(node, conditions.And) else (node,)
            gate = next((p for p in parts if isinstance(p, conditions.Cmp) and p.op == "==" and p.value is True), None)
            self.gate, self.gate_true = (gate.name, True) if gate is not None else (None, False)
            # the gate is checked before: the test is the other conjuncts, each a predicate
            self.rest = tuple(conditions.to_predicate(p) for p in parts if p is not gate)
            self.rest_node = conditions.And(tuple(p for p in parts if p is not gate))
        self.uses_dates = any(n in CASE_DERIVED for n in self.names)

    def holds(self, f: Mapping[str, Any], case: Case) -> bool:
        """Whether the rule holds for a case whose gate input was given (it is not checked again)."""
        exceeds = self.exceeds
        if exceeds is None:
            if self.uses_dates:
                f = {**f, "act_days": act_days(case)}
            for test in self.rest:
                if not test(f):
                    return False
            return True
        a, b = exceeds  # the only derived name is act_days (CASE_DERIVED)
        x = act_days(case) if a in CASE_DERIVED else f.get(a)
        y = act_days(case) if b in CASE_DERIVED else f.get(b)
        return x is not None and y is not None and x > y


def _needs(node: conditions.Node) -> set[str]:
    """The names a condition cannot hold without (an absent name makes a comparison false)."""
    if isinstance(node, conditions.Cmp):
        return {node.name}
    sets = [_needs(p) for p in node.parts]
    if not sets:
        return set()
    if isinstance(node, conditions.And):
        return set().union(*sets)
    return set.intersection(*sets)


# the matcher fact's key listing the edition facts taken at the lowest grade the law's choice allows
# (read by the factor placement for the factors left unknown; no rule reads it)
ASSUMED = "_assumed_from_law"


class Assumed:
    """An edition fact's value where the law's choice allows several and none was given: the
    lowest-graded (the sum of the levels of the edition's factors that read it), first on ties;
    and each such factor's (id, level, level label) at that value."""

    __slots__ = ("levels", "value")

    def __init__(self, value: str, levels: tuple[tuple[str, int, str], ...]) -> None:
        self.value = value
        self.levels = levels


def _assumed(readings: tuple[Reading, ...], factors: tuple[FactorInfo, ...]) -> dict[tuple[str, str], Assumed]:
    """For each reading and law choice allowing several edition values: the value taken when none
    is given (:class:`Assumed`); ``factors`` are the edition's 个性因子 for the type."""
    out: dict[tuple[str, str], Assumed] = {}
    for r in readings:
        reading = [f for f in factors if any(lv.when and r.fact in conditions.names(conditions.parse(lv.when)) for lv in f.factor.levels)]
        if not reading:
            continue
        for law_value, allowed in r.allowed.items():
            if len(allowed) < 2:
                continue
            graded = [(v, tuple(_level(f, {r.fact: v}) for f in reading)) for v in allowed]
            value, levels = min(graded, key=lambda g: sum(level for _, level, _ in g[1]))
            out[(r.fact, law_value)] = Assumed(value, levels)
    return out


def _level(info: FactorInfo, fact: Mapping[str, Any]) -> tuple[str, int, str]:
    """A factor's level for ``fact`` as the placement takes it: its highest level that holds, else its default."""
    held = [lv for lv in info.factor.levels if lv.when and conditions.to_predicate(conditions.parse(lv.when))(fact)]
    if not held:
        return (info.factor.id, *info.default)
    best = max(held, key=lambda lv: lv.level)
    return info.factor.id, best.level, best.label


def act_days(case: Case) -> int:
    """The days from the act to its end (to the decision, without an end date), both counted."""
    return ((case.violation_end_date or case.decision_date) - case.violation_date).days + 1


# An edition's fact that the case's dates give when it is not filled in: 违法行为持续时间 from the day
# the act began to the day it ended, both days counted (the 2023 edition's hint: 不足1日按1日计;
# docs/rulebooks.md “由日期得出的持续时间”). Only with an end date: without one the act's end is not known.
DATED_FACT = "duration_days"


class Consistency:
    """The ``from_law`` readings, the fact the dates give and the contradiction rules that can hold
    for one violation type under one edition, prepared once."""

    def __init__(self, rulebooks: RulebookSet, ruleset: RuleSet, edition: BenchmarkEdition | None, code: str) -> None:
        self.facts: dict[str, FactDef] = {**ruleset.facts, **DERIVED, **CASE_DERIVED}
        self.labels = {c: rulebooks.circumstances[c].label for c in ruleset.circumstances}
        vb = edition.violations.get(code) if edition is not None else None
        self.readings = tuple(Reading(fl) for fl in (vb.from_law if vb else ()))
        self.by_fact = {r.fact: r for r in self.readings}
        self.law_facts = frozenset(r.law_fact for r in self.readings)  # what a case gives for them to read
        self.edition_cite = (edition_citation(edition),) if edition is not None else ()
        self._steps: dict[tuple[str, str], Step] = {}
        self.assumed = _assumed(self.readings, ruleset.factors)
        # the duration is derived only where a rule of the violation type reads it (a factor's levels)
        dated = ruleset.facts.get(DATED_FACT)
        self.dated = dated is not None and dated.type == "count" and any(DATED_FACT in conditions.names(r.node) for r in ruleset.rules)
        known = set(self.facts) | set(ruleset.circumstances)
        rules = [*rulebooks.law.contradictions, *ruleset.violation.contradictions, *((edition.contradictions or []) if edition is not None else [])]
        self.rules = tuple(
            Rule(r) for r in rules
            if (set(r.exceeds) if r.exceeds is not None else _needs(conditions.parse(r.when or ""))) <= known
        )
        # each rule under the one input that must be given for it to hold (a case names few of them)
        self.by_gate: dict[str, list[Rule]] = {}
        self.ungated = tuple(r for r in self.rules if r.gate is None)
        for r in self.rules:
            if r.gate is not None:
                self.by_gate.setdefault(r.gate, []).append(r)
        self.gates = frozenset(self.by_gate)
        # a gate's screen: one predicate, false when none of its rules can hold (the rest of every
        # rule's conjunction tested at once); None where a rule reads the dates or compares two inputs
        self.screens: dict[str, Callable[[Mapping[str, Any]], bool] | None] = {
            gate: None if any(r.rest_node is None or r.uses_dates for r in rules)
            else conditions.to_predicate(conditions.Or(tuple(r.rest_node for r in rules)))  # type: ignore[misc]
            for gate, rules in self.by_gate.items()
        }

    def apply(self, case: Case, fact: dict[str, Any]) -> list[Step]:
        """Read the edition's facts from the law's into the matcher ``fact`` (a trail step for each
        one read), and refuse a case whose inputs deny each other (:class:`~discretion.errors.ContradictionError`).
        The hot path of every case: each stage runs only when the case gives an input it reads (the
        law's facts read by ``from_law``; the inputs a rule hinges on), decided by set operations."""
        given = case.facts
        fact["party"] = case.party  # a contradiction rule may read it (checks.DERIVED)
        read = self._read(given, fact) if not self.law_facts.isdisjoint(given) else []
        if self.dated and case.violation_end_date is not None and given.get(DATED_FACT) is None:
            read.append(self._dated(case, fact))
        gates = self.gates
        if not (gates.isdisjoint(case.circumstances) and gates.isdisjoint(given)):
            self._gated(case, fact)
        for rule in self.ungated:
            if rule.holds(fact, case):
                raise self._rule_error(case, rule, fact)
        return read

    def _read(self, given: Mapping[str, Any], fact: dict[str, Any]) -> list[Step]:
        """The edition's facts read from the law's (``from_law``), a step each; a caller's value the
        law's choice does not allow is refused."""
        read: list[Step] = []
        for r in self.readings:
            law_value = given.get(r.law_fact)
            if law_value is None:
                continue
            own = given.get(r.fact)
            if own is None:
                got = r.derived.get(law_value)
                if got is not None:
                    fact[r.fact] = got
                    read.append(self._read_step(r, law_value))
                elif (a := self.assumed.get((r.fact, law_value))) is not None:
                    # the law's choice leaves several of the edition's values: the lowest-graded is taken
                    # (never a value the law's choice excludes), listed as a factor left unknown
                    fact[r.fact] = a.value
                    fact[ASSUMED] = (*fact.get(ASSUMED, ()), r.fact)
                    read.append(self._assumed_step(r, law_value, a))
            elif own not in r.allowed[law_value]:
                raise self._reading_error(r, law_value, own)
        return read

    def assumed_reason(self, name: str, law_value: str) -> str:
        """Why the edition's fact ``name`` took the value it did from the law's choice ``law_value``
        (for the factors left unknown)."""
        r = self.by_fact[name]
        a = self.assumed[(name, law_value)]
        own = self.facts[name]
        labels = "”“".join((own.choices or {}).get(v, v) for v in r.allowed[law_value])
        return (f"{self._value(r.law_fact, law_value)}，本裁量基准细分为“{labels}”，未细分，"
                f"按其中等级最低的“{(own.choices or {}).get(a.value, a.value)}”计")

    def _assumed_step(self, r: Reading, law_value: str, a: "Assumed") -> Step:
        """The step of an edition fact taken at the lowest grade the law's choice allows (shared)."""
        key = (r.fact, "?" + law_value)
        got = self._steps.get(key)
        if got is None:
            text = self.assumed_reason(r.fact, law_value) + "（应当查明后复核）"
            got = self._steps[key] = Step("factor", text, rule=f"from_law/{r.fact}", basis=self.edition_cite,
                                          data={"fact": r.fact, "law_fact": r.law_fact, "value": a.value, "assumed": True})
        return got

    def _dated(self, case: Case, fact: dict[str, Any]) -> Step:
        """违法行为持续时间 from the dates (not filled in, the act's end given): set in the matcher
        ``fact``, with its step."""
        days = act_days(case)  # from the day it began to the day it ended, both counted
        fact[DATED_FACT] = days
        start, end = case.violation_date.isoformat(), case.violation_end_date.isoformat()  # type: ignore[union-attr]
        label = self.facts[DATED_FACT].label
        text = (f"“{label}”未填写，由违法行为发生日期（{start}）至终了日期（{end}）计为{days}天"
                "（首尾两日均计入，不足1日按1日计）")
        return make_step("factor", text, f"dates/{DATED_FACT}", self.edition_cite, None,
                         {"fact": DATED_FACT, "value": days, "from": start, "to": end})

    def _gated(self, case: Case, fact: dict[str, Any]) -> None:
        """The rules reached through the inputs they hinge on that the case gives (circumstances
        first, then facts, in the case's order), tested inline; the first that holds is refused."""
        by_gate = self.by_gate
        screens = self.screens
        for names in (case.circumstances, case.facts):
            hit = self.gates.intersection(names)  # usually none, or one
            for name in (names if len(hit) > 1 else hit):  # in the case's order when several
                rules = by_gate.get(name)
                if rules is None:
                    continue
                screen = screens[name]
                if screen is not None and not screen(fact):  # none of its rules holds
                    continue
                got = fact.get(name)
                for rule in rules:
                    if got is not True if rule.gate_true else got is None:
                        continue
                    exceeds = rule.exceeds
                    if exceeds is not None:  # a > b, the only derived name being act_days
                        a, b = exceeds
                        x = act_days(case) if a in CASE_DERIVED else fact.get(a)
                        y = act_days(case) if b in CASE_DERIVED else fact.get(b)
                        holds = x is not None and y is not None and x > y
                    else:
                        holds = rule.holds(fact, case)
                    if holds:
                        raise self._rule_error(case, rule, fact)

    def _read_step(self, r: Reading, law_value: str) -> Step:
        """“the edition's fact” read from “the law's fact” (shared by every case with that choice)."""
        key = (r.fact, law_value)
        got = self._steps.get(key)
        if got is None:
            own, law = self.facts[r.fact], self.facts[r.law_fact]
            value = r.derived[law_value]
            text = (f"{self._value(r.law_fact, law_value)}：本裁量基准的{self._value(r.fact, value)}由此确定，无需另行填写")
            got = self._steps[key] = Step("factor", text, rule=f"from_law/{r.fact}", basis=self.edition_cite,
                                          data={"fact": r.fact, "law_fact": r.law_fact, "value": value})
        return got

    def check(self, case: Case, fact: dict[str, Any]) -> ContradictionError | None:
        """As :meth:`apply`, returning the error for the first contradiction instead of raising it."""
        try:
            self.apply(case, fact)
        except ContradictionError as exc:
            return exc
        return None

    # --- messages ---------------------------------------------------------------------------------

    def _value(self, name: str, value: Any) -> str:
        f = self.facts[name]
        if f.type == "bool":
            return f"“{f.label}”"
        if f.type == "enum":
            return f"“{f.label}”（{(f.choices or {}).get(value, value)}）"
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        return f"“{f.label}”（{text}{f.unit or ''}）"

    def _reading_error(self, r: Reading, law_value: str, own: str) -> ContradictionError:
        own_f, law_f = self.facts[r.fact], self.facts[r.law_fact]
        allowed = r.allowed[law_value]
        choices = own_f.choices or {}
        if len(allowed) == 1:
            why = f"该违法情形在本裁量基准中即为“{choices.get(allowed[0], allowed[0])}”，无需另填"
        elif allowed:
            why = f"本裁量基准将该违法情形细分为“{'”“'.join(choices.get(v, v) for v in allowed)}”"
        else:
            why = f"本裁量基准对该违法情形不区分“{own_f.label}”，不应填写"
        return ContradictionError(
            message=f"{self._value(r.fact, own)}与{self._value(r.law_fact, law_value)}相互矛盾：{why}",
            field=f"facts.{r.fact}",
            fields=(f"facts.{r.fact}", f"facts.{r.law_fact}"),
        )

    def _rule_error(self, case: Case, rule: Rule, seen: Mapping[str, Any]) -> ContradictionError:
        fields: list[str] = []
        texts: list[str] = []
        circumstances = case.circumstances
        for name in rule.names:
            if name in self.labels:
                if name in circumstances:
                    fields.append(f"circumstances[{circumstances.index(name)}]")
                    texts.append(f"“{self.labels[name]}”")
            elif name in CASE_DERIVED:
                end = "violation_end_date" if case.violation_end_date else "decision_date"
                fields += ["violation_date", end]
                texts.append(f"“违法行为发生日期”至“{'违法行为终了日期' if case.violation_end_date else '决定日期'}”（共{act_days(case)}日）")
            elif name == "party":  # the case's own field
                fields.append("party")
                texts.append(self._value(name, case.party))
            elif name in DERIVED:
                continue
            else:
                value = case.facts.get(name)
                if value is None or value is False:
                    continue
                fields.append(f"facts.{name}")
                texts.append(self._value(name, value))
        return ContradictionError(
            message=f"{'与'.join(texts)}相互矛盾：{rule.reason}",
            field=fields[0] if fields else None,
            fields=tuple(fields),
        )
