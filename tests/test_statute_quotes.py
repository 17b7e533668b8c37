"""Every statute text a violation type quotes is the law's own words: each part of the quote (the
parts an elision “……” separates) occurs in the article it cites, in the statute files of
``../shared/reference/laws/`` (the project's reference texts) or ``docs/laws/`` (texts the project
added, each naming its source)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydantic import BaseModel

from discretion.engine.catalog import from_chinese as article_number
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import Quoted

REPO = Path(__file__).resolve().parent.parent
LAW_DIRS = (REPO.parent / "shared" / "reference" / "laws", REPO / "docs" / "laws")
CODE = "中华人民共和国生态环境法典"
_ARTICLE = re.compile(r"^\**第([零一二三四五六七八九十百千]+)条\**[\s　]*(.*)$")


def compact(text: str) -> str:
    """The text without whitespace or Markdown emphasis (the files wrap and bold differently)."""
    return re.sub(r"[\s　*]", "", text)


def articles(path: Path) -> dict[int, str]:
    """Article number → its paragraphs run together, from one statute file."""
    out: dict[int, list[str]] = {}
    current: int | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        m = _ARTICLE.match(line)
        if m:
            current = article_number(m.group(1))
            out[current] = [m.group(2)]
        elif line.startswith(("#", "<!--")):
            if not line.startswith("####"):  # a heading above an article's level ends it
                current = None
        elif current is not None and line:
            out[current].append(line)
    return {n: compact("".join(parts)) for n, parts in out.items()}


def law_name(path: Path) -> str:
    """The full name a rulebook cites a statute file by: 水污染防治法(2017-06-27).md → 中华人民共和国水污染防治法."""
    if path.name.startswith("生态环境法典-"):
        return CODE
    short = re.sub(r"[（(].*$", "", path.stem)
    return short if short.endswith(("条例", "办法", "规定")) else "中华人民共和国" + short


def statutes() -> dict[str, dict[int, str]]:
    laws: dict[str, dict[int, str]] = {}
    for folder in LAW_DIRS:
        for path in sorted(folder.glob("*.md")):
            if "README" not in path.name:
                laws.setdefault(law_name(path), {}).update(articles(path))
    return laws


def quotes(node: Any) -> Iterator[Quoted]:
    """Every quoted provision inside a rulebook model."""
    if isinstance(node, Quoted):
        yield node
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from quotes(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from quotes(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from quotes(item)


needs_reference = pytest.mark.skipif(not LAW_DIRS[0].is_dir(), reason="the reference statute texts are not beside the repository")


@needs_reference
def test_every_violation_quote_is_found_word_for_word_in_its_article(rulebooks: RulebookSet) -> None:
    """Each part of every quoted text of every violation type occurs in the article its reference names."""
    laws = statutes()
    wrong = []
    for code, loaded in sorted(rulebooks.violations.items()):
        for q in quotes(loaded.model):
            body = laws.get(q.ref.law, {}).get(q.ref.article)
            if body is None:
                wrong.append(f"{code}: 《{q.ref.law}》第{q.ref.article}条不在法律文本中")
                continue
            wrong += [f"{code}: 《{q.ref.law}》第{q.ref.article}条中没有“{part}”" for part in compact(q.text).split("……") if part and part not in body]
    assert not wrong, "\n".join(wrong)


@needs_reference
def test_a_changed_word_is_caught() -> None:
    """A quote with one word changed is not found in its article (the check can fail)."""
    body = statutes()[CODE][1138]
    assert compact("由生态环境主管部门处十万元以上五十万元以下的罚款") in body
    assert compact("由生态环境主管部门处十万元以上一百万元以下的罚款") not in body
