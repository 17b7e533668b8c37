"""``prefecture-widens``: a prefecture edition wider than its provincial edition, beyond what the
loader's narrowing checks cover."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ...rulebooks.models import BenchmarkEdition, Factor
from .findings import Finding, _at
from .tree import Tree


def _factor_same(a: Factor, b: Factor) -> bool:
    return a.weight == b.weight and [(x.level, x.when) for x in a.levels] == [(x.level, x.when) for x in b.levels]


def _looser(key: str, e: BenchmarkEdition, p: BenchmarkEdition, doc: Any) -> Iterator[Finding]:
    """Departures the loader lets through that make the benchmark more lenient than the province's:
    an aggravating adjustment lowered (a mitigating one raised, or any adjustment raised, the loader
    refuses), and a rounding that moves the fine further (a larger step) or always down."""
    parent = {a.id: a for a in p.adjustments or []}
    for i, adj in enumerate(e.adjustments or []):
        pa = parent.get(adj.id)
        if pa is not None and adj.direction == pa.direction == "aggravate" and adj.points < pa.points:
            yield _at(doc, ("adjustments", i, "points"), "prefecture-widens",
                      f"从重幅度 {adj.points.normalize():f} 点低于上级版本 {e.parent} 的 {pa.points.normalize():f} 点：调低从重（或调高从轻）"
                      "是放宽上级版本，下级版本只能收窄", rule_id=adj.id)
    r, pr = e.rounding, p.rounding
    if r is not None and pr is not None:
        if r.step > pr.step:
            yield _at(doc, ("rounding", "step"), "prefecture-widens",
                      f"取整单位 {r.step} 元大于上级版本的 {pr.step} 元：推荐金额离裁量位置更远，是放宽上级版本", rule_id=key)
        if r.mode == "down" and pr.mode != "down":
            yield _at(doc, ("rounding", "mode"), "prefecture-widens",
                      "取整方式为一律向下（down），上级版本为四舍五入（half_up）：推荐金额一律偏低，是放宽上级版本", rule_id=key)


def check_prefecture(tree: Tree) -> Iterator[Finding]:
    """What the loader's narrowing checks do not cover: a prefecture edition in force when its
    provincial edition is not, an aggravating adjustment lowered, a coarser or downward rounding,
    and factors whose levels or weights differ from the province's (the benchmark narrows through
    position windows, never by regrading)."""
    for le in tree.editions.values():
        e, doc = le.model, le.doc
        if e.parent is None or e.parent not in tree.editions:
            continue
        p = tree.editions[e.parent].model
        p_end = p.effective_to or dt.date.max
        e_end = e.effective_to or dt.date.max
        if e.effective_from < p.effective_from or e_end > p_end:
            where = ("effective_from",) if e.effective_from < p.effective_from else ("effective_to",)
            yield _at(doc, where, "prefecture-widens",
                      f"下级版本的施行期间（{e.effective_from} 至 {e.effective_to or '无失效日期'}）超出上级版本 {e.parent} 的施行期间"
                      f"（{p.effective_from} 至 {p.effective_to or '无失效日期'}）：上级版本失效后，本版本不再是对现行上级版本的收窄", rule_id=le.key)
        yield from _looser(le.key, e, p, doc)
        pcommon = {f.id: f for f in p.common_factors or []}
        for i, f in enumerate(e.common_factors or []):
            pf = pcommon.get(f.id)
            if pf is None:
                yield _at(doc, ("common_factors", i), "prefecture-widens", f"上级版本没有共性因子 {f.id}，下级版本不得新增", rule_id=f.id)
            elif not _factor_same(f, pf):
                yield _at(doc, ("common_factors", i), "prefecture-widens",
                          f"下级版本改变了共性因子 {f.id} 的等级条件或权重；只能用位置窗口收窄，不得重新分级", rule_id=f.id)
        if e.common_factors is not None and {f.id for f in e.common_factors} != set(pcommon):
            missing = sorted(set(pcommon) - {f.id for f in e.common_factors})
            if missing:
                yield _at(doc, ("common_factors",), "prefecture-widens", f"下级版本删去了上级版本的共性因子 {'、'.join(missing)}")
        for code, vb in e.violations.items():
            pv = p.violations.get(code)
            if pv is None:
                continue
            pf_by = {f.id: f for f in pv.factors}
            for i, f in enumerate(vb.factors):
                pf = pf_by.get(f.id)
                if pf is not None and not _factor_same(f, pf):
                    yield _at(doc, ("violations", code, "factors", i), "prefecture-widens",
                              f"下级版本改变了 {code} 的因子 {f.id} 的等级条件或权重；只能用位置窗口收窄，不得重新分级", rule_id=f.id)
