"""Nothing silent (docs/rulebooks.md “不生效的输入”): what a case gave that took no effect, the factors
left at their default level, and a benchmark edition applied after the laws it was written for were
repealed — each in the result, the trail and the reasoning.

- **Circumstances not applied**: every circumstance the case gave either took effect in the applied
  result (it decided the limitation period, an exemption, an adjustment, a 减轻 ground, a provision or
  a factor level — or did so in the fine if punished of 首违不罚) or is listed with the reason.
- **Facts not applied**: every fact the case gave that nothing of the applied regime's plan reads
  (its rules' conditions, fine forms, contradiction rules and ``from_law`` readings), with the reason:
  read under the other regime only, or by nothing of this violation type under this edition.
- **Factors defaulted**: every benchmark factor that took its default level because a fact its levels
  read was not given (or the edition does not grade the law layer's choice, ``from_law``), with the
  level; the flag ``factors_unknown`` when a fact could still be given (行政处罚法第四十条).
- **Edition for repealed laws**: a case decided under a regime later than the one in force when its
  benchmark edition took effect (the 2023 edition, decided from 2026-08-15) carries the flag
  ``edition_for_repealed_laws`` and says so (法典第一千二百四十二条).
"""

from __future__ import annotations

from typing import Any

from ..rulebooks import conditions
from ..rulebooks.loaded import LoadedEdition
from .case import Case
from .citation import cite, date_text, edition_citation
from .prepared import Plan, Preparation, Unit, basis_of
from .results import FLAG_LABELS, RegimeResult
from .trail import REGIME_LABELS, Step

_WORD = {"mitigating": "从轻", "aggravating": "从重"}


class PlanNotes:
    """What :func:`circumstances_not_applied` reads of a plan, prepared once per plan: the
    circumstances each rule that leaves a trail step reads, keyed by (step, rule id), and, for each
    circumstance, the exemption grounds and list entries it is a condition of."""

    def __init__(self, plan: Plan) -> None:
        known = set(plan.ruleset.circumstances)

        def reads(text: str | None) -> tuple[str, ...]:
            return tuple(sorted(conditions.names(conditions.parse(text)) & known)) if text else ()

        effects: dict[tuple[str, str | None], tuple[str, ...]] = {}
        for lim in plan.gen.limitation:
            effects[("limitation", lim.id)] = reads(lim.when)
        exempt: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for _, ground, step in plan.exemptions:
            effects[("exemption", ground.id)] = got = reads(ground.when)
            for c in got:
                exempt.setdefault(c, []).append((ground.label, step.basis))
        code = plan.unit.violation.code
        for _, entry, step in plan.entries:
            if code not in entry.violations:
                continue
            effects[("exemption", entry.id)] = got = reads(entry.when)
            for c in got:
                exempt.setdefault(c, []).append((f"免罚清单：{entry.label}", step.basis))
        for pp in plan.provisions:
            effects[("provision", pp.p.id)] = reads(pp.p.when)
            for xp in pp.escs:
                effects[("escalation", xp.x.id)] = reads(xp.x.when)
        for adj in plan.e.adjustments or []:
            effects[("adjustment", adj.id)] = (adj.circumstance,)
        for infos in (plan.ruleset.factors, plan.ruleset.common):
            for info in infos:
                for lv in info.factor.levels:
                    effects[("factor", f"{info.prefix}/{info.factor.id}/{lv.level}")] = reads(lv.when)
        # by rule id, with its step (a lookup per trail step without building a key)
        self.effects: dict[str | None, tuple[str, tuple[str, ...]]] = {rule: (step, v) for (step, rule), v in effects.items() if v}
        # the circumstances that take effect only through a provision, escalation or factor level
        self.conditional = frozenset(c for (step, _), v in effects.items() if step in ("provision", "escalation", "factor") for c in v)
        self.grounds = frozenset(plan.grounds)
        self.exempt = exempt
        self.adjusted = frozenset(adj.circumstance for adj in plan.e.adjustments or [])
        gen = plan.gen
        self.fact_finding = basis_of(gen.fact_finding) if gen.fact_finding is not None else ()
        flag = "factors_unknown"
        self.unknown_flag = (flag, FLAG_LABELS[flag], self.fact_finding,
                             Step("flag", FLAG_LABELS[flag], rule=flag, basis=self.fact_finding, regime=plan.regime))
        self.defaulted_steps: dict[tuple[int, ...], tuple[Step, bool, str]] = {}
        self.not_applied: dict[tuple[Any, ...], tuple[dict[str, Any], Step, str]] = {}
        self.groups = {c: plan.unit.parts[0].circumstances[c].group for c in known}
        # the facts the plan reads, and those only another regime's plan of the unit reads (by fact)
        unit = plan.unit
        compiled = unit.parts[1]
        self.fact_reads = facts_read(unit, plan.regime, plan.matching)
        self.read_elsewhere: dict[str, str] = {}
        for regime in unit.parts[0].law.general:
            if regime != plan.regime:
                for name in facts_read(unit, regime, compiled.get(unit.violation.code, unit.le.key, regime)) - self.fact_reads:
                    self.read_elsewhere.setdefault(name, regime)
        self.facts_memo: dict[tuple[str, str | None], tuple[dict[str, Any], Step, str]] = {}


