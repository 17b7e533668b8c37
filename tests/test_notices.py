"""discretion.engine.notices and the duration the dates give (discretion.engine.consistency): a fact the
case gives that nothing of the applied plan reads comes back marked not applied with the reason; an
unfilled 持续时间 is read from the act's dates."""

from __future__ import annotations

from typing import Any

from discretion.engine.assessment import Engine
from discretion.engine.case import Case

WATER = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-06-01"}
EIA = {"violation": "eia_unapproved_construction", "facts": {"eia_document": "report", "total_investment": 2_000_000}}


def _assess(engine: Engine, body: dict[str, Any]) -> dict[str, Any]:
    return engine.assess(Case.model_validate(body)).to_dict()


def test_a_fact_nothing_reads_is_listed_with_its_reason_step_and_sentence(any_engine: Engine) -> None:
    """排污许可管理类别 given for 超标排放水污染物 (no rule of the type reads it under the 2023 edition): one
    entry with the field and the reason, a trail step ``fact`` and the reasoning's sentence; the facts
    its factors read are not listed."""
    d = _assess(any_engine, {**WATER, "facts": {"exceedance_ratio": 0.5, "permit_class": "key", "duration_days": 3}})
    [entry] = d["facts_not_applied"]
    assert entry["name"] == "permit_class" and entry["field"] == "facts.permit_class" and entry["label"] == "排污许可管理类别"
    assert entry["reason"].startswith("单行法对该违法行为的规定和云南省生态环境行政处罚裁量权规则和基准规定（2023年版）")
    assert entry["reason"].endswith("均不读取该事实，不影响处理结果")
    steps = [s for s in d["trail"] if s["step"] == "fact"]
    assert [(s["rule"], s["label"], s["data"]) for s in steps] == [
        ("permit_class", "未适用的事实", {"fact": "permit_class", "reason": entry["reason"]})]
    assert f"所填事实中，“排污许可管理类别”未予适用（{entry['reason']}）。" in d["reasoning"]


def test_facts_that_rules_read_are_not_listed(any_engine: Engine) -> None:
    """Facts read by a factor's levels, and a fact given as null, take no entry, step or sentence."""
    d = _assess(any_engine, {**WATER, "facts": {"exceedance_ratio": 0.5, "duration_days": 3, "permit_class": None}})
    assert d["facts_not_applied"] == [] and not any(s["step"] == "fact" for s in d["trail"])
    assert "所填事实中" not in d["reasoning"]


def test_a_fact_read_only_under_the_other_regime_says_which(any_engine: Engine) -> None:
    """建设项目总投资额 sets the fine under the separate laws only: for an act under the Code it is listed as
    read under the separate laws only; where both laws were compared (从旧兼从轻) and the Code applies,
    the reason says it served the comparison."""
    code_only = _assess(any_engine, {**EIA, "violation_date": "2026-09-01", "decision_date": "2026-10-01"})
    [entry] = code_only["facts_not_applied"]
    assert entry["name"] == "total_investment"
    assert entry["reason"] == "该事实只在单行法下适用，本案适用《中华人民共和国生态环境法典》，不影响处理结果"
    both = {**EIA, "violation_date": "2026-03-01", "decision_date": "2026-10-01"}
    large = _assess(any_engine, {**both, "facts": {**EIA["facts"], "total_investment": 200_000_000}})  # 1%–5%: the Code is lighter
    assert large["law"]["regime"] == "code2026" and large["law"]["lighter_law"] is not None
    [entry] = large["facts_not_applied"]
    assert entry["reason"] == "该事实只在单行法下适用（已用于从旧兼从轻的比较），本案适用《中华人民共和国生态环境法典》，不影响处理结果"
    small = _assess(any_engine, both)  # the separate laws are lighter and apply: the investment set their fine
    assert small["law"]["regime"] == "pre2026" and small["facts_not_applied"] == []


