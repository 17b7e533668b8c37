"""The stages of the assessment pipeline (design.md), in the order they run.

Each stage takes plain data (the case, the prepared :class:`~discretion.engine.prepared.Plan`, the
rule ids the matcher fired) and adds its own trail steps; :mod:`discretion.engine.assessment`
calls them in order. Per case:

1. :func:`regimes_and_edition` — the law regime(s) and the benchmark edition in force;
   :func:`matching_fact` and :func:`plans` — the case's facts checked and the fact the matcher is given.

Per regime (both, when the law changed between the act and the decision):

2. :func:`limitation` — 追责期限 (行政处罚法第三十六条; 法典第一千零五十四条);
3. :func:`applicable_provisions` and :func:`exemption` — a penalty provision at all, then 不予处罚;
4. :func:`statutory_range` — each provision and escalation, concurrence (罚款数额高的规定);
   :func:`measures_and_flags` — the measures and flags of every applicable norm;
5. :func:`factor_placement` — factor levels → position in the range;
6. :func:`adjustments` (从重、从轻, inside the range) and :func:`fine` (减轻 below the minimum, or
   rounding inside the range); :func:`individual_fines` (双罚);
7. :func:`procedural_flags` — 听证告知, 集体讨论, 法制审核.

Then, where both regimes ran:

8. :func:`lighter_law` — 从旧兼从轻 (行政处罚法第三十七条; 法典第一千零五十七条).

Then, on the applied result:

9. :func:`notices` — what took no effect, the factors left at their default level, an edition
   written for repealed laws (:mod:`discretion.engine.notices`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..errors import InputError
from ..rulebooks.models import Fine, IndividualFine, RangeFine, UpToFine
from .amounts import amount, fmt, max_of, pct, reduced
from .case import Case
from .dates import add_years, iso
from .inputs import check_dates, counts, facts_for_matching
from . import notices as _notices
from .money import Range, fitting_step, yuan_text
from .prepared import Esc, Item, Plan, Preparation, Prov, Unit, basis_of, item_dicts
from .results import FLAG_LABELS, FineResult, RegimeResult, new_fine
from .trail import REGIME_LABELS, Step, make_step

_HEARING_MEASURES = {"suspend_business", "closure", "revoke_permit", "ban"}
_MAJOR_FLAGS = ("government_approval_closure", "permit_revocation", "detention_referral")

# the limitation's dates: when the act ended, whether it ended or happened (终了/发生), when it was
# discovered (the decision date if not given), and whether the discovery date was given
Dates = tuple[dt.date, str, dt.date, bool]
# an applicable provision: the prepared provision, its range (None: no fine), its fired escalations
# and the individual fines that apply
Evaluated = tuple[Prov, Range | None, list[Esc], list[IndividualFine]]
RangeOf = Callable[[Fine, Mapping[str, Any]], Range]


# --- 1. regime and edition -----------------------------------------------------------------------


def regimes_and_edition(prep: Preparation, case: Case) -> tuple[Unit, list[str], list[Step], Dates]:
    """The regime in force when the act was committed (when it ended, for a continuing act) and on
    the decision day (both, to compare, when they differ), and the edition in force on the decision
    day: the violation type's prepared unit, the regimes, the two steps and the limitation's dates."""
    code = case.violation
    if code not in prep.rulebooks.violations:
        raise InputError(message=f"未知的违法行为代码：{code}", code="unknown_violation", field="violation")
    violation_date, end_date, decision_date = case.violation_date, case.violation_end_date, case.decision_date
    discovered_date = case.discovered_date
    check_dates(violation_date, end_date, decision_date, discovered_date)
    act_date = end_date or violation_date  # a continuing act is judged by the law in force when it ended
    r_act = prep.regime_of(act_date)
    r_decision = prep.regime_of(decision_date)
    if r_act is None or r_decision is None:
        first = min(r.effective_from for r in prep.rulebooks.law.regimes)
        raise InputError(
            message=f"日期早于本系统收录的法律（{first.isoformat()} 起）",
            code="date_out_of_range",
            field="violation_date" if r_act is None else "decision_date",
        )
    regimes = [r_act] if r_act == r_decision else [r_act, r_decision]
    not_encoded(prep, code, regimes)
    le, edition_notes = prep.edition(case.jurisdiction, decision_date, case.edition)
    unit = prep.unit(code, le)
    act = iso(act_date)
    how = "终了" if end_date else "发生"
    why = (
        f"违法行为{how}于{act}，适用{REGIME_LABELS[r_act]}"
        if len(regimes) == 1
        else f"违法行为{how}于{act}（适用{REGIME_LABELS[r_act]}），"
        f"决定于{iso(decision_date)}（{REGIME_LABELS[r_decision]}已施行），依从旧兼从轻原则比较两者"
    )
    steps = [
        make_step("regime", why, "regime", prep.regime_step_basis(tuple(regimes)), None, {"regimes": regimes, "act_date": act}),
        prep.edition_step(le, r_decision, edition_notes),
    ]
    return unit, regimes, steps, (act_date, how, discovered_date or decision_date, discovered_date is not None)


def not_encoded(prep: Preparation, code: str, regimes: list[str]) -> None:
    """Refuse (422 ``regime_not_encoded``, naming the law) a case whose act falls under a regime
    whose provision for the type exists in law but is not in this rulebook: never a guess, never a
    silent 不予处罚. A type not punishable before the Code has no rules there and is assessed (no
    penalty, 行政处罚法第四条、第三十七条)."""
    model = prep.rulebooks.violations[code].model
    before = model.before_code
    if before is None or before.status != "not_encoded":
        return
    for r in regimes:
        if r not in model.regimes:
            laws = "、".join(f"《{law}》" for law in before.laws)
            raise InputError(
                message=(
                    f"{REGIME_LABELS[r]}下处罚该行为的规定见{laws}，本规则集尚未收录其条文，无法计算；"
                    f"请依该规定人工裁量（{before.note}）"
                ),
                code="regime_not_encoded",
                field="violation_date",
            )


def matching_fact(prep: Preparation, unit: Unit, case: Case, steps: list[Step]) -> tuple[dict[str, Any], dict[str, int]]:
    """The case's facts and circumstances checked against the violation type's ruleset, as the fact
    the matcher is given (with the counts of mitigating and aggravating circumstances): the edition's
    facts that the law's decide are read from them (a step each), and inputs that deny each other
    are refused (:mod:`discretion.engine.consistency`)."""
    fact = facts_for_matching(unit.ruleset, case, unit.checks)
    read = unit.consistency.apply(case, fact)
    if read:
        steps.extend(read)
    n = counts(prep.groups, case.circumstances)
    fact.update(n)
    fact["violation"] = case.violation
    fact["party"] = case.party
    return fact, n


def statutory_counts(plan: Plan, circumstances: list[str], n: dict[str, int]) -> dict[str, int]:
    """The counts the matcher reads under ``plan``'s regime: ``mitigating_count`` counts only the
    regime's statutory 从轻、减轻 grounds (行政处罚法第三十二条), so that a circumstance the benchmark
    alone treats as mitigating (酌定) never takes the fine below the statutory minimum."""
    grounds = plan.grounds
    k = sum(1 for c in dict.fromkeys(circumstances) if c in grounds) if circumstances else 0
    return n if k == n["mitigating_count"] else {**n, "mitigating_count": k}


def plans(unit: Unit, regimes: list[str], case: Case) -> list[Plan]:
    """The prepared plan of each regime, once every fact it requires to compute the fine is given."""
    out = [unit.plan(regime) for regime in regimes]
    facts = case.facts
    for plan in out:
        for name in plan.requires:
            if facts.get(name) is None:
                f = unit.ruleset.facts[name]
                raise InputError(
                    message=f"缺少必填事实“{f.label}”（{REGIME_LABELS[plan.regime]}下计算罚款需要）",
                    code="missing_fact",
                    field=f"facts.{name}",
                )
    return out


# --- 2. limitation --------------------------------------------------------------------------------


def limitation(plan: Plan, fired: set[str], dates: Dates, out: RegimeResult) -> bool:
    """The first limitation rule that applies (the last one by default); True when the act was not
    discovered within it (``time_barred``)."""
    for rid, lim in plan.limitation:
        if rid is None or rid in fired:
            break
    else:
        lim = plan.gen.limitation[-1]
    end, start, discovered, given = dates
    years = lim.years
    deadline = add_years(end, years)
    note = "" if given else "（未填写发现日期，按决定日期计算）"
    data = {"years": years, "deadline": iso(deadline), "discovered": iso(discovered)}
    barred = discovered > deadline
    if barred:
        out.outcome = "time_barred"
        text = (
            f"违法行为{start}于{iso(end)}，{years}年内（至{data['deadline']}）未被发现，"
            f"于{data['discovered']}发现{note}，不再给予行政处罚"
        )
    else:
        text = f"违法行为{start}于{iso(end)}，于{data['discovered']}发现{note}，在{years}年追责期限内"
    out.steps.append(make_step("limitation", text, lim.id, plan.lim_basis[lim.id], out.regime, data))
    return barred


# --- 3. a penalty provision, then exemption -------------------------------------------------------


def applicable_provisions(plan: Plan, fired: set[str], out: RegimeResult) -> list[Prov]:
    """The regime's penalty provisions that apply to the facts; none: the act is not punishable
    under this regime (``no_penalty``, 行政处罚法第四条)."""
    provisions: list[Prov] = []
    if plan.rules is not None:
        if plan.selects_duties:
            out.violated = [ref for rid, ref in plan.duties if rid is None or rid in fired]
            if not out.violated:  # the facts do not say which act: every duty, and the reasoning says so
                out.violated = list(plan.violated)
                out.duties_unselected = True
        else:
            out.violated = list(plan.violated)
        provisions = [pp for pp, rid in zip(plan.provisions, plan.provision_ids) if rid is None or rid in fired]
    if not provisions:
        out.outcome = "no_penalty"
        out.not_punishable = True
        out.steps.append(plan.no_provision)
        if out.duties_unselected:  # no duty of this regime names the act the facts give: none is said breached
            out.violated, out.duties_unselected = [], False
    return provisions


def exemption(plan: Plan, provisions: list[Prov], fired: set[str], out: RegimeResult) -> bool:
    """The statutory grounds for 不予处罚, then the edition's list (轻微不罚、首违不罚); True when one
    applies (``no_penalty``, with 教育 and 责令改正: the applicable ``provisions``' own order to
    correct where they give one, else 行政处罚法第二十八条第一款)."""
    if plan.exempt_ids.isdisjoint(fired):
        return False
    exempt = [(ground, step) for rid, ground, step in plan.exemptions if rid in fired]
    entries = [(entry, step) for rid, entry, step in plan.entries if rid in fired]
    if not (exempt or entries):
        return False
    steps = out.steps
    out.outcome = "no_penalty"
    for ground, step in exempt:
        out.exemption = out.exemption or ground.id
        steps.append(step)
    for entry, step in entries:
        out.exemption = out.exemption or entry.id
        steps.append(step)
    own = tuple(dict.fromkeys(
        t[3][0] for pp in provisions for rid, key, t in pp.measures if key[0] == "order_correction" and (rid is None or rid in fired)
    ))
    step, out.measures = plan.unpunished(own)
    steps.append(step)
    # 首违不罚 only (“可以不予”, 行政处罚法第三十三条第一款; 法典第一千零五十六条第二款): a recommendation
    out.discretionary = all(not ground.mandatory for ground, _ in exempt) and all(entry.kind == "first_offense" for entry, _ in entries)
    out.basis = [exempt[0][0].basis.ref] if exempt else [q.ref for q in entries[0][0].basis]
    return True


def if_punished(plan: Plan, shadow: RegimeResult, out: RegimeResult) -> None:
    """首违不罚 is discretionary: the fine (and the individuals' fines) that apply if the bureau decides
    to punish after all, computed by the stages that follow the exemption (``shadow``), kept in the
    result beside the recommendation not to punish."""
    fine_ = shadow.fine
    out.fine_if_punished = fine_
    basis = tuple(dict.fromkeys(c for s in shadow.steps if s.step == "provision" for c in s.basis))
    cites = "、".join(basis)
    if fine_ is not None:
        mx = "不设上限" if fine_.legal_max is None else yuan_text(fine_.legal_max)
        text = f"决定给予行政处罚的，依据{cites}，罚款幅度为{yuan_text(fine_.legal_min)}至{mx}，建议罚款{yuan_text(fine_.recommended)}"
    else:
        text = f"决定给予行政处罚的，依据{cites}处理（该规定对此情形不处罚款）"
    for ind in shadow.individual_fines:
        if ind["recommended"] is not None:
            text += f"；对{ind['role']}建议罚款{yuan_text(ind['recommended'])}"
    data = {"fine_if_punished": fine_.to_dict() if fine_ is not None else None}
    out.steps.append(Step("exemption", text, rule="fine_if_punished", basis=basis, regime=plan.regime, data=data))


# --- 4. statutory range ---------------------------------------------------------------------------


def statutory_range(
    plan: Plan, provisions: list[Prov], facts: Mapping[str, Any], fired: set[str], range_of: RangeOf, out: RegimeResult
) -> tuple[list[Evaluated], Evaluated | None]:
    """Each applicable provision's range (raised by the highest fired escalation), then concurrence:
    the provision with the highest fine applies (行政处罚法第二十九条; 法典第一千零五十五条). Returns
    every evaluated provision and the one whose fine applies (None: no provision fines)."""
    steps = out.steps
    regime = plan.regime
    evaluated: list[Evaluated] = []
    for pp in provisions:
        p = pp.p
        escs = [xp for xp in pp.escs if xp.id in fired]
        fine_spec = p.fine
        chosen_esc = None
        if escs:
            for xp in escs:
                x = xp.x
                if x.fine is not None and (
                    chosen_esc is None or max_of(range_of(x.fine, facts)) > max_of(range_of(chosen_esc.fine, facts))  # type: ignore[arg-type]
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
                    f"{x.label}：" + ((f"罚款幅度提高为{range_of(x.fine, facts).text}" if p.fine is not None  # type: ignore[arg-type]
                                       else f"适用该条关于{x.label}的罚款规定") if chosen else "依法加重")
                    + ("" if not x.flags else "，" + "、".join(FLAG_LABELS[f.flag] for f in x.flags)),
                    rule=x.id,
                    basis=basis_of(x.basis or p.basis),
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
        winner = with_fine[0] if len(with_fine) == 1 else max(with_fine, key=lambda t: (max_of(t[1]), t[1].min))  # type: ignore[arg-type,union-attr]
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
                    basis=basis_of(plan.gen.concurrence),
                    regime=regime,
                    data={"applied": winner[0].p.id, "candidates": [t[0].p.id for t in with_fine]},
                )
            )
    # basis: every applicable provision (with the paragraph it is read with) and each fired
    # escalation's own basis
    if len(evaluated) == 1 and not evaluated[0][2]:
        out.basis.extend(evaluated[0][0].basis_refs)
    else:
        seen: set[str] = set()
        for pp, _, escs, _ in evaluated:
            for c, ref in [*pp.refs, *(xp.basis_ref for xp in escs if xp.basis_ref)]:
                if c not in seen:
                    seen.add(c)
                    out.basis.append(ref)
    return evaluated, winner


# a measure of a result, by its id and text: an escalation's measure with the provision's id (强制拆除
# beside 责令限期拆除, 禁止技术单位从事编制工作 beside the 编制人员's ban) is another measure, never lost
MeasureKey = tuple[str, str]
_CORRECTION = ("order_correction", "")


def measures_and_flags(plan: Plan, evaluated: list[Evaluated], fired: set[str]) -> tuple[dict[MeasureKey, Item], dict[str, Item]]:
    """The measures and flags of every applicable norm, the provision's before its fired
    escalations', each measure (id and text) and each flag once (行政处罚法第二十九条 concerns fines
    only); 责令改正 first where no applicable norm orders it (行政处罚法第二十八条第一款)."""
    measures: dict[MeasureKey, Item] = {}
    flags: dict[str, Item] = {}
    corrected = False
    for pp, _, escs, _ in evaluated:
        for source in (pp, *escs):  # the provision, then its fired escalations
            for rid, key, t in source.measures:
                if rid is None or rid in fired:
                    measures.setdefault(key, t)
                    corrected = corrected or key[0] == "order_correction"
            for rid, fid, t in source.flags:
                if rid is None or rid in fired:
                    flags.setdefault(fid, t)
    if not corrected:
        measures = {_CORRECTION: plan.correction, **measures}
    return measures, flags


# what a provision that leaves the amount to other rules says (models.Provision.amount_elsewhere)
ELSEWHERE_ANY = "依法予以处罚：该条未规定处罚种类和罚款数额，应当依照有关法律、法规、规章的规定确定"
ELSEWHERE_FINE = "依法处以罚款：该条未规定罚款数额，应当依照有关法律、法规、规章的规定确定"


def without_fine(
    plan: Plan, evaluated: list[Evaluated], measures: dict[MeasureKey, Item], flags: dict[str, Item], out: RegimeResult
) -> None:
    """No applicable provision fines: its measures and flags only; with none but 责令改正 (not a
    penalty, 行政处罚法第九条、第二十八条) the outcome is ``no_penalty``. A provision that punishes
    the act but leaves the amount to other rules (“依法予以处罚”) stays a ``penalty`` without a fine."""
    elsewhere = next((pp for pp, _, _, _ in evaluated if pp.p.amount_elsewhere), None)
    if elsewhere is not None:
        out.amount_elsewhere = True
        text = (ELSEWHERE_FINE if "依法处以罚款" in elsewhere.p.basis.text else ELSEWHERE_ANY) + "（本计算器不计算罚款数额）"
        measures = {("penalty_set_elsewhere", ""): plan.item("measure", "penalty_set_elsewhere", "text", text, elsewhere.basis), **measures}
    out.measures = item_dicts(measures.values())
    out.flags = item_dicts(flags.values())
    steps = out.steps
    for t in measures.values():
        steps.append(t[4])
    for t in flags.values():
        steps.append(t[4])
    real = [m for m in out.measures if m["id"] != "order_correction"]
    if not real:
        out.outcome = "no_penalty"
        steps.append(plan.no_fine)


# --- 5. factor placement, 6. adjustments and 减轻 ---------------------------------------------------


def factor_placement(plan: Plan, fired: set[str], out: RegimeResult, fact: Mapping[str, Any]) -> Decimal:
    """The position in the statutory range from the edition's factor levels (0 = minimum, 1 = maximum);
    the factors left at their default level for want of a fact are kept in ``out.defaulted``."""
    if plan.vb is None:
        out.steps.append(plan.no_factors)
    position, steps, out.defaulted = plan.position(fired, fact)
    out.steps.extend(steps)
    return position


def adjustments(plan: Plan, position: Decimal, circumstances: list[str], out: RegimeResult) -> Decimal:
    """The position moved by 从重 and 从轻 circumstances, kept inside the statutory range."""
    return plan.adjusted(position, circumstances, out.steps)


def _grounds(plan: Plan, circumstances: list[str]) -> tuple[str, tuple[str, ...]]:
    """The statutory 减轻 grounds among the circumstances (their labels and citations, closing the
    parenthesis the caller opened), then the circumstances the benchmark alone treats as mitigating,
    named as not counted (酌定); and the grounds' citations."""
    grounds = plan.grounds
    labels = plan.labels
    named: list[str] = []
    cites: dict[str, None] = {}
    other: list[str] = []
    for c in dict.fromkeys(circumstances):
        adj = grounds.get(c)
        if adj is not None:
            c_cite = basis_of(adj.basis)[0]
            named.append(f"{labels.get(c, c)}（{c_cite}）")
            cites[c_cite] = None
        elif c in plan.discretionary:
            other.append(labels.get(c, c))
    text = "、".join(named) + "）"
    if other:
        text += f"；{'、'.join(other)}不是法定减轻情节，只在法定幅度内从轻，不作为减轻依据"
    return text, tuple(cites)


