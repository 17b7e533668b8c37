"""Every statute text a violation type quotes (duties, penalty provisions, escalations, flags, measures)
stands word for word in its own article of the law text the project holds: the shared reference
laws (``../shared/reference/laws/`` beside the checkout) and the project's own ``docs/laws/`` (texts
added with their source). A quote may leave out a stretch with “……”; each piece must be found.
Whitespace and Markdown marks are ignored."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from discretion.engine.catalog import from_chinese
from discretion.rulebooks.tree import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference" / "laws"
OWN = ROOT / "docs" / "laws"
CODE_PARTS = "生态环境法典-0"  # the Code's five books; the README and versions files are not law

_HEAD = re.compile(r"^\**第([零一二三四五六七八九十百千]+)条\**[\s　]", re.M)
_NOISE = re.compile(r"[\s*#　]")


def _articles(text: str) -> dict[int, str]:
    """Article number → its text (every paragraph up to the next article), whitespace removed."""
    heads = list(_HEAD.finditer(text))
    out: dict[int, str] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.setdefault(from_chinese(m.group(1)), _NOISE.sub("", text[m.end() : end]))
    return out


def _laws() -> dict[str, dict[int, str]]:
    """Short law name (without 中华人民共和国) → its articles, from both folders."""
    laws: dict[str, dict[int, str]] = {}
    for path in sorted(REFERENCE.glob("*.md")) + sorted(OWN.glob("*.md")):
        if path.name.startswith("生态环境法典-"):
            if not path.name.startswith(CODE_PARTS):
                continue
            name = "生态环境法典"
        else:
            name = path.name.split("(")[0]
        laws.setdefault(name, {}).update(_articles(path.read_text(encoding="utf-8")))
    return laws


def _quotes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any], str]]:
    if isinstance(node, dict):
        if isinstance(node.get("ref"), dict) and isinstance(node.get("text"), str):
            yield path, node["ref"], node["text"]
        for key, value in node.items():
            yield from _quotes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _quotes(value, f"{path}/{i}")


FILES = sorted((SHIPPED / "law" / "violations").glob("*.yaml"))


@pytest.fixture(scope="module")
def laws() -> dict[str, dict[int, str]]:
    if not REFERENCE.is_dir():
        pytest.skip(f"the reference law texts are not beside this checkout ({REFERENCE})")
    return _laws()


def test_the_projects_own_law_texts_name_their_source() -> None:
    """Each text in docs/laws/ opens with the repository, path and commit it was taken from."""
    for path in OWN.glob("*.md"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("<!-- 来源：") and re.search(r"[0-9a-f]{40}", first), path.name


@pytest.mark.parametrize("file", FILES, ids=[f.stem for f in FILES])
def test_every_quote_of_a_violation_type_stands_in_its_article(file: Path, laws: dict[str, dict[int, str]]) -> None:
    """Each quoted text of the type is found, piece by piece, in the article its reference names."""
    doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    wrong = []
    for where, ref, text in _quotes(doc):
        articles = laws.get(ref["law"].removeprefix("中华人民共和国"))
        if articles is None:
            wrong.append(f"{where}: no text of {ref['law']} in {REFERENCE} or {OWN}")
            continue
        article = articles.get(ref["article"])
        if article is None:
            wrong.append(f"{where}: {ref['law']} has no article {ref['article']}")
            continue
        for piece in _NOISE.sub("", text).split("……"):
            if piece and piece not in article:
                wrong.append(f"{where}: not in {ref['law']} art. {ref['article']}: {piece[:40]}…")
    assert not wrong, "\n".join(wrong)