def test_the_duration_is_read_from_the_dates_when_not_filled_in(any_engine: Engine) -> None:
    """2025-03-01 to 2025-03-12, both days counted: 12 days, so 持续时间 takes its level for 10 to 20 days
    and is no longer at its default; the trail says how it was counted."""
    d = _assess(any_engine, {**WATER, "violation_end_date": "2025-03-12", "facts": {"exceedance_ratio": 0.5}})
    [derived] = [s for s in d["trail"] if s["rule"] == "dates/duration_days"]
    assert derived["step"] == "factor"
    assert derived["data"] == {"fact": "duration_days", "value": 12, "from": "2025-03-01", "to": "2025-03-12"}
    assert "计为12天（首尾两日均计入，不足1日按1日计）" in derived["text"]
    [level] = [s for s in d["trail"] if s["step"] == "factor" and s["data"].get("factor") == "duration"]
    assert level["data"]["level"] == 3 and level["data"]["matched"]
    assert "duration" not in {x["id"] for x in d["factors_defaulted"]}


def test_an_act_of_one_day_lasted_one_day_and_a_given_duration_is_kept(any_engine: Engine) -> None:
    """An act that began and ended on the same day lasted 1 day (不足1日按1日计: at the lowest level, a
    fact found, not a default); a duration the case gives is never replaced by the dates'."""
    same_day = _assess(any_engine, {**WATER, "violation_end_date": "2025-03-01", "facts": {"exceedance_ratio": 0.5}})
    [derived] = [s for s in same_day["trail"] if s["rule"] == "dates/duration_days"]
    assert derived["data"]["value"] == 1
    assert "duration" not in {x["id"] for x in same_day["factors_defaulted"]}
    given = _assess(any_engine, {**WATER, "violation_end_date": "2025-03-12", "facts": {"exceedance_ratio": 0.5, "duration_days": 6}})
    assert not any(s["rule"] == "dates/duration_days" for s in given["trail"])
    [level] = [s for s in given["trail"] if s["step"] == "factor" and s["data"].get("factor") == "duration"]
    assert level["data"]["level"] == 2


def test_without_an_end_date_the_duration_stays_unknown(any_engine: Engine) -> None:
    """No end date: the act's end is not known, nothing is derived, the factor is at its default and
    the fact is asked for (factors_unknown)."""
    d = _assess(any_engine, {**WATER, "facts": {"exceedance_ratio": 0.5}})
    assert not any(s["rule"] == "dates/duration_days" for s in d["trail"])
    assert "duration" in {x["id"] for x in d["factors_defaulted"]}
    assert "factors_unknown" in {f["id"] for f in d["flags"]}


# --- an edition's fact the law's choice narrows but does not decide -----------------------------------

REPORT = {"violation": "eia_unapproved_construction", "violation_date": "2025-05-01", "decision_date": "2025-09-01"}


def _eia(engine: Engine, **facts: Any) -> Any:
    return engine.assess(Case.model_validate({**REPORT, "facts": {"total_investment": 5000000, **facts}}))


def test_a_law_choice_left_unrefined_is_graded_at_its_lowest_allowed_level_and_listed(any_engine: Engine) -> None:
    """环境影响报告书 without the 2023 edition's finer 环评文件类别: the factor takes the lowest 报告书 grade (第3级,
    never the 报告表 grades the law's choice excludes), says so in a step, and is listed as left unknown with the flag."""
    a = _eia(any_engine, eia_document="report")
    d = a.to_dict()
    entry = next(x for x in d["factors_defaulted"] if x["id"] == "eia_category")
    assert entry["level"] == 3 and entry["missing"] == ["eia_category"] and "按其中等级最低的“报告书（非生产型）”计" in entry["reason"]
    assert any(s["rule"] == "from_law/eia_category" and s["data"].get("assumed") for s in d["trail"])
    assert "factors_unknown" in [f["id"] for f in d["flags"]]
    refined = _eia(any_engine, eia_document="report", eia_category="report_production")
    assert "eia_category" not in [x["id"] for x in refined.to_dict()["factors_defaulted"]]
    assert refined.applied.fine is not None and a.applied.fine is not None
    assert refined.applied.fine.recommended > a.applied.fine.recommended


def test_a_report_form_left_unrefined_is_graded_at_the_lowest_report_form_level(any_engine: Engine) -> None:
    """环境影响报告表 allows the edition's two 报告表 grades: unrefined it takes 报告表（非生产型）, 第1级, listed as left unknown."""
    d = _eia(any_engine, eia_document="form").to_dict()
    entry = next(x for x in d["factors_defaulted"] if x["id"] == "eia_category")
    assert entry["level"] == 1 and "按其中等级最低的“报告表（非生产型）”计" in entry["reason"]
