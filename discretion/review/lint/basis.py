"""``missing-basis``: quoted texts that quote nothing, references to laws outside the regimes, and
rules without a legal basis or a stated source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...engine.trail import REGIME_LABELS
from ...rulebooks.models import Factor
from .findings import WARNING, Finding, _at
from .scope import _regimes_for
from .tree import Tree

_CJK = re.compile(r"[\u3400-\u9fff]")
_PLACEHOLDER = re.compile(r"TODO|TBD|FIXME|XXX", re.IGNORECASE)
_PLACEHOLDER_CN = re.compile(r"(此处)?(待补充|待核实|待定|暂缺|同上|略)(条文|原文|法条)?(内容)?")


def _quotes(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(data, dict):
        if isinstance(data.get("ref"), dict) and "text" in data:
            yield path, data
            return
        for k, v in data.items():
            yield from _quotes(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _quotes(v, path + (i,))


def _checked_by_loader(path: tuple[Any, ...]) -> bool:
    """Quotes whose law the loader already checks against the regime (violated, provision and
    escalation bases)."""
    if len(path) >= 4 and path[0] == "regimes" and path[2] == "violated":
        return True
    return bool(path) and path[-1] == "basis" and "flags" not in path


def check_basis(tree: Tree) -> Iterator[Finding]:
    """Quoted texts that quote nothing, references to laws outside the regimes, and benchmark
    rules with neither a legal basis nor a stated source."""
    all_laws = {name for r in tree.law.regimes for name in r.laws} if tree.law else set()
    regime_laws = {r.id: set(r.laws) for r in tree.law.regimes} if tree.law else {}
    edition_docs = {id(le.doc): le for le in tree.editions.values()}
    violation_docs = {id(lv.doc) for lv in tree.violations.values()}
    for doc in tree.docs:
        le = edition_docs.get(id(doc))
        for path, q in _quotes(doc.data):
            text = q.get("text")
            if isinstance(text, str):
                body = re.sub(r"[…\.\s。，、；：,;:“”\"'（）()]", "", text)
                if len(_CJK.findall(body)) < 4 or _PLACEHOLDER.search(text) or _PLACEHOLDER_CN.fullmatch(body):
                    yield _at(doc, path + ("text",), "missing-basis", f"引文没有条文内容：{text!r}（须逐字引用法条原文，省略处写作……）")
            law = q["ref"].get("law")
            if not isinstance(law, str) or tree.law is None:
                continue
            if le is not None:
                regimes = _regimes_for(tree, le.model)
                allowed = {n for r in regimes for n in r.laws}
                if law not in allowed:
                    names = "、".join(REGIME_LABELS.get(r.id, r.id) for r in regimes) or "无"
                    yield _at(doc, path + ("ref", "law"), "missing-basis",
                              f"依据《{law}》不属于本版本施行期间适用的法律体系（{names}），不能作为依据")
            elif id(doc) in violation_docs and len(path) > 2 and path[0] == "regimes":
                if not _checked_by_loader(path) and law not in regime_laws.get(path[1], set()):
                    yield _at(doc, path + ("ref", "law"), "missing-basis", f"依据《{law}》不属于法律体系 {path[1]}")
            elif law not in all_laws:
                yield _at(doc, path + ("ref", "law"), "missing-basis", f"依据《{law}》不是法律层收录的法律")
    statutory = {rid: {a.circumstance for a in g.adjustments} for rid, g in tree.law.general.items()} if tree.law else {}
    for le in tree.editions.values():
        e, doc = le.model, le.doc
        regimes = _regimes_for(tree, e)
        for i, adj in enumerate(e.adjustments or []):
            if adj.basis is not None or adj.modelled is not None:
                continue
            lacking = [r.id for r in regimes if adj.circumstance not in statutory.get(r.id, set())]
            if lacking:
                yield _at(doc, ("adjustments", i), "missing-basis",
                          f"调整项没有 basis，{'、'.join(REGIME_LABELS.get(r, r) for r in lacking)}下也没有情节 {adj.circumstance} 的法定从轻从重规则，"
                          "又没有 modelled 说明来源：计算时只能以本基准为依据", severity=WARNING)
        factors: list[tuple[tuple[Any, ...], Factor]] = [(("common_factors", i), f) for i, f in enumerate(e.common_factors or [])]
        factors += [(("violations", code, "factors", i), f) for code, vb in e.violations.items() for i, f in enumerate(vb.factors)]
        for path, f in factors:
            if not f.source and f.modelled is None:
                yield _at(doc, path, "missing-basis", f"因子 {f.id} 既没有 source 也没有 modelled，无从核对其来源", severity=WARNING)
