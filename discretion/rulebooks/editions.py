"""Benchmark editions: cross-checks, prefecture narrowing, and selecting the edition in force."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from ..errors import InputError, RulebookIssue
from . import conditions
from .checks import DERIVED, check_condition, check_contradictions
from .loaded import LoadedEdition, LoadedViolation
from .models import GROUPS, BenchmarkEdition, CircumstanceDef, ExemptionEntry, FactDef, Factor, FromLaw, ViolationBenchmark

_REQUIRED = ("formula", "common_factors", "adjustments", "exemptions", "rounding", "thresholds")


def check_edition(
    le: LoadedEdition,
    editions: Mapping[str, LoadedEdition],
    violations: Mapping[str, LoadedViolation],
    facts: Mapping[str, FactDef],
    circumstances: Mapping[str, CircumstanceDef],
) -> Iterator[RulebookIssue]:
    """Every cross-reference of an edition, and the narrowing rule for prefecture editions."""
    e, doc = le.model, le.doc
    parent: BenchmarkEdition | None = None
    if e.parent is None:
        for name in _REQUIRED:
            if getattr(e, name) is None:
                yield doc.issue((), f"省级版本必须给出 {name}")
        if e.effective_to is not None and e.effective_to < e.effective_from:
            yield doc.issue(("effective_to",), "失效日期早于施行日期")
    else:
        ple = editions.get(e.parent)
        if ple is None:
            yield doc.issue(("parent",), f"上级版本不存在：{e.parent}")
            return
        parent = ple.model
        if not e.id.startswith(parent.id + "/"):
            yield doc.issue(("id",), f"下级版本的编号必须以上级编号开头：{parent.id}/…")
        if parent.formula is not None and e.formula is not None and e.formula != parent.formula:
            yield doc.issue(("formula",), "下级版本不得改变上级版本的计算公式")
    all_facts = dict(facts)
    for f in (parent.facts if parent else []) + list(e.facts):
        all_facts[f.name] = f
    for i, f in enumerate(e.facts):
        if f.name in facts:
            yield doc.issue(("facts", i), f"事实 {f.name} 已是法律层标准事实，请直接引用")
        if f.name in circumstances:
            yield doc.issue(("facts", i), f"事实 {f.name} 与情节同名")
    base_known = set(all_facts) | set(circumstances) | set(DERIVED)

    def known_for(code: str | None) -> tuple[set[str], dict[str, FactDef]]:
        fs = dict(all_facts)
        if code and code in violations:
            fs.update(violations[code].facts)
        extra = set(violations[code].model.circumstances) if code and code in violations else set()
        return base_known | set(fs) | extra, fs

    for fi, factor in enumerate(e.common_factors or []):
        known, fs = known_for(None)
        yield from _check_factor(doc, ("common_factors", fi), factor, known, fs, check_condition)
    for group, cat in e.categories.items():
        if parent is not None:
            yield doc.issue(("categories", group), "下级版本不得新增类别基准（categories），只能收窄上级版本已有的基准")
            continue
        known, fs = known_for(None)  # a category's factors read the edition's own facts and the law's standard ones
        for fi, factor in enumerate(cat.factors):
            yield from _check_factor(doc, ("categories", group, "factors", fi), factor, known, fs, check_condition)
        if not any(v.model.group == group and code not in e.violations for code, v in violations.items()):
            yield doc.issue(("categories", group), f"“{GROUPS[group]}”类的违法行为都有各自的基准，该类别基准不适用于任何违法行为",
                            severity="warning")
    for code, vb in e.violations.items():
        if code not in violations:
            yield doc.issue(("violations", code), f"未知的违法行为：{code}")
            continue
        known, fs = known_for(code)
        for fi, factor in enumerate(vb.factors):
            yield from _check_factor(doc, ("violations", code, "factors", fi), factor, known, fs, check_condition)
        for k, fl in enumerate(vb.from_law):
            yield from _check_from_law(doc, ("violations", code, "from_law", k), fl, all_facts, violations[code].facts)
        lo, hi = vb.min_position, vb.max_position
        if lo is not None and hi is not None and lo > hi:
            yield doc.issue(("violations", code), "min_position 大于 max_position")
        if parent is not None:
            pv = parent.violations.get(code)
            if pv is None:
                yield doc.issue(("violations", code), f"上级版本没有 {code} 的基准，下级版本不得新增")
                continue
            plo = pv.min_position if pv.min_position is not None else 0
            phi = pv.max_position if pv.max_position is not None else 1
            clo = lo if lo is not None else 0
            chi = hi if hi is not None else 1
            if clo < plo or chi > phi:
                yield doc.issue(("violations", code), f"位置窗口 [{clo}, {chi}] 超出上级版本的 [{plo}, {phi}]（只能收窄）")
            if [f.id for f in vb.factors] != [f.id for f in pv.factors]:
                yield doc.issue(("violations", code, "factors"), "下级版本必须保留上级版本的全部因子")
            if vb.from_law and vb.from_law != pv.from_law:
                yield doc.issue(("violations", code, "from_law"), "下级版本不得改变上级版本对法律层事实的读取（from_law），省略时沿用上级版本")
    for ai, adj in enumerate(e.adjustments or []):
        if adj.circumstance not in circumstances:
            yield doc.issue(("adjustments", ai, "circumstance"), f"未知的情节：{adj.circumstance}")
        elif circumstances[adj.circumstance].group not in ("mitigating", "aggravating"):
            pass
        if parent is not None:
            padj = {a.id: a for a in parent.adjustments or []}.get(adj.id)
            if padj is None:
                yield doc.issue(("adjustments", ai), f"上级版本没有调整项 {adj.id}，下级版本不得新增")
            elif adj.direction != padj.direction or adj.circumstance != padj.circumstance:
                yield doc.issue(("adjustments", ai), "下级版本不得改变调整项的方向或情节")
            elif adj.points > padj.points:
                yield doc.issue(("adjustments", ai, "points"), f"调整幅度 {adj.points} 大于上级版本的 {padj.points}（只能收窄）")
    if e.reduction is not None:
        known, fs = known_for(None)
        yield from check_condition(doc, ("reduction", "when"), e.reduction.when, known, fs)
        if e.reduction.ratio < e.reduction.floor_ratio:
            yield doc.issue(("reduction",), "ratio 不得低于 floor_ratio")
        if parent is not None:
            pr = parent.reduction
            if pr is None:
                yield doc.issue(("reduction",), "上级版本不允许减轻，下级版本不得新增")
            elif e.reduction.floor_ratio < pr.floor_ratio or e.reduction.ratio < pr.ratio:
                yield doc.issue(("reduction",), "减轻的比例低于上级版本（只能收窄）")
            elif not _includes(pr.when, e.reduction.when):
                yield doc.issue(("reduction", "when"), "下级版本的减轻条件必须包含上级版本的全部条件（只能收窄）")
    for xi, entry in enumerate(e.exemptions or []):
        for k, code in enumerate(entry.violations):
            if code not in violations:
                yield doc.issue(("exemptions", xi, "violations", k), f"未知的违法行为：{code}")
        known: set[str] = set(base_known)
        fs = dict(all_facts)
        for code in entry.violations:
            k2, f2 = known_for(code)
            known |= k2
            fs.update(f2)
        yield from check_condition(doc, ("exemptions", xi, "when"), entry.when, known, fs)
        if entry.kind == "first_offense" and "first_offense" not in conditions.names(conditions.parse(entry.when)):
            yield doc.issue(("exemptions", xi, "when"), "首违不罚条目的条件必须包含 first_offense")
        if parent is not None:
            pe = {x.id: x for x in parent.exemptions or []}.get(entry.id)
            if pe is None:
                yield doc.issue(("exemptions", xi), f"上级版本没有免罚条目 {entry.id}，下级版本不得新增")
            elif not _narrows(pe, entry):
                yield doc.issue(("exemptions", xi, "when"), "下级版本的免罚条件必须包含上级版本的全部条件（只能收窄）")
    if e.contradictions:
        every = {**all_facts, **{n: f for lv in violations.values() for n, f in lv.facts.items()}}
        yield from check_contradictions(doc, ("contradictions",), e.contradictions, base_known | set(every), every)
        if parent is not None:
            own = {x.id for x in parent.contradictions or []}
            for ci, rule in enumerate(e.contradictions):
                if rule.id in own:
                    yield doc.issue(("contradictions", ci, "id"), f"下级版本不得替换上级版本的矛盾规则 {rule.id}（只能增加）")
    if parent is not None and e.thresholds is not None and parent.thresholds is not None:
        for name in ("hearing_unit", "hearing_individual", "collective_discussion", "legal_review"):
            if getattr(e.thresholds, name) > getattr(parent.thresholds, name):
                yield doc.issue(("thresholds", name), f"{name} 高于上级版本（只能收窄）")


def _check_factor(doc: Any, path: tuple[Any, ...], factor: Factor, known: set[str], fs: dict[str, FactDef], check: Any) -> Iterator[RulebookIssue]:
    levels = [lv.level for lv in factor.levels]
    if len(set(levels)) != len(levels):
        yield doc.issue(path + ("levels",), f"因子 {factor.id} 的等级重复")
    if sum(1 for lv in factor.levels if lv.when is None) > 1:
        yield doc.issue(path + ("levels",), f"因子 {factor.id} 有多个默认等级")
    for li, lv in enumerate(factor.levels):
        yield from check(doc, path + ("levels", li, "when"), lv.when, known, fs)


def _check_from_law(
    doc: Any, path: tuple[Any, ...], fl: FromLaw, edition_facts: Mapping[str, FactDef], law_facts: Mapping[str, FactDef]
) -> Iterator[RulebookIssue]:
    """An edition fact read from the law's: both enums; every choice of the law's fact mapped, to
    choices of the edition's fact."""
    own = edition_facts.get(fl.fact)
    law = law_facts.get(fl.law_fact)
    if own is None or own.type != "enum":
        yield doc.issue(path + ("fact",), f"from_law 的 fact 须为本版本的枚举事实：{fl.fact}")
        return
    if law is None or law.type != "enum":
        yield doc.issue(path + ("law_fact",), f"from_law 的 law_fact 须为该违法行为在法律层的枚举事实：{fl.law_fact}")
        return
    law_choices = set(law.choices or {})
    if set(fl.values) != law_choices:
        missing = sorted(law_choices - set(fl.values))
        extra = sorted(set(fl.values) - law_choices)
        yield doc.issue(path + ("values",), f"values 须逐一列出 {fl.law_fact} 的全部取值（缺少：{missing}；多出：{extra}）")
    for key, allowed in fl.values.items():
        bad = [x for x in allowed if x not in (own.choices or {})]
        if bad or len(set(allowed)) != len(allowed):
            yield doc.issue(path + ("values", key), f"{fl.fact} 没有取值或取值重复：{bad or allowed}")