def fine(
    plan: Plan, winner: Evaluated, position: Decimal, fired: set[str], counts: dict[str, int], out: RegimeResult,
    circumstances: list[str],
) -> None:
    """The recommended fine: 减轻 below the statutory minimum where the edition's reduction rule fired
    on the regime's statutory grounds (``counts['mitigating_count']``, 行政处罚法第三十二条) and the
    minimum leaves room, else the amount at the position, rounded, with its band."""
    steps = out.steps
    regime = plan.regime
    p_win, rng, _, _ = winner
    assert rng is not None
    rounding = plan.rounding
    assert rounding is not None
    red = plan.reduction
    can_reduce = red is not None and "reduction" in fired and counts["mitigating_count"] > 0
    cut = reduced(rng.min, red, rounding) if can_reduce else None
    if can_reduce:
        assert red is not None
        named, ground_cites = _grounds(plan, circumstances)
        why = f"从重情节{counts['aggravating_count']}项，法定从轻、减轻情节{counts['mitigating_count']}项：{named}"
        red_basis = ground_cites + plan.edition_cite
    if cut is not None:
        assert red is not None
        rec, floor_amt = cut
        band = (floor_amt, rng.min)
        out.reduced = True
        steps.append(
            Step(
                "reduction",
                f"符合减轻处罚条件（{why}，"
                f"在法定最低罚款{yuan_text(rng.min)}以下减轻处罚，不低于法定最低额的{pct(red.floor_ratio)}，建议{yuan_text(rec)}",
                rule="reduction",
                basis=red_basis,
                regime=regime,
                data={"floor": floor_amt, "ratio": str(red.ratio), "modelled": red.modelled is not None},
            )
        )
    else:
        if can_reduce:
            steps.append(
                Step(
                    "reduction",
                    f"虽符合减轻处罚条件（{why}，但法定最低罚款为{yuan_text(rng.min)}，按本基准的减轻下限和取整规则没有减轻余地，在法定幅度内从轻处罚",
                    rule="reduction",
                    basis=red_basis,
                    regime=regime,
                )
            )
        rec, band, step = _rounded(plan, rng, position)
        steps.append(step)
    out.fine = new_fine(rng.min, rng.max, band, rec)
    # “可以处…罚款” where the applied fine says so: an escalation's fine replaces the provision's
    # (“逾期不改正的，…可以处二十万元以下的罚款”); with several escalated fines, optional only if all are
    esc_fines = [xp.x.fine for xp in winner[2] if xp.x.fine is not None]
    specs = esc_fines or [p_win.p.fine]
    out.fine_optional = all(bool(getattr(f, "optional", False)) for f in specs)


