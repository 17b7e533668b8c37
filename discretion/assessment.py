"""The assessment pipeline (design.md): regime and edition, limitation, exemption, statutory
range, benchmark, adjustments, rounding and flags, and the lighter-law comparison.

Pure functions over a loaded rulebook set; the rules engine only matches conditions.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

import orjson
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Iterable, Protocol

from . import benchmark
from .case import MAX_AMOUNT, Case
from .citation import as_dict, cite
from .compiler import Compiled, FactorInfo, RuleSet, compile_all
from .errors import InputError
from .models import (
    BenchmarkEdition,
    Escalation,
    Flag,
    IndividualFine,
    LawEdition,
    LegalRef,
    Measure,
    Provision,
    Quoted,
    RegimeGeneral,
)
from .money import Range, ceil_to, fine_range, round_to, yuan_text
from .rulebook import LoadedEdition, RulebookSet
from .reasoning import render
from .trail import REGIME_LABELS, Step

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

    def to_dict(self) -> dict[str, Any]:
        """The contract's result as plain data."""
        return self._payload([s.to_dict() for s in self.trail])

    def to_json(self, **extra: Any) -> bytes:
        """The contract's result as JSON (UTF-8), with ``extra`` keys first (e.g. the stored id)."""
        return orjson.dumps({**extra, **self._payload(self.trail)}, default=_step_dict, option=orjson.OPT_PASSTHROUGH_DATACLASS)

    def _payload(self, trail: list[Any]) -> dict[str, Any]:
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
                "basis": [as_dict(r) for r in a.basis],
                "violated": [as_dict(r) for r in a.violated],
                "lighter_law": self.lighter_law,
            },
            "rulebook": self.rulebook,
            "trail": trail,
            "reasoning": self.reasoning,
        }


def _step_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Step):
        return obj.to_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def edition_citation(e: BenchmarkEdition) -> str:
    """《云南省…（2023年版）》, with a mark when the edition's figures are modelled."""
    return _edition_citation(e.title)


@lru_cache(maxsize=256)
def _edition_citation(title: str) -> str:
    modelled = title.endswith("（建模）")
    if modelled:
        title = title[: -len("（建模）")]
    return f"《{title}》" + ("（建模）" if modelled else "")


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

    def edition(self, jurisdiction: str, on: dt.date, requested: str | None) -> tuple[LoadedEdition, list[str]]:
        """The edition in force (memoised: the rulebook set never changes under an engine)."""
        key = (jurisdiction, on, requested)
        got = self._editions.get(key)
        if got is None:
            got = benchmark.in_force(self.rulebooks.editions, jurisdiction, on, requested)
            if len(self._editions) > 10_000:
                self._editions.clear()
            self._editions[key] = got
        return got

    def assess(self, case: Case) -> Assessment:
        result = _assess(self, case)
        result.reasoning = render(result)
        return result


def make_matcher(kind: str) -> Matcher:
    if kind == "durable":
        from ._durable import DurableMatcher

        return DurableMatcher()
    if kind == "reference":
        from .reference import ReferenceMatcher

        return ReferenceMatcher()
    raise ValueError(f"unknown matcher {kind!r}")


def _check_dates(case: Case) -> None:
    if case.violation_end_date and case.violation_end_date < case.violation_date:
        raise InputError(message="违法行为终了日期早于发生日期", code="invalid_date", field="violation_end_date")
    if case.decision_date < case.violation_date:
        raise InputError(message="决定日期早于违法行为发生日期", code="invalid_date", field="decision_date")
    if case.violation_end_date and case.decision_date < case.violation_end_date:
        raise InputError(message="决定日期早于违法行为终了日期", code="invalid_date", field="decision_date")
    if case.discovered_date:
        if case.discovered_date < case.violation_date:
            raise InputError(message="发现日期早于违法行为发生日期", code="invalid_date", field="discovered_date")
        if case.discovered_date > case.decision_date:
            raise InputError(message="发现日期晚于决定日期", code="invalid_date", field="discovered_date")


