"""discretion.engine.money and discretion.engine.citation: memoised texts read exactly as computed afresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson

from discretion.engine.citation import as_dict, as_json, cite_all, date_text
from discretion.engine.money import wan, yuan_text
from discretion.rulebooks.models import LegalRef


def test_a_decimal_amount_is_not_given_the_text_of_the_equal_integer() -> None:
    """100000 and Decimal("1E+5") are equal (and hash alike) but read differently: the memo keeps them apart."""
    assert yuan_text(100000) == "100000元（10万元）"
    assert yuan_text(Decimal("1E+5")) == "1E+5元（10万元）"
    assert yuan_text(100000) == "100000元（10万元）"
    assert wan(125000) == "12.5"
    assert wan(Decimal("125000.50")) == "12.50005"
    assert wan(125000) == "12.5"


def test_memoised_money_texts_equal_fresh_ones_for_many_amounts() -> None:
    """Asked twice, every amount gets the text computed the first time (including 0, below 1万 and negatives)."""
    amounts = [0, 1, 9999, 10000, 10001, 125000, 1_000_000, 123_456_789, -5, -125000]
    first = [(yuan_text(a), wan(a)) for a in amounts]
    assert [(yuan_text(a), wan(a)) for a in amounts] == first
    assert first[4] == ("10001元（1.0001万元）", "1.0001")
    assert first[-1][1] == "-12.5"


def test_citations_of_a_generator_and_of_a_list_read_alike() -> None:
    """cite_all accepts any iterable of references; memoised by the references, the text is the same."""
    refs = [LegalRef(law="中华人民共和国水污染防治法", article=83, item=2), LegalRef(law="中华人民共和国水污染防治法", article=10)]
    text = cite_all(refs)
    assert text == "《中华人民共和国水污染防治法》第八十三条第二项、第十条"
    assert cite_all(r for r in refs) == text
    assert cite_all(refs) == text
    assert cite_all(refs[::-1]) == "《中华人民共和国水污染防治法》第十条、第八十三条第二项"


def test_a_reference_as_json_is_its_dict_serialised() -> None:
    """as_json(ref) embeds exactly orjson.dumps(as_dict(ref))."""
    ref = LegalRef(law="中华人民共和国行政处罚法", article=63, paragraph=1, item=1)
    assert orjson.dumps([as_json(ref), as_json(ref)]) == orjson.dumps([as_dict(ref), as_dict(ref)])


def test_date_text_of_dates_and_datetimes() -> None:
    """2026-03-01 → 2026年3月1日, memoised for dates; a datetime reads the same way."""
    assert date_text(dt.date(2026, 3, 1)) == "2026年3月1日"
    assert date_text(dt.date(2026, 3, 1)) == "2026年3月1日"
    assert date_text(dt.datetime(2026, 3, 1, 12, 30)) == "2026年3月1日"
