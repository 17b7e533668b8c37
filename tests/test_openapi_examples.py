"""The examples in /openapi.json work as given: "Try it out" in /docs sends them and gets a 2xx.

Everything is read from the OpenAPI document itself: every operation's request body examples (the
media type's ``example``/``examples`` and the schema's ``examples``) and parameter examples are sent
to the app exactly as written; a path parameter without an example (``assessment_id``) is filled
with the id of an assessment created first from POST /v1/assessments's own example.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from api.clock import today

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def body_examples(doc: dict[str, Any], op: dict[str, Any]) -> list[Any]:
    """Every example of the operation's JSON request body: the media type's and its schema's."""
    media = op.get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        return []
    found = [media["example"]] if "example" in media else []
    found += [e["value"] for e in media.get("examples", {}).values()]
    found += resolve(doc, media.get("schema", {})).get("examples", [])
    return found


def param_example(p: dict[str, Any]) -> Any:
    """The value /docs fills in for a parameter (its first example), or None."""
    if "example" in p:
        return p["example"]
    if p.get("examples"):
        return next(iter(p["examples"].values()))["value"]
    return (p.get("schema", {}).get("examples") or [None])[0]


def new_assessment(client: TestClient, doc: dict[str, Any]) -> str:
    """An assessment made from POST /v1/assessments's own example; its id."""
    example = body_examples(doc, doc["paths"]["/v1/assessments"]["post"])[0]
    r = client.post("/v1/assessments", json=example)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def request_of(client: TestClient, doc: dict[str, Any], path: str, op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL and query /docs would send with every parameter example filled in; an ``…_id`` path
    parameter without an example gets a fresh assessment's id."""
    query: dict[str, Any] = {}
    for p in op.get("parameters", []):
        value = param_example(p)
        if p["in"] == "path":
            if value is None:
                assert p["name"].endswith("_id"), f"{path}: path parameter {p['name']} has no example"
                value = new_assessment(client, doc)
            path = path.replace("{" + p["name"] + "}", str(value))
        elif p["in"] == "query" and value is not None:
            query[p["name"]] = value
    return path, query


def dates_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from dates_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from dates_in(v)
    elif isinstance(value, str) and DATE.match(value):
        yield value


def test_every_request_body_in_the_openapi_document_carries_an_example(doc: dict[str, Any]) -> None:
    """Each operation that takes a JSON request body shows an example of it (POST /v1/assessments,
    the decision and the daily penalty at least)."""
    with_body = {(m, path) for m, path, op in operations(doc) if "requestBody" in op}
    assert {("post", "/v1/assessments"), ("post", "/v1/assessments/{assessment_id}/decision"),
            ("post", "/v1/daily-penalties")} <= with_body
    missing = [(m, path) for m, path, op in operations(doc) if "requestBody" in op and not body_examples(doc, op)]
    assert missing == []


def test_every_request_body_example_sent_as_given_succeeds(client: TestClient, doc: dict[str, Any]) -> None:
    """Each request body example, sent exactly as the document gives it (with its parameter examples),
    answers 2xx; a decision goes to a fresh assessment made from the assessments example."""
    sent = 0
    for method, path, op in operations(doc):
        for example in body_examples(doc, op):
            url, query = request_of(client, doc, path, op)
            r = client.request(method.upper(), url, params=query, json=example)
            assert 200 <= r.status_code < 300, (method, path, example, r.text)
            sent += 1
    assert sent >= 3


def test_every_parameter_example_sent_as_given_succeeds(client: TestClient, doc: dict[str, Any]) -> None:
    """Each GET operation whose parameters carry examples answers 2xx with those examples filled in,
    and a filter example finds the record the body example makes."""
    new_assessment(client, doc)
    tried = []
    for method, path, op in operations(doc):
        params = op.get("parameters", [])
        if method != "get" or not any(param_example(p) is not None for p in params):
            continue
        url, query = request_of(client, doc, path, op)
        r = client.get(url, params=query)
        assert 200 <= r.status_code < 300, (path, query, r.text)
        tried.append(path)
        if path == "/v1/assessments":
            assert r.json()["items"], query  # the examples select the example case, not nothing
        if path == "/v1/violations":
            assert r.json()["items"], query
    assert {"/v1/violations", "/v1/violations/{code}", "/v1/assessments"} <= set(tried)


def test_the_example_dates_are_not_after_today_in_beijing(doc: dict[str, Any]) -> None:
    """Every date in a request or parameter example lies in the past, so the API (which refuses act
    dates after today) keeps accepting the examples."""
    found = []
    for _, _, op in operations(doc):
        found += [d for e in body_examples(doc, op) for d in dates_in(e)]
        found += [d for p in op.get("parameters", []) for d in dates_in(param_example(p))]
    assert len(found) >= 5
    assert all(dt.date.fromisoformat(d) <= today() for d in found), found


def test_a_recomputation_as_the_document_describes_it_succeeds(client: TestClient, doc: dict[str, Any]) -> None:
    """修改后重新计算 as /openapi.json describes it: GET's documented ``request`` and ``case`` of the record made from
    the POST example, sent back with ``supersedes`` (its documented example shape: a record id) and one fact changed,
    answers 201; the field's description names every refusal's code."""
    body = resolve(doc, doc["paths"]["/v1/assessments"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    field = body["properties"]["supersedes"]
    for code in ("superseded_not_found", "supersede_forbidden", "already_superseded"):
        assert code in field["description"], code
    shape = field["anyOf"][0]
    assert re.fullmatch(shape["pattern"], field["examples"][0])
    rid = new_assessment(client, doc)
    got = client.get(f"/v1/assessments/{rid}").json()
    record = resolve(doc, doc["paths"]["/v1/assessments/{assessment_id}"]["get"]["responses"]["200"]["content"]
                     ["application/json"]["schema"])
    assert {"request", "supersedes", "superseded_by", "versions"} <= set(record["properties"])
    again = {**got["request"], "case": got["case"], "supersedes": rid}
    again["facts"] = {**again["facts"], "exceedance_ratio": 1.5}
    r = client.post("/v1/assessments", json=again)
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/assessments/{rid}").json()["superseded_by"] == r.json()["id"]
