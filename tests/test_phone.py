"""The pages on a phone: at 375 px and 320 px wide nothing scrolls sideways, the trail stacks into rows.

Playwright drives Debian's headless chromium against `discretion serve`, with a deliberately long case
(many circumstances, a lighter-law comparison, a long trail, long Chinese names and a long unbroken
case number). Screenshots go to test-output/phone/ at the repository root; 1280 px shots are kept too
so that the desktop layout can be compared by eye.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from benchmarks.concurrency import LiveServer
from tests.test_browser import OUT, browser  # noqa: F401  (the module-scoped chromium fixture)

PHONE_OUT = OUT / "phone"
WIDTHS = (375, 320)

LONG_NUMBER = "KHF2026" + "0123456789" * 5  # 57 characters without a break opportunity
LONG_CASE = {
    "violation": "eia_unapproved_construction",
    "facts": {"total_investment": 100000000, "eia_document": "report"},
    "violation_date": "2026-03-01",
    "decision_date": "2026-10-01",
    "circumstances": ["first_offense", "eliminated_harm", "confessed", "meritorious", "ecological_restoration",
                      "compensation_paid", "self_reported", "sensitive_area", "harm_caused", "coerced", "positive_list"],
    "case": {
        "number": LONG_NUMBER,
        "party": {"name": "云南省昆明市官渡区某某某某环保科技股份有限公司第一分公司", "kind": "unit", "id_code": "91350100M000100Y43"},
        "address": "云南省昆明市官渡区某某街道某某路某某号某某大厦二十三层",
        "location": "昆明市官渡区某某工业园区东南角雨水排放口",
    },
}


# A decided case with a fine for the persons in charge (a table of its own) and a long reason.
DECIDED_CASE = {
    "violation": "pollution_accident", "facts": {"medium": "water", "accident_level": "general", "direct_loss": 3179400},
    "circumstances": ["first_offense", "slight_harm"], "violation_date": "2026-09-21", "decision_date": "2026-11-20",
    "case": {"number": "昆环罚〔2026〕" + "9" * 40 + "号",
             "party": {"name": "云南某某某某水务投资开发建设集团有限责任公司", "kind": "unit", "id_code": "91350100M000100Y43"}},
}
DECISION = {"amount": 500000, "reason": "事故造成下游取水口停止供水三日，社会影响较大，" * 8 + "按500000元决定。"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """The real server on a free loopback port, its database in a temp dir, holding the long case."""
    with LiveServer(workers=1) as s:
        yield s


@pytest.fixture(scope="module")
def long_case(server: LiveServer) -> str:
    status, raw = server.request("POST", "/v1/assessments", json.dumps(LONG_CASE).encode())
    assert status == 201, raw
    body = json.loads(raw)
    assert len(body["trail"]) >= 20
    return str(body["id"])


@pytest.fixture(scope="module")
def decided_case(server: LiveServer) -> str:
    status, raw = server.request("POST", "/v1/assessments", json.dumps(DECIDED_CASE).encode())
    assert status == 201, raw
    case_id = str(json.loads(raw)["id"])
    assert json.loads(raw)["individual_fines"]
    status, raw = server.request("POST", f"/v1/assessments/{case_id}/decision", json.dumps(DECISION).encode())
    assert status == 201, raw
    return case_id


def pages(case_id: str, decided: str = "") -> dict[str, str]:
    return {
        "decided": f"/result/{decided}",
        "index": "/",
        "form": "/assess/eia_unapproved_construction",
        "result": f"/result/{case_id}",
        "print": f"/result/{case_id}/print",
        "cases": "/cases",
        "consistency": "/review/consistency",
        "like": f"/consistency/like/{decided}",
    }


def shoot(browser: Any, url: str, width: int, name: str) -> Any:
    """Open url at width (a phone: touch, device scale 2) and keep a full-page screenshot; returns the open context."""
    phone = width < 700
    ctx = browser.new_context(viewport={"width": width, "height": 800 if phone else 900}, locale="zh-CN",
                              is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
    page = ctx.new_page()
    r = page.goto(url)
    assert r is not None and r.status == 200, url
    PHONE_OUT.mkdir(parents=True, exist_ok=True)
    path = PHONE_OUT / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return ctx, page


def overflow(page: Any) -> dict[str, Any]:
    """The document's scroll width against the viewport, and the elements sticking out on the right."""
    return page.evaluate(
        """() => {
            const w = window.innerWidth;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.right > w + 0.5) out.push(el.tagName.toLowerCase() + '.' + el.className + ' right=' + Math.round(r.right));
            }
            return {scroll: document.documentElement.scrollWidth, inner: w, out: out.slice(0, 8)};
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["index", "form", "result", "print", "cases", "decided", "consistency", "like"])
def test_the_page_needs_no_sideways_scrolling_on_a_phone(browser: Any, server: LiveServer, long_case: str,
                                                         decided_case: str, name: str, width: int) -> None:
    """At 375 px and 320 px each page of the long case (and of a decided one) fits the screen width:
    nothing scrolls sideways."""
    ctx, page = shoot(browser, server.base + pages(long_case, decided_case)[name], width, name)
    try:
        o = overflow(page)
        # a phone widens its layout viewport to the content when a page is too wide (or declares no
        # viewport), so innerWidth must still be the phone's width, not only bound scrollWidth
        assert o["inner"] == width and o["scroll"] <= o["inner"], o
        # the text stays readable: the body text is not shrunk below 14 px
        size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main, body.print')).fontSize)")
        assert size >= 14, size
    finally:
        ctx.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trail_is_stacked_into_readable_rows_on_a_phone(browser: Any, server: LiveServer, long_case: str,
                                                            width: int) -> None:
    """On a phone every step of the trail is a block as wide as the table, its explanation on its own
    lines below the step's name, not squeezed into a column."""
    ctx, page = shoot(browser, server.base + f"/result/{long_case}", width, "trail")
    try:
        rows = page.evaluate(
            """() => [...document.querySelectorAll('table.trail tbody tr')].map(tr => {
                const t = tr.closest('table').getBoundingClientRect();
                const text = tr.children[2].getBoundingClientRect();
                const label = tr.children[1].getBoundingClientRect();
                return {table: t.width, text: text.width, below: text.top >= label.bottom - 1,
                        visible: getComputedStyle(tr.closest('table').tHead).display};
            })"""
        )
        assert len(rows) >= 20
        for row in rows:
            assert row["below"], row
            assert row["text"] >= row["table"] * 0.8, row
        assert rows[0]["visible"] == "none"  # the column headings say nothing once the rows are stacked
        assert page.locator("text=" + LONG_NUMBER).count() == 1  # the long case number is shown whole
    finally:
        ctx.close()


def test_the_desktop_keeps_the_trail_as_a_table(browser: Any, server: LiveServer, long_case: str) -> None:
    """At 1280 px the trail is still a four-column table with its headings, and the regimes sit side by side."""
    ctx, page = shoot(browser, server.base + f"/result/{long_case}", 1280, "result-desktop")
    try:
        assert page.evaluate("() => getComputedStyle(document.querySelector('table.trail thead')).display") != "none"
        cells = page.evaluate(
            "() => [...document.querySelector('table.trail tbody tr').children].map(td => td.getBoundingClientRect().top)")
        assert len(cells) == 4 and max(cells) - min(cells) < 2, cells  # one row, four cells side by side
        boxes = [page.locator(f".side .regime[data-regime={r}]").bounding_box() for r in ("pre2026", "code2026")]
        assert boxes[0] and boxes[1] and abs(boxes[0]["y"] - boxes[1]["y"]) < 2
        assert overflow(page)["scroll"] <= 1280
    finally:
        ctx.close()
    for name in ("index", "form", "cases", "print"):
        ctx, _ = shoot(browser, server.base + pages(long_case)[name], 1280, f"{name}-desktop")
        ctx.close()
