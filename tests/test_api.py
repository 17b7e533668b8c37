"""The JSON API v1 over HTTP (TestClient): the catalogue, assessments, daily penalties and every error."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Iterator

import jsonschema
import pytest
from dbfixtures import BACKENDS, Databases
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.clock import today
from discretion.rulebooks.tree import SHIPPED
from api.main import create_app
from api.settings import Settings
from discretion.rulebooks.loaded import RulebookSet

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_KEYS = {"code", "message", "field", "errors"}

WATER = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
EIA = {"violation": "eia_unapproved_construction", "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
ORDINARY = {**WATER, "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"]}
LIGHTER = {
    "violation": "eia_unapproved_construction",
    "facts": {"total_investment": 100000000, "eia_document": "report"},
    "violation_date": "2026-03-01",
    "decision_date": "2026-10-01",
}


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, databases: Databases) -> FastAPI:
    """The service on each database: every API test runs on SQLite and on PostgreSQL."""
    return create_app(Settings(database_url=databases.new(request.param)))


@pytest.fixture(scope="module")
def ordinary(client: TestClient) -> dict[str, Any]:
    r = client.post("/v1/assessments", json=ORDINARY)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def assert_error_shape(r: Any) -> dict[str, Any]:
    """The one error shape: {code, message, field, errors[{code, message, field}]}, JSON, a Chinese message."""
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"]), body
    assert isinstance(body["message"], str) and CJK.search(body["message"]), body
    assert "errors.pydantic.dev" not in body["message"] and "validation error" not in body["message"], body
    assert body["errors"] and all(set(e) >= {"code", "message", "field"} for e in body["errors"]), body
    assert body["errors"][0]["code"] == body["code"] and body["errors"][0]["field"] == body["field"], body
    return body  # type: ignore[no-any-return]


# --- health, catalogue -----------------------------------------------------------------------


def test_healthz_answers_ok(client: TestClient) -> None:
    """GET /healthz answers 200 {"status": "ok"}."""
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_violations_lists_all_with_the_contract_fields(client: TestClient) -> None:
    """GET /v1/violations?on= lists every violation type (one per file), each with code, title, penalty basis, facts and circumstances."""
    r = client.get("/v1/violations", params={"on": "2025-09-01"})
    assert r.status_code == 200
    items = r.json()["items"]
    count = len(list((SHIPPED / "law" / "violations").glob("*.yaml")))
    assert len(items) == count >= 40
    assert len({v["code"] for v in items}) == count
    for v in items:
        assert isinstance(v["code"], str) and v["code"]
        assert isinstance(v["title"], str) and CJK.search(v["title"])
        assert isinstance(v["penalty_basis"], list)
        for b in v["penalty_basis"]:
            assert {"law", "article", "paragraph", "item"} <= set(b), b
            assert isinstance(b["law"], str) and CJK.search(b["law"])
            assert isinstance(b["article"], int)
            assert b["paragraph"] is None or isinstance(b["paragraph"], int)
            assert b["item"] is None or isinstance(b["item"], int)
        assert isinstance(v["facts"], list)
        for f in v["facts"]:
            assert {"name", "label", "type", "unit", "required"} <= set(f), f
            assert isinstance(f["required"], bool)
        assert isinstance(v["circumstances"], list) and all(isinstance(c, str) for c in v["circumstances"])


def test_violations_penalty_basis_follows_the_date(client: TestClient) -> None:
    """The penalty basis is the law in force on `on`: the water law before 2026-08-15, the Code after."""
    before = {v["code"]: v for v in client.get("/v1/violations", params={"on": "2025-09-01"}).json()["items"]}
    after = {v["code"]: v for v in client.get("/v1/violations", params={"on": "2026-10-01"}).json()["items"]}
    assert before["water_over_standard"]["penalty_basis"][0]["law"] == "中华人民共和国水污染防治法"
    assert before["water_over_standard"]["penalty_basis"][0]["article"] == 83
    assert {b["law"] for b in after["water_over_standard"]["penalty_basis"]} == {"中华人民共和国生态环境法典"}


def test_violations_query_by_law_and_article_narrows_the_list(client: TestClient) -> None:
    """q="水污染防治法 83" keeps only violations penalised under article 83 of the water law."""
    r = client.get("/v1/violations", params={"on": "2025-09-01", "q": "水污染防治法 83"})
    assert r.status_code == 200
    items = r.json()["items"]
    codes = {v["code"] for v in items}
    assert "water_over_standard" in codes
    assert 0 < len(items) < 40
    for v in items:
        assert any(b["law"] == "中华人民共和国水污染防治法" and b["article"] == 83 for b in v["penalty_basis"]), v["code"]


def test_violations_query_by_keyword_narrows_the_list(client: TestClient) -> None:
    """A Chinese keyword (超标排放) narrows the list to matching violations."""
    items = client.get("/v1/violations", params={"on": "2025-09-01", "q": "超标排放"}).json()["items"]
    codes = {v["code"] for v in items}
    assert "water_over_standard" in codes
    assert len(codes) < 40


def test_violations_bad_on_date_is_a_422_on_field_on(client: TestClient) -> None:
    """A non-ISO `on` query parameter answers 422 naming the field `on`."""
    r = client.get("/v1/violations", params={"on": "01/09/2025"})
    assert r.status_code == 422
    assert assert_error_shape(r)["field"] == "on"


def test_violation_detail_has_facts_json_schema(client: TestClient) -> None:
    """GET /v1/violations/{code} returns facts_schema, a JSON Schema with properties and required."""
    r = client.get("/v1/violations/eia_unapproved_construction", params={"on": "2025-09-01"})
    assert r.status_code == 200
    v = r.json()
    assert v["code"] == "eia_unapproved_construction"
    schema = v["facts_schema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {f["name"] for f in v["facts"]}
    assert "total_investment" in schema["required"]
    assert set(schema["required"]) == {f["name"] for f in v["facts"] if f["required"]}
    assert schema["properties"]["total_investment"]["type"] == "number"
    assert schema["properties"]["total_investment"]["minimum"] == 1  # a project has cost at least 1 元
    assert schema["properties"]["eia_document"]["enum"] == ["report", "form"]


def test_violation_detail_for_a_case_decided_under_the_code_requires_the_facts_of_both_regimes(client: TestClient) -> None:
    """An act before 2026-08-15 decided after it is evaluated under both laws (从旧兼从轻): with its
    decision_date the schema requires what both need, and a case built from it is accepted."""
    url = "/v1/violations/eia_unapproved_construction"
    before = client.get(url, params={"on": "2026-05-01"}).json()
    both = client.get(url, params={"on": "2026-05-01", "decision_date": "2026-09-01"}).json()
    assert before["regimes"] == ["pre2026"] and both["regimes"] == ["pre2026", "code2026"]
    assert set(before["facts_schema"]["required"]) < set(both["facts_schema"]["required"])
    assert {"total_investment", "eia_document"} <= set(both["facts_schema"]["required"])
    case = {"violation": "eia_unapproved_construction", "violation_date": "2026-05-01", "decision_date": "2026-09-01",
            "facts": {"total_investment": 100000000}}
    r = client.post("/v1/assessments", json=case)  # what the act-date schema alone asks for is not enough
    assert r.status_code == 422 and r.json()["field"] == "facts.eia_document"
    case["facts"] = {name: 100000000 if name == "total_investment" else "report" for name in both["facts_schema"]["required"]}
    assert client.post("/v1/assessments", json=case).status_code == 201
    r = client.get(url, params={"on": "2026-05-01", "decision_date": "2026-04-01"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_date" and r.json()["field"] == "decision_date"


def test_violation_detail_schema_validates_with_jsonschema(client: TestClient) -> None:
    """facts_schema is itself a valid draft 2020-12 schema that accepts a valid facts object and rejects extras."""
    schema = client.get("/v1/violations/eia_unapproved_construction", params={"on": "2025-09-01"}).json()["facts_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid({"total_investment": 100000000, "eia_document": "report"})
    assert not v.is_valid({"total_investment": 100000000, "bogus": 1})
    assert not v.is_valid({"total_investment": -1})


def test_unknown_violation_detail_is_404_not_found(client: TestClient) -> None:
    """GET /v1/violations/{unknown} answers 404 with code not_found."""
    r = client.get("/v1/violations/no_such_violation")
    assert r.status_code == 404
    body = assert_error_shape(r)
    assert body["code"] == "not_found"


# --- assessments ------------------------------------------------------------------------------


def test_assessment_ordinary_fine_has_the_contract_fields(ordinary: dict[str, Any]) -> None:
    """POST /v1/assessments answers 201 with id, outcome, fine, fines of individuals, measures, flags, law, rulebook, trail, reasoning."""
    r = ordinary
    assert isinstance(r["id"], str) and r["id"]
    assert r["outcome"] == "penalty"
    assert r["fine"] == {"legal_min": 100000, "legal_max": 1000000, "band": [100000, 280000], "recommended": 136000}
    assert r["individual_fines"] == []
    assert r["measures"] and all({"text", "basis"} <= set(m) for m in r["measures"])
    assert {f["id"] for f in r["flags"]} >= {"daily_penalty_eligible"}
    law = r["law"]
    assert law["regime"] == "pre2026"
    assert law["lighter_law"] is None
    assert law["basis"][0]["law"] == "中华人民共和国水污染防治法" and law["basis"][0]["article"] == 83
    assert {"id", "edition", "sha256"} <= set(r["rulebook"])
    assert r["rulebook"]["id"] == "yunnan"
    assert re.fullmatch(r"[0-9a-f]{64}", r["rulebook"]["sha256"])
    assert r["trail"]
    for step in r["trail"]:
        assert {"step", "rule", "basis", "text"} <= set(step), step
        assert isinstance(step["basis"], list)
    assert any(s["rule"] == "mit-confessed" for s in r["trail"])
    assert isinstance(r["reasoning"], str) and "水污染防治法" in r["reasoning"]


def test_assessment_exemption_has_no_fine(client: TestClient) -> None:
    """minor + corrected_promptly + no_harm gives outcome no_penalty and fine null."""
    r = client.post("/v1/assessments", json={**WATER, "circumstances": ["minor", "corrected_promptly", "no_harm"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "no_penalty"
    assert body["fine"] is None
    assert "不予行政处罚" in body["reasoning"]


def test_assessment_lighter_law_applies_the_code(client: TestClient) -> None:
    """An act before and a decision after 2026-08-15 applies the lighter Code (20万–100万) and reports both regimes."""
    r = client.post("/v1/assessments", json=LIGHTER)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["law"]["regime"] == "code2026"
    assert body["fine"]["legal_min"] == 200000 and body["fine"]["legal_max"] == 1000000
    lighter = body["law"]["lighter_law"]
    assert lighter["applied"] == "code2026"
    assert {x["regime"] for x in lighter["results"]} == {"pre2026", "code2026"}


def test_assessment_decision_date_defaults_to_today(client: TestClient) -> None:
    """Without decision_date the case is decided today (201)."""
    r = client.post("/v1/assessments", json={"violation": "water_over_standard", "violation_date": "2026-09-01"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("field", ["violation_date", "violation_end_date", "discovered_date"])
def test_an_act_or_discovery_after_today_is_refused_naming_the_field(client: TestClient, field: str) -> None:
    """A violation, end or discovery date after today in Beijing time is 422 date_in_future naming the
    field, with a Chinese message; nothing is stored."""
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    before = len(client.get("/v1/assessments", params={"limit": 200}).json()["items"])
    r = client.post("/v1/assessments", json={**WATER, field: tomorrow, "decision_date": tomorrow})
    body = assert_error_shape(r)
    assert (r.status_code, body["code"], body["field"]) == (422, "date_in_future", field), body
    assert tomorrow in body["message"] and "晚于今天（北京时间" in body["message"], body
    assert len(client.get("/v1/assessments", params={"limit": 200}).json()["items"]) == before


def test_an_act_today_and_a_decision_planned_ahead_are_computed(client: TestClient) -> None:
    """Today (Beijing time) is not after today, and a decision date ahead is a planned decision: 201."""
    day = today()
    r = client.post("/v1/assessments", json={**WATER, "violation_date": day.isoformat(), "discovered_date": day.isoformat(),
                                              "decision_date": (day + dt.timedelta(days=60)).isoformat()})
    assert r.status_code == 201, r.text


def test_assessment_can_be_read_back_unchanged(client: TestClient, ordinary: dict[str, Any]) -> None:
    """GET /v1/assessments/{id} returns exactly the stored result of the POST, plus its record, decision, case (null
    here), the stored input, and its versions (修改后重新计算: none before or after it here)."""
    r = client.get(f"/v1/assessments/{ordinary['id']}")
    assert r.status_code == 200
    got = r.json()
    assert set(got) == set(ordinary) | {"record", "decision", "case", "request", "supersedes", "superseded_by", "versions"}
    assert got["case"] is None and got["supersedes"] is None and got["superseded_by"] is None
    assert [v["id"] for v in got["versions"]] == [ordinary["id"]]
    assert got["request"]["violation"] == ordinary["violation"]["code"] and "case" not in got["request"]
    assert {k: got[k] for k in ordinary} == ordinary


def test_assessment_survives_a_new_app_on_the_same_database(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A stored result is read back by a second app built on the same database (it is persisted, not cached)."""
    db = tmp_path_factory.mktemp("persist") / "p.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{db}"))) as c1:
        posted = c1.post("/v1/assessments", json=ORDINARY).json()
    with TestClient(create_app(Settings(database_url=f"sqlite:///{db}"))) as c2:
        got = c2.get(f"/v1/assessments/{posted['id']}").json()
        assert {k: got[k] for k in posted} == posted