def _narrows(parent: ExemptionEntry, child: ExemptionEntry) -> bool:
    if set(child.violations) - set(parent.violations) or child.kind != parent.kind:
        return False
    return _includes(parent.when, child.when)


def _includes(parent_when: str, child_when: str) -> bool:
    """The child condition is the parent's condition with more conjuncts (so it holds less often)."""
    p = conditions.parse(parent_when)
    c = conditions.parse(child_when)
    if p == c:
        return True
    parts = c.parts if isinstance(c, conditions.And) else (c,)
    flat: list[conditions.Node] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, conditions.And) else (part,))
    needed = p.parts if isinstance(p, conditions.And) else (p,)
    return all(n in flat or n in parts for n in needed)


def apply_categories(le: LoadedEdition, violations: Mapping[str, LoadedViolation]) -> None:
    """Give each violation type of a category (its catalogue group) that has no entry of its own the
    category's factors, in the effective edition (an own entry wins whole)."""
    e = le.effective
    if not e.categories:
        return
    got = dict(e.violations)
    for code, lv in violations.items():
        cat = e.categories.get(lv.model.group)
        if cat is not None and code not in got:
            note = f"按“{GROUPS[lv.model.group]}”类别的个性裁量基准" + (f"：{cat.note}" if cat.note else "")
            got[code] = ViolationBenchmark(factors=list(cat.factors), note=note)
    le.merged = e.model_copy(update={"violations": got})