def _facts_for_matching(rs: RuleSet, case: Case) -> dict[str, Any]:
    """Validate the case's facts and circumstances against the ruleset; build the engine fact."""
    fact: dict[str, Any] = rs.false_bools.copy()
    for name, value in case.facts.items():
        f = rs.facts.get(name)
        path = f"facts.{name}"
        if f is None:
            raise InputError(message=f"该违法行为没有事实项“{name}”", code="unknown_fact", field=path)
        if value is None:
            continue
        if f.type == "bool":
            if not isinstance(value, bool):
                raise InputError(message=f"“{f.label}”须为是/否", code="invalid_fact", field=path)
        elif f.type == "enum":
            if not isinstance(value, str) or value not in (f.choices or {}):
                allowed = "、".join(f"{k}（{v}）" for k, v in (f.choices or {}).items())
                raise InputError(message=f"“{f.label}”的取值无效，可选：{allowed}", code="invalid_fact", field=path)
        elif f.type == "date":
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                raise InputError(message=f"“{f.label}”须为日期 YYYY-MM-DD", code="invalid_fact", field=path) from None
        else:
            if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                raise InputError(message=f"“{f.label}”须为数字", code="invalid_fact", field=path)
            if isinstance(value, Decimal) and not value.is_finite():
                raise InputError(message=f"“{f.label}”须为有限数字", code="invalid_fact", field=path)
            if abs(value) > MAX_AMOUNT:
                raise InputError(message=f"“{f.label}”数值过大", code="invalid_fact", field=path)
            if f.type == "count" and not isinstance(value, int):
                raise InputError(message=f"“{f.label}”须为整数", code="invalid_fact", field=path)
            if f.type == "money" and isinstance(value, Decimal) and value != value.quantize(Decimal("0.01")):
                raise InputError(message=f"“{f.label}”最多保留两位小数（元、角、分）", code="invalid_fact", field=path)
            if value < 0:
                raise InputError(message=f"“{f.label}”不得为负数", code="invalid_fact", field=path)
            if f.min is not None and value < f.min:
                raise InputError(message=f"“{f.label}”不得小于{f.min}", code="invalid_fact", field=path)
            if f.max is not None and value > f.max:
                raise InputError(message=f"“{f.label}”不得大于{f.max}", code="invalid_fact", field=path)
            if value > MAX_AMOUNT:
                raise InputError(message=f"“{f.label}”数值过大", code="invalid_fact", field=path)
        fact[name] = value
    known = set(rs.circumstances)
    for i, c in enumerate(case.circumstances):
        if c not in known:
            raise InputError(message=f"未知的情节：{c}", code="unknown_circumstance", field=f"circumstances[{i}]")
        fact[c] = True
    return fact


