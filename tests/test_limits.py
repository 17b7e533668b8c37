"""Input limits (docs/limits.md): every bound answers 422 (431/408 for the request head and
slow bodies) with its documented code and field in the one error shape, and oversized or slow
requests from one client do not slow the service for the others."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.concurrency import LiveServer  # noqa: E402

W = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
CASE = {**W, "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"]}
A = "/v1/assessments"
ERROR_KEYS = {"code", "message", "field", "errors"}


def raw_case(fact_json: bytes) -> bytes:
    head = b'{"violation": "water_over_standard", "violation_date": "2025-03-01", "facts": {"exceedance_ratio": '
    return head + fact_json + b"}}"


# (label, method, path, JSON body or raw bytes, status, code, field)
LIMITS: list[tuple[str, str, str, Any, int, str, str]] = [
    ("body over 64 KiB", "POST", A, {**W, "facts": {"pollutant_class": "x" * 70_000}}, 422, "body_too_large", "body"),
    ("65 facts", "POST", A, {**W, "facts": {f"f{i}": 1 for i in range(65)}}, 422, "invalid_input", "facts"),
    ("65 circumstances", "POST", A, {**W, "circumstances": ["confessed"] * 65}, 422, "invalid_input", "circumstances"),
    ("fact name of 65 characters", "POST", A, {**W, "facts": {"n" * 65: 1}}, 422, "invalid_input", "facts." + "n" * 65),
    ("circumstance id of 65 characters", "POST", A, {**W, "circumstances": ["c" * 65]}, 422, "invalid_input", "circumstances[0]"),
    ("violation code of 81 characters", "POST", A, {**W, "violation": "v" * 81}, 422, "invalid_input", "violation"),
    ("jurisdiction of 81 characters", "POST", A, {**W, "jurisdiction": "j" * 81}, 422, "invalid_input", "jurisdiction"),
    ("edition of 81 characters", "POST", A, {**W, "edition": "e" * 81}, 422, "invalid_input", "edition"),
    ("text fact value of 201 characters", "POST", A, {**W, "facts": {"pollutant_class": "x" * 201}}, 422, "invalid_fact",
     "facts.pollutant_class"),
    ("numeric fact above 10^15", "POST", A, {**W, "facts": {"exceedance_ratio": 10**15 + 1}}, 422, "invalid_fact",
     "facts.exceedance_ratio"),
    ("numeric fact above 10^12 (the engine's bound)", "POST", A, {**W, "facts": {"exceedance_ratio": 10**13}}, 422,
     "invalid_fact", "facts.exceedance_ratio"),
    ("fact below its rulebook minimum", "POST", A, {**W, "violation": "permit_ledger_violation", "facts": {"occurrences": 0}},
     422, "invalid_fact", "facts.occurrences"),
    ("negative amount", "POST", A, {**W, "facts": {"exceedance_ratio": -1}}, 422, "invalid_fact", "facts.exceedance_ratio"),
    ("NaN", "POST", A, raw_case(b"NaN"), 422, "invalid_fact", "facts.exceedance_ratio"),
    ("Infinity", "POST", A, raw_case(b"-Infinity"), 422, "invalid_fact", "facts.exceedance_ratio"),
    ("a list as a fact value", "POST", A, {**W, "facts": {"exceedance_ratio": [1]}}, 422, "invalid_fact",
     "facts.exceedance_ratio"),
    ("JSON nested 20,000 deep", "POST", A, raw_case(b"[" * 20_000 + b"]" * 20_000), 422, "malformed_json", "body"),
    ("an integer of 5,000 digits", "POST", A, raw_case(b"9" * 5_000), 422, "malformed_json", "body"),
    ("U+FFFE in a text fact", "POST", A, {**W, "facts": {"pollutant_class": "COD\ufffe"}}, 422, "invalid_character",
     "facts.pollutant_class"),
    ("a bidi override in a fact name", "POST", A, {**W, "facts": {"n\u202e": 1}}, 422, "invalid_character", "facts.n\u202e"),
    ("a control character in a circumstance id", "POST", A, {**W, "circumstances": ["confessed\x07"]}, 422,
     "invalid_character", "circumstances[0]"),
    ("U+FFFF in the violation code", "POST", A, {**W, "violation": "water\uffff"}, 422, "invalid_character", "violation"),
    ("a lone surrogate (not JSON text)", "POST", A, raw_case(b'0.5}, "jurisdiction": "yunnan\\ud800", "edition": {'), 422,
     "malformed_json", "body"),
    ("a bidi isolate in a decision reason", "POST", f"{A}/0/decision", {"amount": 1, "reason": "\u2067\u7406\u7531"}, 422,
     "invalid_character", "reason"),
    ("a key twice in the body", "POST", A, b'{"violation": "water_over_standard", "violation_date": "2025-03-01", '
     b'"facts": {"exceedance_ratio": 0.5, "exceedance_ratio": 9}}', 422, "duplicate_key", "exceedance_ratio"),
    ("a key twice in a decision", "POST", f"{A}/0/decision", b'{"amount": 1, "amount": 2}', 422, "duplicate_key", "amount"),
    ("a key twice in a daily penalty", "POST", "/v1/daily-penalties",
     b'{"original_fine": 1, "original_fine": 2, "order_served_date": "2026-01-01", "reinspection_date": "2026-01-05"}', 422,
     "duplicate_key", "original_fine"),
    ("daily penalty re-inspected in 9999", "POST", "/v1/daily-penalties",
     {"original_fine": 10**12, "order_served_date": "2026-01-01", "reinspection_date": "9999-12-31"}, 422, "date_out_of_range",
     "reinspection_date"),
    ("daily penalty served before 1900", "POST", "/v1/daily-penalties",
     {"original_fine": 1, "order_served_date": "1899-12-31", "reinspection_date": "2026-01-01"}, 422, "date_out_of_range",
     "order_served_date"),
    ("daily penalty total above 10^15", "POST", "/v1/daily-penalties",
     {"original_fine": 10**12, "order_served_date": "2026-01-01", "reinspection_date": "2029-01-01"}, 422, "amount_out_of_range",
     "reinspection_date"),
    ("list filter from before 1900", "GET", f"{A}?from=1800-01-01", None, 422, "date_out_of_range", "from"),
    ("list filter to after 2199", "GET", f"{A}?to=9999-12-31", None, 422, "date_out_of_range", "to"),
    ("date before 1900", "POST", A, {**W, "violation_date": "1899-12-31"}, 422, "date_out_of_range", "violation_date"),
    ("date after 2199", "POST", A, {**W, "decision_date": "2200-01-01"}, 422, "date_out_of_range", "decision_date"),
    ("query q of 101 characters", "GET", "/v1/violations?q=" + "q" * 101, None, 422, "invalid_input", "q"),
    ("query jurisdiction of 81 characters", "GET", "/v1/violations?jurisdiction=" + "j" * 81, None, 422, "invalid_input",
     "jurisdiction"),
    ("assessment id of 65 characters", "GET", f"{A}/{'i' * 65}", None, 422, "invalid_input", "assessment_id"),
    ("daily penalty above 10^12 yuan", "POST", "/v1/daily-penalties",
     {"original_fine": 10**12 + 1, "order_served_date": "2026-01-01", "reinspection_date": "2026-02-01"}, 422, "invalid_input",
     "original_fine"),
]


@pytest.mark.parametrize(("label", "method", "path", "body", "status", "code", "field"), LIMITS, ids=[x[0] for x in LIMITS])
def test_each_limit_answers_its_documented_status_code_and_field(
    client: TestClient, label: str, method: str, path: str, body: Any, status: int, code: str, field: str
) -> None:
    """Just past each bound: the documented status, code and field, in the one error shape."""
    if method == "GET":
        r = client.get(path)
    else:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
    got = r.json()
    assert (r.status_code, got.get("code"), got.get("field")) == (status, code, field), got
    assert set(got) == ERROR_KEYS and got["errors"][0]["code"] == code


def test_values_at_the_bounds_are_accepted(client: TestClient) -> None:
    """A fact name and a circumstance id of 64 characters are within the bounds: the case is refused
    only for naming unknown ones; dates on the first and last computable day pass the range check."""
    r = client.post(A, json={**W, "facts": {"n" * 64: 1}})
    assert r.status_code == 422 and r.json()["code"] == "unknown_fact", r.json()
    r = client.post(A, json={**W, "circumstances": ["c" * 64]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_circumstance", r.json()
    r = client.post(A, json={**W, "violation_date": "1900-01-01", "decision_date": "2199-12-31"})
    assert "可计算的范围" not in r.json()["message"], r.json()  # refused later: before the laws encoded
    assert client.post(A, json=CASE).status_code == 201


def test_limits_are_documented_where_clients_read_them(client: TestClient) -> None:
    """docs/limits.md names every code above, and the OpenAPI document states the fact bounds."""
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    for code in {x[5] for x in LIMITS} | {"headers_too_large", "request_timeout", "rulebook_invalid"}:
        assert f"`{code}`" in text, code
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/v1/assessments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    facts = body["properties"]["facts"]
    assert facts["maxProperties"] == 64 and "10^15" in facts["description"] and "200" in facts["description"]
    assert "2199-12-31" in body["properties"]["violation_date"]["description"]


# --- the request head and slow clients, on a real server ------------------------------------------

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    env = {"DISCRETION_HEAD_TIMEOUT_S": str(HEAD_TIMEOUT), "DISCRETION_BODY_TIMEOUT_S": str(BODY_TIMEOUT)}
    with LiveServer(workers=2, env=env) as s:
        yield s


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            part = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not part:
            break
        data += part
    return data


def error_of(data: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_an_oversized_request_head_answers_431_without_being_buffered(server: LiveServer) -> None:
    """A header of 8 MiB streamed to the server: 431 headers_too_large (field headers) once 32 KiB have
    arrived; the worker's memory does not take the header in."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: ")
        try:
            for _ in range(128):
                s.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = read_all(s)
    status, body = error_of(data)
    assert status == 431 and body["code"] == "headers_too_large" and body["field"] == "headers", data[:300]
    assert set(body) == ERROR_KEYS
    status, _ = server.request("GET", "/healthz")
    assert status == 200


