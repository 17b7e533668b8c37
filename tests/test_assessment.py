"""discretion.engine.assessment: input refusals with stable codes and fields, the trail, editions and the lighter law."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rulebook_tree import edit

from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.money import yuan_text
from discretion.engine.results import Assessment
from discretion.errors import DiscretionError, InputError
from discretion.review import golden
from discretion.rulebooks import tree
from discretion.rulebooks.tree import SHIPPED

SYNTH_TODAY = dt.date(2026, 12, 1)  # a fixed last day for the synthetic cases' dates, so they are the same every day

D = dt.date.fromisoformat

# Steps that decide a question of law (and so must cite it); factor, position, rounding, regime and
# edition steps apply the benchmark or state dates and carry no statute of their own.
LAW_STEPS = {"limitation", "provision", "exemption", "escalation", "concurrence", "range", "reduction", "measure", "flag", "lighter_law"}


def case(**kw: Any) -> Case:
    kw.setdefault("violation", "water_over_standard")
    kw.setdefault("violation_date", D("2025-03-01"))
    kw.setdefault("decision_date", D("2025-06-01"))
    return Case(**kw)


def refused(engine: Engine, c: Case) -> InputError:
    with pytest.raises(InputError) as exc:
        engine.assess(c)
    assert exc.value.message, "an input error carries a Chinese message"
    return exc.value


def golden_assessments(engine: Engine) -> list[Assessment]:
    out = []
    for lc in golden.load_cases():
        raw = dict(lc.case.input)
        if "original_fine" in raw:
            continue
        for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
            if isinstance(raw.get(k), str):
                raw[k] = D(raw[k])
        try:
            out.append(engine.assess(Case.model_validate(raw)))
        except DiscretionError:
            continue
    return out


# --- refusals: codes and fields -------------------------------------------------------------------


def test_unknown_violation_is_refused_naming_the_field(any_engine: Engine) -> None:
    """A violation code that no rulebook defines is unknown_violation on field "violation"."""
    err = refused(any_engine, case(violation="water_overstandard"))
    assert (err.code, err.field) == ("unknown_violation", "violation")


def test_unknown_fact_is_refused_naming_the_fact(any_engine: Engine) -> None:
    """A fact the violation type does not read is unknown_fact on field facts.<name>."""
    err = refused(any_engine, case(facts={"serious": True, "exceedance": 2}))
    assert (err.code, err.field) == ("unknown_fact", "facts.exceedance")


def test_unknown_circumstance_is_refused_naming_its_index(any_engine: Engine) -> None:
    """A circumstance id that does not exist is unknown_circumstance on field circumstances[i]."""
    err = refused(any_engine, case(circumstances=["eliminated_harm", "remorse"]))
    assert (err.code, err.field) == ("unknown_circumstance", "circumstances[1]")


def test_unknown_circumstance_index_is_its_place_in_the_request(any_engine: Engine) -> None:
    """The index in circumstances[i] points at the bad entry as sent, even after a repeated entry."""
    err = refused(any_engine, case(circumstances=["eliminated_harm", "eliminated_harm", "remorse"]))
    assert (err.code, err.field) == ("unknown_circumstance", "circumstances[2]")


def test_missing_required_fact_is_refused_before_2026(any_engine: Engine) -> None:
    """未批先建 before 2026 is fined as a share of total investment, which must then be given."""
    err = refused(any_engine, case(violation="eia_unapproved_construction", facts={"eia_document": "report"}))
    assert (err.code, err.field) == ("missing_fact", "facts.total_investment")


def test_missing_required_fact_is_refused_under_the_code(any_engine: Engine) -> None:
    """Under the Code 未批先建 is fined by document type, so eia_document is required instead."""
    err = refused(any_engine, case(violation="eia_unapproved_construction", facts={"total_investment": 1_000_000},
                                   violation_date=D("2026-09-01"), decision_date=D("2026-11-01")))
    assert (err.code, err.field) == ("missing_fact", "facts.eia_document")


def test_required_facts_of_both_regimes_are_needed_for_the_lighter_law(any_engine: Engine) -> None:
    """Comparing both regimes needs the facts each one requires."""
    err = refused(any_engine, case(violation="eia_unapproved_construction", facts={"total_investment": 1_000_000},
                                   violation_date=D("2026-03-01"), decision_date=D("2026-10-01")))
    assert (err.code, err.field) == ("missing_fact", "facts.eia_document")


def test_given_required_fact_is_accepted(any_engine: Engine) -> None:
    """With the required fact the same case is assessed: 1%–5% of 10,000,000 yuan."""
    a = any_engine.assess(case(violation="eia_unapproved_construction", facts={"total_investment": 10_000_000}))
    assert a.applied.fine is not None
    assert (a.applied.fine.legal_min, a.applied.fine.legal_max) == (100_000, 500_000)


@pytest.mark.parametrize(
    "facts, field",
    [
        ({"total_investment": -1}, "facts.total_investment"),
        ({"total_investment": Decimal("-0.01")}, "facts.total_investment"),
        ({"total_investment": 10_000_000, "eia_document": "summary"}, "facts.eia_document"),
        ({"total_investment": 10_000_000, "eia_document": 1}, "facts.eia_document"),
        ({"total_investment": 10_000_000, "serious": "yes"}, "facts.serious"),
        ({"total_investment": 10_000_000, "serious": 1}, "facts.serious"),
        ({"total_investment": True}, "facts.total_investment"),
        ({"total_investment": "10000000"}, "facts.total_investment"),
        ({"total_investment": Decimal("12345.678")}, "facts.total_investment"),
        ({"total_investment": Decimal("0.001")}, "facts.total_investment"),
        ({"total_investment": 10**13}, "facts.total_investment"),
    ],
    ids=["negative", "negative-cents", "enum-choice", "enum-number", "bool-text", "bool-number",
         "money-bool", "money-text", "three-decimals", "tenth-of-a-cent", "too-large"],
)
def test_invalid_fact_value_is_refused_naming_the_fact(any_engine: Engine, facts: dict[str, Any], field: str) -> None:
    """Negative money, an enum value not among its choices, a wrong type, more than two decimals
    of a yuan or an absurd amount are invalid_fact on the fact's field."""
    err = refused(any_engine, case(violation="eia_unapproved_construction", facts=facts))
    assert (err.code, err.field) == ("invalid_fact", field)


