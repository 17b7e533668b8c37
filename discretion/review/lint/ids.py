"""``duplicate-id``: ids the loader does not compare."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ...rulebooks import loading
from .findings import Finding, _at
from .tree import Tree


def _dupes(doc: loading.Document, base: tuple[Any, ...], items: Sequence[Any], attr: str, what: str) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        key = getattr(item, attr, None) if not isinstance(item, str) else item
        if key is None:
            continue
        if key in seen:
            yield _at(doc, base + (i,), "duplicate-id", f"{what}编号重复：{key}（另见第 {seen[key] + 1} 项）", rule_id=str(key))
        else:
            seen[key] = i


def check_duplicates(tree: Tree) -> Iterator[Finding]:
    """Ids the loader does not compare (it compares provision ids, violation codes and editions)."""
    if tree.law is not None and tree.law_doc is not None:
        law, doc = tree.law, tree.law_doc
        yield from _dupes(doc, ("regimes",), law.regimes, "id", "法律体系")
        yield from _dupes(doc, ("facts",), law.facts, "name", "事实")
        yield from _dupes(doc, ("circumstances",), law.circumstances, "id", "情节")
        for rid, gen in law.general.items():
            yield from _dupes(doc, ("general", rid, "limitation"), gen.limitation, "id", "追责期限规则")
            yield from _dupes(doc, ("general", rid, "exemptions"), gen.exemptions, "id", "法定免罚规则")
            yield from _dupes(doc, ("general", rid, "adjustments"), gen.adjustments, "id", "法定从轻从重规则")
    for lv in tree.violations.values():
        v, doc = lv.model, lv.doc
        yield from _dupes(doc, ("facts",), v.facts, "name", "事实")
        yield from _dupes(doc, ("circumstances",), v.circumstances, "", "情节")
    for le in tree.editions.values():
        e, doc = le.model, le.doc
        yield from _dupes(doc, ("facts",), e.facts, "name", "事实")
        yield from _dupes(doc, ("common_factors",), e.common_factors or [], "id", "共性因子")
        for code, vb in e.violations.items():
            yield from _dupes(doc, ("violations", code, "factors"), vb.factors, "id", "个性因子")
        yield from _dupes(doc, ("adjustments",), e.adjustments or [], "id", "调整项")
        yield from _dupes(doc, ("exemptions",), e.exemptions or [], "id", "免罚条目")
