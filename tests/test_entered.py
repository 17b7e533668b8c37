"""What the handler entered comes back from the stored record (api/entered.py): each fact with its label and
the value as chosen, each circumstance, whether each took effect (with the reason where not), the factors
left unknown, and nothing guessed for a record made before the engine said what took no effect."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from api.entered import NOT_STATED, UNKNOWN_VALUE, Lookup, entered, lookup, value_text
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.rulebooks.loaded import RulebookSet

WATER = {"violation": "water_over_standard", "jurisdiction": "yunnan", "party": "unit",
         "facts": {"exceedance_ratio": Decimal("0.5"), "discharge_area": "mixed", "serious": False, "duration_days": 12},
         "circumstances": ["confessed", "first_offense", "confessed"],
         "violation_date": "2025-03-01", "decision_date": "2025-09-01"}


@pytest.fixture(scope="module")
def look(rulebooks: RulebookSet, engine: Engine) -> Lookup:
    return lookup(rulebooks, engine.compiled)


def assessed(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    """The result as the record stores it (JSON), of a request as the record stores it."""
    case = Case.model_validate({k: v for k, v in request.items()})
    return json.loads(engine.assess(case).to_json(id="0" * 24))


def test_each_fact_comes_back_with_its_label_and_the_value_as_chosen(engine: Engine, look: Lookup) -> None:
    """An enum as its choice's label, a number with its unit, a yes/no as 否, in the order entered."""
    got = entered(WATER, assessed(engine, WATER), look)
    assert [(x.code, x.label, x.value) for x in got.facts] == [
        ("exceedance_ratio", "超标倍数", "0.5倍"),
        ("discharge_area", "排放去向/所在区域", "二类功能区（商业、居住混合区）、Ⅳ类水体"),
        ("serious", "情节严重", "否"),
        ("duration_days", "违法行为持续时间", "12天"),
    ]


