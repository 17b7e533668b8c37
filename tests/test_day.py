"""The case handler's day in a real browser (issue 13): a case from the form through 修改后重新计算 to both documents.

Playwright drives Debian's headless chromium against `discretion serve`, at a desktop (1280×900) and a phone
(390×844) viewport: the case is entered on the form, computed, reopened with 修改后重新计算 (the form comes back
filled), a fact is corrected and the case computed again; the 告知书 is downloaded, the decision recorded through its
confirmation page, the 决定书 downloaded; both .docx are read back with python-docx. The superseded record's page
and /cases are checked too. Every page is kept as a screenshot under ``$DISCRETION_SCREENSHOTS`` (default: the
system's temporary folder) in ``discretion-day/<viewport>/``; on the phone no page scrolls sideways.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from docx import Document

from benchmarks.concurrency import LiveServer
from tests.test_browser import browser  # noqa: F401  (the module-scoped chromium fixture)

SHOTS = Path(os.environ.get("DISCRETION_SCREENSHOTS") or tempfile.gettempdir()) / "discretion-day"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
AGENCY = {"DISCRETION_AGENCY_NAME": "昆明市生态环境局", "DISCRETION_AGENCY_SHORT": "昆", "DISCRETION_REVIEW_BODY": "昆明市人民政府",
          "DISCRETION_COURT": "昆明市官渡区人民法院"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(workers=1, env=AGENCY) as s:
        yield s


class Day:
    """One viewport's browser page, its screenshots numbered in the order taken, and the phone's overflow check."""

    def __init__(self, browser: Any, base: str, viewport: str) -> None:
        phone = viewport == "phone"
        self.context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN", accept_downloads=True,
                                           is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
        self.page = self.context.new_page()
        self.base, self.phone, self.shots = base, phone, 0
        self.folder = SHOTS / viewport
        self.folder.mkdir(parents=True, exist_ok=True)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def shot(self, name: str) -> Path:
        """A full-page screenshot; on a phone, the page must not be wider than the screen."""
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        if self.phone:
            wide = self.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], (name, wide)
        return path

    def go(self, path: str) -> None:
        r = self.page.goto(self.base + path)
        assert r is not None and r.status == 200, path

    def submit(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def download(self, link_text: str) -> Any:
        """Click a document's link on the result page; the .docx read back, and its file name."""
        with self.page.expect_download() as got:
            self.page.click(f"[data-testid=documents] a:text-is('{link_text}')")
        d = got.value
        path = self.folder / d.suggested_filename
        d.save_as(str(path))
        return Document(io.BytesIO(path.read_bytes())), d.suggested_filename


@pytest.fixture(params=sorted(VIEWPORTS))
def day(request: pytest.FixtureRequest, browser: Any, server: LiveServer) -> Iterator[Day]:  # noqa: F811
    d = Day(browser, server.base, str(request.param))
    try:
        yield d
    finally:
        d.context.close()


def paragraphs(doc: Any) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def recommended(page: Any) -> int:
    """The recommended fine on a result page, in yuan."""
    return int(re.sub(r"[^0-9]", "", page.inner_text("[data-testid=recommended]").split("元")[0]))


def result_id(url: str) -> str:
    m = re.search(r"/result/([0-9a-f]{24})$", url)
    assert m, url
    return m.group(1)


