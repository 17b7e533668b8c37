"""修改后重新计算 over the API and in the store, on SQLite and PostgreSQL: ``supersedes`` is validated (format,
existence, whose record, once only), kept on the hash chain (``audit verify`` still passes; a record without it
hashes as before; altering it is found), returned by GET with the versions, and the list shows the latest of
each line with its history. Two recomputations of one record at once: one wins, in one writer or in two."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import orjson
import pytest
from dbfixtures import BACKENDS, Databases
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.cli import main
from api.deps import Principal
from api.main import create_app
from api.schemas import AssessmentList, AssessmentRecordOut
from api.settings import Settings
from api.storage import Store, new_id
from api.storage.chain import CONTENT, content_bytes
from api.storage.snapshots import set_hash
from discretion.errors import ConflictError, NotFoundError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_records import As, as_  # noqa: E402  (requests as a given principal)
from test_storage import SOURCES, store  # noqa: E402,F401  (a fresh store of each backend, with its snapshot)

WATER = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
         "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
         "case": {"number": "昆环罚〔2025〕31号", "party": {"name": "昆明某某化工有限公司", "kind": "unit"}}}
CHANGED = {**WATER, "facts": {"exceedance_ratio": 1.5}}  # the fact corrected: a higher band


@pytest.fixture(scope="module", params=BACKENDS)
def service(request: pytest.FixtureRequest, databases: Databases) -> Iterator[tuple[TestClient, str]]:
    url = databases.new(str(request.param))
    app = create_app(Settings(database_url=url))
    with TestClient(As(app), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c, url
    app.state.discretion.store.close()


@pytest.fixture(scope="module")
def client(service: tuple[TestClient, str]) -> TestClient:
    return service[0]


def post(client: TestClient, body: dict[str, Any], who: str = "wang", role: str = "handler") -> Any:
    return client.post("/v1/assessments", json=body, headers=as_(who, role))


def made(client: TestClient, body: dict[str, Any], who: str = "wang") -> str:
    r = post(client, body, who)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_recomputation_names_the_record_it_supersedes_and_both_stay(client: TestClient) -> None:
    """The new record carries ``supersedes``; the old one ``superseded_by``; both read back, each listing the
    versions of the case oldest first; the POST's answer is the new result (the higher band of the changed fact)."""
    old = made(client, WATER)
    r = post(client, {**CHANGED, "supersedes": old})
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    assert r.json()["fine"]["recommended"] > 136000
    got_new = AssessmentRecordOut.model_validate(client.get(f"/v1/assessments/{new}", headers=as_("wang")).json())
    got_old = AssessmentRecordOut.model_validate(client.get(f"/v1/assessments/{old}", headers=as_("wang")).json())
    assert (got_new.supersedes, got_new.superseded_by) == (old, None)
    assert (got_old.supersedes, got_old.superseded_by) == (None, new)
    assert [v.id for v in got_new.versions] == [v.id for v in got_old.versions] == [old, new]
    assert got_old.fine is not None and got_old.fine.recommended == 136000  # the old record as it was
    assert got_new.request["facts"] == {"exceedance_ratio": 1.5} and "supersedes" not in got_new.request


def test_the_stored_request_is_the_new_input_whole_and_reproduces(client: TestClient) -> None:
    """``supersedes`` is kept beside the request, not in it: the stored request re-assesses to the same result."""
    old = made(client, WATER)
    new = made(client, {**CHANGED, "supersedes": old})
    rep = client.get(f"/v1/assessments/{new}/reproduce", headers=as_("wang")).json()
    assert rep["identical"] is True, rep["differences"]


@pytest.mark.parametrize("value, status, code", [
    ("abc", 422, "invalid_input"),
    ("0" * 24, 404, "superseded_not_found"),
    ("0" * 23 + "G", 422, "invalid_input"),
])
def test_a_supersedes_that_names_no_record_is_refused(client: TestClient, value: str, status: int, code: str) -> None:
    """Not a record id: 422; an id of no record: 404 ``superseded_not_found``; the field is ``supersedes``; nothing stored."""
    before = len(client.get("/v1/assessments", params={"include_superseded": True, "limit": 200}).json()["items"])
    r = post(client, {**WATER, "supersedes": value})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, "supersedes"), r.text
    after = len(client.get("/v1/assessments", params={"include_superseded": True, "limit": 200}).json()["items"])
    assert after == before


