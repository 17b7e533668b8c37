"""The case's input checked against the violation type's ruleset: dates in order, each fact's
value, known circumstances; and the fact the matcher is given.

The engine refuses a case with the first problem (:class:`~discretion.errors.InputError` with a
stable code and the field); the web form shows the problems of every field at once with the same
functions and words.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from ..errors import InputError
from ..rulebooks.compiler import RuleSet
from ..rulebooks.loaded import RulebookSet
from .case import MAX_AMOUNT, Case


def check_dates(violation: dt.date, end: dt.date | None, decision: dt.date, discovered: dt.date | None) -> None:
    if (end is None or violation <= end <= decision) and violation <= decision and (discovered is None or violation <= discovered <= decision):
        return  # in order (the usual case, checked without building a list)
    field, message = date_problems(violation, end, decision, discovered)[0]
    raise InputError(message=message, code="invalid_date", field=field)


def date_problems(
    violation: dt.date, end: dt.date | None, decision: dt.date | None, discovered: dt.date | None
) -> list[tuple[str, str]]:
    """Every date of a case out of order, as (field, Chinese message), one per field at most; the
    engine refuses a case with the first, the web form shows them all."""
    out: list[tuple[str, str]] = []
    if end and end < violation:
        out.append(("violation_end_date", "违法行为终了日期早于发生日期"))
    if decision is not None:
        if decision < violation:
            out.append(("decision_date", "决定日期早于违法行为发生日期"))
        elif end and decision < end:
            out.append(("decision_date", "决定日期早于违法行为终了日期"))
    if discovered:
        if discovered < violation:
            out.append(("discovered_date", "发现日期早于违法行为发生日期"))
        elif decision is not None and discovered > decision:
            out.append(("discovered_date", "发现日期晚于决定日期"))
    return out


def future_problems(
    violation: dt.date, end: dt.date | None, discovered: dt.date | None, today: dt.date
) -> list[tuple[str, str]]:
    """The act and discovery dates of a case that lie after ``today`` (given by the caller: the
    check does not read the clock), as (field, Chinese message): an act that has not happened, or
    was not discovered yet, cannot be penalised. The decision date may lie ahead (a decision
    planned for that day: 《行政处罚法》第三十七条 makes the law in force when the decision is made
    matter), so it is not checked here (docs/rulebooks.md, "Doctrine")."""
    out: list[tuple[str, str]] = []
    for field, label, day in (("violation_date", "违法行为发生日期", violation), ("violation_end_date", "违法行为终了日期", end),
                              ("discovered_date", "发现日期", discovered)):
        if day is not None and day > today:
            out.append((field, f"{label}（{day.isoformat()}）晚于今天（北京时间 {today.isoformat()}），尚未发生的日期不能计算"))
    return out


_MAX_INT = int(MAX_AMOUNT)
_CENT = Decimal("0.01")


Checks = dict[str, tuple[Any, str, dict[str, str], Any, Any]]  # fact → (definition, type, choices, min, max)


def fact_checks(rs: RuleSet) -> Checks:
    """Each fact's definition, type, choices, minimum and maximum, read once."""
    return {name: (f, f.type, f.choices or {}, f.min, f.max) for name, f in rs.facts.items()}


def fact_problem(check: tuple[Any, str, dict[str, str], Any, Any], value: Any) -> str | None:
    """What is wrong with one fact's value (Chinese), or None. The engine refuses a case with the
    first problem; the web form shows the problem of every field at once."""
    f, t, choices, f_min, f_max = check
    if t == "bool":
        return None if isinstance(value, bool) else f"“{f.label}”须为是/否"
    if t == "enum":
        if isinstance(value, str) and value in choices:
            return None
        allowed = "、".join(f"{k}（{v}）" for k, v in choices.items())
        return f"“{f.label}”的取值无效，可选：{allowed}"
    if t == "date":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"“{f.label}”须为日期 YYYY-MM-DD"
        return None
    if type(value) is int:  # the common number: the checks below that concern Decimals do not apply
        if value > _MAX_INT or value < -_MAX_INT:
            return f"“{f.label}”数值过大"
    else:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return f"“{f.label}”须为数字"
        if isinstance(value, Decimal) and not value.is_finite():
            return f"“{f.label}”须为有限数字"
        if abs(value) > MAX_AMOUNT:
            return f"“{f.label}”数值过大"
        if t == "count" and not isinstance(value, int):
            return f"“{f.label}”须为整数"
        if t == "money" and isinstance(value, Decimal) and value != value.quantize(_CENT):
            return f"“{f.label}”最多保留两位小数（元、角、分）"
    if value < 0:
        return f"“{f.label}”不得为负数"
    if f_min is not None and value < f_min:
        return f"“{f.label}”不得小于{f_min}"
    if f_max is not None and value > f_max:
        return f"“{f.label}”不得大于{f_max}"
    return None


def facts_for_matching(rs: RuleSet, case: Case, checks: Checks | None = None) -> dict[str, Any]:
    """Validate the case's facts and circumstances against the ruleset; build the engine fact."""
    fact: dict[str, Any] = rs.false_bools.copy()
    if checks is None:
        checks = fact_checks(rs)
    for name, value in case.facts.items():
        c = checks.get(name)
        if c is None:
            raise InputError(message=f"该违法行为没有事实项“{name}”", code="unknown_fact", field=f"facts.{name}")
        if value is None:
            continue
        problem = fact_problem(c, value)
        if problem is not None:
            raise InputError(message=problem, code="invalid_fact", field=f"facts.{name}")
        fact[name] = value
    circumstances = case.circumstances
    if circumstances:
        known = rs.known_circumstances
        for i, circ in enumerate(circumstances):
            if circ not in known:
                label = rs.not_applicable.get(circ)
                message = f"未知的情节：{circ}" if label is None else f"情节“{label}”不适用于该类违法行为"
                raise InputError(message=message, code="unknown_circumstance", field=f"circumstances[{i}]")
            fact[circ] = True
    return fact


# The counts a condition may read besides the case's facts and circumstances (:func:`counts`), in Chinese.
COUNT_LABELS = {"mitigating_count": "法定从轻、减轻情节的项数", "aggravating_count": "从重情节的项数"}


def counts(groups: Mapping[str, str], circumstances: list[str]) -> dict[str, int]:
    """How many distinct mitigating and aggravating circumstances the case has."""
    mit = agg = 0
    for c in dict.fromkeys(circumstances) if len(circumstances) > 1 else circumstances:
        g = groups.get(c)
        if g == "mitigating":
            mit += 1
        elif g == "aggravating":
            agg += 1
    return {"mitigating_count": mit, "aggravating_count": agg}


def circumstance_counts(rs: RulebookSet, case: Case) -> dict[str, int]:
    return counts({k: c.group for k, c in rs.circumstances.items()}, case.circumstances)
