"""Cross-checks of the law layer: standard facts resolved, conditions that read only known names
of the right type, regimes and fine bases that agree with the quoted provisions.

Each check yields :class:`~discretion.errors.RulebookIssue` at the file and line to fix;
:func:`discretion.rulebooks.tree.load` collects them and refuses the tree whole.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from ..errors import RulebookIssue
from . import conditions, loading
from .models import CircumstanceDef, Contradiction, FactDef, FactRef, LawEdition, Provision, Violation

# Names every condition may read besides facts and circumstances; the pipeline sets them.
DERIVED = {
    "party": FactDef(name="party", label="当事人类型", type="enum", choices={"unit": "单位", "individual": "个人"}),
    "mitigating_count": FactDef(name="mitigating_count", label="法定从轻减轻情节数", type="count"),
    "aggravating_count": FactDef(name="aggravating_count", label="从重情节数", type="count"),
}

# The words of a provision that punishes the act but leaves the amount to other rules (amount_elsewhere):
# “依法予以处罚” (kind and amount), “依法处以罚款” (a fine whose amount other rules set).
ELSEWHERE_WORDS = ("依法予以处罚", "依法处以罚款")

# Names a contradiction rule may read besides facts and circumstances, derived from the case's dates.
CASE_DERIVED = {
    "act_days": FactDef(
        name="act_days",
        label="违法行为持续日数（自发生之日至终了之日，未填写终了日期的至决定之日，首尾两日计入）",
        type="count",
    ),
}


def resolve_facts(
    v: Violation, doc: loading.Document, standard: dict[str, FactDef]
) -> tuple[dict[str, FactDef], list[RulebookIssue]]:
    out: dict[str, FactDef] = {}
    issues: list[RulebookIssue] = []
    for i, f in enumerate(v.facts):
        if isinstance(f, FactRef):
            base = standard.get(f.name)
            if base is None:
                issues.append(doc.issue(("facts", i), f"未知的标准事实：{f.name}（请在此处完整定义）"))
                continue
            upd = {k: val for k, val in (("label", f.label), ("hint", f.hint)) if val}
            out[f.name] = base.model_copy(update=upd)
        else:
            if f.name in standard and f != standard[f.name]:
                issues.append(doc.issue(("facts", i), f"事实 {f.name} 与标准事实同名，请直接引用名称"))
            out[f.name] = f
    return out, issues


def check_law(
    law: LawEdition,
    doc: loading.Document,
    facts: dict[str, FactDef],
    circumstances: dict[str, CircumstanceDef],
) -> Iterator[RulebookIssue]:
    clash = set(facts) & set(circumstances)
    for name in sorted(clash):
        yield doc.issue(("facts",), f"事实与情节同名：{name}")
    regimes = {r.id for r in law.regimes}
    for rid, gen in law.general.items():
        if rid not in regimes:
            yield doc.issue(("general", rid), f"未定义的法律体系：{rid}")
        names = set(facts) | set(circumstances) | set(DERIVED)
        for i, lim in enumerate(gen.limitation):
            yield from check_condition(doc, ("general", rid, "limitation", i, "when"), lim.when, names)
        for i, ex in enumerate(gen.exemptions):
            yield from check_condition(doc, ("general", rid, "exemptions", i, "when"), ex.when, names)
        for i, adj in enumerate(gen.adjustments):
            if adj.circumstance not in circumstances:
                yield doc.issue(("general", rid, "adjustments", i, "circumstance"), f"未知的情节：{adj.circumstance}")


def check_condition(
    doc: loading.Document, path: tuple[Any, ...], text: str | None, known: Iterable[str], facts: dict[str, FactDef] | None = None
) -> Iterator[RulebookIssue]:
    if not text:
        return
    node = conditions.parse(text)
    known = set(known)
    for c in conditions.comparisons(node):
        if c.name not in known:
            yield doc.issue(path, f"条件引用了未知的事实或情节：{c.name}")
            continue
        f = (facts or {}).get(c.name) or DERIVED.get(c.name)
        if f is None:
            if not isinstance(c.value, bool):
                yield doc.issue(path, f"情节 {c.name} 只能作为布尔条件使用")
            continue
        if f.type == "bool" and not isinstance(c.value, bool):
            yield doc.issue(path, f"布尔事实 {c.name} 不能与 {c.value!r} 比较")
        elif f.type == "enum":
            if c.op not in ("==", "!="):
                yield doc.issue(path, f"枚举事实 {c.name} 只能用 == 或 != 比较")
            elif f.choices and c.value not in f.choices:
                yield doc.issue(path, f"枚举事实 {c.name} 没有取值 {c.value!r}（可选：{', '.join(f.choices)}）")
        elif f.type in ("money", "count", "number"):
            if isinstance(c.value, (bool, str)):
                yield doc.issue(path, f"数值事实 {c.name} 不能与 {c.value!r} 比较")
        elif f.type == "date":
            yield doc.issue(path, f"日期事实 {c.name} 不能用于条件")


# a penalty provision's quoted text that refers to another paragraph of its article for its act or
# its fine (“有前款第三项……行为之一，处……”, “依照前款的规定处罚”)
_BACK_REFERENCE = re.compile(r"有前款|依照前款|按照前款|前款规定的|依照本条第[一二三四五六七八九十]+款|适用本条第[一二三四五六七八九十]+款")


def _check_read_with(doc: loading.Document, pp: tuple[Any, ...], p: Provision) -> Iterator[RulebookIssue]:
    """``read_with`` names another paragraph of the provision's own article; a provision of one
    paragraph (or item) whose quoted text reads another paragraph of its article must name it, so
    that it is cited whole (“第一款第三项、第二款”)."""
    ref, other = p.basis.ref, p.read_with
    if other is not None:
        if other.law != ref.law or other.article != ref.article:
            yield doc.issue(pp + ("read_with",), "read_with 须为同一条的另一款")
        elif other.paragraph is None or other.paragraph == ref.paragraph:
            yield doc.issue(pp + ("read_with",), "read_with 须写明另一款（paragraph），不得与 basis 的款相同")
        elif not _BACK_REFERENCE.search(p.basis.text):
            yield doc.issue(pp + ("read_with",), "所引条文没有援引本条另一款（“有前款……”“依照前款……”），不需要 read_with")
    elif (ref.paragraph is not None or ref.item is not None) and _BACK_REFERENCE.search(p.basis.text):
        yield doc.issue(pp + ("basis",), "所引条文的违法行为或者罚款在本条另一款（“有前款……”“依照前款……”）：请用 read_with 写明该款，引用时一并写明")


def check_violation(
    v: Violation,
    doc: loading.Document,
    law: LawEdition,
    facts: dict[str, FactDef],
    circumstances: dict[str, CircumstanceDef],
) -> Iterator[RulebookIssue]:
    regime_laws = {r.id: set(r.laws) for r in law.regimes}
    for i, cid in enumerate(v.circumstances):
        if cid not in circumstances:
            yield doc.issue(("circumstances", i), f"未知的情节：{cid}（请先在 law.yaml 中定义）")
    known = set(facts) | set(circumstances) | set(DERIVED)
    yield from check_contradictions(doc, ("contradictions",), v.contradictions, known, facts)
    for rid, rules in v.regimes.items():
        base = ("regimes", rid)
        laws = regime_laws.get(rid, set())
        for i, q in enumerate(rules.violated):
            if q.ref.law not in laws:
                yield doc.issue(base + ("violated", i, "ref", "law"), f"《{q.ref.law}》不属于法律体系 {rid}")
            yield from check_condition(doc, base + ("violated", i, "when"), q.when, known, facts)
        for i, name in enumerate(rules.requires):
            if name not in facts:
                yield doc.issue(base + ("requires", i), f"必填事实 {name} 未在 facts 中列出")
        ids: set[str] = set()
        for pi, p in enumerate(rules.provisions):
            pp = base + ("provisions", pi)
            if p.basis.ref.law not in laws:
                yield doc.issue(pp + ("basis", "ref", "law"), f"《{p.basis.ref.law}》不属于法律体系 {rid}")
            yield from check_condition(doc, pp + ("when",), p.when, known, facts)
            for rule_id in [p.id] + [e.id for e in p.escalations]:
                if rule_id in ids:
                    yield doc.issue(pp, f"规则编号重复：{rule_id}")
                ids.add(rule_id)
            fines = [(pp + ("fine",), p.fine, True)] + [
                (pp + ("individual_fines", k, "fine"), f.fine, False) for k, f in enumerate(p.individual_fines)
            ]
            for ei, esc in enumerate(p.escalations):
                ep = pp + ("escalations", ei)
                yield from check_condition(doc, ep + ("when",), esc.when, known, facts)
                fines.append((ep + ("fine",), esc.fine, True))
                for k, f in enumerate(esc.individual_fines or []):
                    fines.append((ep + ("individual_fines", k, "fine"), f.fine, False))
                    yield from check_condition(doc, ep + ("individual_fines", k, "when"), f.when, known, facts)
                for k, m in enumerate(esc.measures):
                    yield from check_condition(doc, ep + ("measures", k, "when"), m.when, known, facts)
                    if m.basis and m.basis.ref.law not in laws:
                        yield doc.issue(ep + ("measures", k, "basis", "ref", "law"), f"《{m.basis.ref.law}》不属于法律体系 {rid}")
                for k, fl in enumerate(esc.flags):
                    yield from check_condition(doc, ep + ("flags", k, "when"), fl.when, known, facts)
                if esc.basis and esc.basis.ref.law not in laws:
                    yield doc.issue(ep + ("basis", "ref", "law"), f"《{esc.basis.ref.law}》不属于法律体系 {rid}")
            for k, f in enumerate(p.individual_fines):
                yield from check_condition(doc, pp + ("individual_fines", k, "when"), f.when, known, facts)
            for k, m in enumerate(p.measures):
                yield from check_condition(doc, pp + ("measures", k, "when"), m.when, known, facts)
                if m.basis and m.basis.ref.law not in laws:
                    yield doc.issue(pp + ("measures", k, "basis", "ref", "law"), f"《{m.basis.ref.law}》不属于法律体系 {rid}")
            for k, fl in enumerate(p.flags):
                yield from check_condition(doc, pp + ("flags", k, "when"), fl.when, known, facts)
            yield from _check_read_with(doc, pp, p)
            if p.amount_elsewhere and (p.fine is not None or not any(w in p.basis.text for w in ELSEWHERE_WORDS)):
                yield doc.issue(pp + ("amount_elsewhere",), "amount_elsewhere 只用于未规定罚款数额、写明“依法予以处罚”或者“依法处以罚款”的规定（fine 须为 null）")
            if getattr(p.fine, "optional", False) and "可以处" not in p.basis.text:
                yield doc.issue(pp + ("fine", "optional"), "optional: true 只用于“可以处……罚款”的规定，所引条文中没有“可以处”")
            for path, fine, unit_fine in fines:
                base_fact = getattr(fine, "base", None) or getattr(fine, "count", None)
                if base_fact is None:
                    continue
                f = facts.get(base_fact)
                if f is None:
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 未在 facts 中列出")
                elif f.type not in ("money", "count"):
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 必须是金额或计数")
                elif unit_fine and base_fact not in rules.requires:
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 必须列入 requires")


def check_contradictions(
    doc: loading.Document, path: tuple[Any, ...], rules: list[Contradiction], known: set[str], facts: dict[str, FactDef]
) -> Iterator[RulebookIssue]:
    """Contradiction rules read only known names, of the right type; ``exceeds`` compares two numbers."""
    known = known | set(DERIVED) | set(CASE_DERIVED)
    facts = {**facts, **DERIVED, **CASE_DERIVED}
    ids: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in ids:
            yield doc.issue(path + (i, "id"), f"矛盾规则编号重复：{rule.id}")
        ids.add(rule.id)
        yield from check_condition(doc, path + (i, "when"), rule.when, known, facts)
        for k, name in enumerate(rule.exceeds or []):
            f = facts.get(name)
            if f is None or f.type not in ("count", "number", "money"):
                yield doc.issue(path + (i, "exceeds", k), f"exceeds 只能比较数值事实：{name}")
