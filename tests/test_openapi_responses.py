"""The response models of the JSON API v1 (api/schemas.py) describe the real responses exactly.

Every body the service answers on POST /v1/assessments, GET /v1/violations, GET /v1/violations/{code},
POST /v1/daily-penalties and GET /healthz is validated with its model (strict: no coercion, no unknown
key) and with the model's JSON Schema (what a client generator reads); serialising the validated model
again (by alias, without unset keys) gives back the same JSON, so no key is dropped or invented.
"""

from __future__ import annotations

import copy
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from api.schemas import (
    AssessmentOut,
    DailyPenaltyOut,
    HealthOut,
    StepName,
    ViolationDetailOut,
    ViolationList,
)
from discretion.engine.assessment import Engine
from discretion.engine.trail import STEPS

ROOT = Path(__file__).resolve().parents[1]

PENALTY = {
    "violation": "water_over_standard", "facts": {"exceedance_ratio": 0.6}, "circumstances": ["confessed"],
    "violation_date": "2025-03-01", "decision_date": "2025-09-01",
}
LIGHTER_LAW = {
    "violation": "eia_unapproved_construction", "facts": {"total_investment": 100000000, "eia_document": "report"},
    "violation_date": "2026-05-01", "decision_date": "2026-09-01",
}
EXEMPTION = {**PENALTY, "circumstances": ["minor", "corrected_promptly", "no_harm"]}
# The law this system holds begins on 2021-07-15: an act of 2022, decided in 2025, is past the 2 years.
TIME_BARRED = {**PENALTY, "circumstances": [], "violation_date": "2022-01-01"}

# Cases that reach the rarer shapes (found with the seeded generator; see the test names).
RARE: dict[str, dict[str, Any]] = {
    "individual_fine_without_maximum": {
        "violation": "pollution_accident", "facts": {"medium": "water", "accident_level": "general", "direct_loss": 3179400},
        "circumstances": ["first_offense", "slight_harm"], "violation_date": "2026-09-21", "decision_date": "2027-04-09",
    },
    "reduction_below_minimum": {
        "violation": "acceptance_not_done_operation",
        "facts": {"acceptance_defect": "not_built", "major_pollution": True, "eia_category": "report_nonproduction",
                  "facility_status": "partially_built", "violations_in_two_years": 1, "social_impact": "complaints"},
        "circumstances": ["confessed", "eliminated_harm"], "violation_date": "2025-11-22",
        "violation_end_date": "2025-12-01", "discovered_date": "2025-12-15", "decision_date": "2026-03-03",
    },
    "concurrence_of_laws": {
        "violation": "discharge_without_permit",
        "facts": {"medium": "air", "permit_status": "expired", "permit_class": "registration", "pollutant_class": "toxic",
                  "discharge_area": "industrial", "duration_days": 4},
        "circumstances": ["sensitive_area"], "violation_date": "2026-03-22", "discovered_date": "2026-08-16",
        "decision_date": "2026-10-06",
    },
    "correction_only_without_fine": {
        "violation": "restaurant_fumes", "facts": {"fumes_act": "residential_project", "impact_scope": "cross_county"},
        "circumstances": ["eliminated_harm", "serious_harm"], "violation_date": "2025-03-21",
        "violation_end_date": "2025-03-22", "discovered_date": "2025-06-11", "decision_date": "2025-08-13",
    },
    "no_penalty_provision_for_individual": {  # the separate laws set no fine for noise over a permit's limit
        "violation": "permit_limit_exceeded", "party": "individual",
        "facts": {"medium": "noise", "violations_in_two_years": 1},
        "circumstances": ["slight_harm", "eliminated_harm"], "violation_date": "2023-09-10", "decision_date": "2023-11-07",
    },
    "first_offense_fine_if_punished": {
        "violation": "water_over_standard", "facts": {},
        "circumstances": ["first_offense", "slight_harm", "corrected_promptly"], "violation_date": "2025-04-10",
        "decision_date": "2025-07-01",
    },
    "edition_exemption_list": {
        "violation": "permit_ledger_violation",
        "facts": {"ledger_act": "report_not_submitted", "occurrences": 1, "ledger_breach": "report_missing",
                  "permit_class": "registration", "impact_scope": "county", "social_impact": "none", "corrected_within_days": 2},
        "circumstances": ["minor", "corrected_promptly", "first_offense", "slight_harm"], "violation_date": "2024-12-13",
        "decision_date": "2025-03-17",
    },
    "escalation_with_measures": {
        "violation": "acceptance_not_done_operation",
        "facts": {"acceptance_defect": "falsified", "major_pollution": True, "eia_category": "form_nonproduction",
                  "facility_status": "accepted_failed", "duration_days": 41, "violations_in_two_years": 2,
                  "social_impact": "media"},
        "violation_date": "2026-06-01", "decision_date": "2026-09-20",
    },
    "kunming_prefecture": {**PENALTY, "jurisdiction": "yunnan/kunming"},
}


