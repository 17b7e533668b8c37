"""Value sets: the algebra behind gaps, overlaps and never-firing conditions.

Each condition becomes a union of boxes (a value set per fact: intervals for numbers and counts,
finite sets for enums, booleans and circumstances) over the facts' domains (:class:`Dom`), so
satisfiability, overlap and coverage are set algebra (:class:`Space`). Knows nothing of rulebook
files or findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from ...rulebooks import conditions
from ...rulebooks.conditions import Cmp, Node, Or
from ...rulebooks.models import FactDef

# An interval (lo, lo_closed, hi, hi_closed); None is -inf / +inf.
Ivl = tuple[Decimal | None, bool, Decimal | None, bool]
Num = tuple[Ivl, ...]
VSet = frozenset[Any] | Num
Box = dict[str, VSet]  # a name missing from a box ranges over its whole domain
_MAX_BOXES = 4000


class _Skip(Exception):
    """A condition the analysis cannot reason about (unknown name, mismatched types, too large)."""


@dataclass(frozen=True)
class Dom:
    """The values a name can take in a case: a finite set, or numbers (integers for counts)."""

    kind: str  # "fin" | "num" | "opaque"
    universe: frozenset[Any] = frozenset()
    integer: bool = False
    lo: Decimal = Decimal(0)
    hi: Decimal | None = None
    bool_: bool = False


_BOOL = Dom("fin", frozenset({True, False}), bool_=True)
_OPAQUE = Dom("opaque")
Env = dict[str, Dom | None]  # None: the name exists, but is never present in this case type


def _dom(f: FactDef) -> Dom:
    if f.type == "bool":
        return _BOOL
    if f.type == "enum":
        return Dom("fin", frozenset(f.choices or {}))
    if f.type in ("count", "money", "number"):
        lo = max(Decimal(0), f.min) if f.min is not None else Decimal(0)  # cases never carry negatives
        return Dom("num", integer=f.type == "count", lo=lo, hi=f.max)
    return _OPAQUE


def _key_lo(i: Ivl) -> tuple[Any, ...]:
    lo, lc, _, _ = i
    return (lo is not None, lo if lo is not None else 0, not lc)


def _norm(ivs: Iterable[Ivl], integer: bool) -> Num:
    out: list[Ivl] = []
    for lo, lc, hi, hc in ivs:
        if integer:
            if lo is not None:
                low = lo.to_integral_value(rounding=ROUND_CEILING)
                if low == lo and not lc:
                    low += 1
                lo, lc = low, True
            if hi is not None:
                high = hi.to_integral_value(rounding=ROUND_FLOOR)
                if high == hi and not hc:
                    high -= 1
                hi, hc = high, True
        if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lc and hc))):
            continue
        out.append((lo, lc, hi, hc))
    out.sort(key=_key_lo)
    merged: list[Ivl] = []
    for iv in out:
        if merged:
            plo, plc, phi, phc = merged[-1]
            lo, lc, hi, hc = iv
            touches = phi is None or (
                lo is None
                or lo < phi
                or (lo == phi and (phc or lc))
                or (integer and lo == phi + 1)
            )
            if touches:
                if phi is None or hi is None:
                    nhi, nhc = None, False
                elif hi > phi:
                    nhi, nhc = hi, hc
                elif hi == phi:
                    nhi, nhc = hi, hc or phc
                else:
                    nhi, nhc = phi, phc
                merged[-1] = (plo, plc, nhi, nhc)
                continue
        merged.append(iv)
    return tuple(merged)


def _num_and(a: Num, b: Num, integer: bool) -> Num:
    out: list[Ivl] = []
    for alo, alc, ahi, ahc in a:
        for blo, blc, bhi, bhc in b:
            if alo is None:
                lo, lc = blo, blc
            elif blo is None or alo > blo:
                lo, lc = alo, alc
            elif blo > alo:
                lo, lc = blo, blc
            else:
                lo, lc = alo, alc and blc
            if ahi is None:
                hi, hc = bhi, bhc
            elif bhi is None or ahi < bhi:
                hi, hc = ahi, ahc
            elif bhi < ahi:
                hi, hc = bhi, bhc
            else:
                hi, hc = ahi, ahc and bhc
            out.append((lo, lc, hi, hc))
    return _norm(out, integer)


def _num_not(a: Num, integer: bool) -> Num:
    out: list[Ivl] = []
    cur: tuple[Decimal | None, bool] | None = (None, False)
    for lo, lc, hi, hc in a:
        if lo is not None and cur is not None:
            out.append((cur[0], cur[1], lo, not lc))
        if hi is None:
            cur = None
            break
        cur = (hi, not hc)
    if cur is not None:
        out.append((cur[0], cur[1], None, False))
    return _norm(out, integer)


def _full(dom: Dom) -> VSet:
    if dom.kind == "fin":
        return dom.universe
    return _norm([(dom.lo, True, dom.hi, dom.hi is not None)], dom.integer)


def _and(a: VSet, b: VSet, dom: Dom) -> VSet:
    if dom.kind == "fin":
        return a & b  # type: ignore[operator]
    return _num_and(a, b, dom.integer)  # type: ignore[arg-type]


def _minus(a: VSet, b: VSet, dom: Dom) -> VSet:
    if dom.kind == "fin":
        return a - b  # type: ignore[operator]
    return _num_and(a, _num_not(b, dom.integer), dom.integer)  # type: ignore[arg-type]


def _atom(c: Cmp, dom: Dom) -> VSet:
    v = c.value
    if dom.kind == "opaque":
        raise _Skip
    if dom.kind == "fin":
        if dom.bool_ != isinstance(v, bool) or (not dom.bool_ and not isinstance(v, str)):
            raise _Skip
        if c.op == "==":
            return frozenset({v}) & dom.universe
        if c.op == "!=":
            return dom.universe - {v}
        raise _Skip
    if isinstance(v, (bool, str)):
        raise _Skip
    d = Decimal(v)
    table: dict[str, list[Ivl]] = {
        "==": [(d, True, d, True)],
        "!=": [(None, False, d, False), (d, False, None, False)],
        "<": [(None, False, d, False)],
        "<=": [(None, False, d, True)],
        ">": [(d, False, None, False)],
        ">=": [(d, True, None, False)],
    }
    return _num_and(_norm(table[c.op], dom.integer), _full(dom), dom.integer)  # type: ignore[arg-type]


class Space:
    """Conditions over one environment (the names a case of one violation type carries)."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def dom(self, name: str) -> Dom | None:
        if name not in self.env:
            raise _Skip
        return self.env[name]

    def boxes(self, node: Node | str | None) -> list[Box]:
        """The condition as a union of boxes ([] = never true, [{}] = always true)."""
        if node is None:
            return [{}]
        if isinstance(node, str):
            try:
                node = conditions.parse(node)
            except conditions.ConditionSyntaxError:
                raise _Skip from None
        return self._dnf(node)

    def _dnf(self, node: Node) -> list[Box]:
        if isinstance(node, Cmp):
            dom = self.dom(node.name)
            if dom is None:  # never present: every comparison with it is false
                return []
            s = _atom(node, dom)
            return [{node.name: s}] if s else []
        if isinstance(node, Or):
            out = [b for p in node.parts for b in self._dnf(p)]
            if len(out) > _MAX_BOXES:
                raise _Skip
            return out
        acc: list[Box] = [{}]
        for p in node.parts:
            part = self._dnf(p)
            acc = [m for a in acc for b in part if (m := self.meet(a, b)) is not None]
            if len(acc) > _MAX_BOXES:
                raise _Skip
            if not acc:
                return []
        return acc

    def meet(self, a: Box, b: Box) -> Box | None:
        out = dict(a)
        for name, s in b.items():
            if name in out:
                dom = self.env[name]
                assert dom is not None
                s = _and(out[name], s, dom)
                if not s:
                    return None
            out[name] = s
        return out

    def all(self, *conds: Node | str | None) -> list[Box]:
        """The conjunction of several conditions."""
        acc: list[Box] = [{}]
        for c in conds:
            part = self.boxes(c)
            acc = [m for a in acc for b in part if (m := self.meet(a, b)) is not None]
            if len(acc) > _MAX_BOXES:
                raise _Skip
        return acc

    def overlap(self, a: list[Box], b: list[Box]) -> Box | None:
        for x in a:
            for y in b:
                m = self.meet(x, y)
                if m is not None:
                    return m
        return None

    def minus(self, a: Box, b: Box) -> list[Box]:
        """a \\ b as disjoint boxes."""
        out: list[Box] = []
        prefix = dict(a)
        for name, s in b.items():
            dom = self.env[name]
            assert dom is not None
            have = prefix.get(name, _full(dom))
            rest = _minus(have, s, dom)
            if rest:
                out.append({**prefix, name: rest})
            inside = _and(have, s, dom)
            if not inside:  # disjoint: nothing of a is removed
                return [dict(a)]
            prefix[name] = inside
        return out

    def uncovered(self, region: list[Box], covers: Iterable[Box]) -> list[Box]:
        """The part of ``region`` that no box of ``covers`` contains."""
        rest = list(region)
        for c in covers:
            nxt: list[Box] = []
            for r in rest:
                if self.meet(r, c) is None:
                    nxt.append(r)
                else:
                    nxt.extend(self.minus(r, c))
            rest = nxt
            if len(rest) > _MAX_BOXES:
                raise _Skip
            if not rest:
                break
        return rest

    def show(self, box: Box) -> str:
        """An example case inside a box, for messages: ``duration_days = 7，serious = 是``."""
        parts = []
        for name in sorted(box):
            dom = self.env[name]
            assert dom is not None
            parts.append(f"{name} = {_sample(box[name], dom)}")
        return "，".join(parts) if parts else "任何情形"


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text


def _sample(s: VSet, dom: Dom) -> str:
    if isinstance(s, frozenset):
        v = min(s, key=str)
        if isinstance(v, bool):
            return "是" if v else "否"
        return f'"{v}"'
    lo, lc, hi, hc = s[0]
    x: Decimal
    if lo is None:
        assert hi is not None  # domains are bounded below; an empty set has no sample
        x = hi if hc else hi - 1
    elif lc:
        x = lo
    elif hi is None:
        x = lo + 1
    else:
        x = (lo + hi) / 2
    return _plain(x)


def _show_num(s: Num, integer: bool) -> str:
    parts = []
    for lo, lc, hi, hc in s:
        if integer and lo is not None and hi is not None:
            parts.append(_plain(lo) if lo == hi else f"{_plain(lo)}～{_plain(hi)}")
        elif hi is None:
            parts.append(f"{'≥' if lc else '>'} {_plain(lo)}" if lo is not None else "任意值")
        elif lo is None:
            parts.append(f"{'≤' if hc else '<'} {_plain(hi)}")
        elif lo == hi:
            parts.append(_plain(lo))
        else:
            parts.append(f"{'[' if lc else '('}{_plain(lo)}, {_plain(hi)}{']' if hc else ')'}")
    return "、".join(parts)