def test_only_whoever_made_a_record_may_supersede_it(client: TestClient) -> None:
    """Another handler: 403 ``supersede_forbidden`` (they cannot even read it); a reviewer or an admin, who may read
    it, may not replace it either (403): every version of a case stays in its handler's list."""
    old = made(client, WATER, who="li")
    for who, role in (("zhang", "handler"), ("rev", "reviewer"), ("boss", "admin")):
        r = post(client, {**CHANGED, "supersedes": old}, who, role)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (403, "supersede_forbidden", "supersedes"), (who, r.text)
    assert client.get(f"/v1/assessments/{old}", headers=as_("li")).json()["superseded_by"] is None
    assert post(client, {**CHANGED, "supersedes": old}, "li").status_code == 201


def test_a_record_is_superseded_once_and_the_refusal_names_the_newer(client: TestClient) -> None:
    """A second recomputation of the same record: 409 ``already_superseded`` naming the record that replaced it;
    the newer one may be superseded in turn (a line of versions)."""
    old = made(client, WATER)
    newer = made(client, {**CHANGED, "supersedes": old})
    r = post(client, {**WATER, "supersedes": old})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "already_superseded", "supersedes")
    assert newer in r.json()["message"] and "最新的记录" in r.json()["message"]
    third = made(client, {**WATER, "supersedes": newer})
    got = client.get(f"/v1/assessments/{third}", headers=as_("wang")).json()
    assert [v["id"] for v in got["versions"]] == [old, newer, third]


def test_two_recomputations_of_one_record_sent_at_once_one_is_stored(client: TestClient) -> None:
    """Two POSTs superseding the same record at the same moment (two tabs, two terminals): one 201, the other 409
    ``already_superseded`` (by the route's check or, when both passed it, by the writer under the chain lock); the
    record has one successor, and it is the one answered 201."""
    for _ in range(4):
        old = made(client, WATER)
        start = threading.Barrier(2)
        answers: list[Any] = []

        def send() -> None:
            start.wait()
            answers.append(post(client, {**CHANGED, "supersedes": old}))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 201).json()["id"]
        assert next(a for a in answers if a.status_code == 409).json()["code"] == "already_superseded"
        assert client.get(f"/v1/assessments/{old}", headers=as_("wang")).json()["superseded_by"] == won


def test_a_superseded_record_takes_no_decision_but_a_decided_one_may_be_superseded(client: TestClient) -> None:
    """Deciding a superseded record: 409 ``superseded``. A decided record may be superseded (a decision entered in
    error, facts found after the hearing): its decision stays with it; the new record needs its own."""
    old = made(client, WATER)
    made(client, {**CHANGED, "supersedes": old})
    r = client.post(f"/v1/assessments/{old}/decision", json={"amount": 136000}, headers=as_("wang"))
    assert (r.status_code, r.json()["code"]) == (409, "superseded")
    decided = made(client, WATER)
    assert client.post(f"/v1/assessments/{decided}/decision", json={"amount": 136000}, headers=as_("wang")).status_code == 201
    again = made(client, {**CHANGED, "supersedes": decided})
    listed = {i["id"]: i for i in client.get("/v1/assessments", headers=as_("wang"), params={"limit": 200}).json()["items"]}
    assert listed[again]["decision"] is None and listed[again]["history"][0]["decision_amount"] == 136000


def test_the_list_shows_the_latest_of_each_line_with_its_history(client: TestClient) -> None:
    """Only the newest version is listed, with the earlier ones newest first (已修改 2 次); the filters and the
    search apply to the listed version; ``include_superseded`` lists them all."""
    number = "昆环罚〔2025〕77号"
    first = made(client, {**WATER, "case": {"number": number}}, who="zhao")
    second = made(client, {**CHANGED, "case": {"number": number}, "supersedes": first}, who="zhao")
    third = made(client, {**WATER, "case": {"number": number + "（更正）"}, "supersedes": second}, who="zhao")
    r = client.get("/v1/assessments", params={"q": number}, headers=as_("zhao"))
    body = AssessmentList.model_validate(r.json())
    assert [i.id for i in body.items] == [third]
    assert [h.id for h in body.items[0].history] == [second, first] and body.items[0].supersedes == second
    assert body.items[0].history[0].recommended is not None and body.items[0].history[0].recommended > 136000
    everything = client.get("/v1/assessments", params={"q": number, "include_superseded": True}, headers=as_("zhao")).json()
    assert [i["id"] for i in everything["items"]] == [third, second, first]
    assert [i["history"] for i in everything["items"]][2] == []
    assert client.get("/v1/assessments", params={"q": "更正"}, headers=as_("zhao")).json()["items"][0]["id"] == third


