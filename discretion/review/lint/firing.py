"""``never-fires`` and ``exclusive-overlap``: rules that can never apply, and rules of which only
one may apply that can apply together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...rulebooks import conditions
from .findings import Finding, _at
from .scope import _all, _boxes, _covered, _edition_env, _law_env, _violation_env
from .space import Box, Space, _Skip
from .tree import Tree


def check_conditions(tree: Tree) -> Iterator[Finding]:
    """Conditions that can never hold: alone, together with the rule they belong to, for the
    violation types an exemption entry lists, or behind an earlier first-match rule."""
    if tree.law is not None and tree.law_doc is not None:
        space = Space(_law_env(tree))
        doc = tree.law_doc
        for rid, gen in tree.law.general.items():
            earlier: list[Box] = []
            catch_all: str | None = None
            for i, lim in enumerate(gen.limitation):
                path = ("general", rid, "limitation", i, "when" if lim.when else "id")
                if catch_all is not None:
                    yield _at(doc, path, "never-fires", f"追责期限规则按顺序取第一条适用的；前面的 {catch_all} 没有条件，本条永远不会适用")
                    continue
                if lim.when is None:
                    catch_all = lim.id
                    continue
                boxes = _boxes(space, lim.when)
                if boxes is None:
                    continue
                if not boxes:
                    yield _at(doc, path, "never-fires", f"条件永远不成立：{lim.when}")
                elif earlier and _covered(space, boxes, earlier):
                    yield _at(doc, path, "never-fires", f"追责期限规则按顺序取第一条适用的；条件 {lim.when} 成立时前面的规则已经适用，本条永远不会适用")
                earlier.extend(boxes)
            for i, ex in enumerate(gen.exemptions):
                if _boxes(space, ex.when) == []:
                    yield _at(doc, ("general", rid, "exemptions", i, "when"), "never-fires", f"条件永远不成立：{ex.when}")

    if tree.law is not None and tree.law_doc is not None:
        yield from _dead_contradictions(Space(_law_env(tree)), tree.law_doc, tree.law.contradictions)
    for lv in tree.violations.values():
        v, doc = lv.model, lv.doc
        space = Space(_violation_env(tree, lv))
        yield from _dead_contradictions(space, doc, v.contradictions)
        for rid, rules in v.regimes.items():
            for pi, p in enumerate(rules.provisions):
                pp = ("regimes", rid, "provisions", pi)
                if _boxes(space, p.when) == []:
                    yield _at(doc, pp + ("when",), "never-fires", f"罚则的条件永远不成立：{p.when}")
                    continue
                inner: list[tuple[tuple[Any, ...], list[str | None]]] = []
                for k, f in enumerate(p.individual_fines):
                    inner.append((pp + ("individual_fines", k, "when"), [f.when]))
                for k, m in enumerate(p.measures):
                    inner.append((pp + ("measures", k, "when"), [m.when]))
                for k, fl in enumerate(p.flags):
                    inner.append((pp + ("flags", k, "when"), [fl.when]))
                for ei, esc in enumerate(p.escalations):
                    ep = pp + ("escalations", ei)
                    inner.append((ep + ("when",), [esc.when]))
                    for k, f in enumerate(esc.individual_fines or []):
                        inner.append((ep + ("individual_fines", k, "when"), [esc.when, f.when]))
                    for k, m in enumerate(esc.measures):
                        inner.append((ep + ("measures", k, "when"), [esc.when, m.when]))
                    for k, fl in enumerate(esc.flags):
                        inner.append((ep + ("flags", k, "when"), [esc.when, fl.when]))
                for path, conds in inner:
                    if conds[-1] is None:
                        continue
                    if _boxes(space, conds[-1]) == []:
                        yield _at(doc, path, "never-fires", f"条件永远不成立：{conds[-1]}")
                        continue
                    if _all(space, p.when, *conds) == []:
                        outer = " 且 ".join(c for c in [p.when, *conds[:-1]] if c)
                        yield _at(doc, path, "never-fires", f"条件 {conds[-1]} 与所属规则的条件（{outer}）不能同时成立，永远不会适用")

    for le in tree.editions.values():
        e, doc = le.model, le.doc
        general = Space(_edition_env(tree, le, None))
        yield from _dead_contradictions(general, doc, e.contradictions or [])
        red = e.reduction
        if red is not None and _boxes(general, red.when) == []:
            yield _at(doc, ("reduction", "when"), "never-fires", f"减轻的条件永远不成立：{red.when}", rule_id="reduction")
        for xi, entry in enumerate(e.exemptions or []):
            dead = []
            for code in entry.violations:
                if code not in tree.violations:
                    continue
                sp = Space(_edition_env(tree, le, code))
                if _boxes(sp, entry.when) == []:
                    missing = sorted(n for n in conditions.names(conditions.parse(entry.when)) if sp.env.get(n, 0) is None)
                    dead.append(code + (f"（该违法行为没有事实 {'、'.join(missing)}）" if missing else ""))
            if dead:
                yield _at(doc, ("exemptions", xi, "when"), "never-fires", f"免罚条目的条件对下列违法行为永远不成立：{'；'.join(dead)}")
        if e.parent is not None and e.effective_to is not None and e.effective_to < e.effective_from:
            yield _at(doc, ("effective_to",), "never-fires", "失效日期早于施行日期，本版本永远不会施行", rule_id=le.key)


def _dead_contradictions(space: Space, doc: Any, rules: list[Any]) -> Iterator[Finding]:
    """Contradiction rules whose condition can never hold: they would never refuse anything, so the
    inputs they were written to catch would pass unnoticed (``exceeds`` rules compare two facts and
    are not read here)."""
    for i, c in enumerate(rules):
        if c.when is not None and _boxes(space, c.when) == []:
            yield _at(doc, ("contradictions", i, "when"), "never-fires",
                      f"矛盾输入规则 {c.id} 的条件永远不成立：{c.when}；它不会拒绝任何输入", rule_id=c.id)


def check_duties(tree: Tree) -> Iterator[Finding]:
    """The duties (义务条款) of each regime against its provisions: a duty whose condition never
    holds, or never holds when a provision applies, is never cited (``never-fires``); a case a
    provision punishes whose facts select no duty would cite none of its own (``missing-basis``)."""
    for lv in tree.violations.values():
        v, doc = lv.model, lv.doc
        space = Space(_violation_env(tree, lv))
        for rid, rules in v.regimes.items():
            provisions = [(pi, p, _boxes(space, p.when)) for pi, p in enumerate(rules.provisions)]
            if any(b is None for _, _, b in provisions):
                continue  # a condition the analysis cannot read (the loader reports it)
            punished = [box for _, _, b in provisions for box in b]  # type: ignore[union-attr]
            duties: list[Box] = []
            for di, duty in enumerate(rules.violated):
                path = ("regimes", rid, "violated", di, "when")
                boxes = _boxes(space, duty.when)
                if boxes is None:
                    duties = []
                    break
                if not boxes:
                    yield _at(doc, path, "never-fires", f"义务条款的条件永远不成立：{duty.when}", rule_id=f"{rid}/violated/{di}")
                elif duty.when is not None and punished and space.overlap(boxes, punished) is None:
                    yield _at(doc, path, "never-fires",
                              f"义务条款的条件 {duty.when} 与本法律体系任何罚则的条件都不能同时成立，该条款永远不会被引用",
                              rule_id=f"{rid}/violated/{di}")
                duties.extend(boxes)
            else:
                for pi, p, pboxes in provisions:
                    try:
                        rest = space.uncovered(pboxes, duties)  # type: ignore[arg-type]
                    except _Skip:
                        continue
                    if rest:
                        yield _at(doc, ("regimes", rid, "provisions", pi, "when" if p.when else "id"), "missing-basis",
                                  f"罚则 {p.id} 适用的情形中，有的不符合任何义务条款的条件（例如 {space.show(rest[0])}）："
                                  "说理无从写明该行为违反了哪一条；请为该情形列出所违反的义务条款（violated 的 when）",
                                  rule_id=p.id)


def check_exclusive(tree: Tree) -> Iterator[Finding]:
    """Rules of which at most one may apply: alternative provisions of one law in one regime,
    escalations that each replace the individual fines, and two adjustments (or two statutory
    adjustments) for one circumstance."""
    for lv in tree.violations.values():
        v, doc = lv.model, lv.doc
        space = Space(_violation_env(tree, lv))
        for rid, rules in v.regimes.items():
            seen: list[tuple[int, Any, list[Box]]] = []
            for pi, p in enumerate(rules.provisions):
                boxes = _boxes(space, p.when)
                if boxes is None:
                    continue
                for _, q, qboxes in seen:
                    if q.basis.ref.law != p.basis.ref.law:
                        continue  # concurrent norms of different laws: the higher fine applies
                    w = space.overlap(qboxes, boxes)
                    if w is not None:
                        yield _at(
                            doc,
                            ("regimes", rid, "provisions", pi, "when" if p.when else "id"),
                            "exclusive-overlap",
                            f"同一部法律的两项罚则 {q.id}（{q.when or '无条件'}）与 {p.id}（{p.when or '无条件'}）同时适用，例如 {space.show(w)}；"
                            "同一法律中按条件选择的罚则只能适用其一",
                        )
                seen.append((pi, p, boxes))
                replacing = [(ei, x) for ei, x in enumerate(p.escalations) if x.individual_fines is not None]
                for later in range(len(replacing)):
                    for earlier_i in range(later):
                        (ei, x), (_, y) = replacing[later], replacing[earlier_i]
                        both = _all(space, p.when, x.when, y.when)
                        if both:
                            yield _at(
                                doc,
                                ("regimes", rid, "provisions", pi, "escalations", ei, "when"),
                                "exclusive-overlap",
                                f"加重情形 {y.id} 与 {x.id} 都替换对个人的罚款，却可以同时成立（例如 {space.show(both[0])}），结果取决于书写顺序",
                            )
    if tree.law is not None and tree.law_doc is not None:
        for rid, gen in tree.law.general.items():
            seen_c: dict[str, str] = {}
            for i, adj in enumerate(gen.adjustments):
                if adj.circumstance in seen_c:
                    yield _at(tree.law_doc, ("general", rid, "adjustments", i, "circumstance"), "exclusive-overlap",
                              f"情节 {adj.circumstance} 已有法定从轻从重规则 {seen_c[adj.circumstance]}，同一情节只能有一条")
                else:
                    seen_c[adj.circumstance] = adj.id
    for le in tree.editions.values():
        e, doc = le.model, le.doc
        seen_c = {}
        for i, e_adj in enumerate(e.adjustments or []):
            if e_adj.circumstance in seen_c:
                yield _at(doc, ("adjustments", i, "circumstance"), "exclusive-overlap",
                          f"情节 {e_adj.circumstance} 已由调整项 {seen_c[e_adj.circumstance]} 调整；两项会同时适用，重复评价同一情节")
            else:
                seen_c[e_adj.circumstance] = e_adj.id
