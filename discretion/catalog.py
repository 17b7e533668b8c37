"""The violation catalogue of the contract: what a form needs to ask, on a given date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import conditions
from .benchmark import in_force
from .citation import chinese_number, cite, edition_citation
from .compiler import Compiled
from .errors import InputError
from .models import FactDef
from .rulebook import LoadedEdition

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


def _names_read(ruleset: Any, regime: str | None = None) -> set[str]:
    """Every fact or circumstance the ruleset's conditions read (under one regime, if given)."""
    read: set[str] = set()
    for r in ruleset.rules:
        if regime is None or r.regime in (None, regime):
            read |= conditions.names(r.node)
    return read


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
    except InputError as exc:
        if exc.code == "unknown_jurisdiction":
            raise
        key = None  # no edition in force that day: the law's facts only
    ruleset = compiled.get(code, key)
    rules = lv.model.regimes.get(regime)  # type: ignore[call-overload]
    required = set(rules.requires) if rules else set()
    read = _names_read(ruleset, regime) | required
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
    """Every token of ``q`` is found; a law name and an article number ("水污染防治法 83") must
    name the same penalty provision."""
    own = " ".join([entry["code"], entry["title"], *entry["keywords"]])
    tokens = q.split()
    numbers = [t for t in tokens if t.isdigit()]
    words = [t for t in tokens if not t.isdigit()]
    candidates = entry["penalty_basis"] if numbers else [None]
    for b in candidates:
        if b is not None and not all(str(b["article"]) == n for n in numbers):
            continue
        laws = [b] if b is not None else entry["penalty_basis"]
        if all(w in own or any(w in " ".join(_tokens(x["law"], x["article"])) for x in laws) for w in words):
            return True
    return False


def violations_on(compiled: Compiled, on: dt.date, q: str | None = None, jurisdiction: str = "yunnan") -> list[dict[str, Any]]:
    out = []
    for code in sorted(compiled.rulebooks.violations):
        entry = violation_entry(compiled, code, on, jurisdiction)
        if q and not matches(entry, q.strip()):
            continue
        out.append(entry)
    return out


GROUP_LABELS = {"exemption": "不予处罚", "mitigating": "从轻、减轻", "aggravating": "从重", "other": "其他（追责期限）"}


def circumstance_entries(compiled: Compiled, code: str, regime: str) -> list[dict[str, Any]]:
    """Circumstances of a violation type with the statutory basis of each under ``regime``."""
    rs = compiled.rulebooks
    gen = rs.law.general.get(regime)  # type: ignore[call-overload]
    lv = rs.violation(code)
    out = []
    ids = list(rs.circumstances) + [c for c in lv.model.circumstances if c not in rs.circumstances]
    for cid in ids:
        c = rs.circumstances[cid]
        basis = [cite(q.ref) for q in c.basis]
        if gen is not None:
            for ex in gen.exemptions:
                if cid in conditions.names(conditions.parse(ex.when)):
                    basis.append(cite(ex.basis.ref))
            for adj in gen.adjustments:
                if adj.circumstance == cid:
                    basis.append(cite(adj.basis.ref))
            for lim in gen.limitation:
                if lim.when and cid in conditions.names(conditions.parse(lim.when)):
                    basis.append(cite(lim.basis.ref))
        out.append({"id": cid, "label": c.label, "group": c.group, "group_label": GROUP_LABELS[c.group],
                    "hint": c.hint, "basis": list(dict.fromkeys(basis))})
    return out


def edition_circumstance_basis(edition: LoadedEdition, code: str) -> dict[str, list[str]]:
    """Where the benchmark edition itself gives a circumstance its effect on violation ``code``: its
    从重/从轻 adjustments and the entries of its 免罚 list that name the circumstance. Shown beside
    circumstances the law layer gives no article of its own (e.g. 列入正面清单, 重污染天气预警期间)."""
    e = edition.effective
    title = edition_citation(e)
    out: dict[str, list[str]] = {}
    for adj in e.adjustments or []:
        effect = f"{'从重' if adj.direction == 'aggravate' else '从轻'}{adj.points}个百分点"
        cited = cite(adj.basis.ref) if adj.basis is not None else title
        out.setdefault(adj.circumstance, []).append(f"{cited}（{effect}）")
    for entry in e.exemptions or []:
        if code not in entry.violations:
            continue
        cited = "、".join(dict.fromkeys(cite(q.ref) for q in entry.basis))
        for cid in conditions.names(conditions.parse(entry.when)):
            out.setdefault(cid, []).append(f"{cited}（{entry.label}）")
    return out


def form_facts(compiled: Compiled, code: str, edition_key: str | None) -> list[dict[str, Any]]:
    """Every fact a case of this type may need under either regime, with where it is required."""
    rs = compiled.rulebooks
    lv = rs.violation(code)
    ruleset = compiled.get(code, edition_key)
    read: set[str] = set()
    required_in: dict[str, list[str]] = {}
    for regime, rules in lv.model.regimes.items():
        for name in rules.requires:
            required_in.setdefault(name, []).append(regime)
    read |= _names_read(ruleset)
    out = []
    for name, f in ruleset.facts.items():
        if name in read or name in required_in or name in lv.facts:
            d = fact_dict(f, False)
            d["required_in"] = required_in.get(name, [])
            out.append(d)
    return out
