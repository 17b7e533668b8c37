"""The offline bundle in a real browser with the network off: Playwright drives Debian's headless chromium
at phone width (390×844). The bundle is served from loopback once; the service worker caches it; then
the browser goes offline and the server is stopped, the page is reloaded, a case is assessed, and the
result is checked, byte for byte, against the service's engine; back online, the page uploads it to
the service (`discretion serve`, behind the bundle's host). Screenshots and the load times go to
test-output/offline/."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import http.client
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from api.offline.check import service_answer
from benchmarks.concurrency import LiveServer
from discretion.engine.assessment import Engine
from tests.test_browser import OUT, browser  # noqa: F401  (the module-scoped chromium fixture)

SHOTS = OUT / "offline"
PHONE = {"width": 390, "height": 844}
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".whl": "application/octet-stream",
         ".json": "application/json", ".zip": "application/zip", ".css": "text/css", ".html": "text/html; charset=utf-8"}


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, *args: Any) -> None:
        pass


class _Host(_Quiet):
    """The terminal's host: the bundle's files, and /v1/ passed on to the service keeping the Host
    header (as a reverse proxy in front of both does), so that the page's upload reaches it."""

    def __init__(self, *args: Any, backend: int, **kw: Any) -> None:
        self.backend = backend
        super().__init__(*args, **kw)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if not self.path.startswith("/v1/"):
            self.send_error(405)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection("127.0.0.1", self.backend, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("host", "origin", "content-type", "idempotency-key", "cookie")}
        conn.request("POST", self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-type", "idempotent-replayed"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


def _serve(bundle: Path, port: int, backend: int) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Host, directory=str(bundle), backend=backend))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def service() -> Iterator[LiveServer]:
    """The service (`discretion serve`, no auth, loopback), to upload to once the terminal is back online."""
    with LiveServer(workers=1) as s:
        yield s


@pytest.fixture
def served(offline_bundle: Path, service: LiveServer) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """The bundle over HTTP on a free loopback port (a static server: what a terminal's host would be)."""
    httpd = _serve(offline_bundle, 0, service.port)
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _until(page: Any, expression: str, seconds: float = 60) -> None:
    """Poll ``expression`` from outside the page (wait_for_function evaluates strings inside it, which
    the page's Content-Security-Policy forbids: no eval)."""
    end = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < end, f"not true within {seconds} s: {expression}"
        time.sleep(0.2)


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def test_the_bundle_assesses_with_the_network_off_as_the_service_does_and_uploads_later(
    browser: Any, served: tuple[str, ThreadingHTTPServer], engine: Engine, service: LiveServer, offline_bundle: Path  # noqa: F811
) -> None:
    """Loaded once online, the page reloads offline (server stopped), assesses a water case at phone
    width, and its result is the service's to the byte; back online, it uploads the result, which the
    service records with the time it was made offline. No request ever leaves loopback."""
    base, httpd = served
    context = browser.new_context(viewport=PHONE, locale="zh-CN", service_workers="allow")
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if urlsplit(r.url).hostname not in ("127.0.0.1", None) and r.url.startswith("http") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(base)
        page.wait_for_selector("body[data-engine=ready]", timeout=180_000)
        first_load_ms = int(page.get_attribute("body", "data-load-ms") or 0)
        _until(page, "navigator.serviceWorker.controller !== null")
        _shot(page, "1-choose-online")

        context.set_offline(True)
        httpd.shutdown()  # nothing is served any more: everything must come from the service worker's cache
        httpd.server_close()
        page.reload()
        page.wait_for_selector("body[data-engine=ready]", timeout=180_000)
        warm_ms = int(page.get_attribute("body", "data-load-ms") or 0)
        assert "无网络（离线）" in page.inner_text("#status")
        _no_sideways_scroll(page)

        page.fill("#on", "2025-09-01")
        page.fill("#q", "水污染防治法 83")
        page.locator("#violations a", has_text="超过水污染物排放标准").click()
        page.wait_for_selector("#case:not([hidden]) #facts label")
        page.fill("input[name=violation_date]", "2025-03-01")
        page.fill("input[name='fact.exceedance_ratio']", "0.5")
        page.check("input[name=circumstance][value=confessed]")
        _no_sideways_scroll(page)
        _shot(page, "2-form-offline")
        page.click("#assess")
        page.wait_for_selector("#result:not([hidden]) [data-testid=recommended]")
        assert page.inner_text("[data-testid=outcome]") == "予以处罚"
        assert page.inner_text("[data-testid=recommended]").strip() == "136,000 元（13.6 万元）"
        assert "从轻：主动供述" in page.inner_text("table.trail")
        assert "136000" in page.input_value("#reasoning") or "13.6万元" in page.input_value("#reasoning")
        _no_sideways_scroll(page)
        _shot(page, "3-result-offline")

        queued = json.loads(page.evaluate("localStorage.getItem('discretion.offline.queue')"))[0]
        want = json.loads(service_answer(engine, queued["request"].encode()))
        assert want["ok"] is True
        assert queued["result_sha256"] == want["sha256"]  # the browser's result is the service's, byte for byte
        result = json.loads(queued["result"])
        assert result == want["result"]
        assert (result["fine"]["legal_min"], result["fine"]["legal_max"], result["fine"]["recommended"]) == (100000, 1000000, 136000)
        assert hashlib.sha256(queued["result"].encode()).hexdigest() == queued["result_sha256"]
        assert queued["bundle_hash"] and queued["made_at"] and queued["key"]
        assert page.inner_text("[data-testid=queue-status]") == "待上传"

        # back online: the host serves again (the service behind it) and the page uploads what it computed
        port = int(urlsplit(base).port or 0)
        again = _serve(offline_bundle, port, service.port)
        try:
            context.set_offline(False)
            page.click("#upload")
            _until(page, "document.querySelector('[data-testid=queue-status]').textContent === '已上传'")
        finally:
            again.shutdown()
            again.server_close()
        uploaded = json.loads(page.evaluate("localStorage.getItem('discretion.offline.queue')"))[0]
        status, raw = service.request("GET", f"/v1/assessments/{uploaded['id']}")
        assert status == 200, raw
        record = json.loads(raw)
        made = dt.datetime.fromisoformat(uploaded["made_at"].replace("Z", "+00:00"))
        assert record["record"]["offline"] == {"made_at": made.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                                               "bundle_hash": uploaded["bundle_hash"], "result_sha256": uploaded["result_sha256"]}
        # what GET adds beside the result: the record, decision, case, the stored input and the versions (issue 13)
        stored = {k: v for k, v in record.items()
                  if k not in ("id", "record", "decision", "case", "request", "supersedes", "superseded_by", "versions")}
        assert stored == json.loads(uploaded["result"])
        _shot(page, "4-uploaded")
        assert foreign == [] and errors == [], (foreign, errors)
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "timings.json").write_text(json.dumps({"first_load_ms": first_load_ms, "warm_start_offline_ms": warm_ms}), encoding="utf-8")
    finally:
        context.close()