def test_audit_verify_passes_with_superseding_records(service: tuple[TestClient, str]) -> None:
    """``discretion audit verify`` walks the chain with its superseding records and finds it sound (exit 0)."""
    client, url = service
    old = made(client, WATER)
    made(client, {**CHANGED, "supersedes": old})
    assert main(["audit", "verify", "--database-url", url]) == 0


# --- in the store ------------------------------------------------------------------------------------

WANG = Principal(name="wang", role="handler", via="token")


def submit(store: Store, supersedes: str | None = None) -> Future[dict[str, Any]]:
    rid = new_id()
    return store.submit_assessment(
        rid, request={"violation": "water_over_standard"}, result_json=orjson.dumps({"id": rid, "outcome": "no_penalty"}),
        violation="water_over_standard", title="超标排放", outcome="no_penalty", fine=None, edition="yunnan@2023",
        sha256="a" * 64, rulebook_set=set_hash(SOURCES), who=WANG, supersedes=supersedes)


def outcomes(futures: list[Future[dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[BaseException]]:
    won, lost = [], []
    for f in futures:
        exc = f.exception(20)
        if exc is None:
            won.append(f.result())
        else:
            lost.append(exc)
    return won, lost


def test_two_supersedes_of_one_record_in_one_batch_one_wins(store: Store) -> None:
    """Queued together (the writer's group commit takes them in one transaction): the first is written, the second
    refused with ``already_superseded`` naming it; the chain stays sound."""
    old = submit(store).result(10)["id"]
    won, lost = outcomes([submit(store, old) for _ in range(2)])
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], ConflictError) and lost[0].code == "already_superseded" and won[0]["id"] in lost[0].message
    assert store.verify().sound


def test_two_writers_racing_to_supersede_one_record_one_wins(db_url: str, store: Store) -> None:
    """Two stores (two processes' writers) on one database, each asked at the same moment to supersede the same
    record, several times over: the chain lock serialises them and exactly one of each pair is written."""
    other = Store(db_url)
    try:
        for _ in range(5):
            old = submit(store).result(10)["id"]
            start = threading.Barrier(2)
            got: list[Future[dict[str, Any]]] = []

            def race(s: Store) -> None:
                start.wait()
                got.append(submit(s, old))

            threads = [threading.Thread(target=race, args=(s,)) for s in (store, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won, lost = outcomes(got)
            assert len(won) == 1 and [getattr(e, "code", None) for e in lost] == ["already_superseded"]
        assert store.verify().sound
    finally:
        other.close()


def test_a_supersedes_of_no_record_is_refused_by_the_writer(store: Store) -> None:
    """The writer checks the record exists (the route checked it before; a record cannot vanish, but nothing is
    written on a dangling link): 404 ``superseded_not_found``."""
    exc = submit(store, "0" * 24).exception(10)
    assert isinstance(exc, NotFoundError) and exc.code == "superseded_not_found"


def test_the_link_is_hashed_only_when_set_and_altering_it_is_found(store: Store, db_url: str) -> None:
    """A record without ``supersedes`` hashes exactly as before the column existed (no key, not even null); with it,
    the link is part of the content: pointing it elsewhere afterwards is reported by ``audit verify``."""
    row: dict[str, Any] = {k: f"v-{k}" for k in CONTENT["assessment"]}
    row.update(seq=3, created_at=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC))
    assert content_bytes("assessment", {**row, "supersedes": None}) == content_bytes("assessment", row)
    assert json.loads(content_bytes("assessment", {**row, "supersedes": "ab" * 12}))["supersedes"] == "ab" * 12
    first = submit(store).result(10)["id"]
    second = submit(store).result(10)["id"]
    linked = submit(store, first).result(10)["id"]
    assert store.verify().sound
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET supersedes = :s WHERE id = :i"), {"s": second, "i": linked})
    rep = store.verify()
    assert [(p.kind, p.record_id) for p in rep.problems] == [("altered", linked)]
