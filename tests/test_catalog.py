"""discretion.engine.catalog: searching violation types by keyword or by article, however the article is written."""

from __future__ import annotations

import datetime as dt

import pytest

from discretion.engine.assessment import Engine
from discretion.engine.catalog import from_chinese, query_terms, violations_on
from discretion.rulebooks import tree


@pytest.fixture(scope="module")
def compiled():  # type: ignore[no-untyped-def]
    return Engine(tree.load(), "reference").compiled


@pytest.mark.parametrize(
    "q",
    ["水污染防治法 83", "水污染防治法83", "水污染防治法第83条", "水污染防治法第八十三条", "《中华人民共和国水污染防治法》第八十三条",
     "《水污染防治法》第八十三条第二款", "水污染防治法 83 2", "水污法 83", "水污染防治法 第 83 条"],
)
def test_an_article_written_any_usual_way_finds_the_same_violations(compiled, q: str) -> None:  # type: ignore[no-untyped-def]
    on = dt.date(2025, 6, 1)
    expected = [v["code"] for v in violations_on(compiled, on, "水污染防治法 83")]
    assert "water_over_standard" in expected
    assert [v["code"] for v in violations_on(compiled, on, q)] == expected


def test_the_code_and_short_law_names_are_found_by_article(compiled) -> None:  # type: ignore[no-untyped-def]
    after = dt.date(2026, 9, 1)
    assert [v["code"] for v in violations_on(compiled, after, "法典 第1107条")] == [v["code"] for v in violations_on(compiled, after, "法典 1107")]
    assert violations_on(compiled, after, "生态环境法典第一千一百零七条")
    before = dt.date(2025, 6, 1)
    assert [v["code"] for v in violations_on(compiled, before, "固废法 112")] == [v["code"] for v in violations_on(compiled, before, "固体废物污染环境防治法 112")]
    assert violations_on(compiled, before, "固废法 112")


def test_an_article_number_never_matches_another_article(compiled) -> None:  # type: ignore[no-untyped-def]
    on = dt.date(2025, 6, 1)
    for v in violations_on(compiled, on, "水污染防治法第八十三条"):
        assert any(b["article"] == 83 and "水污染防治法" in b["law"] for b in v["penalty_basis"]), v["code"]
    assert violations_on(compiled, on, "水污染防治法 9999") == []


def test_query_terms_split_words_from_the_article() -> None:
    assert query_terms("《中华人民共和国水污染防治法》第八十三条第二款") == (["水污染防治法"], 83)
    assert query_terms("固废法 112") == (["固体废物污染环境防治法"], 112)
    assert query_terms("超标排放") == (["超标排放"], None)
    assert query_terms("建设项目 环评法 第二十五条") == (["建设项目", "环境影响评价法"], 25)


def test_digits_that_are_not_decimal_are_words_not_article_numbers() -> None:
    """A superscript ¹ is a digit to str.isdigit but no number to int(): it is searched as a word
    (it answered 500 before); full-width ８３ is a decimal number like 83."""
    assert query_terms("¹") == (["¹"], None)
    assert query_terms("水污染防治法 ８３") == (["水污染防治法"], 83)


@pytest.mark.parametrize(("text", "n"), [("八十三", 83), ("十五", 15), ("一百零五", 105), ("一千一百零七", 1107), ("二十", 20), ("十", 10)])
def test_chinese_article_numbers_are_read(text: str, n: int) -> None:
    assert from_chinese(text) == n


@pytest.mark.parametrize(
    "q, code",
    [
        ("未验先投", "acceptance_not_done_operation"),
        ("私设暗管", "water_evading_supervision"),
        ("偷排", "water_evading_supervision"),
        ("无证排污", "discharge_without_permit"),
        ("超标排放", "air_over_standard"),
        ("扬尘", "dusty_material_uncovered"),
        ("危废转移联单", "hazardous_waste_management"),
        ("未批先建", "eia_unapproved_construction"),
    ],
)
def test_a_type_is_found_by_the_name_handlers_call_it(compiled, q: str, code: str) -> None:  # type: ignore[no-untyped-def]
    """The everyday names of an act find its violation type, under the Code and before it."""
    for on in (dt.date(2026, 9, 1), dt.date(2025, 6, 1)):
        assert code in {e["code"] for e in violations_on(compiled, on, q)}, (q, on)