def _assess(engine: Engine, case: Case) -> Assessment:
    rs, compiled, matcher = engine.rulebooks, engine.compiled, engine.matcher
    if case.violation not in rs.violations:
        raise InputError(message=f"未知的违法行为代码：{case.violation}", code="unknown_violation", field="violation")
    _check_dates(case)
    law = rs.law
    lv = rs.violations[case.violation]
    v = lv.model
    act_date = case.end_date  # a continuing act is judged by the law in force when it ended
    r_act = regime_on(law, act_date)
    r_decision = regime_on(law, case.decision_date)
    if r_act is None or r_decision is None:
        first = min(r.effective_from for r in law.regimes)
        raise InputError(
            message=f"日期早于本系统收录的法律（{first.isoformat()} 起）",
            code="date_out_of_range",
            field="violation_date" if r_act is None else "decision_date",
        )
    le, edition_notes = engine.edition(case.jurisdiction, case.decision_date, case.edition)
    ruleset = compiled.get(case.violation, le.key)
    base_fact = _facts_for_matching(ruleset, case)
    counts = _circumstance_counts(rs, case)
    base_fact.update(counts)
    base_fact["violation"] = case.violation
    base_fact["party"] = case.party

    steps: list[Step] = []
    regimes = [r_act] if r_act == r_decision else [r_act, r_decision]
    why = (
        f"违法行为{'终了' if case.violation_end_date else '发生'}于{act_date.isoformat()}，适用{REGIME_LABELS[r_act]}"
        if len(regimes) == 1
        else f"违法行为{'终了' if case.violation_end_date else '发生'}于{act_date.isoformat()}（适用{REGIME_LABELS[r_act]}），"
        f"决定于{case.decision_date.isoformat()}（{REGIME_LABELS[r_decision]}已施行），依从旧兼从轻原则比较两者"
    )
    steps.append(
        Step(
            "regime",
            why,
            rule="regime",
            basis=tuple(dict.fromkeys(cite(law.general[r].lighter_law.ref) for r in regimes)),  # type: ignore[index]
            data={"regimes": regimes, "act_date": act_date.isoformat()},
        )
    )
    e = le.effective
    steps.append(
        Step(
            "edition",
            f"适用裁量基准：{e.title}（{le.key}，{'已发布' if e.status == 'published' else '未发布：' + e.status}）"
            + "".join(f"；{n}" for n in edition_notes),
            rule=le.key,
            basis=(cite(law.general[r_decision].benchmark.ref), edition_citation(e)),  # type: ignore[index]
            data={"edition": le.key, "sha256": le.sha256},
        )
    )

    results: list[RegimeResult] = []
    for regime in regimes:
        rules = v.regimes.get(regime)  # type: ignore[call-overload]
        if rules is not None:
            for name in rules.requires:
                if case.facts.get(name) is None:
                    f = ruleset.facts[name]
                    raise InputError(
                        message=f"缺少必填事实“{f.label}”（{REGIME_LABELS[regime]}下计算罚款需要）",
                        code="missing_fact",
                        field=f"facts.{name}",
                    )
    for regime in regimes:
        fact = dict(base_fact)
        fact["regime"] = regime
        fired = set(matcher.match(compiled.get(case.violation, le.key, regime), fact))
        results.append(_evaluate(rs, ruleset, le, case, regime, fired, counts, engine.labels, engine.statutory[regime]))

    lighter: dict[str, Any] | None = None
    if len(results) == 1:
        applied, compared = results[0], None
    else:
        old, new = results
        lighter_basis = [law.general[r_act].lighter_law, law.general[r_decision].lighter_law]
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
        lighter = {
            "applied": applied.regime,
            "reason": reason,
            "basis": [cite(q.ref) for q in lighter_basis],
            "results": [old.summary(), new.summary()],
        }
        steps.extend(applied.steps)
        steps.append(
            Step(
                "lighter_law",
                reason,
                rule="lighter-law",
                basis=tuple(dict.fromkeys(cite(q.ref) for q in lighter_basis)),
                regime=applied.regime,
                data={"applied": applied.regime, "compared": compared.regime},
            )
        )
    if compared is None:
        steps.extend(applied.steps)
    return Assessment(
        case=case,
        outcome=applied.outcome,
        applied=applied,
        compared=compared,
        lighter_law=lighter,
        rulebook={
            "id": le.model.id,
            "edition": le.model.edition,
            "key": le.key,
            "title": e.title,
            "citation": edition_citation(e),
            "status": e.status,
            "sha256": le.sha256,
            "law_edition": law.edition,
            "law_sha256": rs.sha256,
        },
        trail=steps,
        title=v.title,
    )


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
    mit = agg = 0
    for c in dict.fromkeys(case.circumstances):
        d = rs.circumstances.get(c)
        if d is None:
            continue
        if d.group == "mitigating":
            mit += 1
        elif d.group == "aggravating":
            agg += 1
    return {"mitigating_count": mit, "aggravating_count": agg}


def _q(q: Quoted) -> tuple[str, ...]:
    return (cite(q.ref),)


