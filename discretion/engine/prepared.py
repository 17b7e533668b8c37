"""The case-independent part of the pipeline, prepared once per engine and reused by every case:
for each violation type under an edition (:class:`Unit`) and regime (:class:`Plan`), its
provisions and escalations (:class:`Prov`, :class:`Esc`), exemption, measure, flag and threshold
steps, and every factor's score and step at each level.

Steps made here are shared by many results and are immutable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Mapping

from ..rulebooks import conditions
from ..rulebooks.compiler import Compiled, FactorInfo, duty_rule_ids
from ..rulebooks.editions import in_force
from ..rulebooks.loaded import LoadedEdition, RulebookSet
from ..rulebooks.models import (
    BenchmarkEdition,
    Escalation,
    Fine,
    Flag,
    LegalRef,
    Measure,
    Provision,
    Quoted,
    RangeFine,
    RegimeGeneral,
    UpToFine,
)
from .amounts import fmt
from .citation import cite, cite_provision, edition_citation, provision_refs
from .consistency import ASSUMED, Consistency
from .inputs import fact_checks
from .money import Range, fine_range
from .results import FLAG_LABELS
from .trail import REGIME_LABELS, Step, make_step

_ONE = Decimal(1)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class Preparation:
    """What the pipeline reads of a compiled rulebook set that does not depend on the case, prepared
    on first use and memoised: the regimes' dates, the edition in force, each violation type's
    :class:`Unit` per edition, fixed ranges, and the regime, edition and lighter-law steps.

    The rulebook set never changes under it; everything here dies with it. :class:`~discretion.engine.assessment.Engine`
    is a Preparation with a matcher.
    """

    def __init__(self, rulebooks: RulebookSet) -> None:
        self.rulebooks = rulebooks
        self.compiled = Compiled(rulebooks)  # each ruleset compiled on first use
        self.labels = {c.id: c.label for c in rulebooks.circumstances.values()}
        self.statutory = {r: {a.circumstance: a for a in g.adjustments} for r, g in rulebooks.law.general.items()}
        self._editions: dict[tuple[str, dt.date, str | None], tuple[LoadedEdition, list[str]]] = {}
        # What does not depend on the case, prepared on first use (the rulebook set never changes
        # under an engine, and everything here dies with the engine).
        self._units: dict[tuple[str, str], Unit] = {}
        self.groups = {k: c.group for k, c in rulebooks.circumstances.items()}
        self._regime_basis: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._edition_steps: dict[tuple[str, str], Step] = {}
        self._lighter: dict[tuple[str, str], tuple[list[str], tuple[str, ...]]] = {}
        self._ranges: dict[int, tuple[Fine, Range]] = {}  # fine forms that do not read the case's facts
        self._regimes = tuple((r.effective_from, r.effective_to, r.id) for r in rulebooks.law.regimes)
        # 法制审核 where the lighter-law comparison is mixed: 行政处罚法第五十八条第一款第三项 (案件情况疑难复杂)
        self.review_cite = cite(LegalRef(law="中华人民共和国行政处罚法", article=58, paragraph=1, item=3))
        self.notices: dict[tuple[str, str, str], Any] = {}  # the notice of an edition for repealed laws (discretion.engine.notices)

    def edition(self, jurisdiction: str, on: dt.date, requested: str | None) -> tuple[LoadedEdition, list[str]]:
        """The edition in force (memoised: the rulebook set never changes under an engine)."""
        key = (jurisdiction, on, requested)
        got = self._editions.get(key)
        if got is None:
            got = in_force(self.rulebooks.editions, jurisdiction, on, requested)
            if len(self._editions) >= 1_024:  # a service sees few decision dates; bounded for a soak
                self._editions.clear()
            self._editions[key] = got
        return got

    def unit(self, code: str, le: LoadedEdition) -> Unit:
        got = self._units.get((code, le.key))
        if got is None:
            got = self._units[(code, le.key)] = Unit(self, code, le)
        return got

    def regime_of(self, on: dt.date) -> str | None:
        """``regime_on(law, on)``, over the regimes' dates read once."""
        for start, end, rid in self._regimes:
            if start <= on and (end is None or on <= end):
                return rid
        return None

    def range_of(self, fine: Fine, facts: Mapping[str, Any]) -> Range:
        """``fine_range``, computed once for the forms that read no fact (range, up to)."""
        got = self._ranges.get(id(fine))
        if got is not None and got[0] is fine:
            return got[1]
        rng = fine_range(fine, facts)
        if type(fine) is RangeFine or type(fine) is UpToFine:
            self._ranges[id(fine)] = (fine, rng)
        return rng

    def regime_step_basis(self, regimes: tuple[str, ...]) -> tuple[str, ...]:
        got = self._regime_basis.get(regimes)
        if got is None:
            general = self.rulebooks.law.general
            got = self._regime_basis[regimes] = tuple(dict.fromkeys(cite(general[r].lighter_law.ref) for r in regimes))  # type: ignore[index]
        return got

    def edition_step(self, le: LoadedEdition, r_decision: str, notes: list[str]) -> Step:
        """The edition step: kept per edition and regime; one with notes (which name the decision
        date, e.g. a prefecture without an edition in force) is made for its case only."""
        key = (le.key, r_decision)
        got = None if notes else self._edition_steps.get(key)
        if got is None:
            e = le.effective
            text = f"适用裁量基准：{e.title}（{le.key}，{'已发布' if e.status == 'published' else '未发布：' + e.status}）" + "".join(
                f"；{n}" for n in notes
            )
            basis = (cite(self.rulebooks.law.general[r_decision].benchmark.ref), edition_citation(e))  # type: ignore[index]
            data = {"edition": le.key, "sha256": le.sha256}
            if notes:
                return make_step("edition", text, le.key, basis, None, data)
            got = self._edition_steps[key] = Step("edition", text, rule=le.key, basis=basis, data=data)
        return got

    def lighter_basis(self, r_act: str, r_decision: str) -> tuple[list[str], tuple[str, ...]]:
        got = self._lighter.get((r_act, r_decision))
        if got is None:
            general = self.rulebooks.law.general
            cites = [cite(q.ref) for q in (general[r_act].lighter_law, general[r_decision].lighter_law)]  # type: ignore[index]
            got = self._lighter[(r_act, r_decision)] = (cites, tuple(dict.fromkeys(cites)))
        return got