def test_money_fact_far_beyond_any_amount_is_refused_not_crashed(any_engine: Engine) -> None:
    """A money fact of 1E+30 yuan (what "1e30" in a JSON number or on the command line becomes) is
    refused as invalid_fact like any other absurd amount, instead of raising decimal.InvalidOperation."""
    c = case(violation="eia_unapproved_construction", facts={"total_investment": Decimal("1E+30")})
    try:
        any_engine.assess(c)
    except InputError as exc:
        assert (exc.code, exc.field) == ("invalid_fact", "facts.total_investment")
    except Exception as exc:  # noqa: BLE001 - the point is which exception escapes
        pytest.fail(f"{type(exc).__name__} escaped instead of InputError: {exc!r}")
    else:
        pytest.fail("an amount of 1E+30 yuan was accepted")


def test_money_fact_with_two_decimals_is_accepted(any_engine: Engine) -> None:
    """Money may carry 角 and 分: 12345678.90 yuan is a valid total investment."""
    a = any_engine.assess(case(violation="eia_unapproved_construction", facts={"total_investment": Decimal("12345678.90")}))
    assert a.applied.fine is not None
    assert a.applied.fine.legal_min == 123457  # 1% of 12345678.90 = 123456.789, rounded up


def test_count_fact_must_be_whole(any_engine: Engine) -> None:
    """A count (违法次数) of 2.5 is refused."""
    err = refused(any_engine, case(violation="permit_ledger_violation", facts={"ledger_act": "no_ledger", "occurrences": Decimal("2.5")}))
    assert (err.code, err.field) == ("invalid_fact", "facts.occurrences")


@pytest.mark.parametrize(
    "dates, field",
    [
        ({"violation_date": D("2025-03-01"), "decision_date": D("2025-02-28")}, "decision_date"),
        ({"violation_date": D("2025-03-01"), "violation_end_date": D("2025-02-01"), "decision_date": D("2025-06-01")}, "violation_end_date"),
        ({"violation_date": D("2025-03-01"), "violation_end_date": D("2025-07-01"), "decision_date": D("2025-06-01")}, "decision_date"),
        ({"violation_date": D("2025-03-01"), "discovered_date": D("2025-06-02"), "decision_date": D("2025-06-01")}, "discovered_date"),
        ({"violation_date": D("2025-03-01"), "discovered_date": D("2025-02-01"), "decision_date": D("2025-06-01")}, "discovered_date"),
    ],
    ids=["decision-before-violation", "end-before-start", "decision-before-end", "discovered-after-decision", "discovered-before-violation"],
)
def test_impossible_dates_are_refused_naming_the_date(any_engine: Engine, dates: dict[str, dt.date], field: str) -> None:
    """Dates out of order are invalid_date on the date that cannot be right."""
    err = refused(any_engine, case(**dates))
    assert (err.code, err.field) == ("invalid_date", field)


def test_violation_before_the_law_layer_is_out_of_range(any_engine: Engine) -> None:
    """A violation before 2021-07-15 (the 2021 行政处罚法) is date_out_of_range on violation_date."""
    err = refused(any_engine, case(violation_date=D("2021-07-14"), decision_date=D("2021-09-01")))
    assert (err.code, err.field) == ("date_out_of_range", "violation_date")


def test_violation_on_the_first_covered_day_is_in_range(any_engine: Engine) -> None:
    """2021-07-15 itself is covered (with a decision when an edition is in force)."""
    a = any_engine.assess(case(violation_date=D("2021-07-15"), decision_date=D("2022-03-01")))
    assert a.applied.regime == "pre2026"


def test_unknown_jurisdiction_is_refused(any_engine: Engine) -> None:
    """A jurisdiction without any benchmark edition is unknown_jurisdiction."""
    err = refused(any_engine, case(jurisdiction="guizhou"))
    assert (err.code, err.field) == ("unknown_jurisdiction", "jurisdiction")


