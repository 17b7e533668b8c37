"""Rulebook lint: what a legal reviewer must see before an edition is published.

:func:`lint` runs over a rulebook tree and returns :class:`Finding` objects, each naming a
stable check id, a severity (``error`` / ``warning``), file, line, rule id and a Chinese
message. It never raises for a broken tree: the loader's refusals become findings (with the
loader's file and line), and the semantic checks run on every file that still parses.

The checks (``CHECKS``; docs/rulebooks.md, section "Lint", explains each with an example):

* ``load-error`` – the loader refuses a file (YAML, schema, cross-reference, approval);
* ``unknown-name`` – a condition (or a list) names an unknown fact, circumstance or violation;
* ``duplicate-id`` – two rules, factors, entries, facts or circumstances share an id;
* ``missing-basis`` – a rule without legal basis, or a quoted text that quotes nothing;
* ``never-fires`` – a condition that can never hold (alone, with its enclosing rule, for the
  violation types an entry lists, or after an earlier first-match rule);
* ``level-gap`` / ``level-overlap`` – the levels of one factor leave values unassigned or
  assign one value to two levels;
* ``exclusive-overlap`` – two rules of which only one may apply can apply together;
* ``band-outside-range`` – an amount the edition produces (band bounds, extreme amounts after
  its rounding, the 减轻 floor) outside the statutory range, under every regime the edition
  is applied with;
* ``edition-overlap`` / ``edition-gap`` – effective periods of one jurisdiction's editions;
* ``prefecture-widens`` – a prefecture edition that is wider than its provincial edition.

Conditions are analysed exactly, not sampled: each condition becomes a union of boxes (a value
set per fact: intervals for numbers and counts, finite sets for enums, booleans and
circumstances) over the facts' domains, so satisfiability, overlap and coverage are set algebra.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from ..engine.money import round_to
from ..engine.trail import REGIME_LABELS
from ..errors import RulebookError, RulebookIssue
from ..rulebooks import conditions, loading
from ..rulebooks.checks import DERIVED, resolve_facts
from ..rulebooks.conditions import Cmp, Node, Or
from ..rulebooks.editions import merge_parent
from ..rulebooks.loaded import LoadedEdition, LoadedViolation, RulebookSet
from ..rulebooks.models import (
    BenchmarkEdition,
    CircumstanceDef,
    FactDef,
    Factor,
    Fine,
    LawEdition,
    PerUnitFine,
    RangeFine,
    RegimeDef,
    UpToFine,
    Violation,
)
from ..rulebooks.tree import SHIPPED, yaml_files
from ..rulebooks.tree import load as load_tree

ERROR = "error"
WARNING = "warning"

#: Every check id with its Chinese title and its usual severity.
CHECKS: dict[str, tuple[str, str]] = {
    "load-error": ("规则集文件无法加载（YAML、字段、交叉引用或审批记录错误）", ERROR),
    "unknown-name": ("引用了未知的事实、情节或违法行为", ERROR),
    "duplicate-id": ("编号重复", ERROR),
    "missing-basis": ("规则缺少法律依据或引文", ERROR),
    "never-fires": ("规则永远不会适用", ERROR),
    "level-gap": ("因子等级的数值条件有空档", ERROR),
    "level-overlap": ("因子的两个等级同时成立", ERROR),
    "exclusive-overlap": ("只能适用其一的两条规则同时适用", ERROR),
    "band-outside-range": ("基准金额或档次超出法定幅度", ERROR),
    "edition-overlap": ("同一辖区的版本施行期间重叠", ERROR),
    "edition-gap": ("同一辖区的版本施行期间有空档", ERROR),
    "prefecture-widens": ("下级版本放宽了上级版本", ERROR),
}


@dataclass(frozen=True, order=True)
class Finding:
    """One lint finding; ``line`` is 1-based (file-level findings point at line 1)."""

    file: str
    line: int
    check: str
    severity: str
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity} [{self.check}] {self.rule_id or '-'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "rule_id": self.rule_id,
            "message": self.message,
        }


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == WARNING]


# =============================================================================================
# value sets: the algebra behind gaps, overlaps and never-firing conditions
# =============================================================================================

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


# =============================================================================================
# the tree under lint: what loads, even when the loader refuses the whole set
# =============================================================================================


@dataclass
class Tree:
    root: Path
    law: LawEdition | None
    law_doc: loading.Document | None
    violations: dict[str, LoadedViolation]
    editions: dict[str, LoadedEdition]
    facts: dict[str, FactDef]
    circumstances: dict[str, CircumstanceDef]
    docs: list[loading.Document] = field(default_factory=list)  # every parsed file
    refused: set[str] = field(default_factory=set)  # codes and edition keys of files that parse but do not validate


def _from_set(rs: RulebookSet) -> Tree:
    docs = [rs.law_doc] + [lv.doc for lv in rs.violations.values()] + [le.doc for le in rs.editions.values()]
    return Tree(rs.root, rs.law, rs.law_doc, dict(rs.violations), dict(rs.editions), dict(rs.facts), dict(rs.circumstances), docs)


def _tolerant(root: Path) -> Tree:
    """Every file that parses and validates on its own (the loader's rules, without refusing)."""

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root.parent))
        except ValueError:  # pragma: no cover - files come from below root
            return str(p)

    docs: list[loading.Document] = []
    refused: set[str] = set()

    def read(path: Path, model: Any) -> tuple[Any, loading.Document] | None:
        try:
            doc = loading.read(path, rel(path))
        except RulebookError:
            return None
        docs.append(doc)
        try:
            return loading.validate(doc, model), doc
        except RulebookError:
            data = doc.data if isinstance(doc.data, dict) else {}
            if isinstance(data.get("code"), str):
                refused.add(data["code"])
            if isinstance(data.get("id"), str) and isinstance(data.get("edition"), str):
                refused.add(f"{data['id']}@{data['edition']}")
            return None

    law = law_doc = None
    law_path = root / "law" / "law.yaml"
    if law_path.is_file():
        got = read(law_path, LawEdition)
        if got:
            law, law_doc = got
    facts = {f.name: f for f in law.facts} if law else {}
    circumstances = {c.id: c for c in law.circumstances} if law else {}
    violations: dict[str, LoadedViolation] = {}
    vfolder = root / "law" / "violations"
    for path in yaml_files(vfolder) if vfolder.is_dir() else []:
        got = read(path, Violation)
        if got and got[0].code not in violations:
            v, doc = got
            resolved, _ = resolve_facts(v, doc, facts)
            violations[v.code] = LoadedViolation(model=v, doc=doc, facts=resolved)
    editions: dict[str, LoadedEdition] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law") if root.is_dir() else []:
        for path in yaml_files(folder):
            got = read(path, BenchmarkEdition)
            if got:
                e, doc = got
                key = f"{e.id}@{e.edition}"
                editions.setdefault(key, LoadedEdition(model=e, doc=doc, key=key, sha256=doc.sha256))
    for le in editions.values():
        merge_parent(le, editions)
    return Tree(root, law, law_doc, violations, editions, facts, circumstances, docs, refused)


