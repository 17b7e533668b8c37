"""The violation catalogue of the contract: what a form needs to ask, on a given date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import conditions
from .benchmark import in_force
from .citation import chinese_number, cite
from .compiler import Compiled
from .errors import InputError
from .models import FactDef

_LAW_SHORT = "中华人民共和国"


def fact_dict(f: FactDef, required: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.type, "unit": f.unit, "required": required}
    if f.hint:
        d["hint"] = f.hint
    if f.choices:
        d["choices"] = [{"value": k, "label": v} for k, v in f.choices.items()]
    if f.min is not None:
        d["min"] = str(f.min)
    if f.max is not None:
        d["max"] = str(f.max)
    return d


def _tokens(ref_law: str, article: int) -> list[str]:
    short = ref_law.removeprefix(_LAW_SHORT)
    return [ref_law, short, str(article), chinese_number(article)]


def violation_entry(compiled: Compiled, code: str, on: dt.date, jurisdiction: str = "yunnan") -> dict[str, Any]:
    """One Violation of the contract, for the regime and edition in force on ``on``."""
    from .assessment import regime_on

    rs = compiled.rulebooks
    lv = rs.violation(code)
    regime = regime_on(rs.law, on)
    if regime is None:
        raise InputError(message="日期早于本系统收录的法律", code="date_out_of_range", field="on")
    try:
        le, _ = in_force(rs.editions, jurisdiction, on)
        key: str | None = le.key
    except InputError:
        key = None
    ruleset = compiled.get(code, key)
    rules = lv.model.regimes.get(regime)  # type: ignore[call-overload]
    required = set(rules.requires) if rules else set()
    read = set()
    for r in ruleset.rules:
        if r.regime in (None, regime):
            read |= conditions.names(r.node)
    read |= required
    for p in rules.provisions if rules else []:
        for f in [p.fine] + [x.fine for x in p.escalations]:
            for attr in ("base", "count"):
                if f is not None and getattr(f, attr, None):
                    read.add(getattr(f, attr))
    facts = [fact_dict(f, name in required) for name, f in ruleset.facts.items() if name in read or name in lv.facts]
    basis = []
    seen = set()
    for p in rules.provisions if rules else []:
        c = cite(p.basis.ref)
        if c not in seen:
            seen.add(c)
            basis.append({"law": p.basis.ref.law, "article": p.basis.ref.article, "paragraph": p.basis.ref.paragraph,
                          "item": p.basis.ref.item, "citation": c})
    circumstances = [c for c in ruleset.circumstances]
    return {
        "code": code,
        "title": lv.model.title,
        "regime": regime,
        "punishable": rules is not None,
        "penalty_basis": basis,
        "facts": facts,
        "circumstances": circumstances,
        "keywords": list(lv.model.keywords),
        "edition": key,
    }


def matches(entry: dict[str, Any], q: str) -> bool:
    """Every whitespace-separated token of ``q`` is found in the title, keywords, code or basis."""
    hay = [entry["code"], entry["title"], *entry["keywords"]]
    for b in entry["penalty_basis"]:
        hay += _tokens(b["law"], b["article"])
    hay_text = " ".join(hay)
    for token in q.split():
        if token.isdigit():
            if not any(str(b["article"]) == token for b in entry["penalty_basis"]):
                return False
        elif token not in hay_text:
            return False
    return True


def violations_on(compiled: Compiled, on: dt.date, q: str | None = None, jurisdiction: str = "yunnan") -> list[dict[str, Any]]:
    out = []
    for code in sorted(compiled.rulebooks.violations):
        entry = violation_entry(compiled, code, on, jurisdiction)
        if q and not matches(entry, q.strip()):
            continue
        out.append(entry)
    return out