def _rounded(plan: Plan, rng: Range, position: Decimal) -> tuple[int, tuple[int, int], Step]:
    """The amount at ``position`` in ``rng``, rounded, its band and the rounding step: the same for
    every case of the plan at that position in that range, so made once and shared (keyed by the
    position's text, which the step shows)."""
    key = (str(position), rng.min, rng.max)
    got = plan.rounded.get(key)
    if got is None:
        step_yuan, mode = plan.step_mode
        step_yuan = fitting_step(step_yuan, rng.max if rng.max is not None else rng.min, rng.min)
        rec, band = amount(rng, position, step_yuan, mode, plan.bands)
        step = Step(
            "rounding",
            f"推荐罚款 = 下限 + (上限 − 下限) × {fmt(position)}，按{step_yuan}元取整为{yuan_text(rec)}；"
            f"所在档次为{yuan_text(band[0])}至{yuan_text(band[1])}",
            rule="rounding",
            basis=plan.edition_cite,
            regime=plan.regime,
            data={"position": key[0], "recommended": rec, "band": list(band)},
        )
        if len(plan.rounded) >= 4_096:  # positions and ranges recur; bounded for a soak
            plan.rounded.clear()
        got = plan.rounded[key] = (rec, band, step)
    return got


def individual_fines(
    plan: Plan, winner: Evaluated, position: Decimal, facts: Mapping[str, Any], range_of: RangeOf, out: RegimeResult
) -> None:
    """Fines of the responsible individuals (双罚): the same position inside their own range, never
    below their own minimum: the 减轻 grounds found are the unit's (each party's circumstances are its
    own, 行政处罚法第三十二条), so the unit's 减轻 does not reach the individuals' fines."""
    p_win, _, _, inds = winner
    rounding = plan.rounding
    assert rounding is not None
    for f in inds:
        r = range_of(f.fine, facts)
        if r.max is None:
            amount_: int | None = None
        else:
            amount_ = amount(r, position, rounding.step, rounding.mode, 1)[0]
        out.individual_fines.append({"role": f.role, "legal_min": r.min, "legal_max": r.max, "recommended": amount_})
        out.steps.append(
            Step(
                "individual_fine",
                f"对{f.role}处罚：幅度为{r.text}" + (f"，建议{yuan_text(amount_)}" if amount_ is not None else ""),
                rule=p_win.p.id,
                basis=p_win.basis,
                regime=plan.regime,
            )
        )