def facts_read(unit: Unit, regime: str, matching: Any) -> frozenset[str]:
    """The facts of ``unit``'s violation type that its plan under ``regime`` reads: the conditions of
    its rules (``matching``, the regime's ruleset: provisions, escalations, duties, measures, flags,
    limitation, exemptions, the edition's factor levels, list entries and 减轻), the bases and counts
    of its fine forms (the required facts among them), the contradiction rules and the ``from_law``
    readings of the edition."""
    names: set[str] = set()
    for rule in matching.rules:
        names |= conditions.names(rule.node)
    rules = unit.violation.regimes.get(regime)  # type: ignore[call-overload]
    if rules is not None:
        names.update(rules.requires)
        for p in rules.provisions:
            forms = [p.fine, *(f.fine for f in p.individual_fines)]
            for x in p.escalations:
                forms += [x.fine, *(f.fine for f in x.individual_fines or [])]
            for form in forms:
                for attr in ("base", "count"):
                    got = getattr(form, attr, None) if form is not None else None
                    if got:
                        names.add(got)
    for c in unit.consistency.rules:
        names.update(c.names)
    for r in unit.consistency.readings:
        names.update((r.fact, r.law_fact))
    return frozenset(names.intersection(unit.ruleset.facts))


def _notes(plan: Plan) -> PlanNotes:
    got = plan.notes
    if got is None:
        got = plan.notes = PlanNotes(plan)
    return got


def circumstances_not_applied(
    plan: Plan, r: RegimeResult, case: Case, steps: list[Step], sentences: list[str]
) -> list[dict[str, Any]]:
    """The circumstances of ``case`` that took no effect in the applied result ``r``, each as
    ``{code, label, reason}`` (shared between results: copied by ``Assessment.to_dict``), with a
    trail step each (added to ``steps``) and the reasoning's sentence (added to ``sentences``)."""
    given = case.circumstances
    if not given:
        return []
    notes = plan.notes or _notes(plan)
    took = _took(plan, notes, r, given)
    if took.issuperset(given) and len(set(given)) == len(given):  # each took effect, none repeated
        return []
    out: list[dict[str, Any]] = []
    said: list[str] = []
    first: dict[str, int] = {}
    memo = notes.not_applied
    situation = None
    for i, c in enumerate(given):
        if c in first:
            key: tuple[Any, ...] = (c, "duplicate", first[c])
        else:
            first[c] = i
            if c in took:
                continue
            if situation is None:
                situation = _situation(r)
            key = (c, situation)
        got = memo.get(key)
        if got is None:
            reason = key if key[1] == "duplicate" else (c, *_kind(notes, r, c))
            got = memo[key] = _not_applied(plan, notes, r, reason)
        out.append(got[0])
        steps.append(got[1])
        said.append(got[2])
    if said:
        sentences.append("所填情节中，" + "；".join(said) + "。")
    return out