_NAMED = re.compile(r"(?:未知的违法行为|上级版本不存在)：(\S+)")


def _consequence(issue: RulebookIssue, refused: set[str]) -> bool:
    """An issue that only repeats another file's refusal (an edition naming a violation type
    whose file does not validate): the refusal itself is reported."""
    m = _NAMED.search(issue.message)
    return bool(m and m.group(1) in refused)


# =============================================================================================
# findings
# =============================================================================================


def _finding(issue: RulebookIssue, check: str, severity: str | None = None) -> Finding:
    return Finding(
        file=issue.file,
        line=issue.line or 1,
        check=check,
        severity=severity or CHECKS[check][1],
        rule_id=issue.rule_id,
        message=issue.message,
    )


def _at(doc: loading.Document, path: tuple[Any, ...], check: str, message: str, severity: str | None = None, rule_id: str | None = None) -> Finding:
    issue = doc.issue(path, message)
    if rule_id is not None:
        issue.rule_id = rule_id
    return _finding(issue, check, severity)


_WIDENS = ("只能收窄", "不得新增", "不得改变", "必须保留")
_UNKNOWN = (
    "条件引用了未知的事实或情节",
    "未知的情节",
    "未知的标准事实",
    "未知的违法行为",
    "引用了未知的违法行为",
    "未在 facts 中列出",
    "上级版本不存在",
)