# --- 7. procedural flags --------------------------------------------------------------------------


def procedural_flags(plan: Plan, party: str, measures: dict[MeasureKey, Item], flags: dict[str, Item], out: RegimeResult) -> None:
    """听证告知 (行政处罚法第六十三条), 集体讨论 (第五十七条) and 法制审核 (第五十八条) from the
    edition's thresholds and the measures; then the result's measures and flags with their steps."""
    assert out.fine is not None
    rec = out.fine.recommended
    th = plan.amounts
    assert th is not None
    hearing_unit, hearing_individual, collective_discussion, legal_review = th
    thresholds = plan.thresholds
    hearing_at = hearing_unit if party == "unit" else hearing_individual
    ids = {key[0] for key in measures}
    if not ids.isdisjoint(_HEARING_MEASURES) or rec >= hearing_at:
        flags.setdefault("hearing_notice", thresholds["hearing_notice"])
    if rec >= collective_discussion or out.reduced or "government_approval_closure" in flags:
        flags.setdefault("collective_discussion", thresholds["collective_discussion"])
    # 行政处罚法 art. 58: a hearing merely offered is not "经过听证程序"; amount and major measures count
    if rec >= legal_review or not flags.keys().isdisjoint(_MAJOR_FLAGS) or "closure" in ids or "revoke_permit" in ids:
        flags.setdefault("legal_review", thresholds["legal_review"])
    out.measures = item_dicts(measures.values())
    out.flags = item_dicts(flags.values())
    steps = out.steps
    for t in measures.values():
        steps.append(t[4])
    for t in flags.values():
        steps.append(t[4])