@lru_cache(maxsize=None)
def _validator(model: type[BaseModel]) -> Draft202012Validator:
    schema = model.model_json_schema(mode="serialization")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(model: type[BaseModel], body: Any) -> Any:
    """``body`` validates with ``model`` and its JSON Schema, and serialises back unchanged."""
    m = model.model_validate(body)
    errors = sorted(_validator(model).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    again = m.model_dump(mode="json", by_alias=True, exclude_unset=True)
    # compared as JSON text: 1 and 1.0, or 1 and true, are equal in Python but not on the wire
    assert json.dumps(again, sort_keys=True, ensure_ascii=False) == json.dumps(body, sort_keys=True, ensure_ascii=False)
    return m


def rejected(model: type[BaseModel], body: Any) -> bool:
    """Whether the model and its JSON Schema both refuse ``body``."""
    try:
        model.model_validate(body)
    except ValidationError:
        return not _validator(model).is_valid(body)
    return False


def assess(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/assessments", json=body)
    assert r.status_code == 201, r.text
    got: dict[str, Any] = r.json()
    return got


# --- POST /v1/assessments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "outcome"),
    [(PENALTY, "penalty"), (LIGHTER_LAW, "penalty"), (EXEMPTION, "no_penalty"), (TIME_BARRED, "time_barred")],
    ids=["penalty", "lighter_law", "no_penalty_exemption", "time_barred"],
)
def test_assessment_of_each_outcome_matches_assessment_out(client: TestClient, body: dict[str, Any], outcome: str) -> None:
    got = check(AssessmentOut, assess(client, body))
    assert got.outcome == outcome
    assert (got.fine is not None) == (outcome == "penalty")


def test_penalty_carries_fine_measures_flags_and_rulebook(client: TestClient) -> None:
    a = check(AssessmentOut, assess(client, PENALTY))
    assert a.fine is not None and a.fine.legal_min <= a.fine.recommended and len(a.fine.band) == 2
    assert [f.id for f in a.flags] and [m.id for m in a.measures]
    assert a.law.lighter_law is None and a.law.basis[0].article == 83
    assert a.rulebook.key == "yunnan@2023"


def test_lighter_law_compares_both_regimes(client: TestClient) -> None:
    a = check(AssessmentOut, assess(client, LIGHTER_LAW))
    ll = a.law.lighter_law
    assert ll is not None and ll.applied == a.law.regime == "code2026"
    assert [r.regime for r in ll.results] == ["pre2026", "code2026"]
    # the comparison closes the pipeline; only the notices of the result follow it (discretion.engine.notices)
    notices = {"edition_for_repealed_laws", "factors_defaulted", "factors_unknown"}
    assert [s for s in a.trail if s.rule not in notices and s.step not in ("circumstance", "fact")][-1].step == "lighter_law"


def test_time_barred_has_no_fine_measures_or_flags(client: TestClient) -> None:
    a = check(AssessmentOut, assess(client, TIME_BARRED))
    assert (a.fine, a.measures, a.flags, a.individual_fines) == (None, [], [], [])
    assert [s.step for s in a.trail] == ["regime", "edition", "limitation"]


@pytest.mark.parametrize("name", sorted(RARE))
def test_rarer_assessment_shapes_match_assessment_out(client: TestClient, name: str) -> None:
    a = check(AssessmentOut, assess(client, RARE[name]))
    steps = {s.step for s in a.trail}
    if name == "individual_fine_without_maximum":
        assert any(f.legal_max is None and f.recommended is None for f in a.individual_fines)
    elif name == "reduction_below_minimum":
        assert "reduction" in steps and a.fine is not None and a.fine.band[1] == a.fine.legal_min
    elif name == "concurrence_of_laws":
        assert "concurrence" in steps
    elif name == "correction_only_without_fine":
        assert a.outcome == "no_penalty" and "range" in steps
    elif name == "no_penalty_provision_for_individual":
        assert any(s.step == "provision" and s.rule is None for s in a.trail)
    elif name == "first_offense_fine_if_punished":
        assert a.outcome == "no_penalty" and a.fine is None and a.fine_if_punished is not None
    elif name == "edition_exemption_list":
        assert a.outcome == "no_penalty" and "exemption" in steps
    elif name == "escalation_with_measures":
        assert "escalation" in steps and a.measures


def _generated_bodies(engine: Engine, n: int) -> list[dict[str, Any]]:
    """Varied valid cases of the seeded generator, as request bodies (as benchmarks/test_service.py makes them)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import cases as case_gen

    def encode(v: Any) -> Any:
        return v.isoformat() if hasattr(v, "isoformat") else float(v)  # dates as text, Decimals as JSON numbers

    return [
        json.loads(json.dumps(c.model_dump(exclude_none=True), ensure_ascii=False, default=encode))
        for c in case_gen.generate_valid(engine, n, today=case_gen.TODAY)
    ]


def test_generated_cases_match_assessment_out(client: TestClient, reference_engine: Engine) -> None:
    bodies = _generated_bodies(reference_engine, 60)
    results = [check(AssessmentOut, assess(client, b)) for b in bodies]
    # the sample is varied: many violation types, both regimes, lighter law, individual fines, both parties
    assert len({a.violation.code for a in results}) >= 10
    assert {a.law.regime for a in results} == {"pre2026", "code2026"}
    assert any(a.law.lighter_law for a in results) and any(a.individual_fines for a in results)
    assert {b.get("party", "unit") for b in bodies} == {"unit", "individual"}


def test_trail_step_names_are_the_pipelines() -> None:
    assert StepName.__args__ == STEPS  # type: ignore[attr-defined]


def test_trail_step_data_is_open_but_the_step_is_closed(client: TestClient) -> None:
    body = assess(client, PENALTY)
    body["trail"][0]["data"]["anything"] = {"nested": [1, "two"]}
    check(AssessmentOut, body)
    body["trail"][0]["extra"] = 1
    assert rejected(AssessmentOut, body)


# Wrong bodies the assessment model must refuse: (path, change) applied to a real penalty answer.
WRONG: dict[str, tuple[tuple[Any, ...], Any]] = {
    "string_for_recommended_amount": (("fine", "recommended"), "136000"),
    "fractional_amount": (("fine", "legal_min"), 100000.5),
    "bool_for_amount": (("fine", "legal_min"), True),
    "null_legal_min": (("fine", "legal_min"), None),
    "band_of_three": (("fine", "band"), [1, 2, 3]),
    "string_in_band": (("fine", "band"), ["100000", 280000]),
    "unknown_outcome": (("outcome",), "fined"),
    "string_article": (("law", "basis", 0, "article"), "83"),
    "unknown_regime": (("law", "regime"), "code2030"),
    "unknown_flag": (("flags", 0, "id"), "call_the_police"),
    "unknown_step": (("trail", 0, "step"), "guess"),
    "null_reasoning": (("reasoning",), None),
    "int_for_text": (("measures", 0, "text"), 1),
    "bad_sha256": (("rulebook", "sha256"), "not-a-hash"),
    "unknown_status": (("rulebook", "status"), "retired"),
    "object_for_data": (("trail", 0, "data"), [1, 2]),
}


def _set(body: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        body = body[k]
    body[path[-1]] = value


@pytest.mark.parametrize("case", sorted(WRONG))
def test_assessment_out_refuses_wrong_types(client: TestClient, case: str) -> None:
    body = copy.deepcopy(assess(client, PENALTY))
    check(AssessmentOut, body)
    path, value = WRONG[case]
    _set(body, path, value)
    assert rejected(AssessmentOut, body)


@pytest.mark.parametrize("key", ["id", "fine", "trail", "law"])
def test_assessment_out_refuses_a_missing_key(client: TestClient, key: str) -> None:
    body = assess(client, PENALTY)
    del body[key]
    assert rejected(AssessmentOut, body)


def test_assessment_out_refuses_an_unknown_key(client: TestClient) -> None:
    body = assess(client, PENALTY)
    body["fine"]["discount"] = 0
    assert rejected(AssessmentOut, body)


# --- GET /v1/violations and /v1/violations/{code} -----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [{}, {"on": "2025-06-01"}, {"on": "2026-09-01"}, {"on": "2021-08-01"}, {"q": "水污染防治法 83", "on": "2025-06-01"},
     {"jurisdiction": "yunnan/kunming", "on": "2025-06-01"}],
    ids=["today", "before_code", "under_code", "before_editions", "keyword", "kunming"],
)
def test_violation_list_matches_violation_list(client: TestClient, query: dict[str, str]) -> None:
    r = client.get("/v1/violations", params=query)
    assert r.status_code == 200, r.text
    got = check(ViolationList, r.json())
    assert got.items


def test_every_violation_detail_matches_violation_detail_out(client: TestClient) -> None:
    shapes: set[str] = set()
    for on in ("2025-06-01", "2026-09-01"):
        codes = [v["code"] for v in client.get("/v1/violations", params={"on": on}).json()["items"]]
        assert len(codes) >= 10
        for code in codes:
            r = client.get(f"/v1/violations/{code}", params={"on": on})
            assert r.status_code == 200, r.text
            d = check(ViolationDetailOut, r.json())
            assert set(d.facts_schema.properties) == {f.name for f in d.facts}
            for p in d.facts_schema.properties.values():
                shapes |= p.model_fields_set
    # the optional keywords of a fact's schema all occur somewhere
    assert {"description", "enum", "x_enum_labels", "minimum", "multiple_of"} <= shapes


def test_violation_detail_for_a_case_decided_under_the_code_lists_both_regimes(client: TestClient) -> None:
    r = client.get("/v1/violations/eia_unapproved_construction", params={"on": "2026-05-01", "decision_date": "2026-09-01"})
    assert r.status_code == 200, r.text
    d = check(ViolationDetailOut, r.json())
    assert d.regime == "pre2026" and d.regimes == ["pre2026", "code2026"]


def test_violation_detail_keeps_whole_bounds_as_integers(client: TestClient) -> None:
    body = client.get("/v1/violations/eia_unapproved_construction", params={"on": "2026-09-01"}).json()
    d = check(ViolationDetailOut, body)
    bounds = [p.minimum for p in d.facts_schema.properties.values() if "minimum" in p.model_fields_set]
    assert bounds and all(type(b) is int for b in bounds if b == int(b))


def test_violation_detail_refuses_wrong_types(client: TestClient) -> None:
    good = client.get("/v1/violations/eia_unapproved_construction", params={"on": "2026-09-01"}).json()
    check(ViolationDetailOut, good)
    for path, value in [
        (("facts", 0, "required"), "yes"),
        (("facts", 0, "type"), "text"),
        (("facts", 0, "hint"), None),  # an optional key is left out, never null
        (("penalty_basis", 0, "article"), "1095"),
        (("facts_schema", "additionalProperties"), True),
        (("facts_schema", "properties", "total_investment", "minimum"), "0"),
        (("punishable",), 1),
        (("regimes",), []),
        (("regimes",), ["pre2026", "code2026", "pre2026"]),
        (("regimes",), "code2026"),
    ]:
        body = copy.deepcopy(good)
        _set(body, path, value)
        assert rejected(ViolationDetailOut, body), path
    body = copy.deepcopy(good)
    del body["facts_schema"]
    assert rejected(ViolationDetailOut, body)


# --- POST /v1/daily-penalties --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"original_fine": 100000, "order_served_date": "2025-01-01", "reinspection_date": "2025-01-11"},
        {"original_fine": 1, "order_served_date": "2026-08-20", "reinspection_date": "2026-08-21"},
        {"original_fine": 10**12, "order_served_date": "2024-02-28", "reinspection_date": "2024-03-31"},
    ],
    ids=["single_law", "environmental_code", "largest_fine_over_leap_day"],
)
def test_daily_penalty_matches_daily_penalty_out(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/v1/daily-penalties", json=body)
    assert r.status_code == 200, r.text
    d = check(DailyPenaltyOut, r.json())
    assert d.total == d.original_fine * d.days


def test_daily_penalty_out_refuses_wrong_types(client: TestClient) -> None:
    body = {"original_fine": 100000, "order_served_date": "2025-01-01", "reinspection_date": "2025-01-11"}
    good = client.post("/v1/daily-penalties", json=body).json()
    wrong = [("total", "1000000"), ("days", 10.5), ("original_fine", None), ("reinspection_date", "next week"),
             ("regime", "law"), ("basis", "《环境保护法》")]
    for key, value in wrong:
        assert rejected(DailyPenaltyOut, {**good, key: value}), key


# --- GET /healthz -------------------------------------------------------------------------------------


def test_healthz_matches_health_out(client: TestClient) -> None:
    plain = check(HealthOut, client.get("/healthz").json())
    assert plain.model_fields_set == {"status"}
    detail = check(HealthOut, client.get("/healthz", params={"detail": "true"}).json())
    assert detail.rulebooks is not None and detail.rulebooks.editions and detail.reload is not None


def test_healthz_detail_after_a_reload_matches_health_out(client: TestClient) -> None:
    assert client.post("/v1/admin/reload").status_code == 200
    d = check(HealthOut, client.get("/healthz", params={"detail": "true"}).json())
    assert d.reload is not None and d.reload.last is not None and d.reload.last.ok


def test_health_out_refuses_wrong_types(client: TestClient) -> None:
    good = client.get("/healthz", params={"detail": "true"}).json()
    assert rejected(HealthOut, {"status": "OK"})
    assert rejected(HealthOut, {"status": "ok", "pid": None})  # left out without detail, never null
    assert rejected(HealthOut, {**good, "pid": str(good["pid"])})
    assert rejected(HealthOut, {**good, "rulebooks": {**good["rulebooks"], "generation": "0"}})


def test_keys_left_out_are_optional_but_not_nullable_in_the_schema() -> None:
    schema = HealthOut.model_json_schema(mode="serialization")
    assert schema["required"] == ["status"]
    assert schema["properties"]["pid"] == {"description": "本进程号（仅 detail=true）", "title": "Pid", "type": "integer"}
    fact = ViolationDetailOut.model_json_schema(mode="serialization")["$defs"]["FactOut"]
    assert fact["required"] == ["name", "label", "type", "unit", "required"]
    assert "default" not in fact["properties"]["hint"] and fact["properties"]["hint"]["type"] == "string"