def classify(issue: RulebookIssue) -> str:
    """The check id of a loader issue (the loader's messages are stable, tested Chinese text)."""
    m, path = issue.message, issue.path or ""
    if "多个默认等级" in m:
        return "level-overlap"
    if "重复" in m:
        return "duplicate-id"
    if any(w in m for w in _WIDENS):
        return "prefecture-widens"
    if "失效日期早于施行日期" in m:
        return "never-fires"
    if any(w in m for w in _UNKNOWN):
        return "unknown-name"
    last = path.rsplit(".", 1)[-1]
    if ("basis" in path.split(".") or last in ("basis", "text") or path.endswith(".basis")) and (
        m.startswith("缺少必填项") or "at least" in m
    ):
        return "missing-basis"
    return "load-error"


# =============================================================================================
# environments: which names a condition may read, and their domains
# =============================================================================================


def _env_of(*groups: Mapping[str, FactDef], circumstances: Iterable[str] = ()) -> Env:
    env: Env = {name: _dom(f) for name, f in DERIVED.items()}
    for c in circumstances:
        env[c] = _BOOL
    for g in groups:
        for name, f in g.items():
            env[name] = _dom(f)
    return env


def _regimes_for(tree: Tree, e: BenchmarkEdition) -> list[RegimeDef]:
    """The regimes a case decided while the edition is in force may be judged under: every regime
    that began before the edition lapses (an act is never later than its decision)."""
    if tree.law is None:
        return []
    end = e.effective_to or dt.date.max
    return [r for r in tree.law.regimes if r.effective_from <= end]


def _edition_facts(tree: Tree, le: LoadedEdition) -> dict[str, FactDef]:
    return {f.name: f for f in le.effective.facts}


def _edition_env(tree: Tree, le: LoadedEdition, code: str | None) -> Env:
    """Names a benchmark condition reads. For one violation type: the facts its cases carry (the
    law layer's standard facts it does not list are never present); for the edition as a whole
    (common factors, 减轻): every fact."""
    efacts = _edition_facts(tree, le)
    circs = list(tree.circumstances)
    if code is None or code not in tree.violations:
        return _env_of(tree.facts, efacts, circumstances=circs)
    lv = tree.violations[code]
    env = _env_of(efacts, lv.facts, circumstances=circs + list(lv.model.circumstances))
    for name in tree.facts:
        env.setdefault(name, None)
    return env


def _violation_env(tree: Tree, lv: LoadedViolation) -> Env:
    return _env_of(lv.facts, circumstances=list(tree.circumstances) + list(lv.model.circumstances))


def _law_env(tree: Tree) -> Env:
    return _env_of(tree.facts, circumstances=tree.circumstances)


def _boxes(space: Space, cond: Node | str | None) -> list[Box] | None:
    """The condition's boxes, or None where it cannot be analysed (the loader reports why)."""
    try:
        return space.boxes(cond)
    except _Skip:
        return None


def _all(space: Space, *conds: Node | str | None) -> list[Box] | None:
    try:
        return space.all(*conds)
    except _Skip:
        return None


def _covered(space: Space, region: list[Box], covers: list[Box]) -> bool | None:
    try:
        return not space.uncovered(region, covers)
    except _Skip:
        return None


# =============================================================================================
# checks
# =============================================================================================

Check = Callable[[Tree], Iterator[Finding]]


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

    for lv in tree.violations.values():
        v, doc = lv.model, lv.doc
        space = Space(_violation_env(tree, lv))
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


