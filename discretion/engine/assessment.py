"""The assessment pipeline (design.md): regime and edition, limitation, exemption, statutory
range, benchmark, adjustments, rounding and flags, and the lighter-law comparison.

Pure functions over a loaded rulebook set; the rules engine only matches conditions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Callable, Iterable, Mapping, Protocol

import orjson

from ..errors import InputError
from ..rulebooks import editions
from ..rulebooks.compiler import Compiled, FactorInfo, RuleSet, compile_all
from ..rulebooks.loaded import LoadedEdition, RulebookSet
from ..rulebooks.models import (
    BenchmarkEdition,
    Escalation,
    Fine,
    Flag,
    IndividualFine,
    LawEdition,
    LegalRef,
    Measure,
    Provision,
    Quoted,
    RangeFine,
    RegimeGeneral,
    UpToFine,
)
from .case import MAX_AMOUNT, Case
from .citation import as_dict, as_json, cite, edition_citation
from .money import Range, ceil_to, fine_range, round_to, yuan_text
from .reasoning import render
from .trail import REGIME_LABELS, Step, make_step

FLAG_LABELS = {
    "detention_referral": "移送公安机关依法予以拘留",
    "government_approval_closure": "报经有批准权的人民政府批准，责令停业、关闭",
    "daily_penalty_eligible": "拒不改正的，可以按日连续处罚",
    "permit_revocation": "吊销排污许可证",
    "hearing_notice": "应当告知当事人有要求听证的权利",
    "collective_discussion": "应当由行政机关负责人集体讨论决定",
    "legal_review": "作出决定前应当进行法制审核",
}
_HEARING_MEASURES = {"suspend_business", "closure", "revoke_permit", "ban"}
_MAJOR_FLAGS = ("government_approval_closure", "permit_revocation", "detention_referral")
_ONE = Decimal(1)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class Matcher(Protocol):
    def match(self, rs: RuleSet, fact: dict[str, Any]) -> list[str]: ...

    def prepare(self, rulesets: Iterable[RuleSet]) -> None: ...


# --- results -------------------------------------------------------------------------------


@dataclass
class FineResult:
    legal_min: int
    legal_max: int | None
    band: tuple[int, int]
    recommended: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "legal_min": self.legal_min,
            "legal_max": self.legal_max,
            "band": list(self.band),
            "recommended": self.recommended,
        }


@dataclass
class RegimeResult:
    """The assessment of a case under one regime."""

    regime: str
    outcome: str  # penalty | no_penalty | time_barred
    fine: FineResult | None = None
    individual_fines: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    basis: list[LegalRef] = field(default_factory=list)
    violated: list[LegalRef] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    reduced: bool = False
    not_punishable: bool = False
    exemption: str | None = None
    fine_optional: bool = False  # “可以处…罚款”: the law lets the fine be left out (not in the contract's JSON)

    def severity(self) -> tuple[Any, ...]:
        """Ordering for 从旧兼从轻: lower is lighter (outcome, then maximum, minimum, amount)."""
        rank = {"time_barred": 0, "no_penalty": 1, "penalty": 2}[self.outcome]
        if self.fine is None:
            return (rank, 0, 0, 0, 0)
        mx = self.fine.legal_max
        return (rank, 1 if mx is None else 0, mx or 0, self.fine.legal_min, self.fine.recommended)

    def summary(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "outcome": self.outcome,
            "fine": self.fine.to_dict() if self.fine else None,
            "individual_fines": self.individual_fines,
            "basis": [as_dict(r) for r in self.basis],
        }


@dataclass
class Assessment:
    """The contract's assessment result (without the storage id)."""

    case: Case
    outcome: str
    applied: RegimeResult
    compared: RegimeResult | None
    lighter_law: dict[str, Any] | None
    rulebook: dict[str, Any]
    trail: list[Step]
    title: str
    reasoning: str = ""

    @property
    def act_result(self) -> RegimeResult:
        """The result under the law in force when the act was committed: that law says which duties
        the act violated, even where 从旧兼从轻 applies the later, lighter law's penalty
        (行政处罚法第三十七条; 法典第一千零五十七条)."""
        c = self.compared
        if c is not None and self.lighter_law is not None and self.lighter_law["results"][0]["regime"] == c.regime:
            return c
        return self.applied

    @property
    def violated(self) -> list[LegalRef]:
        """The provisions the act violated: the act-time law's (the applied law's where it names none)."""
        return self.act_result.violated or self.applied.violated

    def to_dict(self) -> dict[str, Any]:
        """The contract's result as plain data."""
        return self._document(as_dict, [s.to_dict() for s in self.trail])

    def to_json(self, **extra: Any) -> bytes:
        """The contract's result as JSON (UTF-8), with ``extra`` keys first (e.g. the stored id).

        The same document as ``to_dict()``; steps and legal references are embedded as JSON
        fragments serialised once (shared steps are serialised once for all cases)."""
        payload = self._document(as_json, [s.for_json() for s in self.trail])
        if extra:
            payload = {**extra, **payload}
        return orjson.dumps(payload, default=_step_dict, option=orjson.OPT_PASSTHROUGH_DATACLASS)

    def _document(self, ref: Callable[[LegalRef], Any], trail: list[Any]) -> dict[str, Any]:
        """The result document, with legal references encoded by ``ref`` and the given trail."""
        a = self.applied
        return {
            "outcome": self.outcome,
            "violation": {"code": self.case.violation, "title": self.title},
            "fine": a.fine.to_dict() if a.fine else None,
            "individual_fines": a.individual_fines,
            "measures": a.measures,
            "flags": a.flags,
            "law": {
                "regime": a.regime,
                "regime_title": REGIME_LABELS[a.regime],
                "basis": [ref(r) for r in a.basis],
                "violated": [ref(r) for r in self.violated],
                "lighter_law": self.lighter_law,
            },
            "rulebook": self.rulebook,
            "trail": trail,
            "reasoning": self.reasoning,
        }