# --- one fact, asked once; contradictory inputs; nothing silent (issue 11 items 9, 10) --------------


@pytest.mark.parametrize("payload, fields", [
    ({**WATER, "circumstances": ["first_offense", "repeat_offense"]}, ["circumstances[0]", "circumstances[1]"]),
    ({**WATER, "circumstances": ["confessed", "first_offense"], "facts": {"violations_in_two_years": 2}},
     ["circumstances[1]", "facts.violations_in_two_years"]),
    ({**WATER, "circumstances": ["no_harm", "slight_harm"]}, ["circumstances[0]", "circumstances[1]"]),
    ({**WATER, "facts": {"duration_days": 500}}, ["facts.duration_days", "violation_date", "decision_date"]),
    ({"violation": "air_monitoring_violation", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
      "facts": {"act": "outlet", "monitoring_breach": "records"}}, ["facts.monitoring_breach", "facts.act"]),
    ({"violation": "sanitation_waste_violation", "party": "individual", "violation_date": "2026-09-01", "decision_date": "2026-11-01",
      "facts": {"sanitation_act": "construction_waste_plan"}}, ["party", "facts.sanitation_act"]),
], ids=["first-and-repeat-offense", "first-offense-and-count", "no-and-slight-harm", "duration-and-dates", "law-and-edition-fact",
        "party-and-a-units-act"])