def test_unknown_requested_edition_is_refused(any_engine: Engine) -> None:
    """Asking for an edition that does not exist is an error on field "edition"."""
    err = refused(any_engine, case(edition="yunnan@2099"))
    assert err.field == "edition"


# --- the trail and the reasoning ------------------------------------------------------------------


@pytest.fixture(scope="module")
def assessments(reference_engine: Engine) -> list[Assessment]:
    got = golden_assessments(reference_engine)
    assert len(got) > 200
    return got


def test_every_trail_step_has_a_text(assessments: list[Assessment]) -> None:
    """Every step of every golden case's trail says in Chinese what was decided."""
    for a in assessments:
        for s in a.trail:
            assert s.text.strip(), (a.case.violation, s)
            assert re.search(r"[\u4e00-\u9fff]", s.text), s.text


def test_steps_that_decide_on_law_cite_it(assessments: list[Assessment]) -> None:
    """Limitation, provision, exemption, escalation, concurrence, reduction, measure, flag and
    lighter-law steps carry at least one citation, each written 《…》."""
    kinds: set[str] = set()
    for a in assessments:
        for s in a.trail:
            assert all(b.startswith("《") for b in s.basis), s
            if s.step in LAW_STEPS:
                kinds.add(s.step)
                assert s.basis, f"{a.case.violation}: step {s.step} has no basis: {s.text}"
    assert {"limitation", "provision", "exemption", "escalation", "concurrence", "measure", "flag", "lighter_law"} <= kinds


def test_trail_starts_with_regime_edition_and_limitation(any_engine: Engine) -> None:
    """The trail follows the pipeline: regime, edition, limitation, then the law applied."""
    a = any_engine.assess(case())
    assert [s.step for s in a.trail[:4]] == ["regime", "edition", "limitation", "provision"]
    assert a.trail[3].basis == ("《中华人民共和国水污染防治法》第八十三条第二项",)


def test_reasoning_is_chinese_and_states_the_recommended_amount(any_engine: Engine) -> None:
    """The 说理 paragraph is Chinese and names the recommended fine as the result shows it."""
    a = any_engine.assess(case(facts={"serious": True}, circumstances=["refused_correction"]))
    d = a.to_dict()
    assert d["fine"] is not None
    text = d["reasoning"]
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) > len(text) / 3
    assert f"建议对当事人处以罚款人民币{yuan_text(d['fine']['recommended'])}" in text
    assert "《中华人民共和国水污染防治法》第八十三条第二项" in text


def test_reasoning_of_every_golden_penalty_states_its_amount(assessments: list[Assessment]) -> None:
    """Every recommended fine is written into the reasoning."""
    for a in assessments:
        if a.applied.fine is not None:
            assert yuan_text(a.applied.fine.recommended) in a.reasoning, a.case.violation