class Unit:
    """One violation type under one edition: its rulesets and what every case of it shares."""

    def __init__(self, engine: Preparation, code: str, le: LoadedEdition) -> None:
        rs = engine.rulebooks
        e = le.effective
        self.parts = (rs, engine.compiled, engine.labels, engine.statutory)  # the engine's, for the plans
        self.le = le
        self.ruleset = engine.compiled.get(code, le.key)
        self.violation = rs.violations[code].model
        self.rulebook = {
            "id": le.model.id,
            "edition": le.model.edition,
            "key": le.key,
            "title": e.title,
            "citation": edition_citation(e),
            "status": e.status,
            "sha256": le.sha256,
            "law_edition": rs.law.edition,
            "law_sha256": rs.sha256,
        }
        self.checks = fact_checks(self.ruleset)
        self.consistency = Consistency(rs, self.ruleset, e, code)
        self._plans: dict[str, Plan] = {}

    def plan(self, regime: str) -> Plan:
        got = self._plans.get(regime)
        if got is None:
            got = self._plans[regime] = Plan(self, regime)
        return got


class Esc:
    """A provision's escalation, prepared."""

    __slots__ = ("basis_ref", "flags", "id", "measures", "steps", "x")

    def __init__(self, plan: Plan, p: Provision, pid: str, x: Escalation) -> None:
        self.x = x
        self.id = eid = f"{pid}/{x.id}"
        self.basis_ref = (cite(x.basis.ref), x.basis.ref) if x.basis else None
        b = x.basis or p.basis
        self.measures = tuple(
            (None if m.when is None else f"{eid}/measure/{k}", (m.id, m.text), plan.measure(m, m.basis or b)) for k, m in enumerate(x.measures)
        )
        self.flags = tuple((None if fl.when is None else f"{eid}/flag/{k}", fl.flag, plan.flag(fl)) for k, fl in enumerate(x.flags))
        self.steps: dict[bool, Step] = {}  # chosen or not → the step, when it reads no fact