def check_periods(tree: Tree) -> Iterator[Finding]:
    """Editions of one jurisdiction (drafts excluded) follow each other without overlap or gap:
    ``effective_to`` is the last day in force, so a successor starts the day after. Overlaps and
    gaps that involve an approved, not yet published edition are warnings (fix before publishing).
    A provincial edition's period may not end without a successor; a prefecture without one falls
    back to its province, so a gap between two prefecture editions is a warning."""
    by_id: dict[str, list[LoadedEdition]] = {}
    for le in tree.editions.values():
        if le.model.status != "draft":
            by_id.setdefault(le.model.id, []).append(le)
    for jid, items in sorted(by_id.items()):
        items.sort(key=lambda x: (x.model.effective_from, x.key))
        province = all(x.model.parent is None for x in items)
        for a, b in itertools.pairwise(items):
            ea, eb = a.model, b.model
            sev = ERROR if ea.status == eb.status == "published" else WARNING
            if ea.effective_to is None or ea.effective_to >= eb.effective_from:
                if ea.effective_to is None:
                    yield _at(a.doc, ("effective_to",), "edition-overlap",
                              f"{a.key} 没有失效日期，而 {b.key}（{b.doc.file}）自 {eb.effective_from} 起施行：两个版本同时有效；"
                              f"被取代的版本应以 {eb.effective_from - dt.timedelta(days=1)} 为失效日期", severity=sev, rule_id=a.key)
                else:
                    yield _at(b.doc, ("effective_from",), "edition-overlap",
                              f"{b.key} 自 {eb.effective_from} 起施行，而 {a.key}（{a.doc.file}）至 {ea.effective_to} 仍有效：两个版本同时有效",
                              severity=sev, rule_id=b.key)
            elif ea.effective_to + dt.timedelta(days=1) < eb.effective_from:
                first, last = ea.effective_to + dt.timedelta(days=1), eb.effective_from - dt.timedelta(days=1)
                yield _at(b.doc, ("effective_from",), "edition-gap",
                          f"{a.key} 于 {ea.effective_to} 失效，{b.key} 自 {eb.effective_from} 起施行：{first} 至 {last} 没有{jid}的裁量基准"
                          + ("" if province else "（期间适用上级版本）"),
                          severity=sev if province else WARNING, rule_id=b.key)
        last_le = items[-1]
        if province and last_le.model.effective_to is not None:
            yield _at(last_le.doc, ("effective_to",), "edition-gap",
                      f"{last_le.key} 于 {last_le.model.effective_to} 失效，此后没有{jid}的裁量基准（草案不计）",
                      severity=ERROR if last_le.model.status == "published" else WARNING, rule_id=last_le.key)


def _factor_same(a: Factor, b: Factor) -> bool:
    return a.weight == b.weight and [(x.level, x.when) for x in a.levels] == [(x.level, x.when) for x in b.levels]


def check_prefecture(tree: Tree) -> Iterator[Finding]:
    """What the loader's narrowing checks do not cover: a prefecture edition in force when its
    provincial edition is not, and factors whose levels or weights differ from the province's
    (the benchmark narrows through position windows, never by regrading)."""
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


def _fixed_bounds(f: Fine) -> tuple[int, int] | None:
    if isinstance(f, RangeFine):
        return f.min, f.max
    if isinstance(f, UpToFine):
        return 0, f.max
    if isinstance(f, PerUnitFine):
        return f.min, f.max  # per unit; every count multiplies both
    return None  # rate and multiple: the range follows the base fact


def _fines(v: Violation, regime: str) -> Iterator[tuple[str, Fine, bool]]:
    rules = v.regimes.get(regime)  # type: ignore[call-overload]
    for p in rules.provisions if rules is not None else []:
        if p.fine is not None:
            yield p.id, p.fine, True
        for f in p.individual_fines:
            yield p.id, f.fine, False
        for x in p.escalations:
            if x.fine is not None:
                yield x.id, x.fine, True
            for f in x.individual_fines or []:
                yield x.id, f.fine, False