def test_a_case_from_the_form_through_recomputation_to_both_documents(day: Day) -> None:
    """Form → result (everything entered listed) → 修改后重新计算 (the form filled, a fact corrected) → the new result,
    第 2 版 → 告知书 → decision confirmed → 决定书; the first record says it was superseded; /cases shows 已修改 1 次."""
    number = f"昆环罚〔2025〕{'6' if day.phone else '5'}1号"
    page = day.page
    day.go("/assess/water_over_standard")
    page.fill("input[name=violation_date]", "2025-03-01")
    page.fill("input[name=decision_date]", "2025-09-01")
    page.fill("input[name='case.number']", number)
    page.fill("input[name='case.party.name']", "昆明某某化工有限公司")
    page.fill("input[name='case.party.id_code']", "91350100M000100Y43")
    page.fill("input[name='case.address']", "昆明市官渡区某路1号")
    page.fill("input[name='case.location']", "昆明市官渡区某排污口")
    page.fill("input[name='fact.exceedance_ratio']", "0.5")
    page.select_option("select[name='fact.discharge_area']", "mixed")
    page.check("input[name=circumstance][value=confessed]")
    page.check("input[name=circumstance][value=first_offense]")
    day.shot("form")
    day.submit("button.primary")
    first = result_id(page.url)
    entered = page.inner_text("[data-testid=entered]")
    for said in ("超标倍数", "0.5倍", "二类功能区（商业、居住混合区）、Ⅳ类水体", "已采用", "未采用：只是不予处罚的条件之一", "按默认等级计算的裁量因子"):
        assert said in entered, said
    before = recommended(page)
    assert before == 167500  # 超标0.5倍 (第3级), Ⅳ类水体 (第2级), 主动供述 (从轻)
    day.shot("result")

    # 修改后重新计算: the form comes back filled with the stored record
    day.submit("[data-testid=edit]")
    assert page.url.endswith(f"/result/{first}/edit")
    assert page.input_value("input[name='fact.exceedance_ratio']") == "0.5"
    assert page.input_value("select[name='fact.discharge_area']") == "mixed"
    assert page.input_value("input[name='case.number']") == number
    assert page.input_value("input[name=violation_date]") == "2025-03-01"
    assert page.is_checked("input[name=circumstance][value=first_offense]")
    assert "修改后重新计算" in page.inner_text("[data-testid=replacing]")
    page.fill("input[name='fact.exceedance_ratio']", "1.5")
    page.uncheck("input[name=circumstance][value=first_offense]")
    day.shot("edit")
    day.submit("button.primary")
    second = result_id(page.url)
    assert second != first
    assert "第 2 版（已修改 1 次）" in page.inner_text("[data-testid=versions]")
    assert "1.5倍" in page.inner_text("[data-testid=entered]")
    after = recommended(page)
    assert after > before  # 超标1.5倍: a higher level
    day.shot("recomputed")

    notice, name = day.download("行政处罚事先告知书")
    text = paragraphs(notice)
    section = notice.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert name == f"行政处罚事先告知书（{number}）.docx"
    assert f"案号：{number}" in text and "超标倍数：1.5倍" in text and "初次违法" not in text.split("附件")[0]
    assert f"罚款人民币{after}元（大写：人民币" in text and "要求听证的，应当在本机关告知后五日内提出" in text

    page.fill("input[name=amount]", str(after))
    day.submit(".decision-form button")
    assert "确认记录决定" in page.inner_text("h1")
    day.shot("confirm")
    day.submit("form.decision-confirm button")
    assert result_id(page.url) == second and page.locator("[data-testid=decision]").count() == 1
    day.shot("decided")

    decision, name = day.download("行政处罚决定书")
    text = paragraphs(decision)
    assert name == f"行政处罚决定书（{number}）.docx"
    assert decision.paragraphs[0].text == "昆明市生态环境局" and decision.paragraphs[1].text == "行政处罚决定书"
    assert f"案号：{number}" in text and "统一社会信用代码：91350100M000100Y43" in text
    assert "经查明：超标倍数：1.5倍；排放去向/所在区域：二类功能区（商业、居住混合区）、Ⅳ类水体。" in text
    assert "查明的情节：主动供述行政机关尚未掌握的违法行为。" in text
    assert f"罚款人民币{after}元（大写：人民币" in text
    assert "十五日内" in text and "百分之三" in text
    assert "六十日内向昆明市人民政府申请行政复议" in text and "六个月内向昆明市官渡区人民法院提起行政诉讼" in text

    # the first record stays, says it was superseded and points to the newest
    day.go(f"/result/{first}")
    banner = page.inner_text("[data-testid=superseded]")
    assert "已被修改后重新计算的记录取代" in banner
    assert page.get_attribute("[data-testid=newest]", "href") == f"/result/{second}"
    assert page.locator("[data-testid=edit]").count() == 0 and page.locator(".decision-form").count() == 0
    day.shot("superseded")

    day.go("/cases?q=" + number)
    row = page.locator(f"tr[data-id='{second}']")
    assert row.count() == 1 and page.locator(f"tr[data-id='{first}']").count() == 0
    assert "已修改 1 次" in row.inner_text()
    day.shot("cases")
    assert day.errors == []