class Prov:
    """A penalty provision, prepared."""

    __slots__ = ("basis", "basis_refs", "cite", "escs", "flags", "id", "ind_ids", "measures", "optional", "p", "refs", "steps")

    def __init__(self, plan: Plan, p: Provision) -> None:
        regime = plan.regime
        self.p = p
        # “可以处…罚款” (read once: a missing attribute of a pydantic model is slow to ask for)
        self.optional = bool(getattr(p.fine, "optional", False))
        self.id = pid = f"{regime}/{p.id}"  # its rule id when p.when is given
        # with the paragraph it is read with, in the article's order: “第一百一十二条第一款第三项、第二款”
        self.refs = tuple((cite(r), r) for r in provision_refs(p.basis.ref, p.read_with))
        self.basis_refs = tuple(r for _, r in self.refs)
        self.cite = cite_provision(p.basis.ref, p.read_with)
        self.basis = (self.cite,)
        self.escs = tuple(Esc(plan, p, pid, x) for x in p.escalations)
        ind_ids: dict[int, str] = {}
        for x in p.escalations:
            for k, f in enumerate(x.individual_fines or []):
                ind_ids[id(f)] = f"{pid}/{x.id}/individual/{k}"
        for k, f in enumerate(p.individual_fines):
            ind_ids[id(f)] = f"{pid}/individual/{k}"  # the provision's own first, as _ind_fired looks
        self.ind_ids = ind_ids
        self.measures = tuple(
            (None if m.when is None else f"{pid}/measure/{k}", (m.id, m.text), plan.measure(m, m.basis or p.basis)) for k, m in enumerate(p.measures)
        )
        self.flags = tuple((None if fl.when is None else f"{pid}/flag/{k}", fl.flag, plan.flag(fl)) for k, fl in enumerate(p.flags))
        self.steps: dict[int, tuple[Fine | None, Step]] = {}  # id(fine form) → the step, when it reads no fact


# An item of a result's measures or flags, prepared: (id, "text" or "label", text, basis, trail step).
Item = tuple[str, str, str, tuple[str, ...], Step]


def item_dicts(items: Iterable[Item]) -> list[dict[str, Any]]:
    """The result's entries of prepared measures or flags (each its own dict: results are handed out)."""
    return [{"id": t[0], t[1]: t[2], "basis": list(t[3])} for t in items]


