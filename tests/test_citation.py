"""discretion.engine.citation: legal citations written as in Chinese law."""

from __future__ import annotations

import re

import pytest

from discretion.engine.citation import as_dict, chinese_number, cite, cite_all, cite_provision
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import LegalRef


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "一"),
        (2, "二"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (83, "八十三"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (105, "一百零五"),
        (110, "一百一十"),
        (111, "一百一十一"),
        (123, "一百二十三"),
        (200, "二百"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1055, "一千零五十五"),
        (1095, "一千零九十五"),
        (1100, "一千一百"),
        (1107, "一千一百零七"),
        (1236, "一千二百三十六"),
        (2000, "二千"),
    ],
)
def test_chinese_number_is_written_as_statutes_number_articles(n: int, text: str) -> None:
    """Article numbers are written as in the statute books: 十一 (not 一十一), 一百一十, 一千零五十五."""
    assert chinese_number(n) == text


@pytest.mark.parametrize("n", [0, -1])
def test_chinese_number_refuses_non_positive_numbers(n: int) -> None:
    """No article, paragraph or item is numbered zero or below."""
    with pytest.raises(ValueError):
        chinese_number(n)


@pytest.mark.parametrize(
    "ref, text",
    [
        (LegalRef(law="中华人民共和国水污染防治法", article=83), "《中华人民共和国水污染防治法》第八十三条"),
        (LegalRef(law="中华人民共和国水污染防治法", article=83, item=2), "《中华人民共和国水污染防治法》第八十三条第二项"),
        (LegalRef(law="中华人民共和国行政处罚法", article=36, paragraph=1), "《中华人民共和国行政处罚法》第三十六条第一款"),
        (
            LegalRef(law="中华人民共和国行政处罚法", article=63, paragraph=1, item=1),
            "《中华人民共和国行政处罚法》第六十三条第一款第一项",
        ),
        (LegalRef(law="中华人民共和国生态环境法典", article=1107), "《中华人民共和国生态环境法典》第一千一百零七条"),
        (
            LegalRef(law="中华人民共和国生态环境法典", article=1095, paragraph=2),
            "《中华人民共和国生态环境法典》第一千零九十五条第二款",
        ),
        (LegalRef(law="排污许可管理条例", article=33, item=1), "《排污许可管理条例》第三十三条第一项"),
    ],
)
def test_cite_writes_law_article_paragraph_and_item(ref: LegalRef, text: str) -> None:
    """cite() puts the law in 《》 and adds 第N款 and 第N项 only where they are given."""
    assert cite(ref) == text


def test_as_dict_carries_the_reference_and_its_citation() -> None:
    """The contract's basis object has the parts of the reference and the citation text."""
    ref = LegalRef(law="中华人民共和国水污染防治法", article=83, item=2)
    assert as_dict(ref) == {
        "law": "中华人民共和国水污染防治法",
        "article": 83,
        "paragraph": None,
        "item": 2,
        "citation": "《中华人民共和国水污染防治法》第八十三条第二项",
    }


def test_every_shipped_reference_can_be_cited(rulebooks: RulebookSet) -> None:
    """Every provision basis in the shipped rulebooks cites without error and in the 《…》第…条 shape."""
    shape = re.compile(r"^《[^》]+》第[一二三四五六七八九十百千零]+条(第[一二三四五六七八九十]+款)?(第[一二三四五六七八九十]+项)?$")
    seen = 0
    for lv in rulebooks.violations.values():
        for rules in lv.model.regimes.values():
            for p in rules.provisions:
                assert shape.match(cite(p.basis.ref)), cite(p.basis.ref)
                seen += 1
    assert seen >= 40


WATER = "中华人民共和国水污染防治法"


@pytest.mark.parametrize(
    "refs, text",
    [
        ([LegalRef(law=WATER, article=85, paragraph=1, item=1), LegalRef(law=WATER, article=85, paragraph=2)],
         "《中华人民共和国水污染防治法》第八十五条第一款第一项、第二款"),
        ([LegalRef(law=WATER, article=21, paragraph=2, item=1), LegalRef(law=WATER, article=21, paragraph=2, item=2)],
         "《中华人民共和国水污染防治法》第二十一条第二款第一项、第二项"),
        ([LegalRef(law=WATER, article=100, item=1), LegalRef(law=WATER, article=100, item=2)],
         "《中华人民共和国水污染防治法》第一百条第一项、第二项"),
        ([LegalRef(law=WATER, article=22), LegalRef(law=WATER, article=64)], "《中华人民共和国水污染防治法》第二十二条、第六十四条"),
        ([LegalRef(law=WATER, article=83, item=1), LegalRef(law="排污许可管理条例", article=33, item=1)],
         "《中华人民共和国水污染防治法》第八十三条第一项和《排污许可管理条例》第三十三条第一项"),
    ],
)
def test_a_list_of_citations_names_each_article_and_paragraph_once(refs: list[LegalRef], text: str) -> None:
    """Several places of one article are written as Chinese law writes them: the article once
    (第八十五条第一款第一项、第二款), the paragraph once (第二十一条第二款第一项、第二项)."""
    assert cite_all(refs) == text


def test_a_provision_read_with_its_fines_paragraph_is_cited_whole() -> None:
    """固体废物污染环境防治法第一百一十二条第一款第三项 sets its fine in 第二款: cited “第一款第三项、第二款”;
    第三十一条第二款 “依照前款的规定处罚” is cited with the paragraph before it, in the article's order."""
    sw = "中华人民共和国固体废物污染环境防治法"
    item = LegalRef(law=sw, article=112, paragraph=1, item=3)
    assert cite_provision(item, LegalRef(law=sw, article=112, paragraph=2)) == f"《{sw}》第一百一十二条第一款第三项、第二款"
    eia = "中华人民共和国环境影响评价法"
    second = LegalRef(law=eia, article=31, paragraph=2)
    assert cite_provision(second, LegalRef(law=eia, article=31, paragraph=1)) == f"《{eia}》第三十一条第一款、第二款"
    assert cite_provision(item, None) == cite(item)
