"""Records over the API, on SQLite and PostgreSQL: who and what is stored, the list with its filters
and paging, the officer's decision and its rules, where the decision shows, reproduction (also after
the rulebooks changed), and the absence of any update or delete path."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbfixtures import BACKENDS, Databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.clock import today
from api.deps import Principal
from api.main import create_app
from api.schemas import AssessmentList, AssessmentRecordOut, DecisionOut, ReproductionOut
from api.settings import Settings
from discretion import __version__

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

WATER = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
         "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"]}  # band 100,000–280,000, recommended 136,000
EIA = {"violation": "eia_unapproved_construction", "facts": {"total_investment": 100000000, "eia_document": "report"},
       "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
EXEMPT = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
          "circumstances": ["minor", "corrected_promptly", "no_harm"]}  # no_penalty


class As:
    """ASGI wrapper for tests: a request with ``x-test-principal: name:role`` runs as that principal
    (as the access layer sets it after checking a token); without the header, the local operator."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for k, v in scope["headers"]:
                if k == b"x-test-principal":
                    name, role = v.decode().split(":")
                    scope.setdefault("state", {})["principal"] = Principal(name=name, role=role, via="token")
        await self.app(scope, receive, send)


def as_(name: str, role: str = "handler") -> dict[str, str]:
    return {"x-test-principal": f"{name}:{role}"}


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def service(backend: str, databases: Databases) -> Iterator[tuple[FastAPI, TestClient, str]]:
    url = databases.new(backend)
    app = create_app(Settings(database_url=url))
    with TestClient(As(app), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield app, c, url
    app.state.discretion.store.close()


@pytest.fixture(scope="module")
def client(service: tuple[FastAPI, TestClient, str]) -> TestClient:
    return service[1]


def post(client: TestClient, body: dict[str, Any], who: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.post("/v1/assessments", json=body, headers=who or {})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def decide(client: TestClient, rid: str, who: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post(f"/v1/assessments/{rid}/decision", json=body, headers=who or {})


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/assessments", params=params)
    assert r.status_code == 200, r.text
    AssessmentList.model_validate(r.json())
    return r.json()  # type: ignore[no-any-return]


def unique() -> str:
    return "h" + secrets.token_hex(4)


# --- what is stored ---------------------------------------------------------------------------


def test_an_assessment_is_stored_with_who_when_rulebooks_and_engine(service: tuple[FastAPI, TestClient, str]) -> None:
    """GET /v1/assessments/{id} answers what POST answered, plus the record: the caller's name and
    role, the time, the edition and its sha256, the rulebook set's hash, the engine version, its
    place on the chain; and no decision yet. It matches the documented model."""
    app, client, _ = service
    before = dt.datetime.now(dt.UTC)
    posted = post(client, WATER, as_("wang"))
    after = dt.datetime.now(dt.UTC)
    r = client.get(f"/v1/assessments/{posted['id']}")
    assert r.status_code == 200
    got = r.json()
    AssessmentRecordOut.model_validate(got)
    assert {k: got[k] for k in posted} == posted
    rec = got["record"]
    assert rec["created_by"] == {"name": "wang", "role": "handler"}
    assert before <= dt.datetime.fromisoformat(rec["created_at"].replace("Z", "+00:00")) <= after
    assert rec["edition"] == posted["rulebook"]["key"] == "yunnan@2023"
    assert rec["sha256"] == posted["rulebook"]["sha256"]
    assert rec["rulebook_set"] == app.state.discretion.records.set_hash
    assert rec["engine_version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{64}", rec["hash"]) and rec["seq"] >= 1
    assert got["decision"] is None


def test_the_stored_request_fixes_the_decision_date_when_it_defaulted_to_today(service: tuple[FastAPI, TestClient, str]) -> None:
    """A request without decision_date is stored with the day it was decided (today in Beijing time,
    whatever the server's time zone), so reproducing it later uses that day, not the day of the reproduction."""
    app, client, _ = service
    posted = post(client, {k: v for k, v in WATER.items() if k != "decision_date"})
    row = app.state.discretion.store.get_row(posted["id"])
    assert json.loads(row["request"])["decision_date"] == today().isoformat()


def test_the_caller_defaults_to_the_local_operator_without_auth(client: TestClient) -> None:
    """On a loopback service without authentication, records name the local operator (admin)."""
    posted = post(client, WATER)
    assert client.get(f"/v1/assessments/{posted['id']}").json()["record"]["created_by"] == {"name": "local", "role": "admin"}


# --- the list -------------------------------------------------------------------------------


def test_the_list_filters_by_violation_outcome_handler_and_dates(client: TestClient) -> None:
    """violation, outcome and handler narrow the list; from/to are days (Beijing time), both inclusive."""
    h1, h2 = unique(), unique()
    water = [post(client, WATER, as_(h1))["id"] for _ in range(2)]
    eia = post(client, EIA, as_(h1))["id"]
    exempt = post(client, EXEMPT, as_(h1))["id"]
    other = post(client, WATER, as_(h2))["id"]
    ids = lambda **p: [i["id"] for i in listing(client, **p)["items"]]
    assert ids(handler=h1) == [exempt, eia, *reversed(water)]
    assert ids(handler=h2) == [other]
    assert ids(handler=h1, violation="water_over_standard") == [exempt, *reversed(water)]
    assert ids(handler=h1, outcome="no_penalty") == [exempt]
    assert ids(handler=h1, violation="eia_unapproved_construction", outcome="penalty") == [eia]
    day = today()  # in Beijing time
    assert ids(handler=h1, **{"from": day.isoformat(), "to": day.isoformat()}) == [exempt, eia, *reversed(water)]
    assert ids(handler=h1, to=(day - dt.timedelta(days=1)).isoformat()) == []
    assert ids(handler=h1, **{"from": (day + dt.timedelta(days=1)).isoformat()}) == []
    item = listing(client, handler=h1, outcome="penalty", violation="eia_unapproved_construction")["items"][0]
    assert item["created_by"] == {"name": h1, "role": "handler"}
    assert item["title"] and item["recommended"] and item["band"] and item["edition"] == "yunnan@2023"


def test_paging_by_cursor_is_stable_while_records_are_added(client: TestClient) -> None:
    """Pages of `limit` follow next_cursor (or the next link) without repeats or gaps, even when new
    records arrive between pages; the new ones appear on a fresh first page."""
    h = unique()
    made = [post(client, WATER, as_(h))["id"] for _ in range(7)]
    first = listing(client, handler=h, limit=3)
    assert [i["id"] for i in first["items"]] == made[::-1][:3]
    late = post(client, WATER, as_(h))["id"]
    second = listing(client, handler=h, limit=3, cursor=first["next_cursor"])
    via_link = client.get(first["next"]).json()
    assert via_link == second
    third = listing(client, handler=h, limit=3, cursor=second["next_cursor"])
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert seen == made[::-1]
    assert third["next_cursor"] is None and third["next"] is None
    assert listing(client, handler=h, limit=3)["items"][0]["id"] == late


@pytest.mark.parametrize(
    "params, field",
    [({"limit": 201}, "limit"), ({"limit": 0}, "limit"), ({"cursor": "abc"}, "cursor"), ({"cursor": "1" * 19}, "cursor"),
     ({"from": "2025-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"outcome": "fined"}, "outcome"),
     ({"handler": "a\x00b"}, "handler"), ({"violation": "x" * 81}, "violation"), ({"outside_band": "maybe"}, "outside_band")],
)
def test_bad_list_parameters_are_422_naming_the_parameter(client: TestClient, params: dict[str, Any], field: str) -> None:
    r = client.get("/v1/assessments", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_far_dates_in_the_list_are_refused_not_ignored(client: TestClient) -> None:
    """Dates outside 1900–2199 are 422 date_out_of_range naming the filter (not a silently ignored filter, nor a 500);
    the range's own ends give a list."""
    for params, field in (({"from": "0001-01-01"}, "from"), ({"to": "9999-12-31"}, "to")):
        r = client.get("/v1/assessments", params={**params, "limit": 1})
        assert r.status_code == 422 and r.json()["code"] == "date_out_of_range" and r.json()["field"] == field, r.text
    r = client.get("/v1/assessments", params={"from": "1900-01-01", "to": "2199-12-31", "limit": 1})
    assert r.status_code == 200, r.text


# --- the decision -------------------------------------------------------------------------------


def test_a_decision_inside_the_band_needs_no_reason(client: TestClient) -> None:
    """An amount inside the recommended band is recorded without a reason: 201, within_band true, who decided."""
    rid = post(client, WATER, as_("li"))["id"]
    r = decide(client, rid, as_("li"), amount=136000)
    assert r.status_code == 201, r.text
    d = r.json()
    DecisionOut.model_validate(d)
    assert d["within_band"] is True and d["band"] == [100000, 280000] and d["recommended"] == 136000
    assert d["decided_by"] == {"name": "li", "role": "handler"} and d["reason"] is None
    for edge in (100000, 280000):
        assert decide(client, post(client, WATER)["id"], amount=edge).json()["within_band"] is True


@pytest.mark.parametrize("amount", [99999, 280001, 0, 1000000])
def test_an_amount_outside_the_band_without_a_reason_is_422_reason_required(client: TestClient, amount: int) -> None:
    """Outside the band, a missing, empty or blank reason is refused with reason_required on field reason."""
    rid = post(client, WATER)["id"]
    for body in ({"amount": amount}, {"amount": amount, "reason": None}, {"amount": amount, "reason": "  \n "}):
        r = decide(client, rid, **body)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "reason_required" and r.json()["field"] == "reason"
        assert "100,000 至 280,000 元" in r.json()["message"]
    r = decide(client, rid, amount=amount, reason="  当事人积极整改，经集体讨论决定  ")
    assert r.status_code == 201, r.text
    assert r.json()["within_band"] is False and r.json()["reason"] == "当事人积极整改，经集体讨论决定"


def test_a_second_decision_is_409_decision_exists(client: TestClient) -> None:
    """Records are append-only: a second decision on one assessment is refused and the first stands."""
    rid = post(client, WATER)["id"]
    assert decide(client, rid, amount=136000).status_code == 201
    r = decide(client, rid, amount=150000)
    assert r.status_code == 409 and r.json()["code"] == "decision_exists" and r.json()["field"] == "id"
    assert client.get(f"/v1/assessments/{rid}").json()["decision"]["amount"] == 136000


@pytest.mark.parametrize("rid", ["0000000000000000deadbeef", "not-an-id", "x" * 64])
def test_a_decision_on_an_unknown_assessment_is_404(client: TestClient, rid: str) -> None:
    r = decide(client, rid, amount=1, reason="x")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body, field",
    [({"amount": -1}, "amount"), ({"amount": 1.5}, "amount"), ({"amount": "136000"}, "amount"), ({"amount": True}, "amount"),
     ({"amount": 10**12 + 1}, "amount"), ({}, "amount"), ({"amount": 1, "reason": "x" * 2001}, "reason"),
     ({"amount": 1, "reason": "a\x00b"}, "reason"), ({"amount": 1, "reason": 5}, "reason"), ({"amount": 1, "extra": 1}, "extra")],
)
def test_bad_decisions_are_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    rid = post(client, WATER)["id"]
    r = decide(client, rid, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert client.get(f"/v1/assessments/{rid}").json()["decision"] is None


def test_without_a_recommended_fine_any_fine_needs_a_reason(client: TestClient) -> None:
    """A no_penalty assessment has the band [0, 0]: deciding 0 needs no reason, a fine does."""
    a, b = post(client, EXEMPT)["id"], post(client, EXEMPT)["id"]
    r = decide(client, a, amount=0)
    assert r.status_code == 201 and r.json()["within_band"] is True and r.json()["band"] == [0, 0]
    r = decide(client, b, amount=5000)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert "无罚款建议" in r.json()["message"]


def test_only_handlers_and_admins_may_decide(client: TestClient) -> None:
    """A reviewer may read and list but not decide (403 forbidden); a handler may."""
    rid = post(client, WATER, as_("zhao"))["id"]
    r = decide(client, rid, as_("qian", "reviewer"), amount=136000)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client.get(f"/v1/assessments/{rid}", headers=as_("qian", "reviewer")).status_code == 200
    assert decide(client, rid, as_("zhao", "handler"), amount=136000).status_code == 201


def test_supervisors_see_band_choices_in_the_record_and_the_list(client: TestClient) -> None:
    """The decision (amount, inside the band or not, reason, who) is in GET and in the list;
    outside_band and decided select by it."""
    h = unique()
    inside = post(client, WATER, as_(h))["id"]
    outside = post(client, WATER, as_(h))["id"]
    undecided = post(client, WATER, as_(h))["id"]
    decide(client, inside, as_(h), amount=200000)
    decide(client, outside, as_(h), amount=60000, reason="减轻处罚：初次违法且危害后果轻微")
    got = client.get(f"/v1/assessments/{outside}").json()
    assert got["decision"]["within_band"] is False and got["decision"]["amount"] == 60000
    assert got["decision"]["decided_by"]["name"] == h
    assert [i["id"] for i in listing(client, handler=h, outside_band="true")["items"]] == [outside]
    assert [i["id"] for i in listing(client, handler=h, outside_band="false")["items"]] == [inside]
    assert [i["id"] for i in listing(client, handler=h, decided="false")["items"]] == [undecided]
    assert [i["id"] for i in listing(client, handler=h, decided="true")["items"]] == [outside, inside]
    item = listing(client, handler=h, outside_band="true")["items"][0]
    assert item["decision"]["reason"] == "减轻处罚：初次违法且危害后果轻微" and item["band"] == [100000, 280000]


def test_the_decision_shows_in_the_result_page_print_view_and_reasoning_document(client: TestClient) -> None:
    """The web result page, the print view and the .docx reasoning state the decided amount, that it
    lies outside the band, the reason and who decided."""
    rid = post(client, WATER)["id"]
    decide(client, rid, amount=60000, reason="当事人系初次违法，经集体讨论减轻处罚")
    for page in (client.get(f"/result/{rid}").text, client.get(f"/result/{rid}/print").text):
        assert re.search(r'data-testid="decided-amount">60,000 元（6 万元）<', page), page[:3000]
        assert "不在档次内" in page
        assert "当事人系初次违法，经集体讨论减轻处罚" in page
        assert re.search(r'data-testid="decided-by">本机操作员（管理员），\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）<', page)
    assert "记录决定" not in client.get(f"/result/{rid}").text  # no second decision form
    docx = client.get(f"/result/{rid}/reasoning.docx")
    with zipfile.ZipFile(io.BytesIO(docx.content)) as z:
        xml = z.read("word/document.xml")
    from xml.etree import ElementTree

    paragraphs = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in ElementTree.fromstring(xml).iter(f"{W}p")]
    assert "决定：罚款人民币60000元（大写：人民币陆万元整），不在建议裁量档次（100000元至280000元）内。" in paragraphs, paragraphs
    assert "理由：当事人系初次违法，经集体讨论减轻处罚" in paragraphs
    assert any(p.startswith("决定人：本机操作员（管理员）") for p in paragraphs)  # never the internal name "local"
    assert not any("local" in p for p in paragraphs)


def test_the_result_page_records_a_decision_and_asks_for_a_reason(client: TestClient) -> None:
    """The result page's form records the decision (303 back to the page); outside the band without a
    reason it re-renders with the message next to the reason."""
    rid = post(client, WATER)["id"]
    page = client.get(f"/result/{rid}").text
    assert "记录决定" in page and 'name="amount" inputmode="numeric" value="136000"' in page
    token = re.findall(r'name="csrf_token" value="([^"]*)"', page)[0]
    r = client.post(f"/result/{rid}/decision", data={"amount": "50000", "reason": "", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422
    assert "须说明理由" in re.search(r'data-testid="reason-error">([^<]*)<', r.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"/result/{rid}/decision", data={"amount": "1万", "reason": "", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and 'data-testid="amount-error"' in r.text
    # a superscript is a digit to str.isdigit, not to int(): refused beside the amount (it answered 500)
    r = client.post(f"/result/{rid}/decision", data={"amount": "1³", "reason": "", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and 'data-testid="amount-error"' in r.text
    r = client.post(f"/result/{rid}/decision", data={"amount": "150,000", "reason": "", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 200 and "确认记录" in r.text  # the confirmation page first: nothing recorded yet
    assert client.get(f"/v1/assessments/{rid}").json()["decision"] is None
    r = client.post(f"/result/{rid}/decision", data={"amount": "150000", "reason": "", "csrf_token": token, "confirmed": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/result/{rid}"
    assert client.get(f"/v1/assessments/{rid}").json()["decision"]["amount"] == 150000


def test_recording_a_decision_on_the_result_page_asks_for_confirmation_with_the_amount_in_capitals(client: TestClient) -> None:
    """The decision form's post answers a confirmation page (figures, capitals, band, reason) whose 确认记录
    button posts the same values with the CSRF token; only that second post records the decision."""
    rid = post(client, WATER)["id"]
    token = re.findall(r'name="csrf_token" value="([^"]*)"', client.get(f"/result/{rid}").text)[0]
    page = client.post(f"/result/{rid}/decision", data={"amount": "60000", "reason": " 初次违法，减轻处罚 ", "csrf_token": token}).text
    assert re.search(r'data-testid="confirm-amount">60,000 元（6 万元）<', page)
    assert 'data-testid="confirm-capitals">人民币陆万元整<' in page and "不在档次内" in page
    form = page[page.index('class="decision-confirm"'):page.index("</form>", page.index('class="decision-confirm"'))]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    assert fields == {"csrf_token": token, "amount": "60000", "reason": "初次违法，减轻处罚", "confirmed": "1"}
    assert ">确认记录</button>" in form and "<script" not in page.split("</main>")[0]
    assert client.get(f"/v1/assessments/{rid}").json()["decision"] is None
    r = client.post(f"/result/{rid}/decision", data=fields, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/v1/assessments/{rid}").json()["decision"]["amount"] == 60000
    r = client.post(f"/result/{rid}/decision", data=fields, follow_redirects=False)  # a second confirmation: refused
    assert r.status_code == 422 and client.get(f"/v1/assessments/{rid}").json()["decision"]["amount"] == 60000


def test_recent_cases_page_lists_the_callers_assessments(client: TestClient) -> None:
    """最近案件 (linked from every page) lists the current user's recent assessments with their decisions."""
    a = post(client, WATER)["id"]
    b = post(client, WATER)["id"]
    decide(client, b, amount=60000, reason="理由")
    other = post(client, WATER, as_(unique()))["id"]
    assert 'href="/cases"' in client.get("/").text
    page = client.get("/cases").text
    assert "最近案件" in page
    assert f'href="/result/{a}"' in page and f'href="/result/{b}"' in page and other not in page
    assert page.index(b) < page.index(a)  # newest first
    row = re.search(rf'<tr data-id="{b}">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "60,000 元（不在建议档次内）" in row


# --- reproduction -----------------------------------------------------------------------------


def test_a_record_reproduces_identically_with_the_current_rulebooks(client: TestClient) -> None:
    rid = post(client, {**WATER, "facts": {"exceedance_ratio": 0.123456789}})["id"]
    r = client.get(f"/v1/assessments/{rid}/reproduce")
    assert r.status_code == 200, r.text
    body = r.json()
    ReproductionOut.model_validate(body)
    assert body["identical"] is True and body["differences"] == [] and body["rulebooks"] == "current"
    assert body["engine_version"] == {"stored": __version__, "now": __version__}


def test_reproduction_reports_each_field_that_differs(service: tuple[FastAPI, TestClient, str]) -> None:
    """When the stored result no longer matches a re-evaluation (here: its amount altered in the
    database), reproduce lists the field paths with the stored and the new value."""
    app, client, _ = service
    posted = post(client, WATER)
    tampered = json.dumps({**posted, "fine": {**posted["fine"], "recommended": 999}}, ensure_ascii=False)
    with app.state.discretion.store.engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET result = :r WHERE id = :id"), {"r": tampered, "id": posted["id"]})
    body = client.get(f"/v1/assessments/{posted['id']}/reproduce").json()
    assert body["identical"] is False
    assert body["differences"] == [{"path": "fine.recommended", "stored": 999, "now": 136000}]


def test_reproduce_of_an_unknown_id_is_404(client: TestClient) -> None:
    r = client.get("/v1/assessments/0000000000000000deadbeef/reproduce")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.fixture(scope="module")
def changed(backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A record made under one rulebook tree, then the tree edited (the statutory maximum of
    water_over_standard lowered) and the service restarted on it, with the same database."""
    tree = tmp_path_factory.mktemp("changed") / "rulebooks"
    shutil.copytree(ROOT / "rulebooks", tree)
    url = databases.new(backend)
    old = create_app(Settings(database_url=url, rulebooks=tree))
    with TestClient(old) as c:
        before = post(c, WATER)
    old.state.discretion.store.close()
    target = tree / "law" / "violations" / "water_over_standard.yaml"
    source = target.read_text(encoding="utf-8")
    assert "fine: {kind: range, min: 100000, max: 1000000}" in source
    target.write_text(source.replace("fine: {kind: range, min: 100000, max: 1000000}",
                                     "fine: {kind: range, min: 100000, max: 900000}", 1), encoding="utf-8")
    new = create_app(Settings(database_url=url, rulebooks=tree))
    with TestClient(new, raise_server_exceptions=False) as c:
        yield {"app": new, "client": c, "before": before, "url": url}
    new.state.discretion.store.close()


def test_reproduction_after_the_rulebooks_changed_uses_the_stored_snapshot(changed: dict[str, Any]) -> None:
    """The rulebooks on disk changed (the same case now gets another amount), yet the old record
    reproduces identically from its snapshot; a record made now reproduces with the current set."""
    c, before = changed["client"], changed["before"]
    now = post(c, WATER)
    assert now["fine"]["legal_max"] == 900000 and now["fine"] != before["fine"]
    body = c.get(f"/v1/assessments/{before['id']}/reproduce").json()
    assert body["rulebooks"] == "snapshot", body
    assert body["identical"] is True and body["differences"] == []
    assert body["rulebook_set"] != changed["app"].state.discretion.records.set_hash
    again = c.get(f"/v1/assessments/{now['id']}/reproduce").json()
    assert again["rulebooks"] == "current" and again["identical"] is True


def test_reproduction_without_the_snapshot_is_409_snapshot_missing(changed: dict[str, Any]) -> None:
    """When the snapshot a record names is gone, reproduce answers 409 snapshot_missing, not a 500."""
    app, c, before = changed["app"], changed["client"], changed["before"]
    key = c.get(f"/v1/assessments/{before['id']}").json()["record"]["rulebook_set"]
    app.state.discretion.records._engines.clear()  # the cached engine would hide the loss
    with app.state.discretion.store.engine.begin() as conn:
        saved = conn.execute(text("SELECT files, created_at FROM rulebook_snapshots WHERE set_hash = :k"), {"k": key}).one()
        conn.execute(text("DELETE FROM rulebook_snapshots WHERE set_hash = :k"), {"k": key})
    try:
        r = c.get(f"/v1/assessments/{before['id']}/reproduce")
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "snapshot_missing"
    finally:
        with app.state.discretion.store.engine.begin() as conn:
            conn.execute(text("INSERT INTO rulebook_snapshots (set_hash, files, created_at) VALUES (:k, :f, :t)"),
                         {"k": key, "f": saved[0], "t": saved[1]})


# --- append-only, documented --------------------------------------------------------------------


def test_no_route_updates_or_deletes_a_record(service: tuple[FastAPI, TestClient, str]) -> None:
    """Only GET and POST exist under /v1/assessments; PUT, PATCH and DELETE answer 405."""
    app, client, _ = service
    methods = {m for r in app.routes if getattr(r, "path", "").startswith("/v1/assessments") for m in getattr(r, "methods", ())}
    assert methods <= {"GET", "POST", "HEAD"}, methods
    rid = post(client, WATER)["id"]
    for path in (f"/v1/assessments/{rid}", f"/v1/assessments/{rid}/decision", "/v1/assessments"):
        for method in ("PUT", "PATCH", "DELETE"):
            r = client.request(method, path, json={"amount": 0})
            assert r.status_code == 405, (method, path, r.status_code)


def test_openapi_documents_the_records_endpoints(client: TestClient) -> None:
    """The list (with its filters and paging), the record, the decision and the reproduction are in
    /openapi.json with their response models."""
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    params = {p["name"] for p in paths["/v1/assessments"]["get"]["parameters"]}
    assert params == {"violation", "outcome", "handler", "from", "to", "outside_band", "decided", "q", "include_superseded",
                      "limit", "cursor"}
    ref = lambda op: json.dumps(op["responses"])
    assert "AssessmentList" in ref(paths["/v1/assessments"]["get"])
    assert "AssessmentRecordOut" in ref(paths["/v1/assessments/{assessment_id}"]["get"])
    decision = paths["/v1/assessments/{assessment_id}/decision"]["post"]
    assert "DecisionOut" in ref(decision) and {"201", "404", "409", "422", "403"} <= set(decision["responses"])
    assert "ReproductionOut" in ref(paths["/v1/assessments/{assessment_id}/reproduce"]["get"])
    assert set(spec["components"]["schemas"]["DecisionIn"]["properties"]) == {"amount", "reason"}


def test_storage_off_answers_without_keeping_a_record(backend: str, databases: Databases) -> None:
    """DISCRETION_STORAGE=off (benchmark only): POST answers 201 with an id, and nothing is kept."""
    app = create_app(Settings(database_url=databases.new(backend), storage=False))
    try:
        with TestClient(app) as c:
            posted = post(c, WATER)
            assert c.get(f"/v1/assessments/{posted['id']}").status_code == 404
            assert app.state.discretion.store.verify().records == 0
    finally:
        app.state.discretion.store.close()


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_first_record(service: tuple[FastAPI, TestClient, str]) -> None:
    """The same key and body again answers 200 with the first record (Idempotent-Replayed: true); nothing new is stored."""
    _, client, _ = service
    me, key = as_(unique()), {"Idempotency-Key": "retry-" + secrets.token_hex(8)}
    first = client.post("/v1/assessments", json=WATER, headers={**me, **key})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    reordered = json.dumps(dict(reversed(list(WATER.items()))), indent=2)  # the same content, other bytes
    again = client.post("/v1/assessments", content=reordered, headers={**me, **key, "content-type": "application/json"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert [i["id"] for i in listing(client, handler=me["x-test-principal"].split(":")[0])["items"]] == [first.json()["id"]]


def test_an_idempotency_key_reused_for_another_body_is_409(service: tuple[FastAPI, TestClient, str]) -> None:
    """The same key with a different body is refused (409 idempotency_key_reused), naming the header."""
    _, client, _ = service
    me, key = as_(unique()), {"Idempotency-Key": "k-" + secrets.token_hex(8)}
    assert client.post("/v1/assessments", json=WATER, headers={**me, **key}).status_code == 201
    r = client.post("/v1/assessments", json=EIA, headers={**me, **key})
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused" and r.json()["field"] == "Idempotency-Key"


def test_idempotency_keys_belong_to_their_caller(service: tuple[FastAPI, TestClient, str]) -> None:
    """Another caller's identical key makes a record of its own: no one receives another's record."""
    _, client, _ = service
    key = {"Idempotency-Key": "shared-" + secrets.token_hex(8)}
    a = client.post("/v1/assessments", json=WATER, headers={**as_(unique()), **key})
    b = client.post("/v1/assessments", json=WATER, headers={**as_(unique()), **key})
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]


@pytest.mark.parametrize("bad", [b"", b"x" * 201, "ключ".encode(), b"a b"])
def test_a_malformed_idempotency_key_is_422(client: TestClient, bad: bytes) -> None:
    """An empty, overlong or non-ASCII key is refused before anything is assessed."""
    r = client.post("/v1/assessments", json=WATER, headers={b"Idempotency-Key": bad})
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"


def test_concurrent_retries_with_one_key_store_one_record(service: tuple[FastAPI, TestClient, str]) -> None:
    """Retries racing in the writer (the key written in the assessment's own transaction): one record, the rest replay it."""
    import asyncio

    from api.storage import new_id
    from api.storage.writer import Replayed
    from discretion.engine.case import Case

    app, _, _ = service
    s = app.state.discretion
    a = s.engine.assess(Case.model_validate(WATER))
    who = Principal(name=unique(), role="handler", via="token")

    async def race() -> list[Any]:
        futures = []
        for _ in range(8):
            rid = new_id()
            futures.append(s.records.add(rid, WATER, a, a.to_json(id=rid), who, (who.name, "race", "same-body")))
        return await asyncio.gather(*futures, return_exceptions=True)

    got = asyncio.run(race())
    stored = [g for g in got if isinstance(g, dict)]
    assert len(stored) == 1 and all(isinstance(g, Replayed) and g.assessment_id == stored[0]["id"] for g in got if g is not stored[0])