def _took(plan: Plan, notes: PlanNotes, r: RegimeResult, given: list[str]) -> set[str]:
    """The circumstances of ``given`` that took effect in ``r``: the limitation period, the grounds
    and list entries that exempted it, the adjustments and 减轻 grounds of its fine (or of its fine if
    punished), and the provisions, escalations and factor levels whose steps it has."""
    effects = notes.effects
    took: set[str] = set()
    steps_r = r.steps
    if steps_r and steps_r[0].step == "limitation":  # every regime's result starts with its limitation
        got = effects.get(steps_r[0].rule)
        if got is not None:
            took.update(got[1])
    if r.exemption is not None:  # the grounds and list entries that exempted it
        for s in steps_r:
            if s.step == "exemption" and (got := effects.get(s.rule)) is not None:
                took.update(got[1])
    fined = r if r.fine is not None else r.shadow if r.shadow is not None and r.shadow.fine is not None else None
    if fined is not None:
        took.update(notes.adjusted.intersection(given))  # the adjustments stage weighs every one present
        grounds = notes.grounds.intersection(given)
        if grounds and not took.issuperset(grounds) and any(s.step == "reduction" for s in fined.steps):
            took.update(grounds)  # 减轻 counted the statutory grounds
    if not notes.conditional.isdisjoint(given):  # a provision, escalation or factor level reads one: scan
        for res in (r, r.shadow):
            for s in res.steps if res is not None else ():
                got = effects.get(s.rule)
                if got is not None and got[0] == s.step:
                    took.update(got[1])
    return took


def _situation(r: RegimeResult) -> tuple[Any, ...]:
    """What of ``r`` decides the reason a circumstance took no effect (with the circumstance's group,
    :func:`_kind`): the key, with the circumstance, of the memoised entry and step."""
    punished = r if r.fine is not None else r.shadow
    return (
        r.outcome, r.not_punishable, _limitation_rule(r),
        r.exemption is not None and not r.discretionary, punished is None or punished.fine is None, r.amount_elsewhere,
    )


def _limitation_rule(r: RegimeResult) -> str | None:
    """The rule of ``r``'s limitation step (its first step, as every regime's result starts with it)."""
    steps = r.steps
    if steps and steps[0].step == "limitation":
        return steps[0].rule
    return next((s.rule for s in steps if s.step == "limitation"), None)


def _kind(notes: PlanNotes, r: RegimeResult, c: str) -> tuple[Any, ...]:
    """Which reason applies to circumstance ``c`` in ``r`` (decided by ``c``'s group and :func:`_situation`)."""
    group = notes.groups.get(c)
    if r.outcome == "time_barred":
        return ("time_barred",)
    if r.not_punishable:
        return ("no_provision",)
    if group == "other":
        return ("limitation", _limitation_rule(r))
    if r.outcome == "no_penalty" and r.exemption is not None and not r.discretionary:
        return ("exempted",)
    if group == "exemption":
        return ("exemption",)
    punished = r if r.fine is not None else r.shadow
    if punished is None or punished.fine is None:
        return ("no_fine", r.amount_elsewhere)
    if group in _WORD and c not in notes.adjusted:
        return ("no_points", group)
    return ("other",)


def facts_not_applied(
    plan: Plan, r: RegimeResult, case: Case, compared: str | None, steps: list[Step], sentences: list[str]
) -> list[dict[str, Any]]:
    """The facts of ``case`` that nothing of the applied ``plan`` reads, each as ``{name, field, label,
    reason}`` in the order given (``compared``: the other regime evaluated for 从旧兼从轻, if any), with a
    trail step each (added to ``steps``) and the reasoning's sentence (added to ``sentences``). A set
    difference for a case whose facts are all read."""
    given = case.facts
    notes = plan.notes or _notes(plan)
    reads = notes.fact_reads
    if reads.issuperset(given):
        return []
    out: list[dict[str, Any]] = []
    said: list[str] = []
    memo = notes.facts_memo
    for name, value in given.items():
        if value is None or name in reads:
            continue
        got = memo.get((name, compared))
        if got is None:
            got = memo[(name, compared)] = _fact_not_applied(plan, notes, name, compared)
        out.append(got[0])
        steps.append(got[1])
        said.append(got[2])
    if said:
        sentences.append("所填事实中，" + "；".join(said) + "。")
    return out