def _evaluate(
    rs: RulebookSet,
    ruleset: RuleSet,
    le: LoadedEdition,
    case: Case,
    regime: str,
    fired: set[str],
    counts: dict[str, int],
    labels: dict[str, str],
    statutory: dict[str, Any],
) -> RegimeResult:
    law = rs.law
    gen: RegimeGeneral = law.general[regime]  # type: ignore[index]
    v = ruleset.violation
    out = RegimeResult(regime=regime, outcome="penalty")
    steps = out.steps

    # 2. limitation
    lim = next(
        (x for x in gen.limitation if x.when is None or f"{regime}/limitation/{x.id}" in fired),
        gen.limitation[-1],
    )
    deadline = add_years(case.end_date, lim.years)
    discovered = case.discovered_date or case.decision_date
    note = "" if case.discovered_date else "（未填写发现日期，按决定日期计算）"
    start = "终了" if case.violation_end_date else "发生"
    if discovered > deadline:
        out.outcome = "time_barred"
        steps.append(
            Step(
                "limitation",
                f"违法行为{start}于{case.end_date.isoformat()}，{lim.years}年内（至{deadline.isoformat()}）未被发现，"
                f"于{discovered.isoformat()}发现{note}，不再给予行政处罚",
                rule=lim.id,
                basis=_q(lim.basis),
                regime=regime,
                data={"years": lim.years, "deadline": deadline.isoformat(), "discovered": discovered.isoformat()},
            )
        )
        return out
    steps.append(
        Step(
            "limitation",
            f"违法行为{start}于{case.end_date.isoformat()}，于{discovered.isoformat()}发现{note}，在{lim.years}年追责期限内",
            rule=lim.id,
            basis=_q(lim.basis),
            regime=regime,
            data={"years": lim.years, "deadline": deadline.isoformat(), "discovered": discovered.isoformat()},
        )
    )

    rules = v.regimes.get(regime)  # type: ignore[call-overload]
    provisions: list[Provision] = []
    if rules is not None:
        out.violated = [q.ref for q in rules.violated]
        provisions = [p for p in rules.provisions if p.when is None or f"{regime}/{p.id}" in fired]
    if not provisions:
        out.outcome = "no_penalty"
        out.not_punishable = True
        steps.append(
            Step(
                "provision",
                f"{REGIME_LABELS[regime]}对该行为（依所填事实）没有规定罚则，不认为是应予处罚的违法行为",
                rule=None,
                basis=_q(gen.legality),
                regime=regime,
            )
        )
        return out

    # 3. exemption: statutory grounds, then the edition's list
    e = le.effective
    kinds = {ruleset.by_id[r].kind for r in fired if r in ruleset.by_id}
    exempt = [x for x in gen.exemptions if f"{regime}/exemption/{x.id}" in fired] if "exemption" in kinds else []
    entries = (
        [x for x in e.exemptions or [] if f"edition-exemption/{x.id}" in fired] if "edition_exemption" in kinds else []
    )
    if exempt or entries:
        out.outcome = "no_penalty"
        for x in exempt:
            out.exemption = out.exemption or x.id
            steps.append(
                Step(
                    "exemption",
                    f"{x.label}，{'不予处罚' if x.mandatory else '可以不予处罚'}",
                    rule=x.id,
                    basis=_q(x.basis),
                    regime=regime,
                    data={"mandatory": x.mandatory},
                )
            )
        for entry in entries:
            out.exemption = out.exemption or entry.id
            kind = "轻微不罚" if entry.kind == "minor" else "首违不罚"
            steps.append(
                Step(
                    "exemption",
                    f"符合{e.title}免罚清单（{kind}）：{entry.label}",
                    rule=entry.id,
                    basis=tuple(cite(q.ref) for q in entry.basis) + (edition_citation(e),),
                    regime=regime,
                    data={"kind": entry.kind, "modelled": entry.modelled is not None},
                )
            )
        steps.append(Step("measure", "依法对当事人进行教育，并责令改正违法行为", rule="education", basis=_q(gen.education) + _q(gen.correction), regime=regime))
        out.measures = [
            {"id": "education", "text": "对当事人进行教育", "basis": list(_q(gen.education))},
            {"id": "order_correction", "text": "责令改正违法行为", "basis": list(_q(gen.correction))},
        ]
        out.basis = [q.ref for q in (exempt and [exempt[0].basis] or entries[0].basis)]
        return out

    # 4. statutory range: each applicable provision, its escalations, then concurrence
    facts = case.facts
    evaluated: list[tuple[Provision, Range | None, list[Escalation], list[IndividualFine]]] = []
    for p in provisions:
        pid = f"{regime}/{p.id}"
        escs = [x for x in p.escalations if f"{pid}/{x.id}" in fired]
        fine_spec = p.fine
        chosen_esc = None
        for x in escs:
            if x.fine is not None:
                if chosen_esc is None or _max_of(fine_range(x.fine, facts)) > _max_of(fine_range(chosen_esc.fine, facts)):  # type: ignore[arg-type]
                    chosen_esc = x
        if chosen_esc is not None:
            fine_spec = chosen_esc.fine
        rng = fine_range(fine_spec, facts) if fine_spec is not None else None
        inds = list(p.individual_fines)
        for x in escs:
            if x.individual_fines is not None:
                inds = list(x.individual_fines)
        inds = [f for f in inds if f.when is None or _ind_fired(fired, pid, p, escs, f)]
        evaluated.append((p, rng, escs, inds))
        steps.append(
            Step(
                "provision",
                f"该行为适用{cite(p.basis.ref)}"
                + (f"，罚款幅度为{rng.text}" if rng is not None else "，该条未规定罚款"),
                rule=p.id,
                basis=_q(p.basis),
                regime=regime,
                data={"legal_min": rng.min if rng else None, "legal_max": rng.max if rng else None},
            )
        )
        for x in escs:
            b = x.basis or p.basis
            steps.append(
                Step(
                    "escalation",
                    f"{x.label}：" + (f"罚款幅度提高为{fine_range(x.fine, facts).text}" if x.fine is not None and x is chosen_esc else "依法加重")
                    + ("" if not x.flags else "，" + "、".join(FLAG_LABELS[f.flag] for f in x.flags)),
                    rule=x.id,
                    basis=_q(b),
                    regime=regime,
                )
            )
    with_fine = [t for t in evaluated if t[1] is not None]
    winner = None
    if with_fine:
        winner = max(with_fine, key=lambda t: (_max_of(t[1]), t[1].min))  # type: ignore[arg-type]
        if len(with_fine) > 1:
            steps.append(
                Step(
                    "concurrence",
                    "同一违法行为违反多个法律规范，按照罚款数额高的规定处罚：适用"
                    + cite(winner[0].basis.ref)
                    + "（"
                    + "；".join(f"{cite(t[0].basis.ref)}：{t[1].text}" for t in with_fine)  # type: ignore[union-attr]
                    + "）",
                    rule=winner[0].id,
                    basis=_q(gen.concurrence),
                    regime=regime,
                    data={"applied": winner[0].id, "candidates": [t[0].id for t in with_fine]},
                )
            )
    # basis: every applicable provision and each fired escalation's own basis
    seen: set[str] = set()
    for p, _, escs, _ in evaluated:
        for ref in [p.basis.ref] + [x.basis.ref for x in escs if x.basis]:
            c = cite(ref)
            if c not in seen:
                seen.add(c)
                out.basis.append(ref)
    # measures and flags of every applicable norm (art. 29 concerns fines only)
    measures: dict[str, dict[str, Any]] = {}
    flags: dict[str, dict[str, Any]] = {}
    for p, _, escs, _ in evaluated:
        pid = f"{regime}/{p.id}"
        for k, m in enumerate(p.measures):
            if m.when is None or f"{pid}/measure/{k}" in fired:
                measures.setdefault(m.id, _measure(m, p.basis))
        for k, fl in enumerate(p.flags):
            if fl.when is None or f"{pid}/flag/{k}" in fired:
                flags.setdefault(fl.flag, _flag(fl))
        for x in escs:
            eid = f"{pid}/{x.id}"
            for k, m in enumerate(x.measures):
                if m.when is None or f"{eid}/measure/{k}" in fired:
                    measures.setdefault(m.id, _measure(m, x.basis or p.basis))
            for k, fl in enumerate(x.flags):
                if fl.when is None or f"{eid}/flag/{k}" in fired:
                    flags.setdefault(fl.flag, _flag(fl))

    if winner is None:
        out.measures = list(measures.values())
        out.flags = list(flags.values())
        real = [m for m in out.measures if m["id"] != "order_correction"]
        if not real:
            out.outcome = "no_penalty"
            steps.append(
                Step(
                    "range",
                    "所适用的规定对该情形不处罚款，仅责令改正（责令改正不属于行政处罚）",
                    regime=regime,
                    basis=_q(gen.correction),
                )
            )
        return out

    # 5-7. benchmark, adjustments, reduction, rounding
    p_win, rng, _, inds = winner
    assert rng is not None
    vb = e.violations.get(v.code)
    if vb is None:
        steps.append(
            Step(
                "factor",
                f"{e.title}未对该违法行为规定个性裁量因子，按共性因子确定罚款位置",
                basis=(edition_citation(e),),
                regime=regime,
            )
        )
    position, pos_steps = _position(ruleset, e, fired, regime)
    steps.extend(pos_steps)
    adj_pos, adj_steps = _adjust(e, statutory, labels, case, position, regime)
    steps.extend(adj_steps)
    rounding = e.rounding
    assert rounding is not None
    reduced = _reduce(rng.min, e.reduction, rounding) if e.reduction is not None and "reduction" in fired else None
    if reduced is not None:
        red = e.reduction
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
                basis=_q(red.basis) + (edition_citation(e),),
                regime=regime,
                data={"floor": floor_amt, "ratio": str(red.ratio), "modelled": red.modelled is not None},
            )
        )
    else:
        if e.reduction is not None and "reduction" in fired:
            steps.append(
                Step(
                    "reduction",
                    f"虽符合减轻处罚条件，但法定最低罚款为{yuan_text(rng.min)}，按本基准的减轻下限和取整规则没有减轻余地，在法定幅度内从轻处罚",
                    rule="reduction",
                    basis=_q(e.reduction.basis) + (edition_citation(e),),
                    regime=regime,
                )
            )
        rec, band = _amount(rng, adj_pos, rounding.step, rounding.mode, e.formula.bands if e.formula else 5)
        steps.append(
            Step(
                "rounding",
                f"推荐罚款 = 下限 + (上限 − 下限) × {_fmt(adj_pos)}，按{rounding.step}元取整为{yuan_text(rec)}；"
                f"所在档次为{yuan_text(band[0])}至{yuan_text(band[1])}",
                rule="rounding",
                basis=(edition_citation(e),),
                regime=regime,
                data={"position": str(adj_pos), "recommended": rec, "band": list(band)},
            )
        )
    out.fine = FineResult(legal_min=rng.min, legal_max=rng.max, band=band, recommended=rec)

    # individual fines (双罚): the same position inside their own range
    for f in inds:
        r = fine_range(f.fine, facts)
        if r.max is None:
            amount: int | None = None
        elif out.reduced and (got := _reduce(r.min, e.reduction, rounding)) is not None:
            amount = got[0]
        else:
            amount = _amount(r, adj_pos, rounding.step, rounding.mode, 1)[0]
        out.individual_fines.append({"role": f.role, "legal_min": r.min, "legal_max": r.max, "recommended": amount})
        steps.append(
            Step(
                "individual_fine",
                f"对{f.role}处罚：幅度为{r.text}" + (f"，建议{yuan_text(amount)}" if amount is not None else ""),
                rule=p_win.id,
                basis=_q(p_win.basis),
                regime=regime,
            )
        )

    # 7. flags from thresholds and measures
    th = e.thresholds
    assert th is not None

    def threshold_flag(flag: str, article: int) -> None:
        cites = [cite(q.ref) for q in th.basis if q.ref.article == article] or [cite(q.ref) for q in th.basis]
        flags.setdefault(flag, {"id": flag, "label": FLAG_LABELS[flag], "basis": cites})

    hearing_at = th.hearing_unit if case.party == "unit" else th.hearing_individual
    if any(m in measures for m in _HEARING_MEASURES) or rec >= hearing_at:
        threshold_flag("hearing_notice", 63)
    if rec >= th.collective_discussion or out.reduced or "government_approval_closure" in flags:
        threshold_flag("collective_discussion", 57)
    # 行政处罚法 art. 58: a hearing merely offered is not "经过听证程序"; amount and major measures count
    if rec >= th.legal_review or any(f in flags for f in _MAJOR_FLAGS) or any(m in measures for m in ("closure", "revoke_permit")):
        threshold_flag("legal_review", 58)
    out.measures = list(measures.values())
    out.flags = list(flags.values())
    for m in out.measures:
        steps.append(Step("measure", m["text"], rule=m["id"], basis=tuple(m["basis"]), regime=regime))
    for fl in out.flags:
        steps.append(Step("flag", fl["label"], rule=fl["id"], basis=tuple(fl["basis"]), regime=regime))
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


