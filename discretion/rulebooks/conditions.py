"""The condition language of rulebooks: a small whitelisted expression syntax.

A condition is a string such as ``eia_document == "report" and serious`` or
``exceedance_multiple <= 0.1 and corrected_within_days <= 1``. It is parsed with
:func:`ast.parse` (never evaluated) and only these forms are accepted:

* a name (a fact or circumstance id) – true when that boolean is true;
* ``not name``;
* comparisons ``== != < <= > >=`` between a name and a literal (chains allowed);
* ``name in ("a", "b")`` / ``name not in (...)`` with literals;
* ``and`` / ``or`` and parentheses.

A parsed condition compiles two ways: to a durable_rules condition dict (matched
by the engine) and to a plain Python predicate (the reference evaluator).
Numbers compare as :class:`~decimal.Decimal` in Python and as doubles in the
engine; money amounts are never computed here, only compared.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Mapping, Union

Literal = Union[str, int, Decimal, bool]

_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_DURABLE_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
MAX_CONDITION_LENGTH = 2000


class ConditionSyntaxError(ValueError):
    """A condition string is not in the whitelisted syntax."""


@dataclass(frozen=True)
class Cmp:
    name: str
    op: str
    value: Literal


@dataclass(frozen=True)
class And:
    parts: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    parts: tuple["Node", ...]


Node = Union[Cmp, And, Or]


@lru_cache(maxsize=8192)
def parse(text: str) -> Node:
    """Parse a condition string into a small tree, or raise ConditionSyntaxError. The trees are
    immutable, so one parse of a text serves every ruleset that tests it (the same conditions recur
    across violation types, editions and regimes: compiling the set parses each text once)."""
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionSyntaxError(f"条件过长（超过{MAX_CONDITION_LENGTH}个字符）")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionSyntaxError(f"条件语法错误：{exc.msg}（第{exc.offset}列）") from None
    return _node(tree.body)


def names(node: Node) -> set[str]:
    """Every fact or circumstance name a condition reads."""
    if isinstance(node, Cmp):
        return {node.name}
    out: set[str] = set()
    for p in node.parts:
        out |= names(p)
    return out


def comparisons(node: Node) -> list[Cmp]:
    """Every comparison in the condition, in order."""
    if isinstance(node, Cmp):
        return [node]
    return [c for p in node.parts for c in comparisons(p)]


def _literal(node: ast.expr) -> Literal:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        v = node.value
        if isinstance(v, float):
            d = Decimal(repr(v))
            if not d.is_finite():
                raise ConditionSyntaxError("数值必须是有限数")
            return d
        return v
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        v = node.operand.value
        if isinstance(v, float):
            d = -Decimal(repr(v))
            if not d.is_finite():
                raise ConditionSyntaxError("数值必须是有限数")
            return d
        return -v
    raise ConditionSyntaxError("比较的右侧只能是字面值（数字、字符串、true/false）")


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    raise ConditionSyntaxError("比较的左侧只能是事实或情节名称")


def _node(node: ast.expr) -> Node:
    if isinstance(node, ast.BoolOp):
        parts = tuple(_node(v) for v in node.values)
        return And(parts) if isinstance(node.op, ast.And) else Or(parts)
    if isinstance(node, ast.Name):
        if node.id in ("true", "false", "True", "False"):
            raise ConditionSyntaxError("条件不能只是一个常量")
        return Cmp(node.id, "==", True)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if isinstance(node.operand, ast.Name):
            return Cmp(node.operand.id, "==", False)
        raise ConditionSyntaxError("not 只能用于单个布尔事实或情节名称")
    if isinstance(node, ast.Compare):
        left = _name(node.left)
        out: list[Node] = []
        # a chain such as 0 < x <= 5 is written with the name in the middle
        if len(node.ops) > 1:
            raise ConditionSyntaxError("不支持连续比较，请用 and 连接")
        op, right = node.ops[0], node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.Tuple, ast.List)) or not right.elts:
                raise ConditionSyntaxError("in 的右侧必须是非空的字面值列表")
            values = [_literal(e) for e in right.elts]
            if isinstance(op, ast.In):
                return Or(tuple(Cmp(left, "==", v) for v in values)) if len(values) > 1 else Cmp(left, "==", values[0])
            return And(tuple(Cmp(left, "!=", v) for v in values)) if len(values) > 1 else Cmp(left, "!=", values[0])
        if type(op) not in _OPS:
            raise ConditionSyntaxError("不支持的比较运算符")
        out.append(Cmp(left, _OPS[type(op)], _literal(right)))
        return out[0]
    raise ConditionSyntaxError(f"不支持的表达式：{ast.dump(node)[:60]}")


# --- in Chinese, for a reader ------------------------------------------------

_OP_WORDS = {"==": "为", "!=": "不为", "<": "小于", "<=": "不超过", ">": "大于", ">=": "不小于"}


def describe(node: Node, label: Callable[[str], str], value: Callable[[str, Literal], str]) -> str:
    """A condition as a lawyer reads it: each name by its Chinese label (``label``: a fact, circumstance or
    count), each value as ``value`` writes it (an enum's choice label, a number with its unit), 且 and 或;
    ``x in ("a", "b")`` as “x”为“a”或“b”, ``not x`` as 非“x”. Groups inside groups are bracketed."""

    def one(c: Cmp) -> str:
        name = f"“{label(c.name)}”"
        if isinstance(c.value, bool):
            return name if c.value == (c.op == "==") else f"非{name}"
        return f"{name}{_OP_WORDS[c.op]}{value(c.name, c.value)}"

    def group(n: Node, outer: bool) -> str:
        if isinstance(n, Cmp):
            return one(n)
        parts = n.parts
        if not parts:
            return "（无条件）"
        first = parts[0]
        if (all(isinstance(p, Cmp) and p.name == getattr(first, "name", None) and p.op == getattr(first, "op", None)
                and not isinstance(p.value, bool) for p in parts)
                and isinstance(first, Cmp) and (first.op, type(n)) in (("==", Or), ("!=", And))):
            values = [value(first.name, p.value) for p in parts if isinstance(p, Cmp)]
            return f"“{label(first.name)}”{_OP_WORDS[first.op]}{('或' if first.op == '==' else '、').join(values)}"
        text = ("，且" if isinstance(n, And) else "，或").join(group(p, False) for p in parts)
        return text if outer else f"（{text}）"

    return group(node, True)


# --- compilation -----------------------------------------------------------


def _engine_value(v: Literal) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    return v


def to_durable(node: Node) -> dict[str, Any]:
    """Compile to a durable_rules condition dict."""
    if isinstance(node, Cmp):
        v = _engine_value(node.value)
        if node.op == "==":
            return {node.name: v}
        return {_DURABLE_OPS[node.op]: {node.name: v}}
    key = "$and" if isinstance(node, And) else "$or"
    return {key: [to_durable(p) for p in node.parts]}


Predicate = Callable[[Mapping[str, Any]], bool]


def _cmp_pred(c: Cmp) -> Predicate:
    """A predicate for one comparison, with the engine's semantics: numbers and booleans compare
    as numbers (true is 1), strings only with strings, and an absent fact matches nothing.
    (Rulebook checks refuse comparing a bool fact with a number, and case facts are type-checked,
    so valid rulebooks and cases never mix them.)"""
    name, op, value = c.name, c.op, c.value
    if isinstance(value, str):
        if op == "==":
            return lambda f: f.get(name) == value
        return lambda f: (v := f.get(name)) is not None and v != value
    if op == "==":
        return lambda f: (v := f.get(name)) is not None and v.__class__ is not str and v == value
    if op == "!=":
        return lambda f: (v := f.get(name)) is not None and (v.__class__ is str or v != value)
    if op == "<":
        return lambda f: (v := f.get(name)) is not None and v.__class__ is not str and v < value
    if op == "<=":
        return lambda f: (v := f.get(name)) is not None and v.__class__ is not str and v <= value
    if op == ">":
        return lambda f: (v := f.get(name)) is not None and v.__class__ is not str and v > value
    return lambda f: (v := f.get(name)) is not None and v.__class__ is not str and v >= value


# a conjunction or disjunction of two or three parts as one closure (no generator per test)
_JOINED: dict[tuple[bool, int], Callable[..., Predicate]] = {
    (True, 2): lambda a, b: lambda f: a(f) and b(f),
    (True, 3): lambda a, b, c: lambda f: a(f) and b(f) and c(f),
    (False, 2): lambda a, b: lambda f: a(f) or b(f),
    (False, 3): lambda a, b, c: lambda f: a(f) or b(f) or c(f),
}


def to_predicate(node: Node) -> Predicate:
    """Compile to a plain Python predicate over a facts mapping (the reference evaluator). A
    conjunction or disjunction of up to three parts is one closure with ``and``/``or``, and ``in``
    over strings one set lookup (the reference evaluator tests every rule of every case)."""
    if isinstance(node, Cmp):
        return _cmp_pred(node)
    every = isinstance(node, And)
    parts = node.parts
    if not parts:
        return (lambda f: True) if every else (lambda f: False)
    first = parts[0]
    if not every and len(parts) > 1 and all(
        isinstance(p, Cmp) and p.op == "==" and isinstance(p.value, str) and p.name == first.name for p in parts  # type: ignore[union-attr]
    ):  # ``name in ("a", "b", …)``: strings equal only strings, so one set lookup decides
        name, values = first.name, frozenset(p.value for p in parts)  # type: ignore[union-attr]
        return lambda f: (v := f.get(name)).__class__ is str and v in values
    preds = tuple(to_predicate(p) for p in parts)
    if len(preds) == 1:
        return preds[0]
    joined = _JOINED.get((every, len(preds)))
    if joined is not None:
        return joined(*preds)
    if every:
        return lambda f: all(p(f) for p in preds)
    return lambda f: any(p(f) for p in preds)


def always() -> Node:
    """The empty condition (always true): matches every case it is attached to."""
    return And(())
