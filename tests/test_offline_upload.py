"""api.offline.upload: a terminal's offline result is re-evaluated by the service and recorded only when identical."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.storage import chain
from discretion.engine.offline import Terminal
from discretion.rulebooks import jsonset, tree
from discretion.rulebooks.loaded import RulebookSet

CASE = {"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
        "violation_date": "2025-03-01", "decision_date": "2025-09-01", "case": {"number": "昆环罚〔2025〕7号"}}
MADE_AT = "2025-09-01T10:30:00+08:00"


@pytest.fixture(scope="module")
def terminal(rulebooks: RulebookSet) -> Terminal:
    """The terminal's engine, over the set the service serves, compiled as a bundle compiles it."""
    return Terminal(jsonset.dumps(rulebooks, tree.source_hash(tree.source_files())))


def upload(terminal: Terminal, case: dict[str, Any], **offline: Any) -> tuple[bytes, dict[str, Any]]:
    """The upload body the terminal's page makes: the input with the offline object (and its result)."""
    raw = json.dumps(case, ensure_ascii=False)
    answer = terminal.assess(raw)
    result = answer.split(b',"result":', 1)[1][:-1]
    body = {**case, "offline": {"made_at": MADE_AT, "bundle_hash": terminal.bundle_hash,
                                "result_sha256": hashlib.sha256(result).hexdigest(), "result": json.loads(result), **offline}}
    return result, body


def post(client: TestClient, body: dict[str, Any], key: str | None = "k-1") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/assessments", content=json.dumps(body, ensure_ascii=False).encode(), headers=headers)


def count(app: FastAPI) -> int:
    return int(chain.verify(app.state.discretion.store.engine).assessments)


def test_an_identical_offline_result_is_recorded_with_its_time_and_set(client: TestClient, app: FastAPI, terminal: Terminal) -> None:
    """201 with the service's result (the terminal's bytes plus the id); the record keeps made_at (in
    UTC), the bundle's set and the result's sha256 in the hash chain; a retry with the same key is 200
    and stores nothing new."""
    result, body = upload(terminal, CASE)
    before = count(app)
    r = post(client, body, key="upload-identical")
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.content == b'{"id":' + json.dumps(rid).encode() + b"," + result[1:]
    record = client.get(f"/v1/assessments/{rid}").json()
    assert record["record"]["offline"] == {"made_at": "2025-09-01T02:30:00.000000Z", "bundle_hash": terminal.bundle_hash,
                                           "result_sha256": body["offline"]["result_sha256"]}
    assert record["record"]["rulebook_set"] == terminal.bundle_hash
    assert record["case"]["number"] == "昆环罚〔2025〕7号"
    again = post(client, body, key="upload-identical")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == rid
    report = chain.verify(app.state.discretion.store.engine)
    assert report.sound and report.assessments == before + 1
    assert client.get(f"/v1/assessments/{rid}/reproduce").json()["identical"] is True


def test_the_offline_object_is_hashed_into_the_chain(client: TestClient, app: FastAPI, terminal: Terminal) -> None:
    """Changing the stored offline object (say, made_at) afterwards breaks the record's hash: audit verify names it."""
    _, body = upload(terminal, CASE)
    rid = post(client, body, key="upload-chained").json()["id"]
    engine = app.state.discretion.store.engine
    with engine.begin() as conn:
        stored = conn.exec_driver_sql("SELECT offline FROM assessments WHERE id = ?", (rid,)).scalar_one()
        conn.exec_driver_sql("UPDATE assessments SET offline = ? WHERE id = ?", (stored.replace("2025-09-01", "2025-08-01"), rid))
    try:
        problems = chain.verify(engine).problems
        assert [p.record_id for p in problems] == [rid] and problems[0].kind == "altered"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE assessments SET offline = ? WHERE id = ?", (stored, rid))