def _ind_fired(fired: set[str], pid: str, p: Provision, escs: list[Escalation], f: IndividualFine) -> bool:
    for k, g in enumerate(p.individual_fines):
        if g is f:
            return f"{pid}/individual/{k}" in fired
    for x in escs:
        for k, g in enumerate(x.individual_fines or []):
            if g is f:
                return f"{pid}/{x.id}/individual/{k}" in fired
    return False


def _max_of(r: Range) -> float:
    return math.inf if r.max is None else r.max


def _measure(m: Measure, basis: Quoted) -> dict[str, Any]:
    return {"id": m.id, "text": m.text, "basis": [cite(basis.ref)]}


def _flag(fl: Flag) -> dict[str, Any]:
    return {"id": fl.flag, "label": FLAG_LABELS[fl.flag], "basis": [cite(fl.basis.ref)]}


def _pct(d: Decimal) -> str:
    return f"{(d * 100).normalize():f}%"


def _fmt(d: Decimal) -> str:
    """A position for the trail: at most four decimals, no trailing zeros (0.14, 0.0467, 1)."""
    text = f"{d:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _level(info: FactorInfo, fired: set[str]) -> tuple[int, str, bool]:
    """The level of one factor: the fired level (the highest if several), else the default, else the lowest."""
    best: tuple[int, str] | None = None
    for rid, level, label in info.matched:
        if rid in fired and (best is None or level > best[0]):
            best = (level, label)
    if best is not None:
        return best[0], best[1], True
    return info.default[0], info.default[1], False