class Plan:
    """Everything about one violation type, edition and regime that does not depend on the case."""

    def __init__(self, unit: Unit, regime: str) -> None:
        rs, compiled, labels, statutory = unit.parts
        le = unit.le
        e = le.effective
        v = unit.violation
        gen: RegimeGeneral = rs.law.general[regime]  # type: ignore[index]
        self.unit = unit
        self.regime = regime
        self.gen = gen
        self.e = e
        self.ruleset = unit.ruleset
        self.matching = compiled.get(v.code, le.key, regime)
        self.labels = labels
        self.statutory = statutory[regime]  # type: ignore[index]
        # the regime's statutory 从轻、减轻 grounds (行政处罚法第三十二条第一项至第四项; under its 第五项
        # only a 法律、法规、规章 the law layer cites, e.g. 法典第一千零五十六条第二款): 减轻 counts these
        # alone; a circumstance the benchmark alone mitigates (酌定) stays inside the range
        self.grounds = {c: a for c, a in self.statutory.items() if a.direction == "mitigate"}
        self.discretionary = frozenset(k for k, c in rs.circumstances.items() if c.group == "mitigating" and k not in self.grounds)
        self.rules = rules = v.regimes.get(regime)  # type: ignore[call-overload]
        self.requires = tuple(rules.requires) if rules is not None else ()
        # the duties the act breaks (义务条款): those whose condition selects the act found (rule id,
        # None: every act); when the facts select none (they do not say which act), every duty
        duties = rules.violated if rules is not None else []
        self.violated = tuple(q.ref for q in duties)
        self.duties = tuple(zip(duty_rule_ids(regime, rules), self.violated)) if rules is not None else ()
        self.selects_duties = any(rid is not None for rid, _ in self.duties)
        self.limitation = tuple((None if lim.when is None else f"{regime}/limitation/{lim.id}", lim) for lim in gen.limitation)
        self.lim_basis = {lim.id: basis_of(lim.basis) for lim in gen.limitation}
        self.edition_cite = (edition_citation(e),)
        before = v.before_code if rules is None else None
        self.no_provision = Step(
            "provision",
            f"{REGIME_LABELS[regime]}没有法律、法规、规章规定处罚该行为（{before.note}），不认为是应予处罚的违法行为"
            if before is not None and before.status == "not_punishable"
            else f"{REGIME_LABELS[regime]}对该行为（依所填事实）没有规定罚则，不认为是应予处罚的违法行为",
            rule=None,
            basis=basis_of(gen.legality),
            regime=regime,
        )
        # exemptions: the statutory grounds, then the edition's list
        self.exemptions = tuple(
            (
                f"{regime}/exemption/{x.id}",
                x,
                Step(
                    "exemption",
                    f"{x.label}，{'不予处罚' if x.mandatory else '可以不予处罚'}",
                    rule=x.id,
                    basis=basis_of(x.basis),
                    regime=regime,
                    data={"mandatory": x.mandatory},
                ),
            )
            for x in gen.exemptions
        )
        self.entries = tuple(
            (
                f"edition-exemption/{entry.id}",
                entry,
                Step(
                    "exemption",
                    f"符合{e.title}免罚清单（{'轻微不罚' if entry.kind == 'minor' else '首违不罚'}）：{entry.label}",
                    rule=entry.id,
                    basis=tuple(cite(q.ref) for q in entry.basis) + self.edition_cite,
                    regime=regime,
                    data={"kind": entry.kind, "modelled": entry.modelled is not None},
                ),
            )
            for entry in e.exemptions or []
        )
        self.exempt_ids = frozenset(x[0] for x in self.exemptions) | frozenset(x[0] for x in self.entries)
        self.education_cite = cite(gen.education.ref)
        self.correction_cite = cite(gen.correction.ref)
        # not punished (行政处罚法第三十三条): 教育 (第三款) and 责令改正, on the act's own provision's
        # order to correct where it gives one, else 第二十八条第一款 (docs/rulebooks.md “Doctrine”);
        # prepared per citation of the order, on first use
        self._unpunished: dict[tuple[str, ...], tuple[Step, tuple[tuple[str, str, tuple[str, ...]], ...]]] = {}
        # 行政处罚法第二十八条第一款: every penalty orders 责令改正; where no applicable provision gives
        # its own order to correct, the general one
        self.correction = self.item(
            "measure", "order_correction", "text", "责令当事人改正或者限期改正违法行为", (self.correction_cite,)
        )
        self.no_fine = Step(
            "range",
            "所适用的规定对该情形不处罚款，仅责令改正（责令改正不属于行政处罚）",
            regime=regime,
            basis=basis_of(gen.correction),
        )
        self._measures: dict[tuple[str, str, str], Item] = {}
        self._flags: dict[tuple[str, tuple[str, ...]], Item] = {}
        self.provisions = tuple(Prov(self, p) for p in rules.provisions) if rules is not None else ()
        self.provision_ids = tuple(None if pp.p.when is None else pp.id for pp in self.provisions)
        # benchmark: factors, position and adjustments
        self.vb = e.violations.get(v.code)
        self.prepared = False  # the factors and adjustments, prepared by the first case that reaches them
        self.notes: Any = None  # what discretion.engine.notices reads of the plan, prepared on first use
        self.no_factors = Step(
            "factor",
            f"{e.title}未对该违法行为规定个性裁量因子，按共性因子确定罚款位置",
            basis=self.edition_cite,
            regime=regime,
        )
        # money: rounding, bands, reduction and the procedural thresholds
        self.rounding = e.rounding
        self.step_mode = (e.rounding.step, e.rounding.mode) if e.rounding is not None else (1, "half_up")
        self.bands = e.formula.bands if e.formula else 5
        # (position's text, minimum, maximum) → the amount, its band and the rounding step (stages.fine)
        self.rounded: dict[tuple[str, int, int | None], tuple[int, tuple[int, int], Step]] = {}
        self.reduction = e.reduction
        th = e.thresholds
        self.amounts = (th.hearing_unit, th.hearing_individual, th.collective_discussion, th.legal_review) if th is not None else None
        self.thresholds: dict[str, Item] = {}
        if th is not None:
            for flag, article in (("hearing_notice", 63), ("collective_discussion", 57), ("legal_review", 58)):
                cites = [cite(q.ref) for q in th.basis if q.ref.article == article] or [cite(q.ref) for q in th.basis]
                self.thresholds[flag] = self.item("flag", flag, "label", FLAG_LABELS[flag], tuple(cites))

    def unpunished(self, own: tuple[str, ...]) -> tuple[Step, list[dict[str, Any]]]:
        """The step and measures of an act not punished (行政处罚法第三十三条): 教育 (第三款) and
        责令改正, citing ``own`` (the applicable provisions' own orders to correct), else 第二十八条第一款."""
        got = self._unpunished.get(own)
        if got is None:
            order = own or (self.correction_cite,)
            step = Step(
                "measure",
                "依法对当事人进行教育，并责令改正违法行为（责令改正不是行政处罚，不予处罚不免除改正违法行为的义务）",
                rule="education",
                basis=(self.education_cite, *order),
                regime=self.regime,
                data={"correction_basis": "provision" if own else "general"},
            )
            got = self._unpunished[own] = (
                step,
                (("education", "对当事人进行教育", (self.education_cite,)), ("order_correction", "责令改正违法行为", order)),
            )
        step, measures = got
        return step, [{"id": mid, "text": text, "basis": list(basis)} for mid, text, basis in measures]

    def item(self, step: str, id: str, key: str, text: str, basis: tuple[str, ...]) -> Item:
        return (id, key, text, basis, Step(step, text, rule=id, basis=basis, regime=self.regime))

    def measure(self, m: Measure, basis: Quoted) -> Item:
        c = cite(basis.ref)
        key = (m.id, m.text, c)
        got = self._measures.get(key)
        if got is None:
            got = self._measures[key] = self.item("measure", m.id, "text", m.text, (c,))
        return got

    def flag(self, fl: Flag) -> Item:
        basis = (cite(fl.basis.ref),)
        key = (fl.flag, basis)
        got = self._flags.get(key)
        if got is None:
            got = self._flags[key] = self.item("flag", fl.flag, "label", FLAG_LABELS[fl.flag], basis)
        return got

    def _prepare_position(self) -> None:
        """Each factor's weighted score and step for every level, the weights and the formula's
        texts (the work of :meth:`position` that does not depend on the case)."""
        e, regime = self.e, self.regime
        cite_as = self.edition_cite
        levels: dict[str, tuple[int, int, Decimal, Step]] = {}  # level rule id → (factor index, level, weighted, step)
        defaults: list[tuple[Decimal, Step]] = []
        weights: list[Decimal | None] = []
        for infos, kind in ((self.ruleset.factors, "个性"), (self.ruleset.common, "共性")):
            total = Decimal(0)
            for info in infos:
                total += info.factor.weight
                for rid, level, label in info.matched:
                    levels[rid] = (len(defaults), level, *factor_step(info, level, label, True, regime, kind, cite_as))
                defaults.append(factor_step(info, info.default[0], info.default[1], False, regime, kind, cite_as))
            weights.append(total if infos else None)
        self.levels = levels
        self.level_ids = frozenset(levels)
        # each factor's facts (those its levels read), to tell a default taken for want of them
        facts = self.ruleset.facts
        readings = self.unit.consistency.by_fact
        factor_reads: list[tuple[int, FactorInfo, tuple[str, ...], frozenset[str], bool]] = []  # built, then set whole
        for i, info in enumerate(info for infos in (self.ruleset.factors, self.ruleset.common) for info in infos):
            names = (n for lv in info.factor.levels if lv.when for n in sorted(conditions.names(conditions.parse(lv.when))))
            reads = tuple(dict.fromkeys(n for n in names if n in facts))
            if reads:  # (index, factor, facts read, the same as a set, whether one is read from the law's fact)
                factor_reads.append((i, info, reads, frozenset(reads), any(n in readings for n in reads)))
        self.factor_reads = factor_reads
        self.read_names = frozenset(n for entry in factor_reads for n in entry[2])
        self._defaulted: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._assumed_entries: dict[tuple[str, str, str], dict[str, Any]] = {}  # (factor, fact, law's choice) → entry
        self._placed: dict[frozenset[str], tuple[Decimal, tuple[Step, ...], frozenset[int]]] = {}
        self._defaults_memo: dict[tuple[frozenset[int], frozenset[str]], Any] = {}
        self.default_weighted = [w for w, _ in defaults]
        self.default_steps = [st for _, st in defaults]
        self.n_individual = len(self.ruleset.factors)
        self.weights = tuple(weights)
        formula = e.formula
        if formula is not None:
            a = formula.individual_weight
            self.mix = (a, _ONE - a, f"位置 = {fmt(a)} × 个性得分 ", f" + {fmt(_ONE - a)} × 共性得分 ")
        vb = self.vb
        lo = vb.min_position if vb and vb.min_position is not None else Decimal(0)
        hi = vb.max_position if vb and vb.max_position is not None else _ONE
        self.window = (lo, hi, f"；按本基准对该行为的位置区间[{fmt(lo)}, {fmt(hi)}]换算为 ") if lo != 0 or hi != _ONE else None
        self.adjustments = tuple(
            (adj.circumstance, piece, step) for adj, piece, step in adjustment_steps(self.e, self.statutory, self.labels, regime)
        )
        self.adjusted_circumstances = frozenset(adj[0] for adj in self.adjustments)
        self._adjusted: dict[str, Step] = {}  # the adjusted position's text → its step
        self.prepared = True

    def position(self, fired: set[str], fact: Mapping[str, Any] | None = None) -> tuple[Decimal, tuple[Step, ...], list[dict[str, Any]]]:
        """The position in the range from the factor levels that fired (each factor at its highest
        fired level, else its default), with a step per factor and the formula's step; and, given the
        matcher ``fact``, the factors that took their default level for want of a fact (see
        :meth:`defaulted`). The position and its steps are the same for every case whose factor
        levels fired alike: placed once per combination (:meth:`_place`) and shared."""
        if not self.prepared:
            self._prepare_position()
        fired_levels = self.level_ids.intersection(fired)
        placed = self._placed.get(fired_levels)
        if placed is None:
            placed = self._place(fired_levels)
            if len(self._placed) >= 4_096:  # a plan sees a few combinations; bounded for a soak
                self._placed.clear()
            self._placed[fired_levels] = placed
        p, steps, at_level = placed
        if fact is None:
            return p, steps, []
        unknown = self.read_names.difference(fact)
        assumed = fact.get(ASSUMED)
        if not unknown:  # every fact a factor reads was given (checked at C speed)
            return p, steps, self._assumed(assumed, fact) if assumed else []
        got = self._defaults(at_level, unknown, fact)
        return p, steps, self._with_assumed(got, assumed, fact) if assumed else got

    def _assumed(self, names: tuple[str, ...], fact: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The factors graded by an edition fact taken at the lowest grade the law's choice allows
        (``consistency.ASSUMED``): left unknown all the same, at the level that value gives."""
        consistency = self.unit.consistency
        out: list[dict[str, Any]] = []
        for _, info, reads, read_set, _ in self.factor_reads:
            for name in names:
                if name not in read_set:
                    continue
                law_value = fact[consistency.by_fact[name].law_fact]
                key = (info.factor.id, name, law_value)
                entry = self._assumed_entries.get(key)
                if entry is None:  # one entry per factor and choice, shared (notices memoise by the entries' identity)
                    a = consistency.assumed[(name, law_value)]
                    level, level_label = next((lv, lb) for fid, lv, lb in a.levels if fid == info.factor.id)
                    entry = self._assumed_entries[key] = {
                        "id": info.factor.id, "label": info.factor.label, "level": level, "level_label": level_label,
                        "missing": [name], "reason": consistency.assumed_reason(name, law_value) + f"，即第{level}级（{level_label}）",
                    }
                out.append(entry)
                break
        return out

    def _with_assumed(self, got: list[dict[str, Any]], names: tuple[str, ...], fact: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The factors left at their default and those graded by an assumed value, in the factors' order."""
        extra = self._assumed(names, fact)
        if not extra:
            return got
        order = {info.factor.id: i for i, info, _, _, _ in self.factor_reads}
        return sorted([*got, *extra], key=lambda d: order.get(d["id"], len(order)))

    def _place(self, fired_levels: frozenset[str]) -> tuple[Decimal, tuple[Step, ...], frozenset[int]]:
        """The position, the factors' and the formula's steps, and the factors at a fired level, for
        one combination of fired factor levels."""
        weighted = self.default_weighted.copy()
        steps = self.default_steps.copy()
        best: dict[int, int] = {}
        levels = self.levels
        for rid in fired_levels:
            i, level, w, step = levels[rid]
            if level > best.get(i, 0):
                best[i] = level
                weighted[i] = w
                steps[i] = step
        n = self.n_individual
        w_ind, w_com = self.weights
        p_ind = None if w_ind is None else sum(weighted[:n], _ZERO) / w_ind
        p_com = None if w_com is None else sum(weighted[n:], _ZERO) / w_com
        formula = self.e.formula
        assert formula is not None
        if p_ind is None and p_com is None:
            p = _ZERO
            how = "无裁量因子，取幅度下限"
        elif p_ind is None:
            p = p_com  # type: ignore[assignment]
            how = "无个性因子，位置 = 共性得分 " + fmt(p)
        elif p_com is None:
            p = p_ind
            how = "位置 = 个性得分 " + fmt(p)
        else:
            a, rest, head, middle = self.mix
            p = a * p_ind + rest * p_com
            how = f"{head}{fmt(p_ind)}{middle}{fmt(p_com)} = {fmt(p)}"
        window = self.window
        if window is not None:
            lo, hi, text = window
            p2 = lo + p * (hi - lo)
            how += text + fmt(p2)
            p = p2
        steps.append(Step("position", how, rule="formula", basis=self.edition_cite, regime=self.regime,
                          data={"position": str(p), "modelled": formula.modelled is not None}))
        return p, tuple(steps), frozenset(best)

    def _defaults(self, at_level: frozenset[int], unknown: frozenset[str], fact: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The factors left at their default level because a fact their levels read is ``unknown``
        (not given), in the factors' order: found once per combination of the factors at a fired
        level and the facts not given; an entry whose factor is read from the law's fact is made
        per case (its reason names the law's choice), the others once per factor and missing facts."""
        key = (at_level, unknown)
        got = self._defaults_memo.get(key)
        if got is None:
            if len(self._defaults_memo) >= 4_096:  # a plan sees a few combinations; bounded for a soak
                self._defaults_memo.clear()
            got = self._defaults_memo[key] = self._which_defaulted(at_level, unknown)
        entries, per_case = got
        if not per_case:
            return list(entries)  # shared between results (Assessment.to_dict copies them)
        return [self.defaulted(info, missing, fact) if entry is None else entry for info, missing, entry in per_case]

    def _which_defaulted(
        self, at_level: frozenset[int], unknown: frozenset[str]
    ) -> tuple[tuple[dict[str, Any], ...], tuple[tuple[FactorInfo, tuple[str, ...], dict[str, Any] | None], ...]]:
        """For :meth:`_defaults`: the entries, when none is read from the law's fact; else, per
        factor, its info, missing facts and entry (None: to be made per case)."""
        found: list[tuple[FactorInfo, tuple[str, ...], dict[str, Any] | None]] = []
        for i, info, reads, read_set, from_law in self.factor_reads:
            if i in at_level or read_set.isdisjoint(unknown):
                continue
            missing = reads if len(reads) == 1 else tuple([n for n in reads if n in unknown])
            found.append((info, missing, None if from_law else self.defaulted(info, missing, {})))
        if any(entry is None for _, _, entry in found):
            return (), tuple(found)
        return tuple(entry for _, _, entry in found if entry is not None), ()

    def defaulted(self, info: FactorInfo, missing: tuple[str, ...], fact: Mapping[str, Any]) -> dict[str, Any]:
        """A factor at its default level because the facts ``missing`` were not given: its id, label,
        level, the facts the handler can still give (``missing``: none where the edition does not
        grade the law layer's choice, see ``from_law``) and the reason in Chinese. Memoised per
        factor, missing facts and the law's choices they depend on (shared by the results)."""
        readings = self.unit.consistency.by_fact
        law = tuple([fact.get(readings[n].law_fact) if n in readings else None for n in missing]) if readings else ()
        key = (info.factor.id, info.prefix, missing, law)
        got = self._defaulted.get(key)
        if got is None:
            facts = self.ruleset.facts
            parts: list[str] = []
            can_give: list[str] = []
            for name, law_value in zip(missing, law or (None,) * len(missing)):
                f = facts[name]
                r = readings.get(name)
                if r is None or law_value is None:
                    parts.append(f"未提供“{f.label}”")
                    can_give.append(name)
                    continue
                law_f = facts[r.law_fact]
                chosen = f"“{law_f.label}”为“{(law_f.choices or {}).get(law_value, law_value)}”"
                allowed = r.allowed[law_value]
                if allowed:
                    labels = "”“".join((f.choices or {}).get(v, v) for v in allowed)
                    parts.append(f"{chosen}，本裁量基准细分为“{labels}”，未细分")
                    can_give.append(name)
                else:
                    parts.append(f"{chosen}，本裁量基准未对该情形分级")
            level, level_label = info.default
            got = self._defaulted[key] = {
                "id": info.factor.id,
                "label": info.factor.label,
                "level": level,
                "level_label": level_label,
                "missing": can_give,
                "reason": "；".join(parts) + f"，按默认的第{level}级（{level_label}）计",
            }
        return got

    def adjusted(self, p: Decimal, present: list[str], steps: list[Step]) -> Decimal:
        """The position moved by the edition's adjustments (从重、从轻) for the circumstances
        ``present``, kept inside the range; their steps are added to ``steps``."""
        if not present or self.adjusted_circumstances.isdisjoint(present):
            return p
        regime = self.regime
        delta = _ZERO
        for circumstance, piece, step in self.adjustments:
            if circumstance in present:
                delta += piece
                steps.append(step)
        q = min(max(p + delta, _ZERO), _ONE)
        key = str(q)
        step = self._adjusted.get(key)
        if step is None:  # the same for every case that ends at that position: made once, shared
            if len(self._adjusted) >= 4_096:
                self._adjusted.clear()
            step = self._adjusted[key] = Step("adjustment", f"调整后位置为 {fmt(q)}（从重、从轻均不超出法定幅度）", rule="adjusted",
                                              basis=self.edition_cite, regime=regime, data={"position": key})
        steps.append(step)
        return q


def basis_of(q: Quoted) -> tuple[str, ...]:
    return (cite(q.ref),)


def factor_step(
    info: FactorInfo, level: int, label: str, matched: bool, regime: str, kind: str, cite_as: tuple[str, ...]
) -> tuple[Decimal, Step]:
    """A factor's weighted score and its trail step: the same for every case at that level, so
    computed once per plan (steps are immutable)."""
    factor = info.factor
    lo, hi = info.lowest, info.highest
    s = Decimal(level - lo) / Decimal(hi - lo) if hi > lo else Decimal(0)
    step = Step(
        "factor",
        f"{kind}因子“{factor.label}”：{label}，第{level}级" + ("" if matched else "（未提供相关事实或不符合其他等级，取默认等级）"),
        rule=f"{info.prefix}/{factor.id}/{level}",
        basis=cite_as,
        regime=regime,
        data={"factor": factor.id, "label": factor.label, "level": level, "score": str(s), "weight": str(factor.weight),
              "matched": matched, "modelled": factor.modelled is not None},
    )
    return factor.weight * s, step


def adjustment_steps(
    e: BenchmarkEdition, statutory: dict[str, Any], labels: dict[str, str], regime: str
) -> list[tuple[Any, Decimal, Step]]:
    """Each adjustment of the edition with its signed share of the range and its trail step."""
    out = []
    for adj in e.adjustments or []:
        sign = 1 if adj.direction == "aggravate" else -1
        basis: tuple[str, ...] = ()
        if adj.basis is not None:
            basis = basis_of(adj.basis)
        elif adj.circumstance in statutory:
            basis = basis_of(statutory[adj.circumstance].basis)
        basis += (edition_citation(e),)
        word = "从重" if sign > 0 else "从轻"
        step = Step(
            "adjustment",
            f"{word}：{labels.get(adj.circumstance, adj.circumstance)}，位置{'上调' if sign > 0 else '下调'}{adj.points.normalize():f}个百分点",
            rule=adj.id,
            basis=basis,
            regime=regime,
            data={"direction": adj.direction, "points": str(adj.points), "modelled": adj.modelled is not None},
        )
        out.append((adj, sign * adj.points / _HUNDRED, step))
    return out