# --- 8. lighter law ---------------------------------------------------------------------------------


def lighter_law(
    prep: Preparation, results: list[RegimeResult], steps: list[Step]
) -> tuple[RegimeResult, RegimeResult | None, dict[str, Any] | None]:
    """从旧兼从轻: with one regime, its result; with two (the act before the law changed, the decision
    after), the later law's where it is lighter, else the act-time law's. Returns the applied
    result, the compared one and the comparison, and adds the applied result's steps to ``steps``."""
    if len(results) == 1:
        steps.extend(results[0].steps)
        return results[0], None, None
    old, new = results
    if (old.amount_elsewhere or new.amount_elsewhere) and old.outcome == new.outcome == "penalty":
        # the amount one law leaves to other rules cannot be compared: that law is never “lighter”,
        # and the later law is not shown lighter than it either (docs/rulebooks.md “Doctrine”)
        applied, compared = old, new
        reason = (
            f"{REGIME_LABELS[(old if old.amount_elsewhere else new).regime]}对该行为规定依法予以处罚、罚款数额由其他规定确定，"
            f"不能认定{REGIME_LABELS[new.regime]}的处罚较轻，适用违法行为发生时的{REGIME_LABELS[old.regime]}"
        )
    else:
        signs = _counts(old, new) if old.outcome == new.outcome == "penalty" else None
        mixed = signs is not None and (2 in signs or (1 in signs and -1 in signs))
        if signs is None or not any(signs):  # the outcome, or nothing but the recommended amount, decides
            lighter_new = new.severity() < old.severity()
        else:  # lighter on every count that differs; mixed: the first count that differs one way decides
            lighter_new = next((s for s in signs if s in (-1, 1)), 1) < 0
        if lighter_new:
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
        if signs is not None:
            reason += _counts_text(tuple(signs))
        if mixed:
            reason += "；两者各有轻重，按上述顺序中首先分出轻重的一项认定（无此项的，适用违法行为发生时的法律），建议进行法制审核"
            _ask_review(prep, applied)
    reason += f"（{_result_brief(old)}；{_result_brief(new)}）"
    cites, cite_set = prep.lighter_basis(old.regime, new.regime)
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
    return applied, compared, lighter


