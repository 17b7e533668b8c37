"""``level-gap``, ``level-overlap`` and dead levels (``never-fires``) of the factors an edition defines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...rulebooks import conditions, loading
from ...rulebooks.models import Factor
from .findings import Finding, _at
from .scope import _boxes, _edition_env
from .space import Box, Num, Space, _full, _norm, _num_and, _num_not, _show_num, _Skip
from .tree import Tree


def _factor_checks(doc: loading.Document, path: tuple[Any, ...], factor: Factor, space: Space) -> Iterator[Finding]:
    levels: list[tuple[int, Any, list[Box]]] = []
    for li, lv in enumerate(factor.levels):
        if lv.when is None:
            continue
        boxes = _boxes(space, lv.when)
        if boxes is None:
            return  # an unknown name or an unanalysable condition: the loader reports it
        if not boxes:
            yield _at(doc, path + ("levels", li, "when"), "never-fires", f"因子 {factor.id} 第{lv.level}级的条件永远不成立：{lv.when}", rule_id=factor.id)
        levels.append((li, lv, boxes))
    for i, (li, lv, boxes) in enumerate(levels):
        for lj, other, oboxes in levels[:i]:
            w = space.overlap(oboxes, boxes)
            if w is not None:
                yield _at(
                    doc,
                    path + ("levels", li, "when"),
                    "level-overlap",
                    f"因子 {factor.id} 的第{other.level}级（{other.when}）与第{lv.level}级（{lv.when}）同时成立，例如 {space.show(w)}；"
                    "一个取值只能属于一个等级（计算时取较高等级）",
                    rule_id=factor.id,
                )
    default = next((lv for lv in factor.levels if lv.when is None), None)
    names = sorted({n for _, lv, _ in levels for n in conditions.names(conditions.parse(lv.when or ""))})
    if not levels or not names:
        return
    covers = [b for _, _, bs in levels for b in bs]
    if default is None:
        try:
            rest = space.uncovered([{}], covers)
        except _Skip:
            return
        if rest:
            lowest = min(factor.levels, key=lambda x: x.level)
            yield _at(
                doc,
                path + ("levels",),
                "level-gap",
                f"因子 {factor.id} 没有默认等级，而 {space.show(rest[0])} 不属于任何等级（计算时按最低的第{lowest.level}级“{lowest.label}”）",
                rule_id=factor.id,
            )
        return
    if len(names) != 1:
        return
    dom = space.env.get(names[0])
    if dom is None or dom.kind != "num":
        return
    union: Num = ()
    for b in covers:
        union = _norm(list(union) + list(b.get(names[0], _full(dom))), dom.integer)
    rest_num = _num_and(_full(dom), _num_not(union, dom.integer), dom.integer)  # type: ignore[arg-type]  # a num domain's full set is a Num
    if len(rest_num) > 1:
        edge = [iv for iv in rest_num if iv[0] == dom.lo or iv[2] is None or iv[2] == dom.hi]
        keep = edge[0] if edge else rest_num[0]
        holes = tuple(iv for iv in rest_num if iv is not keep)
        yield _at(
            doc,
            path + ("levels",),
            "level-gap",
            f"因子 {factor.id} 的等级条件有空档：{names[0]} 为 {_show_num(holes, dom.integer)} 时不属于任何等级，"
            f"计算时取默认的第{default.level}级“{default.label}”",
            rule_id=factor.id,
        )


def check_levels(tree: Tree) -> Iterator[Finding]:
    """Gaps, overlaps and dead levels of every factor an edition defines itself."""
    for le in tree.editions.values():
        e, doc = le.model, le.doc
        general = Space(_edition_env(tree, le, None))
        for fi, factor in enumerate(e.common_factors or []):
            yield from _factor_checks(doc, ("common_factors", fi), factor, general)
        for code, vb in e.violations.items():
            space = Space(_edition_env(tree, le, code))
            for fi, factor in enumerate(vb.factors):
                yield from _factor_checks(doc, ("violations", code, "factors", fi), factor, space)
