"""“Try it out” in /docs, in a real browser: the examples Swagger UI fills in succeed as given.

Playwright drives Debian's headless chromium against `discretion serve` (see tests/test_browser.py).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from benchmarks.concurrency import LiveServer
from tests.test_browser import browser  # noqa: F401  (the module-scoped chromium fixture)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with LiveServer(workers=1) as server:
        yield server.base


def try_it_out(page: Any, method: str, path: str) -> tuple[str, str]:
    """Opens the operation, presses Try it out and Execute without touching a field; the request
    body Swagger UI filled in and the status it got back."""
    op = page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])").first
    op.locator(".opblock-summary").click()
    op.locator("button.try-out__btn").click()
    body = op.locator("textarea.body-param__text")
    sent = body.input_value() if body.count() else ""
    op.locator("button.execute").click()
    status = op.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=20_000)
    return sent, status.inner_text().strip()


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("post", "/v1/assessments", "201"),
    ("post", "/v1/daily-penalties", "200"),
    ("get", "/v1/violations", "200"),
    ("get", "/v1/violations/{code}", "200"),
])
def test_try_it_out_with_the_filled_in_example_succeeds(browser: Any, base_url: str, method: str, path: str,
                                                         expected: str) -> None:
    """Pressing Try it out then Execute on /docs, changing nothing, gets the success status."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(base_url + "/docs")
        page.wait_for_selector(".opblock")
        sent, status = try_it_out(page, method, path)
        if method == "post":
            assert json.loads(sent)  # the example, not Swagger UI's "string"/0 placeholders
            assert "string" not in json.loads(sent).values()
        assert status == expected, (sent, status)
    finally:
        ctx.close()