def _fact_not_applied(plan: Plan, notes: PlanNotes, name: str, compared: str | None) -> tuple[dict[str, Any], Step, str]:
    """The entry, the trail step and the reasoning's words of a fact that nothing of ``plan`` reads."""
    applied = REGIME_LABELS[plan.regime]
    elsewhere = notes.read_elsewhere.get(name)
    if elsewhere is not None and elsewhere == compared:
        reason = f"该事实只在{REGIME_LABELS[elsewhere]}下适用（已用于从旧兼从轻的比较），本案适用{applied}，不影响处理结果"
    elif elsewhere is not None:
        reason = f"该事实只在{REGIME_LABELS[elsewhere]}下适用，本案适用{applied}，不影响处理结果"
    else:
        reason = f"{applied}对该违法行为的规定和{plan.e.title}均不读取该事实，不影响处理结果"
    label = plan.ruleset.facts[name].label
    field = f"facts.{name}"
    step = Step("fact", f"事实“{label}”未予适用：{reason}", rule=name, basis=(), regime=plan.regime,
                data={"fact": name, "reason": reason})
    return {"name": name, "field": field, "label": label, "reason": reason}, step, f"“{label}”未予适用（{reason}）"


def _not_applied(plan: Plan, notes: PlanNotes, r: RegimeResult, key: tuple[Any, ...]) -> tuple[dict[str, Any], Step, str]:
    """The entry, the trail step and the reasoning's words of a circumstance that took no effect, for
    the reason ``key``."""
    c, kind = key[0], key[1]
    regime = REGIME_LABELS[r.regime]
    basis: tuple[str, ...] = ()
    if kind == "duplicate":
        reason = f"与第{key[2] + 1}项重复，只计一次"
    elif kind == "time_barred":
        reason = "违法行为已超过追责期限，不再给予行政处罚，该情节不影响处理结果"
    elif kind == "no_provision":
        reason, basis = f"{regime}对该行为（依所填事实）没有规定罚则，该情节不影响处理结果", plan.no_provision.basis
    elif kind == "limitation":
        reason, basis = f"不影响{regime}下的追责期限", plan.lim_basis.get(key[2], ())
    elif kind == "exempted":
        reason = "已依法不予行政处罚，该情节不影响处理结果"
    elif kind == "exemption":
        grounds = notes.exempt.get(c)
        if not grounds:
            reason = "该违法行为没有以此为条件的不予处罚规定或免罚清单条目"
        else:
            reason = f"只是不予处罚的条件之一，本案不具备其全部条件（{'；'.join(label for label, _ in grounds)}）"
            basis = tuple(dict.fromkeys(b for _, bs in grounds for b in bs))
    elif kind == "no_fine":
        reason = ("所适用的规定未规定罚款数额（依法予以处罚），该情节不影响本计算" if key[2]
                  else "所适用的规定对该情形不处罚款，该情节不影响罚款数额")
    elif kind == "no_points":
        reason, basis = f"{plan.e.title}未规定该情节的{_WORD[key[2]]}幅度，不影响罚款数额", plan.edition_cite
    else:
        reason = "不影响本案的计算结果"
    label = plan.labels.get(c, c)
    step = Step("circumstance", f"情节“{label}”未予适用：{reason}", rule=c, basis=basis, regime=r.regime,
                data={"code": c, "reason": reason})
    return {"code": c, "label": label, "reason": reason}, step, f"“{label}”未予适用（{reason}）"