def test_contradictory_inputs_are_422_naming_each_field(client: TestClient, payload: dict[str, Any], fields: list[str]) -> None:
    """Inputs that deny each other answer 422 contradictory_inputs: field is the first of them, errors names each, the message names them in Chinese; nothing is stored."""
    before = client.get("/v1/assessments", params={"limit": 1}).json()["items"]
    r = client.post("/v1/assessments", json=payload)
    assert r.status_code == 422, r.text
    body = assert_error_shape(r)
    assert body["code"] == "contradictory_inputs"
    assert [e["field"] for e in body["errors"]] == fields
    assert all(e["code"] == "contradictory_inputs" and e["message"] == body["message"] for e in body["errors"])
    assert "相互矛盾" in body["message"] and body["message"].count("“") >= 2
    assert client.get("/v1/assessments", params={"limit": 1}).json()["items"] == before  # nothing stored


def test_an_edition_fact_the_law_fact_decides_is_read_from_it(client: TestClient) -> None:
    """act = equipment_tampered (大气污染防治法第一百条第一项) places the 2023 edition's 行为情形 at level 5 without monitoring_breach being sent, and the trail says it was read from the law's fact."""
    r = client.post("/v1/assessments", json={"violation": "air_monitoring_violation", "violation_date": "2025-03-01",
                                             "decision_date": "2025-09-01", "facts": {"act": "equipment_tampered"}})
    assert r.status_code == 201, r.text
    trail = r.json()["trail"]
    assert any(s["rule"] == "factor/monitoring_breach/5" for s in trail)
    read = [s for s in trail if s["rule"] == "from_law/monitoring_breach"]
    assert read and read[0]["data"] == {"fact": "monitoring_breach", "law_fact": "act", "value": "device_tampered"}


def test_the_facts_schema_asks_an_edition_fact_only_as_a_refinement_of_the_law_fact(client: TestClient) -> None:
    """GET /v1/violations/{code}: an edition fact the law's fact always decides (hw_breach) is not listed; one it refines
    (monitoring_breach) carries refines, x-refines and allOf constraints that a validator enforces."""
    hw = client.get("/v1/violations/hazardous_waste_management", params={"on": "2025-09-01"}).json()
    assert "hw_breach" not in {f["name"] for f in hw["facts"]} and "hw_breach" not in hw["facts_schema"]["properties"]
    air = client.get("/v1/violations/air_monitoring_violation", params={"on": "2025-09-01"}).json()
    fact = next(f for f in air["facts"] if f["name"] == "monitoring_breach")
    assert fact["refines"]["fact"] == "act" and fact["refines"]["choices"]["no_self_monitoring"] == ["self_monitoring", "records"]
    schema = air["facts_schema"]
    assert schema["properties"]["monitoring_breach"]["x-refines"] == "act"
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid({"act": "no_self_monitoring", "monitoring_breach": "records"})
    assert not v.is_valid({"act": "no_self_monitoring", "monitoring_breach": "disclosure"})
    assert not v.is_valid({"act": "outlet", "monitoring_breach": "records"})


