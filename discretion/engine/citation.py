"""Legal citations written as in Chinese law: 《中华人民共和国水污染防治法》第八十三条第二项."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any


from ..rulebooks.models import LegalRef
from . import encoding

_DIGITS = "零一二三四五六七八九"


@lru_cache(maxsize=4096)
def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 83 → 八十三, 105 → 一百零五, 1095 → 一千零九十五."""
    if n <= 0:
        raise ValueError("only positive numbers are cited")
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out = ""
    rest = n
    zero = False
    for value, name in units:
        d, rest = divmod(rest, value)
        if d:
            if zero:
                out += "零"
                zero = False
            if not (value == 10 and d == 1 and not out):
                out += _DIGITS[d]
            out += name
        elif out:
            zero = True
    if rest:
        if zero:
            out += "零"
        out += _DIGITS[rest]
    return out


def cite(ref: LegalRef) -> str:
    """The citation of a reference: law in 《》, then 第X条, 第N款 and 第N项 where given."""
    return _cite(ref.law, ref.article, ref.paragraph, ref.item)


@lru_cache(maxsize=8192)
def _cite(law: str, article: int, paragraph: int | None, item: int | None) -> str:
    text = f"《{law}》第{chinese_number(article)}条"
    if paragraph:
        text += f"第{chinese_number(paragraph)}款"
    if item:
        text += f"第{chinese_number(item)}项"
    return text


def provision_refs(ref: LegalRef, read_with: LegalRef | None) -> tuple[LegalRef, ...]:
    """A penalty provision's place with the paragraph it is read with (its fine's, or its act's), in
    the article's order."""
    if read_with is None:
        return (ref,)
    return tuple(sorted((ref, read_with), key=lambda r: r.paragraph or 0))


def cite_provision(ref: LegalRef, read_with: LegalRef | None) -> str:
    """A penalty provision cited whole: 《固体废物污染环境防治法》第一百一十二条第一款第三项、第二款."""
    return cite(ref) if read_with is None else cite_all(list(provision_refs(ref, read_with)))


def as_dict(ref: LegalRef) -> dict[str, object]:
    """The contract's shape of a legal basis, with its citation text."""
    return {
        "law": ref.law,
        "article": ref.article,
        "paragraph": ref.paragraph,
        "item": ref.item,
        "citation": cite(ref),
    }


# Memoised by the identity of the reference objects (the rulebook's own, few and immutable); the
# cache holds them, so an id cannot be reused while its entry lives. Cleared when full.
_CACHE_MAX = 4096
_JSON_BY_ID: dict[int, tuple[LegalRef, Any]] = {}  # the reference, its JSON fragment
_ALL_BY_IDS: dict[tuple[int, ...], tuple[list[LegalRef], str]] = {}


def as_json(ref: LegalRef) -> Any:
    """``as_dict(ref)`` as JSON (UTF-8), to embed in a larger document."""
    got = _JSON_BY_ID.get(id(ref))
    if got is None:
        got = (ref, _as_json(ref.law, ref.article, ref.paragraph, ref.item))
        if len(_JSON_BY_ID) >= _CACHE_MAX:
            _JSON_BY_ID.clear()
        _JSON_BY_ID[id(ref)] = got
    return got[1]


@lru_cache(maxsize=4096)
def _as_json(law: str, article: int, paragraph: int | None, item: int | None) -> Any:
    return encoding.Fragment(encoding.dumps(
        {"law": law, "article": article, "paragraph": paragraph, "item": item, "citation": _cite(law, article, paragraph, item)}
    ))


_LIST_BY_IDS: dict[tuple[int, ...], tuple[list[LegalRef], encoding.Fragment]] = {}


def as_json_list(refs: "list[LegalRef]") -> encoding.Fragment:
    """``[as_dict(r) for r in refs]`` as JSON (UTF-8), to embed in a larger document: a result's
    basis and violated provisions are a plan's own few lists, memoised by their references' identities."""
    key = tuple(map(id, refs))
    got = _LIST_BY_IDS.get(key)
    if got is None:
        kept = list(refs)
        got = (kept, encoding.Fragment(encoding.dumps([as_json(r) for r in kept])))
        if len(_LIST_BY_IDS) >= _CACHE_MAX:
            _LIST_BY_IDS.clear()
        _LIST_BY_IDS[key] = got
    return got[1]


def as_dict_list(refs: "list[LegalRef]") -> list[dict[str, object]]:
    """``as_dict`` of each reference."""
    return [as_dict(r) for r in refs]


def cite_all(refs: "list[LegalRef]") -> str:
    """Several citations, naming each law once: 《甲法》第一条、第二条和《乙法》第三条."""
    if not isinstance(refs, (list, tuple)):
        refs = list(refs)
    key = tuple(map(id, refs))
    got = _ALL_BY_IDS.get(key)
    if got is None:
        kept = list(refs)
        got = (kept, _cite_all(tuple((r.law, r.article, r.paragraph, r.item) for r in kept)))
        if len(_ALL_BY_IDS) >= _CACHE_MAX:
            _ALL_BY_IDS.clear()
        _ALL_BY_IDS[key] = got
    return got[1]


Place = tuple[str, int, int | None, int | None]  # law, article, paragraph, item


def _after(prev: Place | None, cur: Place) -> str:
    """``cur`` cited after ``prev`` of the same law, as Chinese law writes a list: the article once
    (第八十五条第一款第一项、第二款), the paragraph once (第二十一条第二款第一项、第二项)."""
    law, article, paragraph, item = cur
    full = _cite(law, article, paragraph, item).split("》", 1)[1]
    if prev is None or prev[1] != article:
        return full
    if paragraph is None:  # an article without paragraphs: 第一百条第一项、第二项
        return f"第{chinese_number(item)}项" if item and prev[2] is None and prev[3] else full
    if paragraph != prev[2]:
        return f"第{chinese_number(paragraph)}款" + (f"第{chinese_number(item)}项" if item else "")
    return f"第{chinese_number(item)}项" if item and prev[3] else full


@lru_cache(maxsize=4096)
def _cite_all(refs: tuple[Place, ...]) -> str:
    groups: list[tuple[str, list[str]]] = []
    seen: set[Place] = set()
    prev: Place | None = None
    for ref in refs:
        if ref in seen:
            continue
        seen.add(ref)
        law = ref[0]
        if groups and groups[-1][0] == law:
            groups[-1][1].append(_after(prev, ref))
        else:
            groups.append((law, [_after(None, ref)]))
        prev = ref
    texts = [f"《{law}》" + "、".join(parts) for law, parts in groups]
    if len(texts) <= 1:
        return "".join(texts)
    return "、".join(texts[:-1]) + "和" + texts[-1]


_DATES: dict[dt.date, str] = {}


def date_text(d: "object") -> str:
    """2026-03-01 → 2026年3月1日."""
    if type(d) is not dt.date:
        return f"{d.year}年{d.month}月{d.day}日"  # type: ignore[attr-defined]
    got = _DATES.get(d)
    if got is None:
        got = f"{d.year}年{d.month}月{d.day}日"
        if len(_DATES) >= 8192:
            _DATES.clear()
        _DATES[d] = got
    return got


def edition_citation(e: Any) -> str:
    """《云南省…（2023年版）》 of a benchmark edition, with a mark when its figures are modelled."""
    return _edition_citation(e.title)


@lru_cache(maxsize=256)
def _edition_citation(title: str) -> str:
    modelled = title.endswith("（建模）")
    if modelled:
        title = title[: -len("（建模）")]
    return f"《{title}》" + ("（建模）" if modelled else "")