def merge_parent(le: LoadedEdition, editions: Mapping[str, LoadedEdition]) -> None:
    """Give a prefecture edition the provincial values it does not narrow."""
    e = le.model
    if e.parent is None or e.parent not in editions:
        return
    parent = editions[e.parent].effective

    def by_id(base: list[Any] | None, over: list[Any] | None) -> list[Any] | None:
        if over is None:
            return base
        replace = {x.id: x for x in over}
        return [replace.get(x.id, x) for x in base or []]

    own = {
        code: vb if vb.from_law or code not in parent.violations else vb.model_copy(update={"from_law": parent.violations[code].from_law})
        for code, vb in e.violations.items()
    }
    update: dict[str, Any] = {
        "facts": list(parent.facts) + [f for f in e.facts if f.name not in {p.name for p in parent.facts}],
        "formula": e.formula or parent.formula,
        "common_factors": e.common_factors if e.common_factors is not None else parent.common_factors,
        "violations": {**parent.violations, **own},  # a prefecture keeps the province's from_law
        "contradictions": list(parent.contradictions or []) + list(e.contradictions or []),
        "adjustments": by_id(parent.adjustments, e.adjustments),
        "reduction": e.reduction or parent.reduction,
        "exemptions": by_id(parent.exemptions, e.exemptions),
        "rounding": e.rounding or parent.rounding,
        "thresholds": e.thresholds or parent.thresholds,
    }
    le.merged = e.model_copy(update=update)