def _score(infos: tuple[FactorInfo, ...], fired: set[str], regime: str, kind: str, cite_as: tuple[str, ...]) -> tuple[Decimal | None, list[Step]]:
    if not infos:
        return None, []
    total = Decimal(0)
    weights = Decimal(0)
    steps = []
    for info in infos:
        level, label, matched = _level(info, fired)
        weighted, step = _factor_step(info, level, label, matched, regime, kind, cite_as)
        total += weighted
        weights += info.factor.weight
        steps.append(step)
    return total / weights, steps


@lru_cache(maxsize=65536)
def _factor_step(
    info: FactorInfo, level: int, label: str, matched: bool, regime: str, kind: str, cite_as: tuple[str, ...]
) -> tuple[Decimal, Step]:
    """A factor's weighted score and its trail step: the same for every case at that level, so
    computed once (steps are immutable)."""
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


def _position(ruleset: RuleSet, e: BenchmarkEdition, fired: set[str], regime: str) -> tuple[Decimal, list[Step]]:
    vb = e.violations.get(ruleset.violation.code)
    cite_as = (edition_citation(e),)
    p_ind, steps = _score(ruleset.factors, fired, regime, "个性", cite_as)
    p_com, steps2 = _score(ruleset.common, fired, regime, "共性", cite_as)
    steps += steps2
    assert e.formula is not None
    a = e.formula.individual_weight
    if p_ind is None and p_com is None:
        p = Decimal(0)
        how = "无裁量因子，取幅度下限"
    elif p_ind is None:
        p = p_com  # type: ignore[assignment]
        how = f"无个性因子，位置 = 共性得分 {_fmt(p)}"
    elif p_com is None:
        p = p_ind
        how = f"位置 = 个性得分 {_fmt(p)}"
    else:
        p = a * p_ind + (_ONE - a) * p_com
        how = f"位置 = {_fmt(a)} × 个性得分 {_fmt(p_ind)} + {_fmt(_ONE - a)} × 共性得分 {_fmt(p_com)} = {_fmt(p)}"
    lo = vb.min_position if vb and vb.min_position is not None else Decimal(0)
    hi = vb.max_position if vb and vb.max_position is not None else _ONE
    if lo != 0 or hi != _ONE:
        p2 = lo + p * (hi - lo)
        how += f"；按本基准对该行为的位置区间[{_fmt(lo)}, {_fmt(hi)}]换算为 {_fmt(p2)}"
        p = p2
    steps.append(Step("position", how, rule="formula", basis=cite_as, regime=regime, data={"position": str(p), "modelled": e.formula.modelled is not None}))
    return p, steps