def test_a_different_result_is_refused_naming_the_fields(client: TestClient, app: FastAPI, terminal: Terminal) -> None:
    """A result the service does not compute (here a recommended fine changed by 1,000 yuan) is 422
    offline_result_differs, one entry per differing field, and nothing is stored."""
    result, body = upload(terminal, CASE)
    changed = json.loads(result)
    changed["fine"]["recommended"] += 1000
    body["offline"]["result"] = changed
    body["offline"]["result_sha256"] = hashlib.sha256(json.dumps(changed).encode()).hexdigest()
    before = count(app)
    r = post(client, body, key="upload-differs")
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "offline_result_differs" and err["field"] == "offline.result.fine.recommended"
    assert [e["field"] for e in err["errors"]] == ["offline.result.fine.recommended"]
    assert "137000" in err["errors"][0]["message"] and "136000" in err["errors"][0]["message"]
    assert count(app) == before
    body["offline"].pop("result")  # without the result, the hash alone says it differs
    r = post(client, body, key="upload-differs-2")
    assert r.status_code == 422 and r.json()["field"] == "offline.result_sha256"


def test_a_set_the_service_does_not_hold_is_409(client: TestClient, terminal: Terminal) -> None:
    """A bundle built from a set the service never served (no snapshot) cannot be checked: 409, nothing stored."""
    _, body = upload(terminal, CASE, bundle_hash="ab" * 32)
    r = post(client, body, key="upload-unknown")
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["field"]) == ("offline_rulebooks_unknown", "offline.bundle_hash")


def test_a_set_served_before_is_rebuilt_from_its_snapshot(client: TestClient, app: FastAPI, terminal: Terminal, tmp_path: Path) -> None:
    """A bundle of an earlier set (here: the same law and published editions, another draft) is
    re-evaluated with that set, rebuilt from its stored snapshot, and the record names it."""
    files = tree.source_files()
    draft = next(p for p in files if p.endswith("yunnan/code-draft.yaml"))
    files[draft] = files[draft] + b"\n# an earlier draft\n"
    store = app.state.discretion.store
    earlier = store.put_snapshot(files)
    assert earlier != terminal.bundle_hash
    _, body = upload(terminal, CASE, bundle_hash=earlier)
    r = post(client, body, key="upload-earlier")
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/assessments/{r.json()['id']}").json()["record"]["rulebook_set"] == earlier


@pytest.mark.parametrize(("change", "key", "code", "field"), [
    ({"decision_date": None}, "k-dd", "decision_date_required", "decision_date"),
    ({}, None, "idempotency_key_required", "Idempotency-Key"),
    ({"made_at": "2099-01-01T00:00:00+08:00"}, "k-future", "offline_made_at_in_future", "offline.made_at"),
    ({"made_at": "2025-09-01T10:30:00"}, "k-naive", "invalid_input", "offline.made_at"),
    ({"result_sha256": "XYZ"}, "k-hash", "invalid_input", "offline.result_sha256"),
])
def test_an_incomplete_upload_is_refused(client: TestClient, terminal: Terminal, change: dict[str, Any], key: str | None,
                                         code: str, field: str) -> None:
    """An upload without its decision date or an Idempotency-Key, made in the future, without a time
    zone, or with a malformed hash is 422 with a stable code and the field."""
    _, body = upload(terminal, CASE)
    if "decision_date" in change:
        body.pop("decision_date")
    else:
        body["offline"].update(change)
    r = post(client, body, key=key)
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == (code, field)


def test_the_upload_time_may_not_be_far_ahead_of_the_service(terminal: Terminal) -> None:
    """A terminal's clock a few minutes fast is accepted; more than five minutes ahead is refused."""
    from api.offline.upload import SKEW, check_upload
    from api.schemas import AssessmentIn
    from discretion.errors import InputError

    now = dt.datetime(2025, 9, 1, 2, 30, tzinfo=dt.UTC)
    _, body = upload(terminal, CASE)
    check_upload(AssessmentIn.model_validate(body), "k", now - SKEW + dt.timedelta(seconds=1))
    with pytest.raises(InputError):
        check_upload(AssessmentIn.model_validate(body), "k", now - SKEW - dt.timedelta(seconds=1))