def test_result_carries_rulebook_hash_and_edition_key(any_engine: Engine) -> None:
    """The result names the edition applied and the sha256 of its file, so it can be reproduced."""
    d = any_engine.assess(case()).to_dict()
    rb = d["rulebook"]
    assert rb["key"] == "yunnan@2023"
    assert re.fullmatch(r"[0-9a-f]{64}", rb["sha256"])
    assert rb["sha256"] == hashlib.sha256((SHIPPED / "yunnan" / "2023.yaml").read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", rb["law_sha256"])


def test_result_has_the_contract_keys(any_engine: Engine) -> None:
    """The result dict has the keys of the API contract."""
    d = any_engine.assess(case()).to_dict()
    assert {"outcome", "violation", "fine", "individual_fines", "measures", "flags", "law", "rulebook", "trail", "reasoning"} <= set(d)
    assert {"legal_min", "legal_max", "band", "recommended"} <= set(d["fine"])
    assert d["law"]["basis"][0]["citation"] == "《中华人民共和国水污染防治法》第八十三条第二项"


# --- editions ------------------------------------------------------------------------------------


def test_kunming_in_2023_uses_the_kunming_edition(any_engine: Engine) -> None:
    """A Kunming case decided in 2023 uses yunnan/kunming@2021 and its narrowed window."""
    a = any_engine.assess(case(jurisdiction="yunnan/kunming", violation_date=D("2023-03-01"), decision_date=D("2023-06-01")))
    assert a.rulebook["key"] == "yunnan/kunming@2021"
    position = next(s for s in a.trail if s.step == "position")
    assert "[0.1, 0.9]" in position.text
    assert a.applied.fine is not None
    assert 190_000 <= a.applied.fine.recommended <= 910_000


def test_kunming_after_its_edition_lapsed_falls_back_to_the_province(any_engine: Engine) -> None:
    """From 2024-02-02 Kunming has no edition in force: yunnan@2023 applies and the trail says why."""
    a = any_engine.assess(case(jurisdiction="yunnan/kunming", violation_date=D("2024-01-01"), decision_date=D("2024-02-02")))
    assert a.rulebook["key"] == "yunnan@2023"
    edition = next(s for s in a.trail if s.step == "edition")
    assert "yunnan/kunming" in edition.text and "上级" in edition.text


def test_province_in_2023_uses_the_2021_edition(any_engine: Engine) -> None:
    """Yunnan itself decided in 2023 uses the 2021 trial edition (2023 edition from 2024-02-02)."""
    a = any_engine.assess(case(violation_date=D("2023-03-01"), decision_date=D("2023-06-01")))
    assert a.rulebook["key"] == "yunnan@2021"


def test_draft_edition_is_not_used_unless_asked(any_engine: Engine) -> None:
    """After 2026-08-15 the published 2023 edition still applies; the Code draft is not chosen."""
    a = any_engine.assess(case(violation_date=D("2026-09-01"), decision_date=D("2026-11-01")))
    assert a.rulebook["key"] == "yunnan@2023"
    assert a.rulebook["status"] == "published"


def test_draft_edition_is_used_when_asked_and_marked_unpublished(any_engine: Engine) -> None:
    """edition="yunnan@2026-draft" uses the draft, and the trail says it is unpublished."""
    a = any_engine.assess(case(violation_date=D("2026-09-01"), decision_date=D("2026-11-01"), edition="yunnan@2026-draft"))
    assert a.rulebook["key"] == "yunnan@2026-draft"
    assert a.rulebook["status"] == "draft"
    edition = next(s for s in a.trail if s.step == "edition")
    assert "未发布" in edition.text


def test_edition_of_another_jurisdiction_cannot_be_asked_for(any_engine: Engine) -> None:
    """A Yunnan-wide case cannot ask for the Kunming edition."""
    err = refused(any_engine, case(violation_date=D("2023-03-01"), decision_date=D("2023-06-01"), edition="yunnan/kunming@2021"))
    assert err.field == "edition"


# --- the lighter law ------------------------------------------------------------------------------


def test_lighter_law_lists_both_regimes_results(any_engine: Engine) -> None:
    """An act in March 2026 decided in October 2026 is assessed under both laws; both results are listed."""
    a = any_engine.assess(case(violation="eia_unapproved_construction", facts={"total_investment": 10_000_000, "eia_document": "report"},
                               violation_date=D("2026-03-01"), decision_date=D("2026-10-01")))
    ll = a.to_dict()["law"]["lighter_law"]
    assert ll is not None
    assert [r["regime"] for r in ll["results"]] == ["pre2026", "code2026"]
    pre, code = ll["results"]
    assert (pre["fine"]["legal_min"], pre["fine"]["legal_max"]) == (100_000, 500_000)
    assert (code["fine"]["legal_min"], code["fine"]["legal_max"]) == (200_000, 1_000_000)
    assert ll["applied"] == "pre2026" == a.to_dict()["law"]["regime"]
    assert "《中华人民共和国行政处罚法》第三十七条" in ll["basis"]
    assert any(s.step == "lighter_law" and s.basis for s in a.trail)


def test_lighter_law_applies_the_code_when_it_is_lighter(any_engine: Engine) -> None:
    """With a large investment the Code's fixed 20万–100万 is lighter than 1%–5%, so the Code applies."""
    a = any_engine.assess(case(violation="eia_unapproved_construction", facts={"total_investment": 100_000_000, "eia_document": "report"},
                               violation_date=D("2026-03-01"), decision_date=D("2026-10-01")))
    d = a.to_dict()
    assert d["law"]["lighter_law"]["applied"] == "code2026" == d["law"]["regime"]
    assert (d["fine"]["legal_min"], d["fine"]["legal_max"]) == (200_000, 1_000_000)


def test_single_regime_case_has_no_lighter_law_comparison(any_engine: Engine) -> None:
    """When act and decision fall under one law there is nothing to compare."""
    assert any_engine.assess(case()).to_dict()["law"]["lighter_law"] is None


# --- the two matchers agree -------------------------------------------------------------------------


def test_durable_and_reference_engines_agree_on_the_golden_cases(engine: Engine, assessments: list[Assessment]) -> None:
    """The rules engine and the reference evaluator produce identical results for every golden case."""
    for a in assessments:
        assert engine.assess(a.case).to_dict() == a.to_dict(), a.case


def test_under_the_lighter_later_law_the_act_still_violated_the_law_of_its_day(engine: Engine) -> None:
    """未批先建 on 2026-05-01, decided 2026-09-01: the Code's penalty is lighter and applies, but the
    act broke the EIA Law (the Code was not yet in force): law.violated and the reasoning name the
    EIA Law's duties, and the reasoning adds that the act is unlawful under the Code too."""
    a = engine.assess(Case(violation="eia_unapproved_construction", facts={"total_investment": 100_000_000, "eia_document": "report"},
                           violation_date=dt.date(2026, 5, 1), decision_date=dt.date(2026, 9, 1)))
    assert a.lighter_law is not None and a.lighter_law["applied"] == "code2026" == a.applied.regime
    violated = a.to_dict()["law"]["violated"]
    assert violated and all("生态环境法典" not in v["law"] for v in violated)
    assert any(v["law"] == "中华人民共和国环境影响评价法" and v["article"] == 25 for v in violated)
    first = a.reasoning.split("。")[1]
    assert first.startswith("该行为违反了《中华人民共和国环境影响评价法》第二十五条"), first
    assert "按《中华人民共和国生态环境法典》第一百零七条" in first and first.endswith("亦属违法行为")
    same_law = engine.assess(Case(violation="eia_unapproved_construction", facts={"total_investment": 100_000_000},
                                  violation_date=dt.date(2025, 5, 1), decision_date=dt.date(2025, 9, 1)))
    assert "亦属违法行为" not in same_law.reasoning and same_law.violated is same_law.applied.violated


def test_an_air_only_circumstance_is_refused_for_water_and_aggravates_air(engine: Engine) -> None:
    """重污染天气预警期间超标排放大气污染物 (listed_only) applies to the air types that list it; a water
    case refuses it with 422 unknown_circumstance, saying it does not apply, instead of aggravating."""
    water = Case(violation="water_over_standard", facts={"exceedance_ratio": 0.6}, circumstances=["heavy_pollution_alert"],
                 violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 9, 1))
    with pytest.raises(InputError) as exc:
        engine.assess(water)
    assert exc.value.code == "unknown_circumstance" and exc.value.field == "circumstances[0]"
    assert "不适用于该类违法行为" in exc.value.message
    air = dict(violation="air_over_standard", facts={"exceedance_ratio": 0.6}, violation_date=dt.date(2025, 3, 1),
               decision_date=dt.date(2025, 9, 1))
    plain = engine.assess(Case(**air))
    alert = engine.assess(Case(**air, circumstances=["heavy_pollution_alert"]))
    assert plain.applied.fine is not None and alert.applied.fine is not None
    assert alert.applied.fine.recommended > plain.applied.fine.recommended
    with pytest.raises(InputError) as exc:
        engine.assess(Case(**{**air, "violation": "water_over_standard"}, circumstances=["no_such_thing"]))
    assert exc.value.message == "未知的情节：no_such_thing"