# 从旧兼从轻 compares the whole legal consequence (行政处罚法第三十七条; 法典第一千零五十七条), count by
# count, in this order (docs/rulebooks.md “Doctrine”): the kinds of penalty heavier than a fine
# (行政处罚法第九条: 责令停产停业、关闭、吊销、限制从业, 移送拘留), then the unit's fine, whether the
# fine is mandatory (“处”) or optional (“可以处”), then the individuals' fines (双罚). A measure counts
# by the kind its text names (“责令改正或者限制生产、停产整治” is 停产整治 whatever its id), a flag by its
# id; 停业、关闭 ordered directly or with the government's approval are one kind; 没收违法所得 is of the
# fine's kind (第九条第二项) and not counted as heavier.
_HEAVY_WORDS = (("限制生产", "停产整治"), ("停产整治", "停产整治"), ("停业", "停业关闭"), ("关闭", "停业关闭"),
                ("停产停业", "停业关闭"), ("吊销", "吊销"), ("禁止从事", "禁止从业"), ("禁止从业", "禁止从业"))
_HEAVY_FLAGS = {"government_approval_closure": "停业关闭", "permit_revocation": "吊销", "detention_referral": "拘留"}


_KINDS: dict[str, frozenset[str]] = {}  # a measure's text → its heavier kinds (the texts are the rulebooks')


