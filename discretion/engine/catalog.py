"""The violation catalogue of the contract: what a form needs to ask, on a given date."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..errors import InputError
from ..rulebooks import conditions
from ..rulebooks.compiler import Compiled, applicable_circumstances
from ..rulebooks.editions import in_force
from ..rulebooks.loaded import LoadedEdition
from ..rulebooks.models import GROUPS, FactDef, FromLaw, Violation
from .citation import chinese_number, cite, cite_provision, edition_citation, provision_refs
from .dates import regime_on
from .inputs import date_problems

_LAW_SHORT = "中华人民共和国"


def readings(compiled: Compiled, code: str, edition_key: str | None) -> dict[str, FromLaw]:
    """The edition's facts that are read from the law layer's (``from_law``), by the edition's fact."""
    if edition_key is None:
        return {}
    vb = compiled.rulebooks.editions[edition_key].effective.violations.get(code)
    return {fl.fact: fl for fl in (vb.from_law if vb else [])}


def _asked(name: str, reads: dict[str, FromLaw]) -> bool:
    """Whether a form asks a fact: not an edition fact that the law's fact always decides (one value, or
    none, for every choice of the law's fact)."""
    fl = reads.get(name)
    return fl is None or any(len(v) > 1 for v in fl.values.values())


def _refines(d: dict[str, Any], fl: FromLaw | None) -> dict[str, Any]:
    """A fact read from the law's: which law fact it refines and, per choice of that fact, its own
    choices (one: read from the law's fact; several: the caller may refine; none: not graded)."""
    if fl is not None:
        d["refines"] = {"fact": fl.law_fact, "choices": {k: list(v) for k, v in fl.values.items()}}
    return d


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


def violation_entry(
    compiled: Compiled, code: str, on: dt.date, jurisdiction: str = "yunnan", decision: dt.date | None = None
) -> dict[str, Any]:
    """One Violation of the contract, for the regime in force on ``on`` (the act's day).

    With ``decision`` (the day the case is decided), the facts are those a case decided that day
    needs: the benchmark edition is the one in force on the decision day, and when the law changed
    in between (从旧兼从轻: both regimes are evaluated) the facts and required facts of both regimes."""
    rs = compiled.rulebooks
    lv = rs.violation(code)
    regime = regime_on(rs.law, on)
    if regime is None:
        raise InputError(message="日期早于本系统收录的法律", code="date_out_of_range", field="on")
    regimes = [regime]
    if decision is not None:
        problems = date_problems(on, None, decision, None)  # the engine's own date check
        if problems:
            field, message = problems[0]
            raise InputError(message=message, code="invalid_date", field=field)
        later = regime_on(rs.law, decision)
        if later is not None and later != regime:
            regimes.append(later)
    try:
        le, _ = in_force(rs.editions, jurisdiction, decision or on)
        key: str | None = le.key
    except InputError as exc:
        if exc.code == "unknown_jurisdiction":
            raise
        key = None  # no edition in force that day: the law's facts only
    ruleset = compiled.get(code, key)
    rules = lv.model.regimes.get(regime)  # type: ignore[call-overload]
    required: set[str] = set()
    read: set[str] = set()
    for r in regimes:
        in_r = lv.model.regimes.get(r)  # type: ignore[call-overload]
        if in_r is None:
            continue
        required |= set(in_r.requires)
        read |= _names_read(ruleset, r)
        for p in in_r.provisions:
            for f in [p.fine] + [x.fine for x in p.escalations]:
                for attr in ("base", "count"):
                    if f is not None and getattr(f, attr, None):
                        read.add(getattr(f, attr))
    read |= required
    reads = readings(compiled, code, key)
    facts = [
        _refines(fact_dict(f, name in required), reads.get(name))
        for name, f in ruleset.facts.items()
        if (name in read or name in lv.facts) and _asked(name, reads)
    ]
    basis = []
    seen = set()
    for p in rules.provisions if rules else []:
        for ref in provision_refs(p.basis.ref, p.read_with):  # with the paragraph that sets its fine
            c = cite(ref)
            if c not in seen:
                seen.add(c)
                basis.append({"law": ref.law, "article": ref.article, "paragraph": ref.paragraph, "item": ref.item, "citation": c})
    circumstances = [c for c in ruleset.circumstances]
    before = lv.model.before_code
    return {
        "code": code,
        "title": lv.model.title,
        "regime": regime,
        "regimes": regimes,
        "group": lv.model.group,
        "group_label": GROUPS[lv.model.group],
        "punishable": rules is not None,
        "not_encoded": list(before.laws) if rules is None and before is not None and before.status == "not_encoded" else [],
        "penalty_basis": basis,
        "facts": facts,
        "circumstances": circumstances,
        "keywords": list(lv.model.keywords),
        "edition": key,
    }


# Short names that officers write for the laws (the Code as 法典).
LAW_ALIASES = {
    "环保法": "环境保护法", "环评法": "环境影响评价法", "水污法": "水污染防治法", "水污染法": "水污染防治法",
    "大气法": "大气污染防治法", "大气污染法": "大气污染防治法", "固废法": "固体废物污染环境防治法",
    "土壤法": "土壤污染防治法", "噪声法": "噪声污染防治法", "环境噪声法": "噪声污染防治法",
    "放射性法": "放射性污染防治法", "生态环境法典": "法典",
}
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_ARTICLE = re.compile(r"第?\s*([0-9]+|[零一二两三四五六七八九十百千]+)\s*条")
_PART = re.compile(r"第?\s*([0-9]+|[零一二两三四五六七八九十百千]+)\s*[款项目]")