def check_bands(tree: Tree) -> Iterator[Finding]:
    """The amounts an edition produces for every fixed statutory range, under every regime it can
    be applied with: the bounds of its bands and the extreme amounts after its rounding (the
    engine clamps them, so the published table and the result would disagree), and the 减轻 floor
    (减轻 stays a fine: its floor must be above zero)."""
    if tree.law is None:
        return
    for le in tree.editions.values():
        e, own, doc = le.effective, le.model, le.doc
        if e.rounding is None or e.formula is None:
            continue
        step, mode, bands = e.rounding.step, e.rounding.mode, e.formula.bands
        regimes = _regimes_for(tree, e)
        inherited = own.parent is not None and own.rounding is None and own.formula is None
        where_rounding: tuple[Any, ...] = ("rounding",) if own.rounding is not None else ("formula",) if own.formula is not None else ()
        for code, lv in tree.violations.items() if not inherited else ():  # else reported on the parent
            examples: list[str] = []
            for r in regimes:
                for rule_id, fine, _unit in _fines(lv.model, r.id):
                    got = _fixed_bounds(fine)
                    if got is None:
                        continue
                    lo, hi = got
                    width = Decimal(hi - lo)
                    edges = [round_to(lo + width * g / bands, step, mode) for g in range(bands + 1)]
                    bad = [x for x in edges if x < lo or x > hi]
                    if bad:
                        unit = "每单位" if isinstance(fine, PerUnitFine) else ""
                        examples.append(
                            f"{REGIME_LABELS.get(r.id, r.id)} {rule_id}：法定幅度{unit}{lo}至{hi}元，按{step}元取整后的档次边界为 "
                            + "、".join(str(x) for x in edges)
                        )
            if examples:
                path = ("violations", code) if code in own.violations else where_rounding
                yield _at(
                    doc,
                    path,
                    "band-outside-range",
                    f"{code} 的档次或建议金额超出法定幅度（计算时会被截回幅度内，与公布的档次不符）："
                    + "；".join(examples[:3])
                    + (f"；另有 {len(examples) - 3} 处" if len(examples) > 3 else ""),
                    rule_id=code,
                )
        red = own.reduction
        if red is not None and red.floor_ratio <= 0:
            yield _at(doc, ("reduction", "floor_ratio"), "band-outside-range",
                      "减轻的下限为法定最低额的0%，罚款可减至0元，超出减轻处罚的范围（减轻仍须处以罚款；不予处罚只能依第三十三条）",
                      rule_id="reduction")


ALL_CHECKS: tuple[Check, ...] = (
    check_duplicates,
    check_conditions,
    check_levels,
    check_exclusive,
    check_basis,
    check_periods,
    check_prefecture,
    check_bands,
)


# =============================================================================================
# entry point
# =============================================================================================


def lint(root: Path | None = None, loaded: RulebookSet | None = None) -> list[Finding]:
    """Every finding for the rulebook tree at ``root`` (the shipped rulebooks by default), sorted by
    file and line. ``loaded``: the same tree, already loaded (saves loading it again)."""
    root = (root or SHIPPED).resolve()
    findings: list[Finding] = []
    tree: Tree
    if loaded is not None:
        tree = _from_set(loaded)
    else:
        try:
            tree = _from_set(load_tree(root))
        except RulebookError as exc:
            issues = exc.issues or [RulebookIssue(file=str(root), line=None, message=exc.message)]
            tree = _tolerant(root)
            findings.extend(
                _finding(i, classify(i), ERROR if i.severity == "error" else WARNING)
                for i in issues
                if not _consequence(i, tree.refused)
            )
    for check in ALL_CHECKS:
        findings.extend(check(tree))
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.check, f.rule_id or "", f.message))


__all__ = ["CHECKS", "ERROR", "WARNING", "Finding", "Space", "Tree", "classify", "errors", "lint", "warnings"]