def test_the_result_lists_circumstances_not_applied_and_factors_left_unknown(client: TestClient) -> None:
    """First offence without the other conditions, and a duplicate, are listed with their reasons; the factors whose facts
    were not given are listed with their default level; the flag factors_unknown is raised; the stored record keeps both."""
    r = client.post("/v1/assessments", json={**WATER, "facts": {"exceedance_ratio": 0.6},
                                             "circumstances": ["first_offense", "confessed", "confessed"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(c["code"], c["label"]) for c in body["circumstances_not_applied"]] == [
        ("first_offense", "初次违法"), ("confessed", "主动供述行政机关尚未掌握的违法行为")]
    assert "不予处罚的条件" in body["circumstances_not_applied"][0]["reason"]
    assert body["circumstances_not_applied"][1]["reason"] == "与第2项重复，只计一次"
    defaulted = {d["id"]: d for d in body["factors_defaulted"]}
    assert defaulted["duration"]["level"] == 1 and defaulted["duration"]["missing"] == ["duration_days"]
    assert "exceedance" not in defaulted  # given: at its level, not unknown
    assert "factors_unknown" in {f["id"] for f in body["flags"]}
    assert [s["rule"] for s in body["trail"] if s["step"] == "circumstance"] == ["first_offense", "confessed"]
    assert "所填情节中，“初次违法”未予适用" in body["reasoning"] and "下列裁量因子按默认等级计算" in body["reasoning"]
    stored = client.get(f"/v1/assessments/{body['id']}").json()
    assert stored["circumstances_not_applied"] == body["circumstances_not_applied"]
    assert stored["factors_defaulted"] == body["factors_defaulted"]


def test_the_result_lists_facts_no_rule_reads(client: TestClient) -> None:
    """A fact the violation type's rules do not read (排污许可管理类别 for 超标排放水污染物) comes back in
    facts_not_applied with its field and reason, a trail step and a sentence; the stored record keeps it."""
    r = client.post("/v1/assessments", json={**WATER, "facts": {"exceedance_ratio": 0.6, "permit_class": "key"}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(f["name"], f["field"], f["label"]) for f in body["facts_not_applied"]] == [
        ("permit_class", "facts.permit_class", "排污许可管理类别")]
    assert "均不读取该事实" in body["facts_not_applied"][0]["reason"]
    assert [s["rule"] for s in body["trail"] if s["step"] == "fact"] == ["permit_class"]
    assert "所填事实中，“排污许可管理类别”未予适用" in body["reasoning"]
    stored = client.get(f"/v1/assessments/{body['id']}").json()
    assert stored["facts_not_applied"] == body["facts_not_applied"]


def test_a_case_decided_under_the_code_with_the_2023_edition_is_flagged(client: TestClient) -> None:
    """Decided on 2026-09-01 with the 2023 edition (issued under the separate laws): the flag edition_for_repealed_laws,
    citing 法典第一千二百四十二条, and a sentence in the reasoning; decided on 2026-06-01, neither."""
    late = client.post("/v1/assessments", json={**WATER, "decision_date": "2026-09-01"}).json()
    flag = next(f for f in late["flags"] if f["id"] == "edition_for_repealed_laws")
    assert "《中华人民共和国生态环境法典》第一千二百四十二条" in flag["basis"]
    assert "系依据已废止的单行法制定" in late["reasoning"]
    early = client.post("/v1/assessments", json={**WATER, "decision_date": "2026-06-01"}).json()
    assert "edition_for_repealed_laws" not in {f["id"] for f in early["flags"]}


def test_unknown_assessment_id_is_404(client: TestClient) -> None:
    """GET /v1/assessments/{unknown} answers 404 not_found naming the field id."""
    r = client.get("/v1/assessments/0000000000000000deadbeef")
    assert r.status_code == 404
    body = assert_error_shape(r)
    assert body["code"] == "not_found"
    assert body["field"] == "id"


# --- daily penalties --------------------------------------------------------------------------


def test_daily_penalty_counts_days_and_total(client: TestClient) -> None:
    """Days run from the day after service to the re-inspection day, total = fine × days, with its basis."""
    r = client.post(
        "/v1/daily-penalties",
        json={"original_fine": 100000, "order_served_date": "2025-05-01", "reinspection_date": "2025-05-11"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days"] == 10
    assert body["total"] == 1000000
    assert body["basis"] and any("环境保护法" in b for b in body["basis"])


@pytest.mark.parametrize("reinspection", ["2025-05-01", "2025-04-30"], ids=["same-day", "before"])
def test_daily_penalty_reinspection_not_after_service_is_422(client: TestClient, reinspection: str) -> None:
    """A re-inspection on or before the service date answers 422 naming reinspection_date."""
    r = client.post(
        "/v1/daily-penalties",
        json={"original_fine": 100000, "order_served_date": "2025-05-01", "reinspection_date": reinspection},
    )
    assert r.status_code == 422
    body = assert_error_shape(r)
    assert body["field"] == "reinspection_date"
    assert body["code"] == "invalid_date"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"original_fine": 0, "order_served_date": "2025-05-01", "reinspection_date": "2025-05-11"}, "original_fine"),
        ({"original_fine": 10**400, "order_served_date": "2025-05-01", "reinspection_date": "2025-05-11"}, "original_fine"),
        ({"original_fine": 100, "order_served_date": "2025/05/01", "reinspection_date": "2025-05-11"}, "order_served_date"),
        ({"original_fine": 100, "order_served_date": "2025-05-01"}, "reinspection_date"),
    ],
    ids=["zero-fine", "huge-fine", "bad-date", "missing-date"],
)
def test_daily_penalty_bad_input_is_422_with_field(client: TestClient, payload: dict[str, Any], field: str) -> None:
    """Bad daily-penalty input answers 422 in the error shape naming the field."""
    r = client.post("/v1/daily-penalties", json=payload)
    assert r.status_code == 422, r.text
    assert assert_error_shape(r)["field"] == field


# --- every error class ------------------------------------------------------------------------

J = "application/json"

# (id, payload (dict/list → json) or raw bytes, expected status, allowed codes, expected field)
ERROR_CASES: list[tuple[str, Any, int, set[str], str]] = [
    ("unknown-violation", {**WATER, "violation": "no_such_violation"}, 422, {"unknown_violation"}, "violation"),
    ("unknown-circumstance", {**WATER, "circumstances": ["bogus"]}, 422, {"unknown_circumstance"}, "circumstances[0]"),
    ("unknown-circumstance-second", {**WATER, "circumstances": ["minor", "bogus"]}, 422, {"unknown_circumstance"}, "circumstances[1]"),
    ("unknown-fact", {**WATER, "facts": {"bogus": 1}}, 422, {"unknown_fact"}, "facts.bogus"),
    ("missing-required-fact", EIA, 422, {"missing_fact"}, "facts.total_investment"),
    ("negative-amount", {**EIA, "facts": {"total_investment": -5}}, 422, {"invalid_fact"}, "facts.total_investment"),
    ("enum-value-not-allowed", {**WATER, "facts": {"discharge_area": "mars"}}, 422, {"invalid_fact"}, "facts.discharge_area"),
    ("enum-value-wrong-type", {**WATER, "facts": {"discharge_area": 3}}, 422, {"invalid_fact"}, "facts.discharge_area"),
    ("decision-before-violation", {**WATER, "decision_date": "2025-01-01"}, 422, {"invalid_date"}, "decision_date"),
    ("non-iso-date-slashes", {**WATER, "violation_date": "2025/03/01"}, 422, {"invalid_input"}, "violation_date"),
    ("non-iso-date-dmy", {**WATER, "violation_date": "01-03-2025"}, 422, {"invalid_input"}, "violation_date"),
    ("non-iso-date-datetime", {**WATER, "violation_date": "2025-03-01T00:00:00"}, 422, {"invalid_input"}, "violation_date"),
    ("non-iso-date-number", {**WATER, "violation_date": 20250301}, 422, {"invalid_input"}, "violation_date"),
    ("impossible-date-feb-30", {**WATER, "violation_date": "2025-02-30"}, 422, {"invalid_input"}, "violation_date"),
    ("date-before-the-law", {**WATER, "violation_date": "0001-01-01"}, 422, {"date_out_of_range"}, "violation_date"),
    ("missing-violation-date", {"violation": "water_over_standard"}, 422, {"invalid_input"}, "violation_date"),
    ("extra-top-level-key", {**WATER, "foo": 1}, 422, {"invalid_input"}, "foo"),
    ("party-not-allowed", {**WATER, "party": "robot"}, 422, {"invalid_input"}, "party"),
    ("unknown-jurisdiction", {**WATER, "jurisdiction": "beijing"}, 422, {"unknown_jurisdiction"}, "jurisdiction"),
    ("unknown-edition", {**WATER, "edition": "nope"}, 422, {"unknown_edition"}, "edition"),
    ("wrong-type-facts-list", {**WATER, "facts": [1]}, 422, {"invalid_input"}, "facts"),
    ("wrong-type-circumstances-string", {**WATER, "circumstances": "minor"}, 422, {"invalid_input"}, "circumstances"),
    ("wrong-type-circumstance-int", {**WATER, "circumstances": [1]}, 422, {"invalid_input"}, "circumstances[0]"),
    ("wrong-type-violation-int", {**WATER, "violation": 5}, 422, {"invalid_input"}, "violation"),
    ("wrong-type-number-fact-string", {**WATER, "facts": {"exceedance_ratio": "abc"}}, 422, {"invalid_fact"}, "facts.exceedance_ratio"),
    ("wrong-type-number-fact-bool", {**WATER, "facts": {"exceedance_ratio": True}}, 422, {"invalid_fact"}, "facts.exceedance_ratio"),
    ("wrong-type-bool-fact-int", {**WATER, "facts": {"serious": 5}}, 422, {"invalid_fact"}, "facts.serious"),
    ("wrong-type-count-fact-float", {**WATER, "facts": {"duration_days": 1.5}}, 422, {"invalid_fact"}, "facts.duration_days"),
    ("wrong-type-fact-list", {**WATER, "facts": {"exceedance_ratio": [1]}}, 422, {"invalid_fact", "invalid_input"}, "facts.exceedance_ratio"),
    ("wrong-type-fact-object", {**WATER, "facts": {"exceedance_ratio": {"a": 1}}}, 422, {"invalid_fact", "invalid_input"}, "facts.exceedance_ratio"),
    ("too-many-facts", {**WATER, "facts": {f"f{i}": 1 for i in range(65)}}, 422, {"invalid_input"}, "facts"),
    ("too-many-circumstances", {**WATER, "circumstances": ["minor"] * 65}, 422, {"invalid_input"}, "circumstances"),
    ("overlong-violation", {**WATER, "violation": "x" * 81}, 422, {"invalid_input"}, "violation"),
    ("overlong-jurisdiction", {**WATER, "jurisdiction": "x" * 81}, 422, {"invalid_input"}, "jurisdiction"),
    ("overlong-circumstance", {**WATER, "circumstances": ["x" * 65]}, 422, {"invalid_input"}, "circumstances[0]"),
    ("overlong-fact-value", {**WATER, "facts": {"discharge_area": "x" * 201}}, 422, {"invalid_fact", "invalid_input"}, "facts.discharge_area"),
    ("overlong-fact-name", {**WATER, "facts": {"x" * 65: 1}}, 422, {"invalid_fact", "invalid_input"}, "facts." + "x" * 65),
    ("malformed-json", b'{"violation": ', 422, {"malformed_json"}, "body"),
    ("trailing-garbage-json", b'{"violation": "water_over_standard"} x', 422, {"malformed_json"}, "body"),
    ("empty-body", b"", 422, {"invalid_input", "malformed_json"}, "body"),
    ("json-array", [WATER], 422, {"invalid_input"}, "body"),
    ("json-string", "water_over_standard", 422, {"invalid_input"}, "body"),
    ("deeply-nested-json", b'{"violation": ' + b"[" * 5000 + b"]" * 5000 + b"}", 422, {"malformed_json", "invalid_input"}, "body"),
    ("nan-fact", b'{"violation": "water_over_standard", "violation_date": "2025-03-01", "facts": {"exceedance_ratio": NaN}}',
     422, {"invalid_fact", "invalid_input"}, "facts.exceedance_ratio"),
    ("infinity-fact", b'{"violation": "water_over_standard", "violation_date": "2025-03-01", "facts": {"exceedance_ratio": Infinity}}',
     422, {"invalid_fact", "invalid_input"}, "facts.exceedance_ratio"),
    ("minus-infinity-money-fact",
     b'{"violation": "eia_unapproved_construction", "violation_date": "2025-03-01", "facts": {"total_investment": -Infinity}}',
     422, {"invalid_fact", "invalid_input"}, "facts.total_investment"),
    ("overflowing-float-fact", b'{"violation": "water_over_standard", "violation_date": "2025-03-01", "facts": {"duration_days": 1e400}}',
     422, {"invalid_fact", "invalid_input"}, "facts.duration_days"),
    ("huge-integer-number-fact", {**WATER, "facts": {"exceedance_ratio": 10**400}}, 422, {"invalid_fact"}, "facts.exceedance_ratio"),
    ("huge-integer-count-fact", {**WATER, "facts": {"duration_days": 10**30}}, 422, {"invalid_fact"}, "facts.duration_days"),
    ("huge-integer-money-fact", {**EIA, "facts": {"total_investment": 10**30}}, 422, {"invalid_fact"}, "facts.total_investment"),
    ("huge-float-money-fact", {**EIA, "facts": {"total_investment": 1e308}}, 422, {"invalid_fact"}, "facts.total_investment"),
    ("huge-decimal-money-fact",
     b'{"violation": "eia_unapproved_construction", "violation_date": "2025-03-01", "facts": {"total_investment": 123456789012345678901234567890.5}}',
     422, {"invalid_fact"}, "facts.total_investment"),
]


@pytest.mark.parametrize(("payload", "status", "codes", "field"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_bad_assessment_input_answers_4xx_in_the_error_shape(
    client: TestClient, payload: Any, status: int, codes: set[str], field: str
) -> None:
    """Each class of bad input answers the expected 4xx (never 5xx) with a stable code and the offending field path."""
    if isinstance(payload, bytes):
        r = client.post("/v1/assessments", content=payload, headers={"content-type": J})
    else:
        r = client.post("/v1/assessments", content=json.dumps(payload).encode(), headers={"content-type": J})
    assert r.status_code < 500, f"server error for client input: {r.status_code} {r.text[:300]}"
    assert r.status_code == status, r.text[:500]
    body = assert_error_shape(r)
    assert body["code"] in codes, body
    assert body["field"] == field, body


@pytest.mark.parametrize(
    ("violation_date", "decision_date"),
    [("9998-12-31", "9999-01-01"), ("9999-12-31", "9999-12-31")],
    ids=["year-9998", "year-9999"],
)
def test_far_future_dates_are_a_4xx_not_a_crash(client: TestClient, violation_date: str, decision_date: str) -> None:
    """Valid ISO dates near year 9999 answer a 4xx naming a date field, never a 500."""
    r = client.post("/v1/assessments", json={**WATER, "violation_date": violation_date, "decision_date": decision_date})
    assert r.status_code < 500, f"server error for client input: {r.status_code} {r.text[:300]}"
    if r.status_code != 201:
        assert r.status_code == 422
        assert assert_error_shape(r)["field"] in {"violation_date", "decision_date"}


def test_oversized_body_is_422_body_too_large(client: TestClient, app: FastAPI) -> None:
    """A body over max_body_bytes with a content-length answers 422 body_too_large (issue 3: 422 for bad input)."""
    limit = app.state.discretion.settings.max_body_bytes
    big = json.dumps({**WATER, "facts": {"discharge_area": "x" * (limit + 10)}}).encode()
    r = client.post("/v1/assessments", content=big, headers={"content-type": J})
    assert r.status_code == 422
    body = assert_error_shape(r)
    assert body["code"] == "body_too_large"
    assert body["field"] == "body"


def test_oversized_chunked_body_without_length_is_422(client: TestClient, app: FastAPI) -> None:
    """A body over max_body_bytes sent chunked (no content-length) answers 422 body_too_large."""
    limit = app.state.discretion.settings.max_body_bytes
    big = json.dumps({**WATER, "facts": {"discharge_area": "x" * (limit + 10)}}).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    r = client.post("/v1/assessments", content=chunks(), headers={"content-type": J})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 422
    assert assert_error_shape(r)["code"] == "body_too_large"


def test_body_limit_setting_is_honoured(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A smaller max_body_bytes setting rejects a normal case that the default accepts."""
    db = tmp_path_factory.mktemp("limit") / "l.db"
    with TestClient(create_app(Settings(database_url=f"sqlite:///{db}", max_body_bytes=64)), raise_server_exceptions=False) as c:
        r = c.post("/v1/assessments", json=ORDINARY)
        assert r.status_code == 422
        assert assert_error_shape(r)["code"] == "body_too_large"
        assert c.get("/healthz").status_code == 200


def test_body_at_the_limit_is_accepted(client: TestClient, app: FastAPI) -> None:
    """A body of exactly max_body_bytes is read and validated, not rejected as too large."""
    limit = app.state.discretion.settings.max_body_bytes
    payload = json.dumps(ORDINARY).encode()
    payload = payload[:-1] + b" " * (limit - len(payload)) + b"}"
    assert len(payload) == limit
    r = client.post("/v1/assessments", content=payload, headers={"content-type": J})
    assert r.status_code == 201, r.text[:300]


def test_unknown_route_and_wrong_method_use_the_error_shape(client: TestClient) -> None:
    """An unknown path answers 404 not_found and a wrong method 405 method_not_allowed, both in the error shape."""
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert assert_error_shape(r)["code"] == "not_found"
    r = client.delete("/v1/assessments")
    assert r.status_code == 405
    assert assert_error_shape(r)["code"] == "method_not_allowed"


# --- OpenAPI and offline docs -----------------------------------------------------------------


def test_openapi_json_lists_the_v1_paths(client: TestClient) -> None:
    """/openapi.json is valid JSON describing every v1 path."""
    r = client.get("/openapi.json")
    assert r.status_code == 200
    spec = json.loads(r.text)
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/healthz",
        "/v1/violations",
        "/v1/violations/{code}",
        "/v1/assessments",
        "/v1/assessments/{assessment_id}",
        "/v1/daily-penalties",
    }
    assert "post" in spec["paths"]["/v1/assessments"]


def test_docs_page_uses_only_local_assets_that_are_served(client: TestClient) -> None:
    """/docs is HTML that references only local /static/ assets (no other hosts), and each of them answers 200."""
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s'\"<>]+", html)
    assert not re.search(r"""(src|href)\s*=\s*["']//""", html)
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets, html
    for url in assets:
        assert url.startswith("/static/"), url
        got = client.get(url)
        assert got.status_code == 200, url
        assert got.content, url
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    assert "/openapi.json" in html


def test_the_api_documentation_reads_in_chinese(client: TestClient) -> None:
    """/docs shows each operation's summary and description: Chinese, not the code's English docstrings."""
    doc = client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for key in ("summary", "description"):
                text = op.get(key, "")
                assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", text), (method, path, key, text)


def test_the_api_models_in_the_documentation_read_in_chinese_and_every_response_has_one(client: TestClient) -> None:
    """The schemas /docs shows (and a client generator reads) describe themselves in Chinese, and each
    JSON API v1 answer refers to its model, not to a bare object."""
    doc = client.get("/openapi.json").json()
    for name, schema in doc["components"]["schemas"].items():
        texts = [schema.get("description", "")] + [p.get("description", "") for p in schema.get("properties", {}).values()]
        for text in texts:
            assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", text), (name, text)
    answers = {("/v1/assessments", "post", "201"): "AssessmentOut", ("/v1/violations", "get", "200"): "ViolationList",
               ("/v1/violations/{code}", "get", "200"): "ViolationDetailOut", ("/v1/daily-penalties", "post", "200"): "DailyPenaltyOut",
               ("/healthz", "get", "200"): "HealthOut", ("/v1/assessments/{assessment_id}", "get", "200"): "AssessmentRecordOut"}
    for (path, method, status), model in answers.items():
        schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}, (path, schema)


def test_health_answers_head_for_monitors(client: TestClient) -> None:
    assert client.head("/healthz").status_code == 200


def test_a_query_parameter_of_the_wrong_shape_is_explained_in_chinese(client: TestClient) -> None:
    r = client.get("/v1/assessments", params={"cursor": "garbage"})
    assert r.status_code == 422 and r.json()["field"] == "cursor" and r.json()["message"] == "格式不符"


def test_a_body_with_a_utf8_byte_order_mark_is_read(client: TestClient) -> None:
    """RFC 8259 lets a parser ignore a byte order mark; some Windows clients send one."""
    body = json.dumps({"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5},
                       "violation_date": "2025-03-01", "decision_date": "2025-09-01"}).encode()
    r = client.post("/v1/assessments", content=b"\xef\xbb\xbf" + body, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text


# --- the case's identity (案号, party, address, place) -------------------------------------------

UNIT_CODE = "91350100M000100Y43"  # a 统一社会信用代码 with a letter as check character
PERSON_CODE = "11010519491231002X"  # GB 11643-1999's example
UNIT_CASE = {"number": "昆环罚〔2025〕21号", "party": {"name": "昆明某某化工有限公司", "kind": "unit", "id_code": UNIT_CODE},
             "address": "昆明市官渡区某路1号", "location": "昆明市官渡区某排污口"}
PERSON_CASE = {"number": "昆环罚〔2025〕22号", "party": {"name": "王某某", "kind": "individual", "id_code": PERSON_CODE}}


def test_a_case_is_kept_with_the_record_and_read_back_in_full(client: TestClient) -> None:
    """The case is stored with the record (GET gives it back, the identity code in capitals) and
    changes nothing in the assessment."""
    plain = client.post("/v1/assessments", json=ORDINARY).json()
    lower = {**UNIT_CASE, "party": {**UNIT_CASE["party"], "id_code": UNIT_CODE.lower()}}
    r = client.post("/v1/assessments", json={**ORDINARY, "case": lower})
    assert r.status_code == 201, r.text
    posted = r.json()
    assert "case" not in posted and posted["fine"] == plain["fine"] and posted["reasoning"] == plain["reasoning"]
    got = client.get(f"/v1/assessments/{posted['id']}").json()
    assert got["case"] == UNIT_CASE


def test_the_party_kind_of_the_case_is_assessed_when_party_is_not_given(client: TestClient) -> None:
    """Without ``party``, the case's party kind is the one assessed (an individual here); the same
    kind given twice is accepted, different kinds are refused (party_mismatch)."""
    r = client.post("/v1/assessments", json={**ORDINARY, "case": PERSON_CASE})
    assert r.status_code == 201, r.text
    assert "当事人（个人）" in r.json()["reasoning"]
    assert client.post("/v1/assessments", json={**ORDINARY, "party": "individual", "case": PERSON_CASE}).status_code == 201
    r = client.post("/v1/assessments", json={**ORDINARY, "party": "unit", "case": PERSON_CASE})
    body = assert_error_shape(r)
    assert r.status_code == 422 and body["code"] == "party_mismatch" and body["field"] == "case.party.kind"


@pytest.mark.parametrize(("party", "code"), [
    ({"name": "某公司", "kind": "unit", "id_code": "91350100M000100Y44"}, "invalid_id_code"),  # check character off by one
    ({"name": "某公司", "kind": "unit", "id_code": "91350100M000I00Y43"}, "invalid_id_code"),  # I is not in the alphabet
    ({"name": "某公司", "kind": "unit", "id_code": "9135010"}, "invalid_id_code"),
    ({"name": "王某", "kind": "individual", "id_code": "110105194912310021"}, "invalid_id_code"),  # check digit
    ({"name": "王某", "kind": "individual", "id_code": "110105194902300020"}, "invalid_id_code"),  # 30 February
    ({"name": "某公司", "kind": "unit", "id_code": PERSON_CODE}, "id_code_kind_mismatch"),
    ({"name": "王某", "kind": "individual", "id_code": UNIT_CODE}, "id_code_kind_mismatch"),
])
def test_a_wrong_identity_code_is_422_at_its_field_without_being_echoed(client: TestClient, party: dict[str, str], code: str) -> None:
    """A check character that does not match, a malformed code, or a code of the other kind of party
    is refused at case.party.id_code, in Chinese, and nothing is stored."""
    before = client.get("/v1/assessments", params={"limit": 1}).json()["items"]
    r = client.post("/v1/assessments", json={**ORDINARY, "case": {"party": party}})
    body = assert_error_shape(r)
    assert r.status_code == 422 and body["code"] == code and body["field"] == "case.party.id_code", body
    assert party["id_code"] not in body["message"]
    assert client.get("/v1/assessments", params={"limit": 1}).json()["items"] == before


@pytest.mark.parametrize(("case", "field", "code"), [
    ({"number": "号" * 65}, "case.number", "invalid_input"),
    ({"party": {"name": "某" * 101, "kind": "unit"}}, "case.party.name", "invalid_input"),
    ({"party": {"name": "某公司", "kind": "unit", "id_code": "9" * 33}}, "case.party.id_code", "invalid_input"),
    ({"address": "路" * 201}, "case.address", "invalid_input"),
    ({"location": "河" * 201}, "case.location", "invalid_input"),
    ({"number": "昆环罚\n12号"}, "case.number", "invalid_character"),
    ({"location": "某河\t段"}, "case.location", "invalid_character"),
    ({"party": {"name": "某\x00公司", "kind": "unit"}}, "case.party.name", "invalid_character"),
    ({"address": "某路\u202e1号"}, "case.address", "invalid_character"),
    ({"number": "   "}, "case.number", "invalid_input"),
    ({"party": {"name": "某公司", "kind": "group"}}, "case.party.kind", "invalid_input"),
    ({"party": {"kind": "unit"}}, "case.party.name", "invalid_input"),
    ({"court": "某法院"}, "case.court", "invalid_input"),
])
def test_case_fields_are_bounded_single_lines(client: TestClient, case: dict[str, Any], field: str, code: str) -> None:
    """Each field of the case has a length bound, one line without control characters, and no unknown key."""
    r = client.post("/v1/assessments", json={**ORDINARY, "case": case})
    body = assert_error_shape(r)
    assert r.status_code == 422 and body["field"] == field and body["code"] == code, body


def test_lists_mask_a_personal_identity_number_and_search_by_case_number_or_party(client: TestClient) -> None:
    """GET /v1/assessments shows a unit's code in full and 1101**********002X for a person, and ``q``
    finds a record by part of its case number or party name."""
    person = client.post("/v1/assessments", json={**ORDINARY, "case": {**PERSON_CASE, "number": "KM-Q-0931"}}).json()["id"]
    unit = client.post("/v1/assessments", json={**ORDINARY, "case": {**UNIT_CASE, "number": "KM-Q-0932"}}).json()["id"]
    listed = client.get("/v1/assessments", params={"q": "km-q-093"})
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [unit, person]
    assert items[1]["case"] == {"number": "KM-Q-0931", "party": {"name": "王某某", "kind": "individual", "id_code": "1101**********002X"}}
    assert items[0]["case"]["party"]["id_code"] == UNIT_CODE
    assert PERSON_CODE not in listed.text
    assert [i["id"] for i in client.get("/v1/assessments", params={"q": "王某某"}).json()["items"]][0] == person
    assert client.get("/v1/assessments", params={"q": "KM-Q-0931", "limit": 5}).json()["items"][0]["id"] == person
    assert client.get("/v1/assessments", params={"q": "没有这个当事人"}).json()["items"] == []
    nxt = client.get("/v1/assessments", params={"q": "km-q-093", "limit": 1}).json()
    assert "q=km-q-093" in nxt["next"]


@pytest.mark.parametrize("q", ["x" * 65, "a\x00b", ""])
def test_the_search_is_bounded_and_printable(client: TestClient, q: str) -> None:
    """``q`` is 1–64 characters without control characters (422 at q)."""
    r = client.get("/v1/assessments", params={"q": q})
    assert r.status_code == 422 and r.json()["field"] == "q"


def test_an_empty_case_object_is_no_case(client: TestClient) -> None:
    """``case: {}`` carries nothing: the record keeps no case (null), as without it."""
    rid = client.post("/v1/assessments", json={**ORDINARY, "case": {}}).json()["id"]
    assert client.get(f"/v1/assessments/{rid}").json()["case"] is None


def test_no_party_data_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Storing, listing, searching, reading, refusing and documenting a case logs nothing of the party."""
    import logging

    caplog.set_level(logging.DEBUG)
    rid = client.post("/v1/assessments", json={**ORDINARY, "case": PERSON_CASE}).json()["id"]
    client.post("/v1/assessments", json={**ORDINARY, "case": {"party": {**PERSON_CASE["party"], "kind": "unit"}}})
    client.get("/v1/assessments", params={"q": "王某某"})
    client.get(f"/v1/assessments/{rid}")
    client.post(f"/v1/assessments/{rid}/decision", json={"amount": 136000})
    for kind in ("notice", "decision", "reasoning"):
        assert client.get(f"/v1/assessments/{rid}/documents/{kind}.docx").status_code == 200
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    for secret in ("王某某", PERSON_CODE, "1101**", "昆环罚〔2025〕22号"):
        assert secret not in logged