def in_force(
    editions: Mapping[str, LoadedEdition], jurisdiction: str, on: dt.date, requested: str | None = None
) -> tuple[LoadedEdition, list[str]]:
    """The published edition in force for a jurisdiction on a date (a prefecture falls back to
    its province). Returns the edition and notes for the trail."""
    notes: list[str] = []
    if requested:
        le = editions.get(requested)
        if le is None:
            raise InputError(message=f"未知的裁量基准版本：{requested}", code="unknown_edition", field="edition")
        if not (le.model.id == jurisdiction or jurisdiction.startswith(le.model.id + "/")):
            raise InputError(message=f"裁量基准版本 {requested} 不属于辖区 {jurisdiction}", code="unknown_edition", field="edition")
        if le.model.status != "published":
            notes.append(f"按请求使用未发布（{le.model.status}）的版本 {requested}，结果仅供审查参考")
        return le, notes
    if not any(le.model.id == jurisdiction or le.model.id.startswith(jurisdiction + "/") for le in editions.values()):
        raise InputError(message=f"未知的辖区：{jurisdiction}", code="unknown_jurisdiction", field="jurisdiction")
    place = jurisdiction
    while True:
        found = [
            le
            for le in editions.values()
            if le.model.id == place
            and le.model.status == "published"
            and le.model.effective_from <= on
            and (le.model.effective_to is None or on <= le.model.effective_to)
        ]
        if found:
            return max(found, key=lambda x: x.model.effective_from), notes
        if "/" not in place:
            raise InputError(
                message=f"决定日期 {on.isoformat()} 没有已发布并生效的 {jurisdiction} 裁量基准",
                code="no_edition_in_force",
                field="decision_date",
            )
        upper = place.rsplit("/", 1)[0]
        notes.append(f"{place} 在 {on.isoformat()} 没有生效的裁量基准版本，适用上级 {upper} 的版本")
        place = upper