def test_a_fine_up_to_an_amount_is_never_zero(engine: Engine) -> None:
    """“处五万元以下的罚款” has no statutory minimum, but 0 元 is no fine: the recommended amount and
    the band start at one rounding step; a project's investment of 0 is refused as a fact."""
    a = engine.assess(Case(violation="eia_registration_not_filed", violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 9, 1)))
    assert a.outcome == "penalty" and a.applied.fine is not None
    assert a.applied.fine.legal_min == 0 and a.applied.fine.band[0] >= 100 and a.applied.fine.recommended >= 100
    assert "处以罚款人民币0元" not in a.reasoning
    with pytest.raises(InputError) as exc:
        engine.assess(Case(violation="eia_unapproved_construction", facts={"total_investment": 0},
                           violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 9, 1)))
    assert exc.value.field == "facts.total_investment"


def test_the_reasoning_says_whether_a_fine_up_to_an_amount_is_due_or_may_be_left_out(engine: Engine) -> None:
    """环评法第三十一条第三款 “处五万元以下的罚款” (a fine is due) against 法典第一千零九十五条第三款
    “可以处五万元以下的罚款” (the fine may be left out): the reasoning quotes the difference."""
    old = engine.assess(Case(violation="eia_registration_not_filed", violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 9, 1)))
    new = engine.assess(Case(violation="eia_registration_not_filed", violation_date=dt.date(2026, 9, 1), decision_date=dt.date(2026, 10, 1)))
    assert "对该行为应处50000元（5万元）以下的罚款" in old.reasoning and not old.applied.fine_optional
    assert "对该行为可以处50000元（5万元）以下的罚款" in new.reasoning and new.applied.fine_optional
    assert "fine_optional" not in new.to_json().decode()


def test_an_escalated_fine_that_may_be_left_out_is_said_so(engine: Engine) -> None:
    """放射性废物安全管理条例第三十六条 “逾期不改正的，……可以处20万元以下的罚款”: the escalation's fine
    replaces the provision's and is optional, so the reasoning says 可以处; the Code's mandatory range says 应处."""
    late = dict(violation="disused_source_decommissioning", facts={"act": "return", "not_corrected": True})
    old = engine.assess(Case(**late, violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 9, 1)))
    assert old.applied.fine_optional and "对该行为可以处200000元（20万元）以下的罚款" in old.reasoning
    new = engine.assess(Case(**late, violation_date=dt.date(2026, 9, 1), decision_date=dt.date(2026, 11, 1)))
    assert new.applied.regime == "code2026" and not new.applied.fine_optional and "可以处" not in new.reasoning


def test_an_escalation_that_brings_the_only_fine_does_not_say_it_raises_one(any_engine: Engine) -> None:
    """法典第一千一百九十条 punishes only after 拒不改正 (“给予警告，对个人可以处二百元以上一千元以下的罚款”): the
    provision itself has no fine, so the escalation's step says it applies the article's fine, not that it raised one."""
    a = any_engine.assess(Case(violation="social_noise_daily_life", party="individual",
                               facts={"act": "public_activity", "not_corrected": True},
                               violation_date=D("2026-09-01"), decision_date=D("2026-10-01")))
    esc = [s.text for s in a.applied.steps if s.step == "escalation"]
    assert esc and all("提高" not in t for t in esc) and "拒不改正" in esc[0] and "罚款规定" in esc[0], esc
    assert a.applied.fine is not None and (a.applied.fine.legal_min, a.applied.fine.legal_max) == (200, 1000)