def _heavy(r: RegimeResult) -> set[str]:
    out: set[str] = set()
    for m in r.measures:
        text = m["text"]
        kinds = _KINDS.get(text)
        if kinds is None:
            kinds = _KINDS[text] = frozenset(k for word, k in _HEAVY_WORDS if word in text)
        out |= kinds
    for f in r.flags:
        k = _HEAVY_FLAGS.get(f["id"])
        if k is not None:
            out.add(k)
    return out


_COUNTS = (("较重的处罚种类", "heavy"), ("单位罚款幅度", "fine"), ("罚款是否必处", "optional"), ("个人罚款幅度", "individuals"))


def _order(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    """-1 when the range ``a`` is lighter than ``b``, 1 heavier, 0 equal: the higher maximum (none is
    highest) is heavier; with equal maxima, the higher minimum (docs/rulebooks.md “Doctrine”)."""
    return -1 if a < b else 1 if a > b else 0


def _fine_key(fine: FineResult | None) -> tuple[int, int, int]:
    if fine is None:
        return (0, 0, 0)
    return (1 if fine.legal_max is None else 0, fine.legal_max or 0, fine.legal_min)


def _counts(old: RegimeResult, new: RegimeResult) -> list[int]:
    """For each count of :data:`_COUNTS`: -1 where the new law is lighter, 1 heavier, 0 equal, 2 where
    each has heavier measures the other lacks."""
    heavy_old, heavy_new = _heavy(old), _heavy(new)
    heavy = 0 if heavy_new == heavy_old else -1 if heavy_new < heavy_old else 1 if heavy_new > heavy_old else 2
    optional = int(not new.fine_optional) - int(not old.fine_optional) if new.fine is not None and old.fine is not None else 0

    def inds(r: RegimeResult) -> tuple[int, int, int]:
        f = r.individual_fines
        return (sum(1 for i in f if i["legal_max"] is None), sum(i["legal_max"] or 0 for i in f), sum(i["legal_min"] for i in f))

    return [heavy, _order(_fine_key(new.fine), _fine_key(old.fine)), optional, _order(inds(new), inds(old))]


_WORDS = {0: "相同", -1: "新法较轻", 1: "新法较重", 2: "各有轻重"}
_METHOD = "。比较方法：" + "、".join(c for c, _ in _COUNTS) + "依次比较："


@lru_cache(maxsize=None)
def _counts_text(signs: tuple[int, ...]) -> str:
    """“。比较方法：…” with each count's result (a handful of combinations, each built once)."""
    return _METHOD + "，".join(f"{label}{_WORDS[s]}" for (label, _), s in zip(_COUNTS, signs))


def _ask_review(prep: Preparation, r: RegimeResult) -> None:
    """Mixed comparison: the applied result asks for 法制审核 (行政处罚法第五十八条第一款第三项, 案件情况疑难复杂)."""
    if any(f["id"] == "legal_review" for f in r.flags):
        return
    r.flags.append({"id": "legal_review", "label": FLAG_LABELS["legal_review"], "basis": [prep.review_cite]})


def _result_brief(r: RegimeResult) -> str:
    label = REGIME_LABELS[r.regime]
    if r.outcome == "time_barred":
        return f"{label}：超过追责期限"
    if r.not_punishable:
        return f"{label}：无适用罚则"
    if r.outcome == "no_penalty":
        return f"{label}：不予处罚"
    if r.amount_elsewhere:
        return f"{label}：依法予以处罚，罚款数额由其他规定确定"
    if r.fine is None:
        return f"{label}：不罚款"
    mx = "不设上限" if r.fine.legal_max is None else yuan_text(r.fine.legal_max)
    return f"{label}：法定幅度{yuan_text(r.fine.legal_min)}至{mx}"


# --- 9. notices -------------------------------------------------------------------------------------


# the notices of the applied result: what took no effect, the factors left at their default level
# (each with its trail step), the flags that say so (factors not established; a benchmark edition
# written for laws repealed by the decision's regime), and the reasoning's sentences for them
notices = _notices.report
