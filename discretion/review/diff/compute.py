"""Computing a diff: resolving A and B, then comparing edition data, facts, formula, factors and
levels, adjustments, 减轻, rounding, thresholds, and per violation type the statutory fines,
factors, position window and exemption entries."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ...engine.citation import cite, cite_provision
from ...engine.inputs import COUNT_LABELS
from ...engine.money import yuan_text
from ...errors import InputError, NotFoundError
from ...rulebooks.approval import STATUS_LABELS, content_hash
from ...rulebooks.conditions import ConditionSyntaxError, Literal, describe, parse
from ...rulebooks.loaded import LoadedEdition, RulebookSet
from ...rulebooks.models import (
    Adjustment,
    BenchmarkEdition,
    ExemptionEntry,
    FactDef,
    Factor,
    Fine,
    FromLaw,
    MultipleFine,
    PerUnitFine,
    Provision,
    Quoted,
    RangeFine,
    RateFine,
    UpToFine,
)
from ...rulebooks.tree import edition_file
from .result import FACT_TYPE_LABELS, Change, EditionDiff, Quote, Side, ViolationDiff

_MONEY = {"hearing_unit", "hearing_individual", "collective_discussion", "legal_review", "step"}
_WORDS = {
    "direction": {"mitigate": "从轻", "aggravate": "从重"},
    "mode": {"half_up": "四舍五入", "down": "舍去"},
    "kind": {"minor": "轻微不罚", "first_offense": "首违不罚", "two_dimensional": "二维叠加"},
}


# --- resolving A and B ------------------------------------------------------------------------


def resolve(spec: str, rs: RulebookSet) -> tuple[RulebookSet, LoadedEdition]:
    """An edition key in ``rs``, or a path to an edition file (read with the tree that holds it)."""
    if spec.endswith((".yaml", ".yml")) or "/" in spec and "@" not in spec:
        path = Path(spec)
        if rs.root in path.resolve().parents and path.is_file():
            target = path.resolve()
            for le in rs.editions.values():
                if (rs.root.parent / le.doc.file).resolve() == target:
                    return rs, le
        return edition_file(path)
    if spec not in rs.editions:
        known = "、".join(sorted(rs.editions))
        raise NotFoundError(message=f"未知的裁量基准版本：{spec}（可选：{known}）", field="edition")
    return rs, rs.editions[spec]


def compare(spec_a: str, spec_b: str, rs: RulebookSet, regime: str | None = None) -> EditionDiff:
    """Resolve both sides (see :func:`resolve`) and diff them."""
    rs_a, a = resolve(spec_a, rs)
    rs_b, b = resolve(spec_b, rs)
    return diff(rs_a, a, rs_b, b, regime)


# --- helpers ----------------------------------------------------------------------------------


def _regime_of(rs: RulebookSet, e: BenchmarkEdition, forced: str | None) -> str:
    if forced is not None:
        if forced not in {r.id for r in rs.law.regimes}:
            raise InputError(message=f"未知的法律体系：{forced}", field="regime")
        return forced
    for r in rs.law.regimes:
        if r.effective_from <= e.effective_from and (r.effective_to is None or e.effective_from <= r.effective_to):
            return r.id
    raise InputError(message=f"版本施行日期 {e.effective_from.isoformat()} 早于本系统收录的法律", field="edition")


def _quote(q: Quoted) -> Quote:
    return Quote(cite(q.ref), q.text)


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _raw(v: Any) -> Any:
    if isinstance(v, Decimal):
        return _num(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json", exclude_defaults=True)
    if isinstance(v, (list, tuple)):
        return [_raw(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _raw(x) for k, x in v.items()}
    return v


def _show(field: str | None, v: Any) -> str:
    if v is None:
        return "（无）"
    if field in _WORDS and isinstance(v, str):
        return f"{_WORDS[field].get(v, v)}"
    if field in _MONEY and isinstance(v, int):
        return yuan_text(v)
    if isinstance(v, Decimal):
        return _num(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return "；".join(f"{k}：{x}" for k, x in v.items())
    if isinstance(v, Quoted):
        return cite(v.ref)
    if isinstance(v, (list, tuple)):
        return "、".join(_show(field, x) for x in v) or "（无）"
    return str(v)


def fine_text(f: Fine | None, facts: dict[str, FactDef] | None = None) -> str:
    """A statutory fine as the statute words it (without the case's facts)."""
    facts = facts or {}

    def label(name: str) -> str:
        return facts[name].label if name in facts else name

    if f is None:
        return "不处罚款"
    if isinstance(f, RangeFine):
        return f"{yuan_text(f.min)}以上{yuan_text(f.max)}以下"
    if isinstance(f, UpToFine):
        return f"{yuan_text(f.max)}以下"
    if isinstance(f, PerUnitFine):
        if f.min == f.max:
            return f"每{f.unit_label}{yuan_text(f.min)}"
        return f"每{f.unit_label}{yuan_text(f.min)}以上{yuan_text(f.max)}以下"
    floor = f"（不足{yuan_text(f.base_floor)}的，按{yuan_text(f.base_floor)}计算）" if f.base_floor is not None else ""
    if isinstance(f, RateFine):
        return f"{label(f.base)}百分之{_num(f.min_rate * 100)}以上百分之{_num(f.max_rate * 100)}以下{floor}"
    assert isinstance(f, MultipleFine)
    return f"{label(f.base)}{_num(f.min_multiple)}倍以上{_num(f.max_multiple)}倍以下{floor}"


class _Words:
    """The Chinese names a reviewer reads instead of identifiers: the facts of both sides (law layer, violation
    types, editions) with their choices and units, the circumstances, the counts conditions read, the editions;
    a condition (``when``) in words (:func:`~discretion.rulebooks.conditions.describe`)."""

    def __init__(self, *sides: tuple[RulebookSet, BenchmarkEdition]) -> None:
        self.facts: dict[str, FactDef] = {}
        self.circumstances: dict[str, str] = {}
        self.editions: dict[str, str] = {}
        for rs, e in sides:
            for f in e.facts:
                self.facts.setdefault(f.name, f)
            for f in rs.law.facts:
                self.facts.setdefault(f.name, f)
            for cid, c in rs.circumstances.items():
                self.circumstances.setdefault(cid, c.label)
            self.editions.update((k, le.model.title) for k, le in rs.editions.items())

    def scoped(self, *facts: Mapping[str, FactDef]) -> "_Words":
        """These words with a violation type's own facts (a name such as ``act`` means something else in each)."""
        out = copy.copy(self)
        out.facts = {**self.facts, **{k: v for fs in reversed(facts) for k, v in fs.items()}}
        return out

    def label(self, name: str) -> str:
        f = self.facts.get(name)
        return f.label if f is not None else self.circumstances.get(name) or COUNT_LABELS.get(name, name)

    def value(self, name: str, v: Literal) -> str:
        f = self.facts.get(name)
        if isinstance(v, str):
            return f"“{(f.choices or {}).get(v, v) if f is not None else v}”"
        text = _num(v) if isinstance(v, Decimal) else str(v)
        return f"{text}{f.unit or '' if f is not None else ''}"

    def cond(self, text: str | None, default: str = "（默认等级：其他等级都不适用时）") -> str:
        """A condition in words; the empty condition as ``default``; one that does not parse as written."""
        if not text:
            return default
        try:
            return describe(parse(text), self.label, self.value)
        except ConditionSyntaxError:
            return text

    def show(self, field: str | None, v: Any) -> str:
        """A field's value in words where it holds identifiers (a condition, circumstance, facts, choices, a
        fact type, an edition), else as :func:`_show` writes it."""
        if v is None:
            return _show(field, v)
        if field == "when" and isinstance(v, str):
            return self.cond(v)
        if field == "circumstance" and isinstance(v, str):
            return self.label(v)
        if field == "exceeds" and isinstance(v, (list, tuple)):
            return "、".join(f"“{self.label(x)}”" for x in v)
        if field == "choices" and isinstance(v, dict):
            return "、".join(str(x) for x in v.values())
        if field == "type" and isinstance(v, str):
            return FACT_TYPE_LABELS.get(v, v)
        if field == "parent" and isinstance(v, str):
            return self.editions.get(v, v)
        return _show(field, v)


class _Builder:
    """Collects changes for one area, with each side's legal basis."""

    def __init__(self, words: _Words) -> None:
        self.out: list[Change] = []
        self.words = words

    def add(self, kind: str, area: str, item: str, label: str, field: str | None, a: Any, b: Any,
            basis_a: Sequence[Quote] = (), basis_b: Sequence[Quote] = (), note: str | None = None,
            a_text: str | None = None, b_text: str | None = None) -> None:
        self.out.append(Change(
            kind=kind, area=area, item=item, label=label, field=field,
            a=a_text if a_text is not None else (None if kind == "added" else self.words.show(field, a)),
            b=b_text if b_text is not None else (None if kind == "removed" else self.words.show(field, b)),
            a_value=None if kind == "added" else _raw(a), b_value=None if kind == "removed" else _raw(b),
            basis_a=tuple(basis_a), basis_b=tuple(basis_b), note=note,
        ))

    def fields(self, area: str, item: str, label: str, a: Any, b: Any, names: Iterable[str],
               basis_a: Sequence[Quote] = (), basis_b: Sequence[Quote] = (),
               note: str | None = None) -> None:
        for name in names:
            va, vb = getattr(a, name), getattr(b, name)
            if va != vb:
                self.add("changed", area, item, label, name, va, vb, basis_a, basis_b, note)


def _levels_text(factor: Factor, words: _Words) -> str:
    return "；".join(f"{lv.level}级 {lv.label}（{words.cond(lv.when, '默认')}）" for lv in factor.levels)


def _factors(bld: _Builder, area: str, prefix: str, fa: Sequence[Factor], fb: Sequence[Factor],
             qa: Sequence[Quote], qb: Sequence[Quote]) -> None:
    a_by, b_by = {f.id: f for f in fa}, {f.id: f for f in fb}
    for fid in list(a_by) + [x for x in b_by if x not in a_by]:
        x, y = a_by.get(fid), b_by.get(fid)
        name = (y or x).label  # type: ignore[union-attr]
        label = f"{prefix}“{name}”"
        cond = bld.words.cond
        if x is None:
            assert y is not None
            bld.add("added", area, fid, label, None, None, y, (), qb, b_text=f"权重 {_num(y.weight)}；{_levels_text(y, bld.words)}")
            continue
        if y is None:
            bld.add("removed", area, fid, label, None, x, None, qa, (), a_text=f"权重 {_num(x.weight)}；{_levels_text(x, bld.words)}")
            continue
        bld.fields(area, fid, label, x, y, ("label", "weight"), qa, qb)
        la, lb = {lv.level: lv for lv in x.levels}, {lv.level: lv for lv in y.levels}
        for n in sorted(set(la) | set(lb)):
            p, q = la.get(n), lb.get(n)
            item, llabel = f"{fid}/{n}", f"{label} 第{n}级“{(q or p).label}”"  # type: ignore[union-attr]
            if p is None:
                bld.add("added", "level", item, llabel, None, None, q, (), qb, b_text=f"{q.label}（{cond(q.when, '默认等级')}）")  # type: ignore[union-attr]
            elif q is None:
                bld.add("removed", "level", item, llabel, None, p, None, qa, (), a_text=f"{p.label}（{cond(p.when, '默认等级')}）")
            else:
                bld.fields("level", item, llabel, p, q, ("label",), qa, qb)
                if p.when != q.when:
                    bld.add("changed", "level", item, llabel, "when", p.when, q.when, qa, qb, a_text=cond(p.when), b_text=cond(q.when))


# --- the diff ---------------------------------------------------------------------------------


def _side(rs: RulebookSet, le: LoadedEdition, regime: str) -> Side:
    e = le.model
    title = next(r.title for r in rs.law.regimes if r.id == regime)
    a = e.approval
    return Side(
        key=le.key, title=e.title, file=le.doc.file, status=e.status, status_label=STATUS_LABELS[e.status],
        effective_from=e.effective_from.isoformat(), effective_to=e.effective_to.isoformat() if e.effective_to else None,
        regime=regime, regime_title=title, author=e.author,
        reviewer=a.reviewer if a else None, approved_on=a.date.isoformat() if a else None,
        published_on=a.published_on.isoformat() if a and a.published_on else None,
        content_sha256=content_hash(e), benchmark_basis=_quote(rs.law.general[regime].benchmark),  # type: ignore[index]
    )


_OWN = "本版本所列依据"


def _adj_basis(adj: Adjustment, rs: RulebookSet, regime: str) -> tuple[tuple[Quote, ...], str]:
    if adj.basis is not None:
        return (_quote(adj.basis),), _OWN
    stat = [s for s in rs.law.general[regime].adjustments if s.circumstance == adj.circumstance]  # type: ignore[index]
    if stat:
        return tuple(dict.fromkeys(_quote(s.basis) for s in stat)), "法定情节（依据取自法律层）"
    return (), "酌定情节（无法定依据）"


def _provisions_text(ps: Sequence[Provision], facts: dict[str, FactDef], words: _Words) -> str:
    parts = []
    for p in ps:
        t = f"{cite_provision(p.basis.ref, p.read_with)}{'（' + words.cond(p.when) + '）' if p.when else ''}：罚款{fine_text(p.fine, facts)}"
        for f in p.individual_fines:
            t += f"；对{f.role}罚款{fine_text(f.fine, facts)}"
        for esc in p.escalations:
            if esc.fine is not None:
                t += f"；{esc.label}的，罚款{fine_text(esc.fine, facts)}"
        parts.append(t)
    return "\n".join(parts) or "（本法律体系下无罚则）"


def _escalations_text(p: Provision, facts: dict[str, FactDef], words: _Words) -> str:
    parts = [f"{e.label}（{words.cond(e.when)}）：{fine_text(e.fine, facts) if e.fine else '罚款不变'}" for e in p.escalations]
    return "；".join(parts) or "（无）"


def _provision_quotes(ps: Sequence[Provision]) -> tuple[Quote, ...]:
    out: dict[Quote, None] = {}
    for p in ps:
        out[_quote(p.basis)] = None
        for esc in p.escalations:
            if esc.basis is not None and esc.fine is not None:
                out[_quote(esc.basis)] = None
    return tuple(out)


def _statutory(bld: _Builder, code: str, rs_a: RulebookSet, ra: str, rs_b: RulebookSet, rb: str) -> None:
    lva, lvb = rs_a.violations.get(code), rs_b.violations.get(code)
    rules_a = lva.model.regimes.get(ra) if lva else None  # type: ignore[call-overload]
    rules_b = lvb.model.regimes.get(rb) if lvb else None  # type: ignore[call-overload]
    if rules_a == rules_b and ra == rb:
        return
    pa = list(rules_a.provisions) if rules_a else []
    pb = list(rules_b.provisions) if rules_b else []
    if not pa and not pb:
        return
    fa = lva.facts if lva else {}
    fb = lvb.facts if lvb else {}
    if ra != rb or not pa or not pb:
        ta, tb = _provisions_text(pa, fa, bld.words), _provisions_text(pb, fb, bld.words)
        if ta == tb and _provision_quotes(pa) == _provision_quotes(pb):
            return  # the same provisions stay in force under both regimes (e.g. a State Council regulation)
        same_fines = [fine_text(p.fine, fa) for p in pa] == [fine_text(p.fine, fb) for p in pb]
        note = "罚款幅度相同，罚则条文不同" if same_fines and pa else "罚款幅度或罚则改变"
        bld.add("changed" if pa and pb else ("added" if pb else "removed"), "statutory", code, "法定罚款及罚则", "regime",
                [p.id for p in pa], [p.id for p in pb], _provision_quotes(pa), _provision_quotes(pb), note,
                a_text=ta, b_text=tb)
        return
    a_by, b_by = {p.id: p for p in pa}, {p.id: p for p in pb}
    for pid in list(a_by) + [x for x in b_by if x not in a_by]:
        x, y = a_by.get(pid), b_by.get(pid)
        z = y or x
        assert z is not None
        label = f"罚则：{cite_provision(z.basis.ref, z.read_with)}"
        if x is None or y is None:
            bld.add("added" if x is None else "removed", "statutory", pid, label, None, x, y,
                    _provision_quotes([x]) if x else (), _provision_quotes([y]) if y else (),
                    a_text=_provisions_text([x], fa, bld.words) if x else None,
                    b_text=_provisions_text([y], fb, bld.words) if y else None)
            continue
        qa, qb = _provision_quotes([x]), _provision_quotes([y])
        if x.basis != y.basis or x.read_with != y.read_with:
            bld.add("changed", "statutory", pid, label, "basis", x.basis, y.basis, qa, qb,
                    a_text=f"{cite_provision(x.basis.ref, x.read_with)}：{x.basis.text}",
                    b_text=f"{cite_provision(y.basis.ref, y.read_with)}：{y.basis.text}")
        if x.fine != y.fine:
            bld.add("changed", "statutory", pid, label, "fine", x.fine, y.fine, qa, qb,
                    a_text=fine_text(x.fine, fa), b_text=fine_text(y.fine, fb))
        if x.when != y.when:
            bld.add("changed", "statutory", pid, label, "when", x.when, y.when, qa, qb)
        if x.individual_fines != y.individual_fines:
            bld.add("changed", "statutory", pid, label, "individual_fines", x.individual_fines, y.individual_fines, qa, qb,
                    a_text="；".join(f"{f.role}：{fine_text(f.fine, fa)}" for f in x.individual_fines) or "（无）",
                    b_text="；".join(f"{f.role}：{fine_text(f.fine, fb)}" for f in y.individual_fines) or "（无）")
        if x.escalations != y.escalations:
            bld.add("changed", "statutory", pid, label, "escalations", x.escalations, y.escalations, qa, qb,
                    a_text=_escalations_text(x, fa, bld.words), b_text=_escalations_text(y, fb, bld.words))


def _exemptions(bld: _Builder, code: str, xa: Sequence[ExemptionEntry], xb: Sequence[ExemptionEntry]) -> None:
    a_by = {x.id: x for x in xa if code in x.violations}
    b_by = {x.id: x for x in xb if code in x.violations}
    for xid in list(a_by) + [k for k in b_by if k not in a_by]:
        x, y = a_by.get(xid), b_by.get(xid)
        label = f"免罚条目“{(y or x).label}”"  # type: ignore[union-attr]
        qa = tuple(_quote(q) for q in x.basis) if x else ()
        qb = tuple(_quote(q) for q in y.basis) if y else ()
        if x is None or y is None:
            z = x or y
            text = f"{_WORDS['kind'][z.kind]}：{z.label}（条件：{bld.words.cond(z.when)}）"  # type: ignore[union-attr]
            bld.add("added" if x is None else "removed", "exemption", xid, label, None, x, y, qa, qb,
                    a_text=text if x else None, b_text=text if y else None)
            continue
        bld.fields("exemption", xid, label, x, y, ("label", "kind", "when"), qa, qb)
        if x.basis != y.basis:
            bld.add("changed", "exemption", xid, label, "basis", x.basis, y.basis, qa, qb)


def _from_law_text(fl: FromLaw, words: _Words) -> str:
    def each(k: str, v: Sequence[str]) -> str:
        return f"{words.value(fl.law_fact, k)} → {'、'.join(words.value(fl.fact, x) for x in v) or '不分级'}"

    return f"“{words.label(fl.fact)}”由“{words.label(fl.law_fact)}”读取：" + "；".join(each(k, v) for k, v in fl.values.items())


def _from_law(bld: _Builder, fa: Sequence[FromLaw], fb: Sequence[FromLaw], qa: Sequence[Quote], qb: Sequence[Quote]) -> None:
    """The edition's facts read from the law layer's, by the edition's fact."""
    a_by, b_by = {f.fact: f for f in fa}, {f.fact: f for f in fb}
    for name in list(a_by) + [n for n in b_by if n not in a_by]:
        x, y = a_by.get(name), b_by.get(name)
        label = f"事实“{bld.words.label(name)}”由法律层事实读取"
        if x is None or y is None:
            bld.add("added" if x is None else "removed", "from_law", name, label, None, x, y, qa if x else (), qb if y else (),
                    a_text=_from_law_text(x, bld.words) if x else None, b_text=_from_law_text(y, bld.words) if y else None)
        elif x != y:
            bld.add("changed", "from_law", name, label, "values", x.values, y.values, qa, qb,
                    a_text=_from_law_text(x, bld.words), b_text=_from_law_text(y, bld.words))


def _contradictions(g: _Builder, ea: BenchmarkEdition, eb: BenchmarkEdition, qa: Sequence[Quote], qb: Sequence[Quote]) -> None:
    """The edition's contradiction rules, by id."""
    a_by, b_by = {c.id: c for c in ea.contradictions or []}, {c.id: c for c in eb.contradictions or []}
    for cid in list(a_by) + [k for k in b_by if k not in a_by]:
        x, y = a_by.get(cid), b_by.get(cid)
        label = "矛盾规则"
        if x is None or y is None:
            z = x or y
            assert z is not None
            text = f"{g.words.cond(z.when) if z.when else g.words.show('exceeds', z.exceeds or ()) + '：前者大于后者'}：{z.reason}"
            g.add("added" if x is None else "removed", "contradiction", cid, label, None, x, y, qa if x else (), qb if y else (),
                  a_text=text if x else None, b_text=text if y else None)
            continue
        g.fields("contradiction", cid, label, x, y, ("when", "exceeds", "reason"), qa, qb)


def _facts(g: _Builder, ea: BenchmarkEdition, eb: BenchmarkEdition, qa: Sequence[Quote], qb: Sequence[Quote]) -> None:
    fa, fb = {f.name: f for f in ea.facts}, {f.name: f for f in eb.facts}
    for name in list(fa) + [n for n in fb if n not in fa]:
        x, y = fa.get(name), fb.get(name)
        if x is not None and y is not None:
            g.fields("fact", name, f"事实“{y.label}”", x, y, ("label", "type", "unit", "choices", "min", "max"), qa, qb)
            continue
        f = x or y
        assert f is not None
        text = f"{f.label}（{FACT_TYPE_LABELS.get(f.type, f.type)}{'，' + f.unit if f.unit else ''}）"
        g.add("added" if x is None else "removed", "fact", name, f"事实“{f.label}”", None, x, y,
              qa if x else (), qb if y else (), a_text=text if x else None, b_text=text if y else None)


def _adjustments(g: _Builder, rs_a: RulebookSet, ea: BenchmarkEdition, ra: str,
                 rs_b: RulebookSet, eb: BenchmarkEdition, rb: str) -> None:
    aa, ab = {x.id: x for x in ea.adjustments or []}, {x.id: x for x in eb.adjustments or []}

    def points(adj: Adjustment | None) -> str | None:
        return f"{_WORDS['direction'][adj.direction]} {_num(adj.points)} 个百分点" if adj else None

    for aid in list(aa) + [k for k in ab if k not in aa]:
        x, y = aa.get(aid), ab.get(aid)
        adj = y or x
        assert adj is not None
        circ = rs_b.circumstances.get(adj.circumstance) or rs_a.circumstances.get(adj.circumstance)
        label = f"{_WORDS['direction'][adj.direction]}调整项“{circ.label if circ else adj.circumstance}”"
        bqa, na = _adj_basis(x, rs_a, ra) if x else ((), "")
        bqb, nb = _adj_basis(y, rs_b, rb) if y else ((), "")
        if x is None or y is None:
            note = None if (na or nb) == _OWN else na or nb
            g.add("added" if x is None else "removed", "adjustment", aid, label, None, x, y, bqa, bqb, note,
                  a_text=points(x), b_text=points(y))
            continue
        note = None if na == nb == _OWN else (na if na == nb else f"A：{na}；B：{nb}")
        g.fields("adjustment", aid, label, x, y, ("circumstance", "direction", "points"), bqa, bqb, note=note)
        if bqa != bqb:
            g.add("changed", "adjustment", aid, label, "basis", [q.citation for q in bqa], [q.citation for q in bqb],
                  bqa, bqb, note, a_text="、".join(q.citation for q in bqa) or na, b_text="、".join(q.citation for q in bqb) or nb)


def _reduction(g: _Builder, ea: BenchmarkEdition, eb: BenchmarkEdition) -> None:
    red_a, red_b = ea.reduction, eb.reduction
    if red_a == red_b:
        return
    rqa = (_quote(red_a.basis),) if red_a else ()
    rqb = (_quote(red_b.basis),) if red_b else ()
    label = "减轻（低于法定最低额）"
    if red_a is not None and red_b is not None:
        g.fields("reduction", "reduction", label, red_a, red_b, ("when", "floor_ratio", "ratio", "basis"), rqa, rqb)
        return
    red = red_a or red_b
    assert red is not None
    text = f"条件：{g.words.cond(red.when, '无')}；建议为法定最低额的 {_num(red.ratio)}，不低于 {_num(red.floor_ratio)}"
    g.add("added" if red_a is None else "removed", "reduction", "reduction", label, None, red_a, red_b, rqa, rqb,
          a_text=text if red_a else None, b_text=text if red_b else None)


def _procedure(g: _Builder, ea: BenchmarkEdition, eb: BenchmarkEdition, qa: Sequence[Quote], qb: Sequence[Quote]) -> None:
    if ea.formula != eb.formula:
        if ea.formula is None or eb.formula is None:
            g.add("added" if ea.formula is None else "removed", "formula", "formula", "计算公式", None, ea.formula, eb.formula, qa, qb)
        else:
            g.fields("formula", "formula", "计算公式", ea.formula, eb.formula, ("kind", "individual_weight", "bands"), qa, qb)
    if ea.rounding != eb.rounding:
        if ea.rounding is None or eb.rounding is None:
            g.add("changed", "rounding", "rounding", "推荐罚款取整", None, ea.rounding, eb.rounding, qa, qb)
        else:
            g.fields("rounding", "rounding", "推荐罚款取整", ea.rounding, eb.rounding, ("step", "mode"), qa, qb)
    ta, tb = ea.thresholds, eb.thresholds
    if ta != tb:
        tqa = tuple(_quote(q) for q in ta.basis) if ta else ()
        tqb = tuple(_quote(q) for q in tb.basis) if tb else ()
        if ta is None or tb is None:
            g.add("changed", "thresholds", "thresholds", "程序金额", None, ta, tb, tqa, tqb)
        else:
            names = ("hearing_unit", "hearing_individual", "collective_discussion", "legal_review", "basis")
            g.fields("thresholds", "thresholds", "程序金额", ta, tb, names, tqa, tqb)


def _violation(code: str, rs_a: RulebookSet, ea: BenchmarkEdition, ra: str, rs_b: RulebookSet, eb: BenchmarkEdition, rb: str,
               qa: Sequence[Quote], qb: Sequence[Quote], words: _Words) -> ViolationDiff:
    lva, lvb = rs_a.violations.get(code), rs_b.violations.get(code)
    v = _Builder(words.scoped(*(lv.facts for lv in (lvb, lva) if lv is not None)))  # B's reading first
    _statutory(v, code, rs_a, ra, rs_b, rb)
    va, vb = ea.violations.get(code), eb.violations.get(code)
    _from_law(v, va.from_law if va else [], vb.from_law if vb else [], qa, qb)
    _factors(v, "factor", "个性因子", va.factors if va else [], vb.factors if vb else [], qa, qb)
    for name in ("min_position", "max_position"):
        pa = getattr(va, name) if va else None
        pb = getattr(vb, name) if vb else None
        if pa != pb:
            dflt = "0（不限）" if name == "min_position" else "1（不限）"
            v.add("changed", "position", name, "位置窗口（推荐罚款在法定幅度中的位置范围）", name, pa, pb, qa, qb,
                  a_text=_num(pa) if pa is not None else dflt, b_text=_num(pb) if pb is not None else dflt)
    _exemptions(v, code, ea.exemptions or [], eb.exemptions or [])
    lv = rs_b.violations.get(code) or rs_a.violations[code]
    return ViolationDiff(code=code, title=lv.model.title, changes=tuple(v.out))


def diff(rs_a: RulebookSet, a: LoadedEdition, rs_b: RulebookSet, b: LoadedEdition, regime: str | None = None) -> EditionDiff:
    """What changes from edition ``a`` (in ``rs_a``) to ``b`` (in ``rs_b``)."""
    ea, eb = a.effective, b.effective
    ra, rb = _regime_of(rs_a, ea, regime), _regime_of(rs_b, eb, regime)
    sa, sb = _side(rs_a, a, ra), _side(rs_b, b, rb)
    qa, qb = (sa.benchmark_basis,), (sb.benchmark_basis,)
    words = _Words((rs_a, ea), (rs_b, eb))
    g = _Builder(words)
    names = ("title", "issuer", "document", "author", "effective_from", "effective_to", "parent")
    g.fields("edition", "edition", "版本", ea, eb, names, qa, qb)
    _facts(g, ea, eb, qa, qb)
    _procedure(g, ea, eb, qa, qb)
    _factors(g, "common_factor", "共性因子", ea.common_factors or [], eb.common_factors or [], qa, qb)
    _adjustments(g, rs_a, ea, ra, rs_b, eb, rb)
    _reduction(g, ea, eb)
    _contradictions(g, ea, eb, qa, qb)
    per: list[ViolationDiff] = []
    unchanged: list[ViolationDiff] = []
    for code in sorted(set(rs_a.violations) | set(rs_b.violations)):
        vd = _violation(code, rs_a, ea, ra, rs_b, eb, rb, qa, qb, words)
        (per if vd.changes else unchanged).append(vd)
    return EditionDiff(a=sa, b=sb, general=tuple(g.out), violations=tuple(per), unchanged=tuple(unchanged))