def test_the_reasoning_says_a_fine_in_a_range_may_be_left_out_where_the_law_says_kexi_chu(any_engine: Engine) -> None:
    """法典第一千一百三十一条第一款 “可以处五百元以上二千元以下的罚款”: the range is the statute's, the fine optional,
    and the reasoning says 可以处 (not 应处) with the minimum, as for “可以处…以下”."""
    a = any_engine.assess(Case(violation="open_burning_or_toxic_spraying", facts={"burning_or_spraying": "open_burning"},
                               violation_date=D("2026-09-01"), decision_date=D("2026-10-01")))
    assert a.applied.fine is not None and (a.applied.fine.legal_min, a.applied.fine.legal_max) == (500, 2000)
    assert a.applied.fine_optional and "对该行为可以处500元以上2000元以下的罚款" in a.reasoning
    mandatory = any_engine.assess(case())  # 水污染防治法第八十三条 “处十万元以上一百万元以下的罚款”
    assert not mandatory.applied.fine_optional and "对该行为应处" in mandatory.reasoning


@pytest.mark.parametrize("kind", ["durable", "reference"])
def test_an_optional_range_is_lighter_than_the_same_range_made_mandatory(tmp_path: Path, kind: str) -> None:
    """从旧兼从轻 ranks “可以处五百元以上二千元以下” below “处五百元以上二千元以下” (docs/rulebooks.md “Doctrine”, count 3):
    with the old law's fine made mandatory in a copy of the tree, an act of 2026-05 decided 2026-09 takes the Code."""
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    edit(root / "law" / "violations" / "open_burning_or_toxic_spraying.yaml",
         "fine: {kind: range, min: 500, max: 2000, optional: true}  # 并可以处", "fine: {kind: range, min: 500, max: 2000}")
    c = Case(violation="open_burning_or_toxic_spraying", facts={"burning_or_spraying": "open_burning"},
             violation_date=D("2026-05-01"), decision_date=D("2026-09-01"))
    a = Engine(tree.load(root), kind).assess(c)
    assert a.lighter_law is not None and a.lighter_law["applied"] == "code2026" == a.applied.regime
    assert "单位罚款幅度相同，罚款是否必处新法较轻" in a.lighter_law["reason"]
    assert "对该行为可以处500元以上2000元以下的罚款" in a.reasoning


# --- measures: none lost, 责令改正 with every penalty ----------------------------------------------


def _measures(a: Assessment) -> list[tuple[str, str]]:
    return [(m["id"], m["text"]) for m in a.to_dict()["measures"]]


