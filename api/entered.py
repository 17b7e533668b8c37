"""What the handler entered, as it comes back on the result page, the print view and the documents.

From the stored record alone (its request and its result), never from the live form: the dates, the
party's kind, the jurisdiction and the edition asked for; each fact with its Chinese label and the
value as the handler chose it (an enum's choice label, money with 元, a yes/no as 是/否); each
circumstance; and whether each took effect, with the reason where it did not:

- circumstances: the engine's ``circumstances_not_applied`` ({code, label, reason}, in the order
  given; a repeated circumstance is listed as not applied once more for each repetition);
- facts: the engine's ``facts_not_applied`` in the same shape, where the record carries it (read at
  the top of the result, or on the applied regime's entry of the lighter-law comparison);
- the factors left unknown: the engine's ``factors_defaulted`` (discretion/engine/notices.py).

A record made before the engine said which inputs took no effect has no such list: its inputs are
shown as entered, with their effect marked as not stated (``applied`` None), never guessed.
Used by api/pages/results.py and api/documents/content.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from discretion.engine.citation import date_text
from discretion.rulebooks.compiler import Compiled
from discretion.rulebooks.loaded import RulebookSet

from .pages.rendering import JURISDICTIONS

PARTY_KINDS = {"unit": "单位", "individual": "个人"}
UNKNOWN_VALUE = "未查明"  # a fact sent as null: known to be unknown
NOT_STATED = "未逐项说明"  # the record does not say (made before the engine listed what took no effect)

FactText = Callable[[str, str, str, Any], tuple[str, str]]  # (violation, edition key, fact, value) → (label, text)


@dataclass(frozen=True)
class Line:
    """One input: its code, Chinese label, the value as chosen (facts; empty for a circumstance),
    whether it took effect (None: the record does not say) and, where it did not, the reason."""

    code: str
    label: str
    value: str
    applied: bool | None
    reason: str | None = None

    @property
    def status(self) -> str:
        """已采用 / 未采用 / 未逐项说明 (for a table cell)."""
        return NOT_STATED if self.applied is None else "已采用" if self.applied else "未采用"


@dataclass(frozen=True)
class Entered:
    basics: list[tuple[str, str]]  # (label, text): 违法行为, dates, 当事人类型, 辖区, 裁量基准 asked for
    facts: list[Line]
    circumstances: list[Line]
    defaulted: list[dict[str, Any]] = field(default_factory=list)  # the result's factors_defaulted, as stored

    @property
    def facts_not_applied(self) -> list[Line]:
        return [x for x in self.facts if x.applied is False]

    @property
    def circumstances_applied(self) -> list[Line]:
        return [x for x in self.circumstances if x.applied]

    @property
    def circumstances_not_applied(self) -> list[Line]:
        return [x for x in self.circumstances if x.applied is False]


@dataclass(frozen=True)
class Lookup:
    """What the labels are read from: the loaded rulebooks (a name no longer known is shown as it is)."""

    fact: FactText
    circumstance: Callable[[str], str | None]
    edition: Callable[[str], str | None]  # an edition key → its title


def value_text(value: Any, *, type_: str | None, unit: str | None, choices: Mapping[str, str] | None) -> str:
    """A fact's value as the handler chose it: 是/否, an enum's choice label, a number with its unit
    (money with 元), 未查明 for null. Decimals keep their exact text (no float)."""
    if value is None:
        return UNKNOWN_VALUE
    if isinstance(value, bool):
        return "是" if value else "否"
    if choices and str(value) in choices:
        return choices[str(value)]
    if isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    if type_ == "money" and not unit:
        unit = "元"
    return f"{text}{unit or ''}"


def lookup(rs: RulebookSet, compiled: Compiled) -> Lookup:
    """The labels of the loaded rulebooks: a fact under the edition the record was made with (else the
    law layer's), a circumstance, an edition's title."""

    def fact(violation: str, edition: str, name: str, value: Any) -> tuple[str, str]:
        fd = None
        for key in (edition, None):
            ruleset = compiled.find(violation, key or None)
            if ruleset is not None and name in ruleset.facts:
                fd = ruleset.facts[name]
                break
        if fd is None:
            return name, value_text(value, type_=None, unit=None, choices=None)
        return fd.label, value_text(value, type_=fd.type, unit=fd.unit, choices=fd.choices)

    def circumstance(cid: str) -> str | None:
        c = rs.circumstances.get(cid)
        return c.label if c is not None else None

    def edition(key: str) -> str | None:
        le = rs.editions.get(key)
        return le.model.title if le is not None else None

    return Lookup(fact=fact, circumstance=circumstance, edition=edition)


def _not_applied(result: Mapping[str, Any], key: str) -> list[dict[str, Any]] | None:
    """The engine's list ``key`` ({code or name, label, reason}) of the applied result: at the top of the
    result, else on the applied regime's entry of the lighter-law comparison; None when the record
    has none (made before the engine said so)."""
    got = result.get(key)
    if got is not None:
        return list(got)
    ll = (result.get("law") or {}).get("lighter_law") or {}
    for x in ll.get("results") or ():
        if x.get("regime") == ll.get("applied") and x.get(key) is not None:
            return list(x[key])
    return None


def _day(text: str | None) -> str | None:
    return date_text(dt.date.fromisoformat(text)) if text else None


def basics(request: Mapping[str, Any], result: Mapping[str, Any], look: Lookup) -> list[tuple[str, str]]:
    out = [("违法行为", str(result["violation"]["title"]))]
    for key, label in (("violation_date", "违法行为发生日期"), ("violation_end_date", "违法行为终了日期"),
                       ("discovered_date", "发现日期"), ("decision_date", "决定日期")):
        day = _day(request.get(key))
        if day:
            out.append((label, day))
    out.append(("当事人类型", PARTY_KINDS.get(str(request.get("party", "unit")), str(request.get("party")))))
    where = str(request.get("jurisdiction") or "yunnan")
    out.append(("辖区", JURISDICTIONS.get(where, where)))
    if request.get("edition"):
        key = str(request["edition"])
        out.append(("指定的裁量基准版本", look.edition(key) or key))
    return out


def entered(request: Mapping[str, Any], result: Mapping[str, Any], look: Lookup) -> Entered:
    """Everything a stored request gave, each input with whether it took effect (see the module)."""
    violation, edition = str(result["violation"]["code"]), str(result["rulebook"]["key"])
    refused_facts = _not_applied(result, "facts_not_applied")
    by_fact = {str(x.get("name", x.get("code"))): x for x in refused_facts or ()}
    facts = []
    for name, value in (request.get("facts") or {}).items():
        label, text = look.fact(violation, edition, name, value)
        got = by_fact.get(name)
        applied = None if refused_facts is None else got is None
        facts.append(Line(name, label, text, applied, None if got is None else str(got["reason"])))
    given = [str(c) for c in request.get("circumstances") or ()]
    refused = _not_applied(result, "circumstances_not_applied")
    # the entries of a circumstance given k times go to its last m occurrences: the engine lists the
    # first occurrence only when it took no effect, then every repetition (in the order given)
    entries: dict[str, list[dict[str, Any]]] = {}
    for x in refused or ():
        entries.setdefault(str(x["code"]), []).append(x)
    left = {c: given.count(c) for c in set(given)}
    circumstances = []
    for c in given:
        mine = entries.get(c, [])
        left[c] -= 1
        label = look.circumstance(c) or next((str(x["label"]) for x in mine if x.get("label")), c)
        if refused is None:
            circumstances.append(Line(c, label, "", None))
            continue
        at = len(mine) - 1 - left[c]  # this occurrence's entry, if it has one
        if at >= 0:
            circumstances.append(Line(c, label, "", False, str(mine[at]["reason"])))
        else:
            circumstances.append(Line(c, label, "", True))
    return Entered(basics(request, result, look), facts, circumstances, list(result.get("factors_defaulted") or ()))


def defaulted_text(d: Mapping[str, Any]) -> str:
    """A factor left at its default level, as the pages and documents say it."""
    return f"{d['label']}：第{d['level']}级（{d['level_label']}）。{d['reason']}"
