"""The offline bundle in a real browser with the network off: Playwright drives Debian's headless chromium
at phone width (390×844). The bundle is served from loopback once; the service worker caches it; then
the browser goes offline and the server is stopped, the page is reloaded, a case is assessed, and the
result is checked, byte for byte, against the service's engine. Screenshots and the load times go
to test-output/offline/."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from api.offline.check import service_answer
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


@pytest.fixture
def served(offline_bundle: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """The bundle over HTTP on a free loopback port (a static server: what a terminal's host would be)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(offline_bundle)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def test_the_bundle_assesses_with_the_network_off_as_the_service_does(
    browser: Any, served: tuple[str, ThreadingHTTPServer], engine: Engine  # noqa: F811
) -> None:
    """Loaded once online, the page reloads offline (server stopped), assesses a water case at phone
    width, and its result is the service's to the byte; no request ever leaves loopback."""
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
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
        _shot(page, "1-choose-online")

        context.set_offline(True)
        httpd.shutdown()  # nothing is served any more: everything must come from the service worker's cache
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
        assert foreign == [] and errors == [], (foreign, errors)
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "timings.json").write_text(json.dumps({"first_load_ms": first_load_ms, "warm_start_offline_ms": warm_ms}), encoding="utf-8")
    finally:
        context.close()
