"""discretion.review.coverage: the table of the Code's articles, the types citing them and the law
before the Code, kept true in the README and docs/rulebooks.md; and which fine-bearing articles of
第五编第二章 no type cites yet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.cli import main as cli_main
from discretion.engine.catalog import from_chinese
from discretion.review import coverage
from discretion.rulebooks.loaded import RulebookSet

ROOT = Path(__file__).resolve().parent.parent
BOOK5 = ROOT / "docs" / "laws" / "生态环境法典-05-legal-liability-and-supplementary.md"
# The fine-bearing articles no violation type cites yet (issue 12 adds them section by section):
# this list only shrinks.
NOT_YET: set[int] = set()


def book5() -> tuple[dict[int, str], dict[int, str]]:
    """The articles of 第五编第二章 (number → text) and the heading of the section each stands in."""
    texts: dict[int, str] = {}
    sections: dict[int, str] = {}
    chapter = section = ""
    current: int | None = None
    for line in BOOK5.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            chapter = line
        elif line.startswith("#### "):
            section = line[5:]
        m = re.match(r"^\*\*第([零一二三四五六七八九十百千]+)条\*\*", line)
        if m:
            current = from_chinese(m.group(1)) if "分则" in chapter else None
            if current is not None:
                texts[current], sections[current] = line, section
        elif current is not None and not line.startswith("#"):
            texts[current] += line
    return texts, sections


def fine_bearing() -> set[int]:
    """Articles of 第二章 outside 第六节 (海洋) whose text contains 罚款: the issue's 117."""
    texts, sections = book5()
    return {a for a, t in texts.items() if "罚款" in t and "海洋污染" not in sections[a]}


def test_the_code_has_117_fine_bearing_articles_outside_marine_pollution() -> None:
    """Counting as the issue does gives 117 articles."""
    assert len(fine_bearing()) == 117


def test_every_fine_bearing_article_is_cited_but_the_ones_listed_not_yet(rulebooks: RulebookSet) -> None:
    """The cited articles and NOT_YET together are the 117; an article cited now must leave NOT_YET."""
    cited = {r.article for r in coverage.rows(rulebooks)}
    wanted = fine_bearing()
    assert not (cited & NOT_YET), f"cited now, remove from NOT_YET: {sorted(cited & NOT_YET)}"
    assert wanted - cited == NOT_YET, f"neither cited nor listed: {sorted(wanted - cited - NOT_YET)}"


def test_the_sections_match_the_codes_headings() -> None:
    """Each article of 第二章 falls in the group of the section its heading names (第六节: none)."""
    _, sections = book5()
    names = {"monitoring": "监测", "eia": "环境影响评价", "permit": "排污许可", "air": "大气", "water": "水污染",
             "soil": "土壤", "solid_waste": "固体废物", "noise": "噪声", "radiation": "放射性", "chemical": "化学物质",
             "ecology": "生态保护", "low_carbon": "绿色低碳", "other": "其他"}
    for article, heading in sections.items():
        group = coverage.section(article)
        assert (group is None) == ("海洋" in heading), (article, heading)
        assert group is None or names[group] in heading, (article, heading, group)


@pytest.mark.parametrize("doc", ["README.md", "docs/rulebooks.md"])
def test_the_documents_carry_the_table_as_generated(rulebooks: RulebookSet, doc: str) -> None:
    """The README's and docs/rulebooks.md's coverage table is the one the rulebooks give today."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    table = coverage.markdown(rulebooks)
    assert coverage.replace(text, table) == text, (
        f"{doc} 的覆盖表已过时：运行 discretion rulebooks coverage --update README.md docs/rulebooks.md"
    )


def test_each_row_names_the_law_before_the_code(rulebooks: RulebookSet) -> None:
    """Every type in the table names a pre-Code provision or says why it has none."""
    for row in coverage.rows(rulebooks):
        for code, _ in row.types:
            assert row.before[code], (row.article, code)
            assert all(b.startswith("《") or b.startswith("未收录") or b.startswith("此前无") for b in row.before[code])


def test_update_rewrites_only_the_block_and_refuses_a_file_without_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--update replaces what stands between the markers and exits 1 on a file without them."""
    good = tmp_path / "a.md"
    good.write_text(f"前文\n{coverage.START}\n旧表\n{coverage.END}\n后文\n", encoding="utf-8")
    bad = tmp_path / "b.md"
    bad.write_text("没有标记\n", encoding="utf-8")
    assert cli_main(["rulebooks", "coverage", "--update", str(good)]) == 0
    text = good.read_text(encoding="utf-8")
    assert text.startswith("前文\n") and text.endswith("\n后文\n") and "旧表" not in text and "| 第一千零八十六条 |" in text
    assert cli_main(["rulebooks", "coverage", "--update", str(bad)]) == 1
    assert "没有覆盖表的标记" in capsys.readouterr().out


def test_the_json_form_lists_every_cited_article(rulebooks: RulebookSet, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json gives each article with its types and their pre-Code provisions."""
    assert cli_main(["rulebooks", "coverage", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["article"] for a in data["articles"]] == [r.article for r in coverage.rows(rulebooks)]
    assert all(t["before_code"] for a in data["articles"] for t in a["types"])