def report(
    prep: Preparation, unit: Unit, plan: Plan, r: RegimeResult, r_decision: str, case: Case, steps: list[Step],
    compared: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The notices of the applied result ``r`` (its trail steps added to ``steps``; ``compared``: the
    other regime evaluated for 从旧兼从轻, if any): an edition for repealed laws (the flag
    ``edition_for_repealed_laws``), the factors left at their default level (a step listing them; the
    flag ``factors_unknown`` where a fact can still be given), the circumstances that took no effect,
    the facts that nothing of the plan reads; and the reasoning's sentences. Everything it says is prepared
    once per plan and combination (the hot path of every case is lookups)."""
    sentences: list[str] = []
    key = (unit.le.key, r_decision, r.regime)
    memo = prep.notices
    repealed = memo[key] if key in memo else memo.setdefault(key, _repealed(prep, unit.le, r_decision, r.regime))
    if repealed is not None:
        fid, label, basis, step = repealed
        r.flags.append({"id": fid, "label": label, "basis": list(basis)})
        steps.append(step)
        sentences.append(step.text + "。")
    defaulted = r.defaulted or (r.shadow.defaulted if r.shadow is not None else [])
    notes = plan.notes or _notes(plan)
    if defaulted:
        ids = tuple(map(id, defaulted))  # the entries are the plan's own, memoised (Plan.defaulted)
        said = notes.defaulted_steps.get(ids)
        if said is None:
            said = _defaulted_step(notes, r, defaulted)
            if len(notes.defaulted_steps) < 4_096:  # a few combinations recur; bounded for a soak
                notes.defaulted_steps[ids] = said
        steps.append(said[0])
        sentences.append(said[2])
        if said[1]:  # a fact can still be given: 行政处罚法第四十条
            fid, label, basis, step = notes.unknown_flag
            r.flags.append({"id": fid, "label": label, "basis": list(basis)})
            steps.append(step)
    not_applied = circumstances_not_applied(plan, r, case, steps, sentences) if case.circumstances else []
    facts = facts_not_applied(plan, r, case, compared, steps, sentences) if case.facts else []
    return not_applied, facts, defaulted, sentences


def _defaulted_step(notes: PlanNotes, r: RegimeResult, got: list[dict[str, Any]]) -> tuple[Step, bool, str]:
    """The trail step listing the factors at their default level, whether a fact can still be
    given, and the reasoning's sentence."""
    text = "下列裁量因子按默认等级计算：" + "；".join(f"“{d['label']}”：{d['reason']}" for d in got)
    unknown = any(d["missing"] for d in got)
    step = Step("factor", text, rule="factors_defaulted", basis=notes.fact_finding, regime=r.regime,
                data={"factors": [d["id"] for d in got]})
    return step, unknown, text + ("；上述事实应当查明后复核。" if unknown else "。")


def _repealed(prep: Preparation, le: LoadedEdition, r_decision: str, regime: str) -> tuple[str, str, tuple[str, ...], Step] | None:
    e = le.effective
    written_for = prep.regime_of(e.effective_from)
    gen = prep.rulebooks.law.general[r_decision]  # type: ignore[index]
    if written_for is None or written_for == r_decision or gen.repeal is None:
        return None
    start = next(x.effective_from for x in prep.rulebooks.law.regimes if x.id == r_decision)
    repeal = cite(gen.repeal.ref)
    text = (
        f"本案作出决定时，{REGIME_LABELS[r_decision]}已于{date_text(start)}施行，{REGIME_LABELS[written_for]}同时废止"
        f"（{repeal}）；所适用的{edition_citation(e)}自{date_text(e.effective_from)}起施行，系依据已废止的{REGIME_LABELS[written_for]}制定，"
        f"尚未按{REGIME_LABELS[r_decision]}修订，其裁量因子、幅度和免罚清单的适用应当审查与{REGIME_LABELS[r_decision]}的衔接"
    )
    basis = (repeal, cite(gen.benchmark.ref))
    flag = "edition_for_repealed_laws"
    return (flag, FLAG_LABELS[flag], basis, Step("flag", text, rule=flag, basis=basis, regime=regime))