def test_money_comes_back_in_yuan_exactly_and_null_as_unknown(engine: Engine, look: Lookup) -> None:
    """A money fact with 元 (a fraction kept as its exact decimal text, never a float); a fact sent as null is 未查明."""
    req = {"violation": "eia_unapproved_construction", "facts": {"total_investment": Decimal("100000000.10"), "eia_document": None},
           "circumstances": [], "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
    got = entered(req, assessed(engine, req), look)
    assert [(x.label, x.value) for x in got.facts] == [("建设项目总投资额", "100000000.10元"), ("环境影响评价文件类型", UNKNOWN_VALUE)]
    assert value_text(Decimal("1E+2"), type_="money", unit=None, choices=None) == "100元"  # no exponent in a document


def test_circumstances_say_which_took_effect_and_why_the_others_did_not(engine: Engine, look: Lookup) -> None:
    """主动供述 took effect; 初次违法 alone did not (the reason the engine gives); the repeated 主动供述 did not
    (与第1项重复): each occurrence keeps its own place and status."""
    got = entered(WATER, assessed(engine, WATER), look)
    rows = [(x.code, x.applied, (x.reason or "")[:14]) for x in got.circumstances]
    assert rows == [("confessed", True, ""), ("first_offense", False, "只是不予处罚的条件之一，本案"), ("confessed", False, "与第1项重复，只计一次")]
    assert [x.label for x in got.circumstances_applied] == ["主动供述行政机关尚未掌握的违法行为"]
    assert got.circumstances[1].status == "未采用" and got.circumstances[0].status == "已采用"


def test_a_circumstance_that_never_took_effect_is_not_applied_at_each_occurrence(engine: Engine, look: Lookup) -> None:
    """初次违法 given twice without its other conditions: the first with the engine's reason, the second as a repeat."""
    req = {**WATER, "circumstances": ["first_offense", "first_offense"]}
    got = entered(req, assessed(engine, req), look)
    assert [x.applied for x in got.circumstances] == [False, False]
    assert got.circumstances[0].reason.startswith("只是不予处罚的条件之一")  # type: ignore[union-attr]
    assert got.circumstances[1].reason == "与第1项重复，只计一次"


def test_the_factors_left_unknown_are_the_engines(engine: Engine, look: Lookup) -> None:
    """The factors left at their default level are the result's own list, with level and reason."""
    result = assessed(engine, WATER)
    got = entered(WATER, result, look)
    assert got.defaulted == result["factors_defaulted"]
    assert "pollutant" in [d["id"] for d in got.defaulted] and "duration" not in [d["id"] for d in got.defaulted]


def test_facts_not_applied_are_read_where_the_engine_puts_them_and_tolerated_when_absent(engine: Engine, look: Lookup) -> None:
    """Without ``facts_not_applied`` the facts' effect is not stated (never guessed); with it (at the top of the
    result, or on the applied regime's entry of the lighter-law comparison) the listed facts are not applied, with
    the reason, and the others applied."""
    result = assessed(engine, WATER)
    assert result["facts_not_applied"] == []  # the engine lists them: here every fact took effect
    assert {x.applied for x in entered(WATER, result, look).facts} == {True}
    old = {k: v for k, v in result.items() if k != "facts_not_applied"}  # a record made before the engine listed them
    assert {x.applied for x in entered(WATER, old, look).facts} == {None}
    assert {x.status for x in entered(WATER, old, look).facts} == {NOT_STATED}
    refused = [{"name": "serious", "field": "facts.serious", "label": "情节严重", "reason": "所适用的罚则不以情节严重为条件"}]
    for where in ("top", "lighter_law"):
        r = dict(old)
        if where == "top":
            r["facts_not_applied"] = refused
        else:
            r["law"] = {**r["law"], "lighter_law": {"applied": "code2026", "results": [
                {"regime": "pre2026", "facts_not_applied": []}, {"regime": "code2026", "facts_not_applied": refused}]}}
        got = {x.code: (x.applied, x.reason) for x in entered(WATER, r, look).facts}
        assert got["serious"] == (False, "所适用的罚则不以情节严重为条件"), where
        assert got["exceedance_ratio"] == (True, None), where


def test_a_record_made_before_the_engine_listed_circumstances_does_not_guess(engine: Engine, look: Lookup) -> None:
    """No ``circumstances_not_applied`` in the record: every circumstance is shown as entered, its effect not stated."""
    result = assessed(engine, WATER)
    del result["circumstances_not_applied"]
    got = entered(WATER, result, look)
    assert [(x.label, x.applied) for x in got.circumstances][:2] == [("主动供述行政机关尚未掌握的违法行为", None), ("初次违法", None)]


def test_the_dates_party_jurisdiction_and_an_edition_asked_for_come_back_in_chinese(engine: Engine, look: Lookup) -> None:
    """The basics: the violation's title, each date given, 单位/个人, the jurisdiction's name, and the title of an
    edition the request named (an unknown key as it is)."""
    req = {**WATER, "party": "individual", "jurisdiction": "yunnan/kunming", "discovered_date": "2026-09-10",
           "edition": "yunnan@2026-draft", "violation_date": "2026-09-01", "decision_date": "2026-10-01"}
    result = assessed(engine, {**req, "facts": {}})
    got = dict(entered(req, result, look).basics)
    assert got["违法行为发生日期"] == "2026年9月1日" and got["发现日期"] == "2026年9月10日" and got["决定日期"] == "2026年10月1日"
    assert got["当事人类型"] == "个人" and got["辖区"] == "云南省昆明市"
    assert got["指定的裁量基准版本"].startswith("云南省生态环境行政处罚裁量权规则和基准（《生态环境法典》适用版）")
    assert "违法行为终了日期" not in got
    assert dict(entered({**req, "edition": "nowhere@1"}, result, look).basics)["指定的裁量基准版本"] == "nowhere@1"