def test_a_request_head_trickled_byte_by_byte_is_cut_off(server: LiveServer) -> None:
    """A client sending its headers a byte at a time gets 408 request_timeout after the head timeout."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.settimeout(0.2)
        data = b""
        for ch in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 100:
            try:
                s.sendall(bytes([ch]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                data += s.recv(4096)
            except socket.timeout:
                pass
            if data or time.monotonic() - t0 > 10:
                break
        data += read_all(s, 5)
    took = time.monotonic() - t0
    status, body = error_of(data)
    assert status == 408 and body["code"] == "request_timeout" and body["field"] == "headers", data[:300]
    assert HEAD_TIMEOUT * 0.8 < took < HEAD_TIMEOUT + 4, took


def test_a_body_trickled_slowly_is_cut_off(server: LiveServer) -> None:
    """A body announced as 1,000 bytes of which 10 arrive: 408 request_timeout (field body) after the body timeout."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"violat")
        data = read_all(s, BODY_TIMEOUT + 5)
    took = time.monotonic() - t0
    status, body = error_of(data)
    assert status == 408 and body["code"] == "request_timeout" and body["field"] == "body", data[:300]
    assert BODY_TIMEOUT * 0.8 < took < BODY_TIMEOUT + 4, took


def test_a_silent_connection_is_closed(server: LiveServer) -> None:
    """A connection that never sends a byte is closed after the head timeout (no file descriptor held forever)."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        assert read_all(s, HEAD_TIMEOUT + 5) == b""
    assert time.monotonic() - t0 < HEAD_TIMEOUT + 4


def _normal_latencies(port: int, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(CASE).encode()
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", A, body=body, headers={"content-type": "application/json"})
            r = conn.getresponse()
            r.read()
            out.append(time.perf_counter() - t0)
            assert r.status == 201
    finally:
        conn.close()
    return out


def _flood(port: int, stop: threading.Event, answers: list[int], kind: str) -> None:
    big = b'{"facts": {"x": "' + b"x" * (1024 * 1024) + b'"}}'
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                if kind == "sized":  # Content-Length says 1 MiB: refused before the body is read
                    s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(big))
                    s.sendall(big[:65536])
                elif kind == "chunked":  # no length: refused once 64 KiB have been read
                    s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n")
                    for i in range(0, len(big), 65536):
                        part = big[i:i + 65536]
                        s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                    s.sendall(b"0\r\n\r\n")
                else:  # slow: half a request head, then silence until the server gives up
                    s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                data = read_all(s, 10)
                if data.startswith(b"HTTP/1.1 "):
                    answers.append(int(data.split(b" ", 2)[1]))
        except OSError:
            pass


def test_a_flood_of_oversized_and_slow_requests_does_not_slow_other_clients(server: LiveServer) -> None:
    """Median latency of a normal client's assessments, alone and while six other clients send 1 MiB
    bodies (sized and chunked) and half request heads in a loop: at most 3× + 20 ms; the floods
    are answered 422 and 408."""
    _normal_latencies(server.port, 30)  # warm-up: every worker has registered the ruleset
    alone = statistics.median(_normal_latencies(server.port, 150))
    stop = threading.Event()
    answers: list[int] = []
    floods = [threading.Thread(target=_flood, args=(server.port, stop, answers, kind), daemon=True)
              for kind in ("sized", "sized", "chunked", "chunked", "slow", "slow")]
    for t in floods:
        t.start()
    time.sleep(0.5)
    try:
        during = statistics.median(_normal_latencies(server.port, 150))
        time.sleep(HEAD_TIMEOUT + 0.5)  # let the slow heads time out at least once
    finally:
        stop.set()
        for t in floods:
            t.join(timeout=20)
    print(f"\nnormal client p50: {alone * 1000:.1f} ms alone, {during * 1000:.1f} ms during the flood; "
          f"flood answers: {sorted(set(answers))}, {len(answers)} requests")
    assert 422 in answers and 408 in answers, answers[:20]
    assert set(answers) <= {422, 408}, sorted(set(answers))
    assert during < 3 * alone + 0.020, (alone, during)
    assert server.alive()


def test_a_reason_that_cannot_be_written_to_xml_never_reaches_a_record(client: TestClient) -> None:
    """U+FFFE in a decision's reason (API and result page) is 422 invalid_character, so the case's .docx stays 200."""
    import re

    rid = client.post(A, json=CASE).json()["id"]
    r = client.post(f"{A}/{rid}/decision", json={"amount": 0, "reason": "已改正\ufffe"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_character" and "U+FFFE" in r.json()["message"]
    page = client.get(f"/result/{rid}").text
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    r = client.post(f"/result/{rid}/decision", data={"amount": "0", "reason": "已改正\u202e", "csrf_token": token})
    assert r.status_code == 422 and "U+202E" in r.text
    assert client.get(f"{A}/{rid}").json()["decision"] is None
    assert client.get(f"/result/{rid}/reasoning.docx").status_code == 200


def test_the_web_form_refuses_unwritable_characters_in_any_field(client: TestClient) -> None:
    """A control character or bidi override in a form field is shown next to that field (422), and nothing is stored."""
    import re

    page = client.get("/assess/water_over_standard").text
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    form = {"party": "unit", "jurisdiction": "yunnan", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
            "fact.exceedance_ratio": "0.5", "circumstance": "confessed\u2066", "csrf_token": token}
    r = client.post("/assess/water_over_standard", data=form, follow_redirects=False)
    assert r.status_code == 422 and "U+2066" in r.text


def test_content_type_is_compared_case_insensitively(client: TestClient) -> None:
    """APPLICATION/JSON is JSON (media types are case-insensitive, RFC 9110)."""
    r = client.post(A, content=json.dumps(CASE).encode(), headers={"content-type": "Application/JSON; charset=UTF-8"})
    assert r.status_code == 201, r.text


def test_the_web_form_accepts_only_iso_dates(client: TestClient) -> None:
    """20250301 or 2025-W09-6 (which Python's date parser takes) is refused next to the date field."""
    import re

    page = client.get("/assess/water_over_standard").text
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    for written in ("20250301", "2025-W09-6"):
        form = {"party": "unit", "jurisdiction": "yunnan", "violation_date": written, "decision_date": "2025-09-01",
                "fact.exceedance_ratio": "0.5", "csrf_token": token}
        r = client.post("/assess/water_over_standard", data=form, follow_redirects=False)
        assert r.status_code == 422 and "日期格式应为" in r.text, written


# --- the request head however it arrives, under both of uvicorn's HTTP/1.1 protocols ---------------

PROTOCOLS = {"httptools": "api.limits:HeadLimitedHttpTools", "h11": "api.limits:HeadLimitedH11"}
SLOW_HEAD_S = 2.0  # the head timeout of these servers: the segmented heads below arrive well within it
MAX_HEAD = 32 * 1024


@pytest.fixture(scope="module", params=sorted(PROTOCOLS))
def uvicorn_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``uvicorn --factory api.main:create_app --http <protocol>`` as a real process on a loopback port."""
    import os
    import subprocess

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DISCRETION_RULEBOOKS", "DISCRETION_RELOAD_FILE")}
    env.update({"DISCRETION_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('uvicorn')}/u.db",
                "DISCRETION_HEAD_TIMEOUT_S": str(SLOW_HEAD_S), "PYTHONUNBUFFERED": "1"})
    log = tmp_path_factory.mktemp("uvicorn-log") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                                 "--port", str(port), "--http", PROTOCOLS[request.param], "--log-level", "warning"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 60
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            assert proc.poll() is None and time.monotonic() < end, log.read_text(errors="replace")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send_head(port: int, parts: list[bytes], pause: float = 0.0) -> bytes:
    """Send ``parts`` as separate TCP segments (Nagle off, ``pause`` between them) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for part in parts:
                s.sendall(part)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_all(s, 5)


def head_of(size: int, header_size: int = 0) -> bytes:
    """A GET /healthz head of exactly ``size`` bytes: one long header, or headers of ``header_size`` bytes each."""
    start, end = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", b"\r\n"
    room = size - len(start) - len(end)
    if not header_size:
        return start + b"X-Long: " + b"v" * (room - 10) + b"\r\n" + end
    lines = []
    assert header_size >= 14  # "X-H000000: v\r\n"
    while room >= 2 * header_size:
        name = b"X-H%06d: " % len(lines)
        lines.append(name + b"v" * (header_size - len(name) - 2) + b"\r\n")
        room -= header_size
    name = b"X-Last: "
    lines.append(name + b"v" * (room - len(name) - 2) + b"\r\n")
    head = start + b"".join(lines) + end
    assert len(head) == size
    return head


@pytest.mark.parametrize(("how", "size", "header_size", "segment"), [
    ("one header, one send", MAX_HEAD, 0, 0),
    ("one header, 100-byte segments", MAX_HEAD, 0, 100),
    ("2,000 small headers, one send", MAX_HEAD, 16, 0),
    ("2,000 small headers, 7-byte segments", MAX_HEAD, 16, 7),
])
def test_a_head_at_the_limit_is_served_however_it_arrives(uvicorn_server: int, how: str, size: int, header_size: int,
                                                          segment: int) -> None:
    """A request head of exactly 32 KiB is served (200), in one send or many small segments, as one
    long header or 2,000 short ones (the count is bytes, not headers), under httptools and h11."""
    head = head_of(size, header_size)
    parts = [head[i:i + segment] for i in range(0, len(head), segment)] if segment else [head]
    data = send_head(uvicorn_server, parts)
    assert data.startswith(b"HTTP/1.1 200"), (how, data[:300])


@pytest.mark.parametrize(("how", "header_size", "segment"), [
    ("one header, one send", 0, 0),
    ("one header, 100-byte segments", 0, 100),
    ("2,000 small headers, 7-byte segments", 16, 7),
    ("2,340 headers, each in its own segment", 14, 14),
])
def test_a_head_one_byte_over_the_limit_answers_431_however_it_arrives(uvicorn_server: int, how: str, header_size: int,
                                                                     segment: int) -> None:
    """One byte more than 32 KiB of head, however it is cut into segments or headers: 431
    headers_too_large in the error shape, under httptools and h11 (stock h11 answers a plain 400 at 16 KiB)."""
    head = head_of(MAX_HEAD + 1, header_size)
    parts = [head[i:i + segment] for i in range(0, len(head), segment)] if segment else [head]
    status, body = error_of(send_head(uvicorn_server, parts))
    assert (status, body["code"], body["field"]) == (431, "headers_too_large", "headers"), (how, body)
    assert set(body) == ERROR_KEYS


def test_a_huge_header_streamed_after_a_pipelined_request_answers_431(uvicorn_server: int) -> None:
    """A first request answered, then on the same connection a head streamed without end (sent right
    behind the first, in its segment): the first is served, the second cut off with 431."""
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    parts = [first + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: ", *[b"j" * 65536] * 16]
    data = send_head(uvicorn_server, parts)
    assert data.startswith(b"HTTP/1.1 200"), data[:300]
    second = data[data.index(b"HTTP/1.1 431"):]
    status, body = error_of(second)
    assert (status, body["code"]) == (431, "headers_too_large"), body


def test_a_head_trickled_in_tiny_segments_is_cut_off_at_the_head_timeout(uvicorn_server: int) -> None:
    """A small head sent a byte every 50 ms (never too large) is answered 408 request_timeout once the
    head timeout has passed since its first byte, under httptools and h11 (stock h11 waits forever)."""
    head = head_of(200)
    t0 = time.monotonic()
    status, body = error_of(send_head(uvicorn_server, [head[i:i + 1] for i in range(len(head))], pause=0.05))
    took = time.monotonic() - t0
    assert (status, body["code"], body["field"]) == (408, "request_timeout", "headers"), body
    assert SLOW_HEAD_S * 0.9 < took < SLOW_HEAD_S + 5, took


def test_a_silent_connection_to_either_protocol_is_closed(uvicorn_server: int) -> None:
    """A connection that sends nothing is closed, without an answer, after the head timeout."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", uvicorn_server), timeout=10) as s:
        assert read_all(s, SLOW_HEAD_S + 5) == b""
    assert time.monotonic() - t0 < SLOW_HEAD_S + 4