def from_chinese(text: str) -> int:
    """八十三 → 83, 一千一百零七 → 1107, 十五 → 15 (the numbers of articles)."""
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


def query_terms(q: str) -> tuple[list[str], int | None]:
    """The words of a search and the article it names, whatever way it is written: "水污染防治法 83",
    "水污染防治法83", "水污染防治法第83条", "《中华人民共和国水污染防治法》第八十三条第二款", "固废法 112".
    Paragraphs and items (款、项) are not searched: a violation is found by its article."""
    text = q.replace("《", " ").replace("》", " ").replace(_LAW_SHORT, "")
    article: int | None = None

    def take(m: re.Match[str]) -> str:
        nonlocal article
        n = m.group(1)
        if article is None:
            article = int(n) if n.isdecimal() else from_chinese(n)
        return " "
    text = _ARTICLE.sub(take, text)
    text = _PART.sub(" ", text)
    text = re.sub(r"(?<=[^\s0-9])(?=[0-9])|(?<=[0-9])(?=[^\s0-9])", " ", text)  # 水污染防治法83 → 水污染防治法 83
    words: list[str] = []
    for token in text.split():
        if token.isdecimal():
            if article is None:
                article = int(token)  # the first bare number is the article; further ones are 款/项
            continue
        words.append(LAW_ALIASES.get(token, token))
    return words, article


def matches(entry: dict[str, Any], q: str) -> bool:
    """Every word of ``q`` is found; a law name and an article number ("水污染防治法 83") must
    name the same penalty provision (see :func:`query_terms` for the ways of writing them)."""
    own = " ".join([entry["code"], entry["title"], *entry["keywords"]])
    words, article = query_terms(q)
    candidates = entry["penalty_basis"] if article is not None else [None]
    for b in candidates:
        if b is not None and b["article"] != article:
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


def grouped(items: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Catalogue entries by group, in the order of the Code's sections: (group, label, entries)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for entry in items:
        by.setdefault(entry["group"], []).append(entry)
    return [(g, label, by[g]) for g, label in GROUPS.items() if g in by]


GROUP_LABELS = {"exemption": "不予处罚", "mitigating": "从轻、减轻", "aggravating": "从重", "other": "其他（追责期限）"}


def circumstance_entries(compiled: Compiled, code: str, regime: str) -> list[dict[str, Any]]:
    """Circumstances of a violation type with the statutory basis of each under ``regime``."""
    rs = compiled.rulebooks
    gen = rs.law.general.get(regime)  # type: ignore[call-overload]
    lv = rs.violation(code)
    out = []
    ids = applicable_circumstances(rs, lv.model)
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


def circumstance_groups(compiled: Compiled, code: str, edition: LoadedEdition | None) -> dict[str, list[dict[str, Any]]]:
    """The circumstances a form asks for violation ``code``, by group (in the law layer's order), each
    with its basis under both regimes (a form may be for an act before or after 2026-08-15) and,
    where the law gives none of its own, the benchmark edition's (its adjustments and 免罚 list)."""
    by_regime = {r: {c["id"]: c for c in circumstance_entries(compiled, code, r)} for r in ("pre2026", "code2026")}
    benchmark = edition_circumstance_basis(edition, code) if edition is not None else {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for cid, c in by_regime["code2026"].items():
        c = dict(c)
        old = by_regime["pre2026"][cid]["basis"]
        c["basis"] = list(dict.fromkeys(old + c["basis"] + benchmark.get(cid, [])))
        groups.setdefault(c["group"], []).append(c)
    return {g: groups[g] for g in GROUP_LABELS if g in groups}


def provision_citations(v: Violation) -> dict[str, list[str]]:
    """The penalty provisions of a violation type under each regime, cited whole."""
    return {r: list(dict.fromkeys(cite_provision(p.basis.ref, p.read_with) for p in rules.provisions)) for r, rules in v.regimes.items()}


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
    reads = readings(compiled, code, edition_key)
    out = []
    for name, f in ruleset.facts.items():
        if (name in read or name in required_in or name in lv.facts) and _asked(name, reads):
            d = _refines(fact_dict(f, False), reads.get(name))
            d["required_in"] = required_in.get(name, [])
            out.append(d)
    return out


def one_question(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One fact, asked once: where the benchmark edition grades more finely what a fact of the law
    layer selects (``refines``), the law fact's select offers the edition's finer choices under each of
    its own (value ``law:edition``), and the edition's fact is not asked on its own."""
    refined = {d["refines"]["fact"]: d for d in facts if "refines" in d}
    for d in facts:
        own = refined.get(d["name"])
        if own is None or d["type"] != "enum":
            continue
        labels = {c["value"]: c["label"] for c in own["choices"]}
        options: list[tuple[str, str]] = []
        for c in d["choices"]:
            allowed = own["refines"]["choices"].get(c["value"], [])
            if len(allowed) < 2:
                options.append((c["value"], c["label"]))
                continue
            options.append((c["value"], f"{c['label']}（{own['label']}未细分）"))
            options += [(f"{c['value']}:{a}", f"{c['label']}——{labels.get(a, a)}") for a in allowed]
        d["options"] = options
        d["refined_by"] = own["name"]
    return facts