# The results are made many thousand times a second: these build the same dataclass instances
# without the generated __init__ (keyword handling and a call per default factory); a test keeps
# them equal to the constructors.
_object_new = object.__new__


def _new_result(regime: str, outcome: str) -> RegimeResult:
    """``RegimeResult(regime, outcome)``."""
    r = _object_new(RegimeResult)
    r.regime = regime
    r.outcome = outcome
    r.fine = None
    r.individual_fines = []
    r.measures = []
    r.flags = []
    r.basis = []
    r.violated = []
    r.steps = []
    r.reduced = False
    r.not_punishable = False
    r.exemption = None
    r.fine_optional = False
    return r


def _new_fine(legal_min: int, legal_max: int | None, band: tuple[int, int], recommended: int) -> FineResult:
    """``FineResult(legal_min, legal_max, band, recommended)``."""
    f = _object_new(FineResult)
    f.legal_min = legal_min
    f.legal_max = legal_max
    f.band = band
    f.recommended = recommended
    return f


def _step_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Step):
        return obj.to_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --- dates -------------------------------------------------------------------------------------


def add_years(d: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def regime_on(law: LawEdition, on: dt.date) -> str | None:
    for r in law.regimes:
        if r.effective_from <= on and (r.effective_to is None or on <= r.effective_to):
            return r.id
    return None


# --- the engine ---------------------------------------------------------------------------------


class Engine:
    """A compiled rulebook set and a matcher: ``assess(case)`` answers one case."""

    def __init__(self, rulebooks: RulebookSet, matcher: Matcher | str = "durable") -> None:
        self.rulebooks = rulebooks
        self.compiled: Compiled = compile_all(rulebooks)
        if isinstance(matcher, str):
            matcher = make_matcher(matcher)
        self.matcher = matcher
        self.labels = {c.id: c.label for c in rulebooks.circumstances.values()}
        self.statutory = {r: {a.circumstance: a for a in g.adjustments} for r, g in rulebooks.law.general.items()}
        self._editions: dict[tuple[str, dt.date, str | None], tuple[LoadedEdition, list[str]]] = {}
        # What does not depend on the case, prepared on first use (the rulebook set never changes
        # under an engine, and everything here dies with the engine).
        self._units: dict[tuple[str, str], _Unit] = {}
        self._groups = {k: c.group for k, c in rulebooks.circumstances.items()}
        self._regime_basis: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._edition_steps: dict[tuple[str, str], Step] = {}
        self._lighter: dict[tuple[str, str], tuple[list[str], tuple[str, ...]]] = {}
        self._ranges: dict[int, tuple[Fine, Range]] = {}  # fine forms that do not read the case's facts
        self._regimes = tuple((r.effective_from, r.effective_to, r.id) for r in rulebooks.law.regimes)

    def edition(self, jurisdiction: str, on: dt.date, requested: str | None) -> tuple[LoadedEdition, list[str]]:
        """The edition in force (memoised: the rulebook set never changes under an engine)."""
        key = (jurisdiction, on, requested)
        got = self._editions.get(key)
        if got is None:
            got = editions.in_force(self.rulebooks.editions, jurisdiction, on, requested)
            if len(self._editions) >= 1_024:  # a service sees few decision dates; bounded for a soak
                self._editions.clear()
            self._editions[key] = got
        return got

    def assess(self, case: Case) -> Assessment:
        result = _assess(self, case)
        result.reasoning = render(result)
        return result

    # --- case-independent parts, memoised ---------------------------------------------------------

    def _unit(self, code: str, le: LoadedEdition) -> _Unit:
        got = self._units.get((code, le.key))
        if got is None:
            got = self._units[(code, le.key)] = _Unit(self, code, le)
        return got

    def _regime_on(self, on: dt.date) -> str | None:
        """``regime_on(law, on)``, over the regimes' dates read once."""
        for start, end, rid in self._regimes:
            if start <= on and (end is None or on <= end):
                return rid
        return None

    def _range(self, fine: Fine, facts: Mapping[str, Any]) -> Range:
        """``fine_range``, computed once for the forms that read no fact (range, up to)."""
        got = self._ranges.get(id(fine))
        if got is not None and got[0] is fine:
            return got[1]
        rng = fine_range(fine, facts)
        if type(fine) is RangeFine or type(fine) is UpToFine:
            self._ranges[id(fine)] = (fine, rng)
        return rng

    def _regime_step_basis(self, regimes: tuple[str, ...]) -> tuple[str, ...]:
        got = self._regime_basis.get(regimes)
        if got is None:
            general = self.rulebooks.law.general
            got = self._regime_basis[regimes] = tuple(dict.fromkeys(cite(general[r].lighter_law.ref) for r in regimes))  # type: ignore[index]
        return got

    def _edition_step(self, le: LoadedEdition, r_decision: str, notes: list[str]) -> Step:
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

    def _lighter_basis(self, r_act: str, r_decision: str) -> tuple[list[str], tuple[str, ...]]:
        got = self._lighter.get((r_act, r_decision))
        if got is None:
            general = self.rulebooks.law.general
            cites = [cite(q.ref) for q in (general[r_act].lighter_law, general[r_decision].lighter_law)]  # type: ignore[index]
            got = self._lighter[(r_act, r_decision)] = (cites, tuple(dict.fromkeys(cites)))
        return got


class _Unit:
    """One violation type under one edition: its rulesets and what every case of it shares."""

    def __init__(self, engine: Engine, code: str, le: LoadedEdition) -> None:
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
        self._plans: dict[str, _Plan] = {}

    def plan(self, regime: str) -> _Plan:
        got = self._plans.get(regime)
        if got is None:
            got = self._plans[regime] = _Plan(self, regime)
        return got


class _Esc:
    """A provision's escalation, prepared."""

    __slots__ = ("basis_ref", "flags", "id", "measures", "steps", "x")

    def __init__(self, plan: _Plan, p: Provision, pid: str, x: Escalation) -> None:
        self.x = x
        self.id = eid = f"{pid}/{x.id}"
        self.basis_ref = (cite(x.basis.ref), x.basis.ref) if x.basis else None
        b = x.basis or p.basis
        self.measures = tuple(
            (None if m.when is None else f"{eid}/measure/{k}", m.id, plan.measure(m, b)) for k, m in enumerate(x.measures)
        )
        self.flags = tuple((None if fl.when is None else f"{eid}/flag/{k}", fl.flag, plan.flag(fl)) for k, fl in enumerate(x.flags))
        self.steps: dict[bool, Step] = {}  # chosen or not → the step, when it reads no fact


class _Prov:
    """A penalty provision, prepared."""

    __slots__ = ("basis", "cite", "escs", "flags", "id", "ind_ids", "measures", "p", "steps")

    def __init__(self, plan: _Plan, p: Provision) -> None:
        regime = plan.regime
        self.p = p
        self.id = pid = f"{regime}/{p.id}"  # its rule id when p.when is given
        self.cite = cite(p.basis.ref)
        self.basis = (self.cite,)
        self.escs = tuple(_Esc(plan, p, pid, x) for x in p.escalations)
        ind_ids: dict[int, str] = {}
        for x in p.escalations:
            for k, f in enumerate(x.individual_fines or []):
                ind_ids[id(f)] = f"{pid}/{x.id}/individual/{k}"
        for k, f in enumerate(p.individual_fines):
            ind_ids[id(f)] = f"{pid}/individual/{k}"  # the provision's own first, as _ind_fired looks
        self.ind_ids = ind_ids
        self.measures = tuple(
            (None if m.when is None else f"{pid}/measure/{k}", m.id, plan.measure(m, p.basis)) for k, m in enumerate(p.measures)
        )
        self.flags = tuple((None if fl.when is None else f"{pid}/flag/{k}", fl.flag, plan.flag(fl)) for k, fl in enumerate(p.flags))
        self.steps: dict[int, tuple[Fine | None, Step]] = {}  # id(fine form) → the step, when it reads no fact


# An item of a result's measures or flags, prepared: (id, "text" or "label", text, basis, trail step).
_Item = tuple[str, str, str, tuple[str, ...], Step]


def _item_dict(t: _Item) -> dict[str, Any]:
    return {"id": t[0], t[1]: t[2], "basis": list(t[3])}


class _Plan:
    """Everything about one violation type, edition and regime that does not depend on the case."""

    def __init__(self, unit: _Unit, regime: str) -> None:
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
        self.rules = rules = v.regimes.get(regime)  # type: ignore[call-overload]
        self.requires = tuple(rules.requires) if rules is not None else ()
        self.violated = tuple(q.ref for q in rules.violated) if rules is not None else ()
        self.limitation = tuple((None if lim.when is None else f"{regime}/limitation/{lim.id}", lim) for lim in gen.limitation)
        self.lim_basis = {lim.id: _q(lim.basis) for lim in gen.limitation}
        self.edition_cite = (edition_citation(e),)
        self.no_provision = Step(
            "provision",
            f"{REGIME_LABELS[regime]}对该行为（依所填事实）没有规定罚则，不认为是应予处罚的违法行为",
            rule=None,
            basis=_q(gen.legality),
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
                    basis=_q(x.basis),
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
        self.education = Step(
            "measure", "依法对当事人进行教育，并责令改正违法行为", rule="education",
            basis=(self.education_cite, self.correction_cite), regime=regime,
        )
        self.no_fine = Step(
            "range",
            "所适用的规定对该情形不处罚款，仅责令改正（责令改正不属于行政处罚）",
            regime=regime,
            basis=_q(gen.correction),
        )
        self._measures: dict[tuple[str, str, str], _Item] = {}
        self._flags: dict[tuple[str, tuple[str, ...]], _Item] = {}
        self.provisions = tuple(_Prov(self, p) for p in rules.provisions) if rules is not None else ()
        self.provision_ids = tuple(None if pp.p.when is None else pp.id for pp in self.provisions)
        # benchmark: factors, position and adjustments
        self.vb = e.violations.get(v.code)
        self.prepared = False  # the factors and adjustments, prepared by the first case that reaches them
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
        self.reduction = e.reduction
        th = e.thresholds
        self.amounts = (th.hearing_unit, th.hearing_individual, th.collective_discussion, th.legal_review) if th is not None else None
        self.thresholds: dict[str, _Item] = {}
        if th is not None:
            for flag, article in (("hearing_notice", 63), ("collective_discussion", 57), ("legal_review", 58)):
                cites = [cite(q.ref) for q in th.basis if q.ref.article == article] or [cite(q.ref) for q in th.basis]
                self.thresholds[flag] = self.item("flag", flag, "label", FLAG_LABELS[flag], tuple(cites))

    def item(self, step: str, id: str, key: str, text: str, basis: tuple[str, ...]) -> _Item:
        return (id, key, text, basis, Step(step, text, rule=id, basis=basis, regime=self.regime))

    def measure(self, m: Measure, basis: Quoted) -> _Item:
        c = cite(basis.ref)
        key = (m.id, m.text, c)
        got = self._measures.get(key)
        if got is None:
            got = self._measures[key] = self.item("measure", m.id, "text", m.text, (c,))
        return got

    def flag(self, fl: Flag) -> _Item:
        basis = (cite(fl.basis.ref),)
        key = (fl.flag, basis)
        got = self._flags.get(key)
        if got is None:
            got = self._flags[key] = self.item("flag", fl.flag, "label", FLAG_LABELS[fl.flag], basis)
        return got

    def _prepare_position(self) -> None:
        """Each factor's weighted score and step for every level, the weights and the formula's
        texts (``_position``'s work that does not depend on the case)."""
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
                    levels[rid] = (len(defaults), level, *_factor_step(info, level, label, True, regime, kind, cite_as))
                defaults.append(_factor_step(info, info.default[0], info.default[1], False, regime, kind, cite_as))
            weights.append(total if infos else None)
        self.levels = levels
        self.level_ids = frozenset(levels)
        self.default_weighted = [w for w, _ in defaults]
        self.default_steps = [st for _, st in defaults]
        self.n_individual = len(self.ruleset.factors)
        self.weights = tuple(weights)
        formula = e.formula
        if formula is not None:
            a = formula.individual_weight
            self.mix = (a, _ONE - a, f"位置 = {_fmt(a)} × 个性得分 ", f" + {_fmt(_ONE - a)} × 共性得分 ")
        vb = self.vb
        lo = vb.min_position if vb and vb.min_position is not None else Decimal(0)
        hi = vb.max_position if vb and vb.max_position is not None else _ONE
        self.window = (lo, hi, f"；按本基准对该行为的位置区间[{_fmt(lo)}, {_fmt(hi)}]换算为 ") if lo != 0 or hi != _ONE else None
        self.adjustments = tuple(
            (adj.circumstance, piece, step) for adj, piece, step in _adjustment_steps(self.e, self.statutory, self.labels, regime)
        )
        self.adjusted_circumstances = frozenset(adj[0] for adj in self.adjustments)
        self.prepared = True

    def placed(self, case: Case, fired: set[str]) -> tuple[Decimal, list[Step]]:
        """The position (as ``_position``) moved by the circumstances (as ``_adjust``), with their steps."""
        if not self.prepared:
            self._prepare_position()
        # each factor at the highest level that fired, else its default
        weighted = self.default_weighted.copy()
        steps = self.default_steps.copy()
        best: dict[int, int] = {}
        levels = self.levels
        for rid in self.level_ids.intersection(fired):
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
            how = "无个性因子，位置 = 共性得分 " + _fmt(p)
        elif p_com is None:
            p = p_ind
            how = "位置 = 个性得分 " + _fmt(p)
        else:
            a, rest, head, middle = self.mix
            p = a * p_ind + rest * p_com
            how = f"{head}{_fmt(p_ind)}{middle}{_fmt(p_com)} = {_fmt(p)}"
        window = self.window
        if window is not None:
            lo, hi, text = window
            p2 = lo + p * (hi - lo)
            how += text + _fmt(p2)
            p = p2
        regime = self.regime
        steps.append(make_step("position", how, "formula", self.edition_cite, regime,
                               {"position": str(p), "modelled": formula.modelled is not None}))
        # adjustments (从重、从轻)
        present = case.circumstances
        if not present or self.adjusted_circumstances.isdisjoint(present):
            return p, steps
        delta = _ZERO
        for circumstance, piece, step in self.adjustments:
            if circumstance in present:
                delta += piece
                steps.append(step)
        q = min(max(p + delta, _ZERO), _ONE)
        steps.append(
            make_step("adjustment", f"调整后位置为 {_fmt(q)}（从重、从轻均不超出法定幅度）", "adjusted", self.edition_cite, regime, {"position": str(q)})
        )
        return q, steps


def make_matcher(kind: str) -> Matcher:
    if kind == "durable":
        from ._durable import DurableMatcher

        return DurableMatcher()
    if kind == "reference":
        from .reference import ReferenceMatcher

        return ReferenceMatcher()
    raise ValueError(f"unknown matcher {kind!r}")


def _check_dates(case: Case) -> None:
    _check(case.violation_date, case.violation_end_date, case.decision_date, case.discovered_date)


def _check(violation: dt.date, end: dt.date | None, decision: dt.date, discovered: dt.date | None) -> None:
    if (end is None or violation <= end <= decision) and violation <= decision and (discovered is None or violation <= discovered <= decision):
        return  # in order (the usual case, checked without building a list)
    field, message = date_problems(violation, end, decision, discovered)[0]
    raise InputError(message=message, code="invalid_date", field=field)


def date_problems(
    violation: dt.date, end: dt.date | None, decision: dt.date | None, discovered: dt.date | None
) -> list[tuple[str, str]]:
    """Every date of a case out of order, as (field, Chinese message), one per field at most; the
    engine refuses a case with the first, the web form shows them all."""
    out: list[tuple[str, str]] = []
    if end and end < violation:
        out.append(("violation_end_date", "违法行为终了日期早于发生日期"))
    if decision is not None:
        if decision < violation:
            out.append(("decision_date", "决定日期早于违法行为发生日期"))
        elif end and decision < end:
            out.append(("decision_date", "决定日期早于违法行为终了日期"))
    if discovered:
        if discovered < violation:
            out.append(("discovered_date", "发现日期早于违法行为发生日期"))
        elif decision is not None and discovered > decision:
            out.append(("discovered_date", "发现日期晚于决定日期"))
    return out


_ISO: dict[dt.date, str] = {}


def _iso(d: dt.date) -> str:
    """``d.isoformat()``, memoised (a few thousand days recur; cleared when full)."""
    got = _ISO.get(d)
    if got is None:
        got = d.isoformat()
        if len(_ISO) >= 8192:
            _ISO.clear()
        _ISO[d] = got
    return got


_MAX_INT = int(MAX_AMOUNT)
_CENT = Decimal("0.01")


_Checks = dict[str, tuple[Any, str, dict[str, str], Any, Any]]  # fact → (definition, type, choices, min, max)


def fact_checks(rs: RuleSet) -> _Checks:
    """Each fact's definition, type, choices, minimum and maximum, read once."""
    return {name: (f, f.type, f.choices or {}, f.min, f.max) for name, f in rs.facts.items()}


def fact_problem(check: tuple[Any, str, dict[str, str], Any, Any], value: Any) -> str | None:
    """What is wrong with one fact's value (Chinese), or None. The engine refuses a case with the
    first problem; the web form shows the problem of every field at once."""
    f, t, choices, f_min, f_max = check
    if t == "bool":
        return None if isinstance(value, bool) else f"“{f.label}”须为是/否"
    if t == "enum":
        if isinstance(value, str) and value in choices:
            return None
        allowed = "、".join(f"{k}（{v}）" for k, v in choices.items())
        return f"“{f.label}”的取值无效，可选：{allowed}"
    if t == "date":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"“{f.label}”须为日期 YYYY-MM-DD"
        return None
    if type(value) is int:  # the common number: the checks below that concern Decimals do not apply
        if value > _MAX_INT or value < -_MAX_INT:
            return f"“{f.label}”数值过大"
    else:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return f"“{f.label}”须为数字"
        if isinstance(value, Decimal) and not value.is_finite():
            return f"“{f.label}”须为有限数字"
        if abs(value) > MAX_AMOUNT:
            return f"“{f.label}”数值过大"
        if t == "count" and not isinstance(value, int):
            return f"“{f.label}”须为整数"
        if t == "money" and isinstance(value, Decimal) and value != value.quantize(_CENT):
            return f"“{f.label}”最多保留两位小数（元、角、分）"
    if value < 0:
        return f"“{f.label}”不得为负数"
    if f_min is not None and value < f_min:
        return f"“{f.label}”不得小于{f_min}"
    if f_max is not None and value > f_max:
        return f"“{f.label}”不得大于{f_max}"
    return None


def _facts_for_matching(rs: RuleSet, case: Case, checks: _Checks | None = None) -> dict[str, Any]:
    """Validate the case's facts and circumstances against the ruleset; build the engine fact."""
    fact: dict[str, Any] = rs.false_bools.copy()
    if checks is None:
        checks = fact_checks(rs)
    for name, value in case.facts.items():
        c = checks.get(name)
        if c is None:
            raise InputError(message=f"该违法行为没有事实项“{name}”", code="unknown_fact", field=f"facts.{name}")
        if value is None:
            continue
        problem = fact_problem(c, value)
        if problem is not None:
            raise InputError(message=problem, code="invalid_fact", field=f"facts.{name}")
        fact[name] = value
    circumstances = case.circumstances
    if circumstances:
        known = rs.known_circumstances
        for i, circ in enumerate(circumstances):
            if circ not in known:
                label = rs.not_applicable.get(circ)
                message = f"未知的情节：{circ}" if label is None else f"情节“{label}”不适用于该类违法行为"
                raise InputError(message=message, code="unknown_circumstance", field=f"circumstances[{i}]")
            fact[circ] = True
    return fact


def _assess(engine: Engine, case: Case) -> Assessment:
    rs, matcher = engine.rulebooks, engine.matcher
    code = case.violation
    if code not in rs.violations:
        raise InputError(message=f"未知的违法行为代码：{code}", code="unknown_violation", field="violation")
    violation_date, end_date, decision_date = case.violation_date, case.violation_end_date, case.decision_date
    discovered_date = case.discovered_date
    _check(violation_date, end_date, decision_date, discovered_date)
    law = rs.law
    act_date = end_date or violation_date  # a continuing act is judged by the law in force when it ended
    r_act = engine._regime_on(act_date)
    r_decision = engine._regime_on(decision_date)
    if r_act is None or r_decision is None:
        first = min(r.effective_from for r in law.regimes)
        raise InputError(
            message=f"日期早于本系统收录的法律（{first.isoformat()} 起）",
            code="date_out_of_range",
            field="violation_date" if r_act is None else "decision_date",
        )
    le, edition_notes = engine.edition(case.jurisdiction, decision_date, case.edition)
    unit = engine._unit(code, le)
    ruleset = unit.ruleset
    base_fact = _facts_for_matching(ruleset, case, unit.checks)
    counts = _counts(engine._groups, case.circumstances)
    base_fact.update(counts)
    base_fact["violation"] = code
    base_fact["party"] = case.party

    steps: list[Step] = []
    regimes = [r_act] if r_act == r_decision else [r_act, r_decision]
    act = _iso(act_date)
    how = "终了" if end_date else "发生"
    why = (
        f"违法行为{how}于{act}，适用{REGIME_LABELS[r_act]}"
        if len(regimes) == 1
        else f"违法行为{how}于{act}（适用{REGIME_LABELS[r_act]}），"
        f"决定于{_iso(decision_date)}（{REGIME_LABELS[r_decision]}已施行），依从旧兼从轻原则比较两者"
    )
    steps.append(make_step("regime", why, "regime", engine._regime_step_basis(tuple(regimes)), None, {"regimes": regimes, "act_date": act}))
    steps.append(engine._edition_step(le, r_decision, edition_notes))

    plans = [unit.plan(regime) for regime in regimes]
    facts = case.facts
    for plan in plans:
        for name in plan.requires:
            if facts.get(name) is None:
                f = ruleset.facts[name]
                raise InputError(
                    message=f"缺少必填事实“{f.label}”（{REGIME_LABELS[plan.regime]}下计算罚款需要）",
                    code="missing_fact",
                    field=f"facts.{name}",
                )
    results: list[RegimeResult] = []
    # the limitation's dates: when the act ended, whether it continued, when it was discovered, and whether that was given
    dates = (act_date, how, discovered_date or decision_date, discovered_date is not None)
    for plan in plans:
        fact = base_fact if len(plans) == 1 else dict(base_fact)  # each matcher call gets its own fact
        fact["regime"] = plan.regime
        fired = set(matcher.match(plan.matching, fact))
        results.append(_evaluate(engine, plan, case, fired, counts, dates))

    lighter: dict[str, Any] | None = None
    if len(results) == 1:
        applied, compared = results[0], None
        steps.extend(applied.steps)
    else:
        old, new = results
        if new.severity() < old.severity():
            applied, compared = new, old
            reason = (
                f"{REGIME_LABELS[new.regime]}"
                + ("不认为该行为应予处罚" if new.not_punishable else "的处罚较轻")
                + f"，依从旧兼从轻原则适用{REGIME_LABELS[new.regime]}"
            )
        else:
            applied, compared = old, new
            reason = (
                f"{REGIME_LABELS[new.regime]}的处罚不轻于{REGIME_LABELS[old.regime]}，"
                f"适用违法行为发生时的{REGIME_LABELS[old.regime]}"
            )
        reason += f"（{_result_brief(old)}；{_result_brief(new)}）"
        cites, cite_set = engine._lighter_basis(r_act, r_decision)
        lighter = {
            "applied": applied.regime,
            "reason": reason,
            "basis": list(cites),
            "results": [old.summary(), new.summary()],
        }
        steps.extend(applied.steps)
        steps.append(
            make_step("lighter_law", reason, "lighter-law", cite_set, applied.regime, {"applied": applied.regime, "compared": compared.regime})
        )
    a = _object_new(Assessment)  # Assessment(case, outcome, applied, compared, lighter_law, rulebook, trail, title)
    a.case = case
    a.outcome = applied.outcome
    a.applied = applied
    a.compared = compared
    a.lighter_law = lighter
    a.rulebook = dict(unit.rulebook)
    a.trail = steps
    a.title = unit.violation.title
    a.reasoning = ""
    return a


def _result_brief(r: RegimeResult) -> str:
    label = REGIME_LABELS[r.regime]
    if r.outcome == "time_barred":
        return f"{label}：超过追责期限"
    if r.not_punishable:
        return f"{label}：无适用罚则"
    if r.outcome == "no_penalty":
        return f"{label}：不予处罚"
    if r.fine is None:
        return f"{label}：不罚款"
    mx = "不设上限" if r.fine.legal_max is None else yuan_text(r.fine.legal_max)
    return f"{label}：法定幅度{yuan_text(r.fine.legal_min)}至{mx}"


def _circumstance_counts(rs: RulebookSet, case: Case) -> dict[str, int]:
    return _counts({k: c.group for k, c in rs.circumstances.items()}, case.circumstances)


def _counts(groups: Mapping[str, str], circumstances: list[str]) -> dict[str, int]:
    """How many distinct mitigating and aggravating circumstances the case has."""
    mit = agg = 0
    for c in dict.fromkeys(circumstances) if len(circumstances) > 1 else circumstances:
        g = groups.get(c)
        if g == "mitigating":
            mit += 1
        elif g == "aggravating":
            agg += 1
    return {"mitigating_count": mit, "aggravating_count": agg}


def _q(q: Quoted) -> tuple[str, ...]:
    return (cite(q.ref),)


def _evaluate(
    engine: Engine, plan: _Plan, case: Case, fired: set[str], counts: dict[str, int], dates: tuple[dt.date, str, dt.date, bool]
) -> RegimeResult:
    regime = plan.regime
    gen = plan.gen
    out = _new_result(regime, "penalty")
    steps = out.steps

    # 2. limitation
    for rid, lim in plan.limitation:
        if rid is None or rid in fired:
            break
    else:
        lim = gen.limitation[-1]
    end, start, discovered, given = dates
    years = lim.years
    deadline = add_years(end, years)
    note = "" if given else "（未填写发现日期，按决定日期计算）"
    data = {"years": years, "deadline": _iso(deadline), "discovered": _iso(discovered)}
    if discovered > deadline:
        out.outcome = "time_barred"
        steps.append(
            make_step(
                "limitation",
                f"违法行为{start}于{_iso(end)}，{years}年内（至{data['deadline']}）未被发现，"
                f"于{data['discovered']}发现{note}，不再给予行政处罚",
                lim.id,
                plan.lim_basis[lim.id],
                regime,
                data,
            )
        )
        return out
    steps.append(
        make_step(
            "limitation",
            f"违法行为{start}于{_iso(end)}，于{data['discovered']}发现{note}，在{years}年追责期限内",
            lim.id,
            plan.lim_basis[lim.id],
            regime,
            data,
        )
    )

    provisions: list[_Prov] = []
    if plan.rules is not None:
        out.violated = list(plan.violated)
        provisions = [pp for pp, rid in zip(plan.provisions, plan.provision_ids) if rid is None or rid in fired]
    if not provisions:
        out.outcome = "no_penalty"
        out.not_punishable = True
        steps.append(plan.no_provision)
        return out

    # 3. exemption: statutory grounds, then the edition's list
    if not plan.exempt_ids.isdisjoint(fired):
        exempt = [(ground, step) for rid, ground, step in plan.exemptions if rid in fired]
        entries = [(entry, step) for rid, entry, step in plan.entries if rid in fired]
        if exempt or entries:
            out.outcome = "no_penalty"
            for ground, step in exempt:
                out.exemption = out.exemption or ground.id
                steps.append(step)
            for entry, step in entries:
                out.exemption = out.exemption or entry.id
                steps.append(step)
            steps.append(plan.education)
            out.measures = [
                {"id": "education", "text": "对当事人进行教育", "basis": [plan.education_cite]},
                {"id": "order_correction", "text": "责令改正违法行为", "basis": [plan.correction_cite]},
            ]
            out.basis = [exempt[0][0].basis.ref] if exempt else [q.ref for q in entries[0][0].basis]
            return out

    # 4. statutory range: each applicable provision, its escalations, then concurrence
    facts = case.facts
    range_of = engine._range
    evaluated: list[tuple[_Prov, Range | None, list[_Esc], list[IndividualFine]]] = []
    for pp in provisions:
        p = pp.p
        escs = [xp for xp in pp.escs if xp.id in fired]
        fine_spec = p.fine
        chosen_esc = None
        if escs:
            for xp in escs:
                x = xp.x
                if x.fine is not None and (
                    chosen_esc is None or _max_of(range_of(x.fine, facts)) > _max_of(range_of(chosen_esc.fine, facts))  # type: ignore[arg-type]
                ):
                    chosen_esc = x
            if chosen_esc is not None:
                fine_spec = chosen_esc.fine
        rng = range_of(fine_spec, facts) if fine_spec is not None else None
        inds = p.individual_fines
        for xp in escs:
            if xp.x.individual_fines is not None:
                inds = xp.x.individual_fines
        ind_ids = pp.ind_ids
        inds = [f for f in inds if f.when is None or ind_ids.get(id(f)) in fired]
        evaluated.append((pp, rng, escs, inds))
        got = pp.steps.get(id(fine_spec))
        if got is not None and got[0] is fine_spec:
            steps.append(got[1])
        else:
            step = Step(
                "provision",
                f"该行为适用{pp.cite}" + (f"，罚款幅度为{rng.text}" if rng is not None else "，该条未规定罚款"),
                rule=p.id,
                basis=pp.basis,
                regime=regime,
                data={"legal_min": rng.min if rng else None, "legal_max": rng.max if rng else None},
            )
            if fine_spec is None or type(fine_spec) is RangeFine or type(fine_spec) is UpToFine:
                pp.steps[id(fine_spec)] = (fine_spec, step)
            steps.append(step)
        for xp in escs:
            x = xp.x
            chosen = x.fine is not None and x is chosen_esc
            got_step = xp.steps.get(chosen)
            if got_step is None:
                got_step = Step(
                    "escalation",
                    f"{x.label}：" + (f"罚款幅度提高为{range_of(x.fine, facts).text}" if chosen else "依法加重")  # type: ignore[arg-type]
                    + ("" if not x.flags else "，" + "、".join(FLAG_LABELS[f.flag] for f in x.flags)),
                    rule=x.id,
                    basis=_q(x.basis or p.basis),
                    regime=regime,
                )
                if not chosen or type(x.fine) is RangeFine or type(x.fine) is UpToFine:
                    xp.steps[chosen] = got_step
            steps.append(got_step)
    if len(evaluated) == 1:
        with_fine = evaluated if evaluated[0][1] is not None else []
    else:
        with_fine = [t for t in evaluated if t[1] is not None]
    winner = None
    if with_fine:
        winner = with_fine[0] if len(with_fine) == 1 else max(with_fine, key=lambda t: (_max_of(t[1]), t[1].min))  # type: ignore[arg-type,union-attr]
        if len(with_fine) > 1:
            steps.append(
                Step(
                    "concurrence",
                    "同一违法行为违反多个法律规范，按照罚款数额高的规定处罚：适用"
                    + winner[0].cite
                    + "（"
                    + "；".join(f"{t[0].cite}：{t[1].text}" for t in with_fine)  # type: ignore[union-attr]
                    + "）",
                    rule=winner[0].p.id,
                    basis=_q(gen.concurrence),
                    regime=regime,
                    data={"applied": winner[0].p.id, "candidates": [t[0].p.id for t in with_fine]},
                )
            )
    # basis: every applicable provision and each fired escalation's own basis
    if len(evaluated) == 1 and not evaluated[0][2]:
        out.basis.append(evaluated[0][0].p.basis.ref)
    else:
        seen: set[str] = set()
        for pp, _, escs, _ in evaluated:
            for c, ref in [(pp.cite, pp.p.basis.ref)] + [xp.basis_ref for xp in escs if xp.basis_ref]:
                if c not in seen:
                    seen.add(c)
                    out.basis.append(ref)
    # measures and flags of every applicable norm (art. 29 concerns fines only)
    measures: dict[str, _Item] = {}
    flags: dict[str, _Item] = {}
    for pp, _, escs, _ in evaluated:
        for source in (pp, *escs):  # the provision, then its fired escalations
            for rid, mid, t in source.measures:
                if rid is None or rid in fired:
                    measures.setdefault(mid, t)
            for rid, fid, t in source.flags:
                if rid is None or rid in fired:
                    flags.setdefault(fid, t)

    if winner is None:
        out.measures = [_item_dict(t) for t in measures.values()]
        out.flags = [_item_dict(t) for t in flags.values()]
        real = [m for m in out.measures if m["id"] != "order_correction"]
        if not real:
            out.outcome = "no_penalty"
            steps.append(plan.no_fine)
        return out

    # 5-7. benchmark, adjustments, reduction, rounding
    p_win, rng, _, inds = winner
    assert rng is not None
    if plan.vb is None:
        steps.append(plan.no_factors)
    adj_pos, placed_steps = plan.placed(case, fired)
    steps.extend(placed_steps)
    rounding = plan.rounding
    assert rounding is not None
    red = plan.reduction
    reduced = _reduce(rng.min, red, rounding) if red is not None and "reduction" in fired else None
    if reduced is not None:
        assert red is not None
        rec, floor_amt = reduced
        band = (floor_amt, rng.min)
        out.reduced = True
        steps.append(
            Step(
                "reduction",
                f"符合减轻处罚条件（从轻、减轻情节{counts['mitigating_count']}项，从重情节{counts['aggravating_count']}项），"
                f"在法定最低罚款{yuan_text(rng.min)}以下减轻处罚，不低于法定最低额的{_pct(red.floor_ratio)}，建议{yuan_text(rec)}",
                rule="reduction",
                basis=_q(red.basis) + plan.edition_cite,
                regime=regime,
                data={"floor": floor_amt, "ratio": str(red.ratio), "modelled": red.modelled is not None},
            )
        )
    else:
        if red is not None and "reduction" in fired:
            steps.append(
                Step(
                    "reduction",
                    f"虽符合减轻处罚条件，但法定最低罚款为{yuan_text(rng.min)}，按本基准的减轻下限和取整规则没有减轻余地，在法定幅度内从轻处罚",
                    rule="reduction",
                    basis=_q(red.basis) + plan.edition_cite,
                    regime=regime,
                )
            )
        step_yuan, mode = plan.step_mode
        rec, band = _amount(rng, adj_pos, step_yuan, mode, plan.bands)
        steps.append(
            make_step(
                "rounding",
                f"推荐罚款 = 下限 + (上限 − 下限) × {_fmt(adj_pos)}，按{step_yuan}元取整为{yuan_text(rec)}；"
                f"所在档次为{yuan_text(band[0])}至{yuan_text(band[1])}",
                "rounding",
                plan.edition_cite,
                regime,
                {"position": str(adj_pos), "recommended": rec, "band": list(band)},
            )
        )
    out.fine = _new_fine(rng.min, rng.max, band, rec)
    out.fine_optional = bool(getattr(p_win.p.fine, "optional", False)) and not any(xp.x.fine for xp in winner[2])

    # individual fines (双罚): the same position inside their own range
    for f in inds:
        r = range_of(f.fine, facts)
        if r.max is None:
            amount: int | None = None
        elif out.reduced and (got_red := _reduce(r.min, red, rounding)) is not None:
            amount = got_red[0]
        else:
            amount = _amount(r, adj_pos, rounding.step, rounding.mode, 1)[0]
        out.individual_fines.append({"role": f.role, "legal_min": r.min, "legal_max": r.max, "recommended": amount})
        steps.append(
            Step(
                "individual_fine",
                f"对{f.role}处罚：幅度为{r.text}" + (f"，建议{yuan_text(amount)}" if amount is not None else ""),
                rule=p_win.p.id,
                basis=p_win.basis,
                regime=regime,
            )
        )

    # 7. flags from thresholds and measures
    th = plan.amounts
    assert th is not None
    hearing_unit, hearing_individual, collective_discussion, legal_review = th
    thresholds = plan.thresholds
    hearing_at = hearing_unit if case.party == "unit" else hearing_individual
    if not measures.keys().isdisjoint(_HEARING_MEASURES) or rec >= hearing_at:
        flags.setdefault("hearing_notice", thresholds["hearing_notice"])
    if rec >= collective_discussion or out.reduced or "government_approval_closure" in flags:
        flags.setdefault("collective_discussion", thresholds["collective_discussion"])
    # 行政处罚法 art. 58: a hearing merely offered is not "经过听证程序"; amount and major measures count
    if rec >= legal_review or not flags.keys().isdisjoint(_MAJOR_FLAGS) or "closure" in measures or "revoke_permit" in measures:
        flags.setdefault("legal_review", thresholds["legal_review"])
    out.measures = [_item_dict(t) for t in measures.values()]
    out.flags = [_item_dict(t) for t in flags.values()]
    for t in measures.values():
        steps.append(t[4])
    for t in flags.values():
        steps.append(t[4])
    return out


def _reduce(minimum: int, red: Any, rounding: Any) -> tuple[int, int] | None:
    """减轻 below a statutory minimum: (recommended, floor), or None where there is no room below the
    minimum (no minimum, or the rounding step leaves nothing between the floor and the minimum)."""
    if red is None or minimum <= 0:
        return None
    floor_amt = ceil_to(Decimal(minimum) * red.floor_ratio, rounding.step)  # the floor, rounded up to the step
    rec = max(round_to(Decimal(minimum) * red.ratio, rounding.step, rounding.mode), floor_amt)
    if rec >= minimum:
        return None
    return rec, floor_amt


def _max_of(r: Range) -> float:
    return math.inf if r.max is None else r.max


def _pct(d: Decimal) -> str:
    return f"{(d * 100).normalize():f}%"


def _fmt(d: Decimal) -> str:
    """A position for the trail: at most four decimals, no trailing zeros (0.14, 0.0467, 1)."""
    text = f"{d:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _factor_step(
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


def _adjustment_steps(
    e: BenchmarkEdition, statutory: dict[str, Any], labels: dict[str, str], regime: str
) -> list[tuple[Any, Decimal, Step]]:
    """Each adjustment of the edition with its signed share of the range and its trail step."""
    out = []
    for adj in e.adjustments or []:
        sign = 1 if adj.direction == "aggravate" else -1
        basis: tuple[str, ...] = ()
        if adj.basis is not None:
            basis = _q(adj.basis)
        elif adj.circumstance in statutory:
            basis = _q(statutory[adj.circumstance].basis)
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


def _amount(rng: Range, p: Decimal, step: int, mode: str, bands: int) -> tuple[int, tuple[int, int]]:
    lo = rng.min
    hi = rng.max if rng.max is not None else rng.min
    width = Decimal(hi - lo)
    # "处N元以下的罚款" has no statutory minimum, but a fine of 0 元 is no fine: the lowest amount
    # recommended is one rounding step (modelled; docs/rulebooks.md "Rounding")
    floor = min(step, hi) if lo == 0 else lo
    rec = round_to(lo + width * p, step, mode)
    rec = min(max(rec, floor), hi)
    g = min(bands - 1, int((p * bands).to_integral_value(rounding=ROUND_FLOOR)))
    key = (lo, hi, g, step, mode, bands)
    band = _BANDS.get(key)
    if band is None:  # a band depends on its number only: a few per range
        b0 = min(max(round_to(lo + width * g / bands, step, mode), floor), hi)
        b1 = min(max(round_to(lo + width * (g + 1) / bands, step, mode), floor), hi)
        band = (b0, b1)
        if len(_BANDS) >= 4096:
            _BANDS.clear()
        _BANDS[key] = band
    return rec, band


_BANDS: dict[tuple[int, int, int, int, str, int], tuple[int, int]] = {}

