"""Every statute text quoted beside a rule is the law's own words: each passage of a quote (split at
“……”) is found, in order, in the article it cites, in the copies under docs/laws/."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydantic import BaseModel

from discretion.engine.catalog import from_chinese
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import Quoted

LAWS = Path(__file__).resolve().parent.parent / "docs" / "laws"
CODE = "中华人民共和国生态环境法典"
# documents an edition cites that are not statutes (benchmarks, notices): not in docs/laws
NOT_STATUTES = re.compile(r"裁量|基准|通知|办法|意见|规定（|环执法|〔")
_HEADER = re.compile(r"^(?:\*\*)?第([零一二两三四五六七八九十百千]+)条(?:\*\*)?[\s　]")
_GAP = re.compile(r"…+")
_ITEM = re.compile(r"(?=\([一二三四五六七八九十]+\))")


def _normal(text: str) -> str:
    """The text compared: no spaces or line breaks, one form of parentheses, no markdown bold."""
    text = text.replace("**", "").replace("（", "(").replace("）", ")")
    return re.sub(r"[\s\u3000]+", "", text)


@lru_cache(maxsize=None)
def articles(law: str) -> dict[int, str] | None:
    """The articles of ``law`` (its full name), by number, normalised; None when no copy is here."""
    if law == CODE:
        files = sorted(LAWS.glob("生态环境法典-0*.md"))
    else:
        short = law.removeprefix("中华人民共和国")
        files = sorted(LAWS.glob(f"{short}(*).md"))[-1:]
    if not files:
        return None
    out: dict[int, list[str]] = {}
    current: list[str] | None = None
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _HEADER.match(line)
            if m:
                current = out.setdefault(from_chinese(m.group(1)), [])
                current.append(line[m.end():])
            elif line.startswith("#"):
                current = None  # a chapter or section heading ends the article before it
            elif current is not None:
                current.append(line)
    return {n: _normal("".join(lines)) for n, lines in out.items()}


def quotes(obj: Any, where: str) -> Iterator[tuple[str, Quoted]]:
    """Every quoted statute text inside a rulebook model, with where it stands."""
    if isinstance(obj, Quoted):
        yield where, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from quotes(getattr(obj, name), f"{where}.{name}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from quotes(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from quotes(v, f"{where}[{i}]")


def all_quotes(rs: RulebookSet) -> list[tuple[str, Quoted]]:
    out = list(quotes(rs.law, "law.yaml"))
    for code, lv in rs.violations.items():
        out += quotes(lv.model, f"violations/{code}.yaml")
    for key, le in rs.editions.items():
        out += quotes(le.model, key)
    return out


def mismatch(q: Quoted) -> str | None:
    """Why ``q`` is not the text of the article it cites (None: it is)."""
    arts = articles(q.ref.law)
    if arts is None:
        return f"没有《{q.ref.law}》的文本（docs/laws/）"
    article = arts.get(q.ref.article)
    if article is None:
        return f"《{q.ref.law}》没有第{q.ref.article}条"
    at = 0
    # passages: split at “……”, and before each item “（二）”: a quote may give an article's lead-in
    # and then only the item it cites (“…应当从轻或者减轻行政处罚：（二）受他人胁迫…”)
    parts = [p for gap in _GAP.split(q.text) for p in _ITEM.split(_normal(gap))]
    for part in parts:
        part = part.strip("。；，")
        if not part:
            continue
        found = article.find(part, at)
        if found < 0:
            return f"第{q.ref.article}条中找不到：{part[:60]}"
        at = found + len(part)
    return None


def test_every_statute_quoted_in_the_rulebooks_is_the_laws_own_text(rulebooks: RulebookSet) -> None:
    """Each quote of a statute with a copy here matches its article word for word, passage by passage."""
    checked, wrong = 0, []
    for where, q in all_quotes(rulebooks):
        if articles(q.ref.law) is None and NOT_STATUTES.search(q.ref.law):
            continue
        checked += 1
        why = mismatch(q)
        if why:
            wrong.append(f"{where}: 《{q.ref.law}》第{q.ref.article}条：{why}")
    assert checked > 500
    assert not wrong, f"{len(wrong)} of {checked} quotes differ from the law:\n" + "\n".join(wrong[:40])


def test_the_check_finds_a_changed_word() -> None:
    """A quote with one word changed, or an article it does not stand in, is caught."""
    right = Quoted.model_validate({"ref": {"law": CODE, "article": 1229}, "text": "违反本法规定，以拖延、围堵、滞留执法人员等方式拒绝、阻挠监督检查……处五万元以上二十万元以下的罚款"})
    assert mismatch(right) is None
    changed = right.model_copy(update={"text": right.text.replace("五万元", "三万元")})
    assert mismatch(changed) is not None
    elsewhere = Quoted.model_validate({"ref": {"law": CODE, "article": 1228}, "text": right.text})
    assert mismatch(elsewhere) is not None
    out_of_order = right.model_copy(update={"text": "处五万元以上二十万元以下的罚款……以拖延、围堵、滞留执法人员等方式"})
    assert mismatch(out_of_order) is not None


@pytest.mark.parametrize("law", ["中华人民共和国大气污染防治法", "排污许可管理条例", CODE])
def test_the_copies_are_read_article_by_article(law: str) -> None:
    """Each law copy is split into its articles from the first on, numbered without gaps."""
    arts = articles(law)
    assert arts is not None and 1 in arts
    numbers = sorted(arts)
    assert numbers == list(range(1, numbers[-1] + 1))