def _adjust(
    e: BenchmarkEdition, statutory: dict[str, Any], labels: dict[str, str], case: Case, p: Decimal, regime: str
) -> tuple[Decimal, list[Step]]:
    steps: list[Step] = []
    present = set(case.circumstances)
    if not present:
        return p, steps
    delta = Decimal(0)
    for adj in e.adjustments or []:
        if adj.circumstance not in present:
            continue
        sign = 1 if adj.direction == "aggravate" else -1
        delta += sign * adj.points / _HUNDRED
        basis: tuple[str, ...] = ()
        if adj.basis is not None:
            basis = _q(adj.basis)
        elif adj.circumstance in statutory:
            basis = _q(statutory[adj.circumstance].basis)
        basis += (edition_citation(e),)
        word = "从重" if sign > 0 else "从轻"
        steps.append(
            Step(
                "adjustment",
                f"{word}：{labels.get(adj.circumstance, adj.circumstance)}，位置{'上调' if sign > 0 else '下调'}{adj.points.normalize():f}个百分点",
                rule=adj.id,
                basis=basis,
                regime=regime,
                data={"direction": adj.direction, "points": str(adj.points), "modelled": adj.modelled is not None},
            )
        )
    if not steps:
        return p, []
    q = min(max(p + delta, Decimal(0)), _ONE)
    steps.append(
        Step(
            "adjustment",
            f"调整后位置为 {_fmt(q)}（从重、从轻均不超出法定幅度）",
            rule="adjusted",
            basis=(edition_citation(e),),
            regime=regime,
            data={"position": str(q)},
        )
    )
    return q, steps


def _amount(rng: Range, p: Decimal, step: int, mode: str, bands: int) -> tuple[int, tuple[int, int]]:
    lo = rng.min
    hi = rng.max if rng.max is not None else rng.min
    width = Decimal(hi - lo)
    rec = round_to(lo + width * p, step, mode)
    rec = min(max(rec, lo), hi)
    g = min(bands - 1, int((p * bands).to_integral_value(rounding=ROUND_FLOOR)))
    b0 = min(max(round_to(lo + width * g / bands, step, mode), lo), hi)
    b1 = min(max(round_to(lo + width * (g + 1) / bands, step, mode), lo), hi)
    return rec, (b0, b1)