def test_an_escalations_measure_with_the_provisions_id_is_kept_beside_it(any_engine: Engine) -> None:
    """情节严重 adds 禁止技术单位从事编制工作 (环评法第三十二条第二款) beside the provision's ban of the
    编制人员 (第三款), both with id ``ban``: both reach the result, the trail and the reasoning."""
    a = any_engine.assess(Case(violation="eia_report_quality_consultant", facts={"fees_received": 300_000, "serious": True},
                               violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    bans = [text for mid, text in _measures(a) if mid == "ban"]
    assert len(bans) == 2 and any(t.startswith("禁止技术单位") for t in bans) and any(t.startswith("编制主持人") for t in bans)
    steps = [s.text for s in a.trail if s.step == "measure"]
    for text in bans:
        assert text in steps and text in a.reasoning
    by_text = {m["text"]: m["basis"] for m in a.to_dict()["measures"]}
    assert by_text["禁止技术单位从事环境影响报告书、环境影响报告表编制工作"] == ["《中华人民共和国环境影响评价法》第三十二条第二款"]
    assert by_text["编制主持人和主要编制人员五年内禁止从事环境影响报告书、环境影响报告表编制工作"] == ["《中华人民共和国环境影响评价法》第三十二条第三款"]


def test_forced_dismantling_is_ordered_beside_the_order_to_dismantle_in_time(any_engine: Engine) -> None:
    """逾期不拆除 (水污染防治法第八十四条第二款; 法典第一千一百零九条第一款): 强制拆除 is ordered beside 责令限期拆除."""
    for date in ("2025-03-01", "2026-09-01"):
        a = any_engine.assess(Case(violation="illegal_sewage_outlet",
                                   facts={"in_drinking_water_area": False, "new_outlet_in_special_area": False, "not_corrected": True},
                                   violation_date=D(date), decision_date=D(date) + dt.timedelta(days=60)))
        dismantle = [text for mid, text in _measures(a) if mid == "dismantle"]
        assert len(dismantle) == 2 and any("强制拆除" in t for t in dismantle), (date, dismantle)


def test_every_penalty_provision_of_every_violation_type_orders_correction(any_engine: Engine) -> None:
    """行政处罚法第二十八条第一款 (“实施行政处罚时，应当责令当事人改正或者限期改正违法行为”): every
    provision of every violation type, under both regimes, gives 责令改正 among its measures: its own
    order where it has one, else the general one citing 第二十八条第一款."""
    from discretion.engine import stages

    rs = any_engine.rulebooks
    le, _ = any_engine.edition("yunnan", D("2026-09-01"), None)
    checked = 0
    for code in rs.violations:
        unit = any_engine.unit(code, le)
        for regime in ("pre2026", "code2026"):
            plan = unit.plan(regime)
            everything = set(plan.matching.by_id)
            for pp in plan.provisions:
                for fired in (set(), everything):  # the provision alone, and with every escalation and condition
                    escs = [xp for xp in pp.escs if xp.id in fired]
                    measures, _ = stages.measures_and_flags(plan, [(pp, None, escs, [])], fired)
                    ids = [key[0] for key in measures]
                    assert "order_correction" in ids, (code, regime, pp.id)
                    own = any(key[0] == "order_correction" for rid, key, _ in pp.measures if rid is None or rid in fired)
                    if not own:
                        t = measures[("order_correction", "")]
                        assert t[3] == ("《中华人民共和国行政处罚法》第二十八条第一款",) and ids[0] == "order_correction"
                checked += 1
    assert checked > 200


def test_every_synthetic_and_golden_penalty_orders_correction(engine: Engine, assessments: list[Assessment]) -> None:
    """Every result that imposes a penalty (golden cases and 1,500 synthetic cases, the applied and the
    compared regime alike) orders 责令改正; one that does not punish under 第三十三条 educates and orders it."""
    from discretion.review import synth

    cases = synth.generate_valid(engine, 1_500, seed=11, today=SYNTH_TODAY)
    results = assessments + [engine.assess(c) for c in cases]
    seen = {"penalty": 0, "exempt": 0}
    for a in results:
        for r in (a.applied, a.compared):
            if r is None:
                continue
            ids = [m["id"] for m in r.measures]
            if r.outcome == "penalty":
                seen["penalty"] += 1
                assert "order_correction" in ids, (a.case, r.regime, ids)
            elif r.exemption is not None:
                seen["exempt"] += 1
                assert ids == ["education", "order_correction"], (a.case, ids)
    assert seen["penalty"] > 1_000 and seen["exempt"] > 10


def test_an_act_not_punished_is_ordered_to_correct_on_its_provisions_own_order(any_engine: Engine) -> None:
    """轻微不罚 of 超标排放水污染物: 教育 (行政处罚法第三十三条第三款) and 责令改正 on the provision's own
    order (水污染防治法第八十三条 “责令改正或者责令限制生产、停产整治”), not on 第二十八条 (“实施行政处罚时”)."""
    a = any_engine.assess(case(circumstances=["minor", "corrected_promptly", "no_harm"], decision_date=D("2025-07-01")))
    assert a.outcome == "no_penalty"
    by_id = {m["id"]: m for m in a.to_dict()["measures"]}
    assert by_id["education"]["basis"] == ["《中华人民共和国行政处罚法》第三十三条第三款"]
    assert by_id["order_correction"]["basis"] == ["《中华人民共和国水污染防治法》第八十三条第二项"]
    step = next(s for s in a.trail if s.rule == "education")
    assert step.data["correction_basis"] == "provision" and "不予处罚不免除改正违法行为的义务" in step.text


def test_an_act_not_punished_whose_provision_orders_no_correction_is_ordered_on_article_28(any_engine: Engine) -> None:
    """没有主观过错 (行政处罚法第三十三条第二款) for a report of serious quality problems (环评法第三十二条第一款
    orders no correction): 责令改正 cites 第二十八条第一款, the step marks the reading (``general``)."""
    a = any_engine.assess(Case(violation="eia_report_quality_builder", circumstances=["no_fault"],
                               violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert a.outcome == "no_penalty"
    by_id = {m["id"]: m for m in a.to_dict()["measures"]}
    assert by_id["order_correction"]["basis"] == ["《中华人民共和国行政处罚法》第二十八条第一款"]
    assert next(s for s in a.trail if s.rule == "education").data["correction_basis"] == "general"


def test_a_time_barred_act_orders_no_measure(any_engine: Engine) -> None:
    """超过追责期限 (行政处罚法第三十六条 “不再给予行政处罚”): the act ended before the period began; no
    教育 or 责令改正 is proposed."""
    a = any_engine.assess(case(violation_date=D("2022-01-10"), decision_date=D("2024-03-01")))
    assert a.outcome == "time_barred" and a.to_dict()["measures"] == []


def test_measures_of_a_penalty_without_a_fine_reach_the_trail(any_engine: Engine) -> None:
    """大气污染防治法第一百一十四条第二款 “依法予以处罚” sets no fine: its measures (the penalty set
    elsewhere, 责令改正) reach the trail as they do for a fine."""
    a = any_engine.assess(Case(violation="vehicle_emission_cheating", facts={"act": "high_emission_zone", "vehicles": 1},
                               violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert a.outcome == "penalty" and a.applied.fine is None
    steps = [s.text for s in a.trail if s.step == "measure"]
    assert [mid for mid, _ in _measures(a)] == ["penalty_set_elsewhere", "order_correction"]
    for _, text in _measures(a):
        assert text in steps


# --- the duties breached and the provisions cited ---------------------------------------------------


def _violated(a: Assessment) -> list[str]:
    return [v["citation"] for v in a.to_dict()["law"]["violated"]]


def test_an_inspection_refused_under_one_law_cites_only_that_laws_duty(any_engine: Engine) -> None:
    """拒不接受大气污染防治监督检查 (inspection_law: air) broke 大气污染防治法第二十九条 only: the result and
    “该行为违反了…” name neither the water, permit, solid waste, noise nor soil law's duty."""
    a = any_engine.assess(Case(violation="inspection_refused", facts={"inspection_law": "air"},
                               violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert _violated(a) == ["《中华人民共和国大气污染防治法》第二十九条"]
    first = a.reasoning.split("。")[1]
    assert first == "该行为违反了《中华人民共和国大气污染防治法》第二十九条的规定"
    for law in ("水污染防治法", "排污许可管理条例", "固体废物", "噪声", "土壤"):
        assert law not in first


def test_the_duties_named_are_exactly_those_whose_condition_the_facts_meet(engine: Engine, assessments: list[Assessment]) -> None:
    """Golden and 1,500 synthetic cases: each regime's result names the duties whose ``when`` holds for
    the case's facts (with the unconditional ones), in the rulebook's order; all of them only where
    the facts meet none (and then the result says so)."""
    from discretion.review import synth
    from discretion.rulebooks import conditions

    results = assessments + [engine.assess(c) for c in synth.generate_valid(engine, 1_500, seed=12, today=SYNTH_TODAY)]
    selective = 0
    for a in results:
        case_ = a.case
        for r in (a.applied, a.compared):
            if r is None or not r.violated:
                continue
            rules = engine.rulebooks.violations[case_.violation].model.regimes[r.regime]  # type: ignore[index]
            rs = engine.compiled.get(case_.violation, a.rulebook["key"])
            fact = {**rs.false_bools, **case_.facts, **dict.fromkeys(case_.circumstances, True)}
            held = [d.ref for d in rules.violated if d.when is None or conditions.to_predicate(conditions.parse(d.when))(fact)]
            if held:
                assert r.violated == held and not r.duties_unselected, case_
                selective += len(held) < len(rules.violated)
            else:
                assert r.violated == [d.ref for d in rules.violated] and r.duties_unselected, case_
    assert selective > 300


def test_a_fine_set_in_a_later_paragraph_is_cited_with_the_acts_paragraph(any_engine: Engine) -> None:
    """擅自倾倒危险废物 (固体废物污染环境防治法第一百一十二条第一款第三项) is fined under 第二款: the basis lists
    both, the provision step and the reasoning cite “第一百一十二条第一款第三项、第二款”."""
    a = any_engine.assess(Case(violation="hazardous_waste_dumping", facts={"act": "dumping", "disposal_cost": 100_000},
                               violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    law = "《中华人民共和国固体废物污染环境防治法》"
    assert [b["citation"] for b in a.to_dict()["law"]["basis"]] == [f"{law}第一百一十二条第一款第三项", f"{law}第一百一十二条第二款"]
    whole = f"{law}第一百一十二条第一款第三项、第二款"
    step = next(s for s in a.trail if s.step == "provision")
    assert step.text.startswith(f"该行为适用{whole}") and step.basis == (whole,)
    assert f"依据{whole}的规定" in a.reasoning


def test_when_no_fact_says_which_act_every_duty_is_listed_and_the_reasoning_says_so(any_engine: Engine) -> None:
    """未验先投 without the fact that says which act (未建成、未验收、验收不合格、弄虚作假): the provision
    (条例第二十三条第一款) punishes all of them, so every duty is listed and the reasoning says why;
    with the fact, only that act's duty."""
    bare = any_engine.assess(Case(violation="acceptance_not_done_operation", violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert len(_violated(bare)) == 4 and "所填事实未指明具体违法情形" in bare.reasoning
    falsified = any_engine.assess(Case(violation="acceptance_not_done_operation", facts={"acceptance_defect": "falsified"},
                                       violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert _violated(falsified) == ["《建设项目环境保护管理条例》第十七条第二款"]
    assert "所填事实未指明具体违法情形" not in falsified.reasoning


def test_an_act_no_provision_of_the_regime_punishes_is_not_said_to_breach_its_duties(any_engine: Engine) -> None:
    """A sub-act that names no duty of the regime and no provision punishes (voc_dust_control_violation's 涂装台账 under the Code) is not punished, and no duty is said breached: the result neither lists them all nor says the facts did not name the act."""
    a = any_engine.assess(Case(violation="voc_dust_control_violation", facts={"voc_act": "coating_ledger"}, circumstances=[],
                               violation_date=dt.date(2026, 9, 9), decision_date=dt.date(2026, 11, 22)))
    assert a.outcome == "no_penalty" and a.applied.not_punishable
    assert a.applied.violated == [] and not a.applied.duties_unselected
    assert "违反了" not in a.reasoning and "未指明具体违法情形" not in a.reasoning
