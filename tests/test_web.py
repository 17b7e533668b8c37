"""The server-rendered web form (TestClient, HTML): index, form, result, print view, .docx, errors."""

from __future__ import annotations

import html as htmllib
import io
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

ORDINARY_FORM = {
    "party": "unit",
    "jurisdiction": "yunnan",
    "violation_date": "2025-03-01",
    "decision_date": "2025-09-01",
    "fact.exceedance_ratio": "0.5",
    "circumstance": ["confessed"],
}
LIGHTER_FORM = {
    "party": "unit",
    "jurisdiction": "yunnan",
    "violation_date": "2026-03-01",
    "decision_date": "2026-10-01",
    "fact.total_investment": "100000000",
    "fact.eia_document": "report",
}


def csrf(client: TestClient, page: str = "/") -> str:
    """The CSRF token a page carries for this client (its cookie is kept by the client)."""
    return re.findall(r'name="csrf_token" value="([^"]+)"', client.get(page).text)[0]


def submit(client: TestClient, code: str, form: dict[str, Any]) -> Any:
    token = csrf(client, f"/assess/{code}")
    return client.post(f"/assess/{code}", data={**form, "csrf_token": token}, follow_redirects=False)


@pytest.fixture(scope="module")
def ordinary_result(client: TestClient) -> str:
    r = submit(client, "water_over_standard", ORDINARY_FORM)
    assert r.status_code == 303, r.text[:500]
    return str(r.headers["location"])


def text_of(page: str) -> str:
    """The visible text of an HTML page, tags dropped and entities decoded, whitespace collapsed."""
    no_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", htmllib.unescape(no_tags))


def label_around(page: str, input_name: str) -> str:
    """The <label>…</label> that contains the control named input_name."""
    i = page.index(f'name="{input_name}"')
    start = page.rindex("<label", 0, i)
    end = page.index("</label>", i)
    return page[start:end]


# --- index ------------------------------------------------------------------------------------


def test_index_lists_every_violation_with_a_form_link(client: TestClient) -> None:
    """The index lists the 40 violations, each linking to its form."""
    r = client.get("/", params={"on": "2025-09-01"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="/assess/(\w+)"', r.text))
    assert len(links) == 40
    assert "共 40 类违法行为" in r.text
    assert "超过水污染物排放标准或者重点水污染物排放总量控制指标排放水污染物" in r.text


def test_index_filters_by_query(client: TestClient) -> None:
    """q="水污染防治法 83" on a 2025 date keeps only the water-law article 83 violations."""
    r = client.get("/", params={"on": "2025-09-01", "q": "水污染防治法 83"})
    assert r.status_code == 200
    links = set(re.findall(r'href="/assess/(\w+)"', r.text))
    assert "water_over_standard" in links
    assert 0 < len(links) < 40
    assert "eia_unapproved_construction" not in links
    assert 'value="水污染防治法 83"' in r.text


def test_index_keyword_without_matches_lists_nothing(client: TestClient) -> None:
    """A keyword matching nothing renders the page with zero rows, not an error."""
    r = client.get("/", params={"q": "完全不存在的违法行为关键词"})
    assert r.status_code == 200
    assert re.findall(r'href="/assess/(\w+)"', r.text) == []
    assert "共 0 类" in r.text


def test_an_article_of_a_repealed_law_searched_for_today_points_to_the_day_it_applies(client: TestClient) -> None:
    """The separate laws were replaced on 2026-08-15: searching 水污染防治法 83 for a later day finds
    nothing, and the page says that on 2026-08-14 it finds the article's violations, with a link."""
    r = client.get("/", params={"on": "2026-11-26", "q": "水污染防治法第八十三条"})
    assert r.status_code == 200 and "共 0 类" in r.text
    notice = re.search(r'<p class="notice">(.*?)</p>', r.text, re.S)
    assert notice and "单行法（2026-08-14）" in notice.group(1), r.text
    link = re.search(r'href="(/\?q=[^"]+)"', notice.group(1)).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert "water_over_standard" in set(re.findall(r'href="/assess/(\w+)"', client.get(link).text))
    r = client.get("/", params={"on": "2025-06-01", "q": "完全不存在的违法行为关键词"})
    assert '<p class="notice">' not in r.text


@pytest.mark.parametrize("query", ["on=2026-02-30", "q=" + "x" * 101])
def test_a_bad_address_of_the_search_page_answers_a_chinese_page_not_json(client: TestClient, query: str) -> None:
    r = client.get("/?" + query, headers={"accept": "text/html"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "返回首页" in r.text and ("日期" in r.text or "关键词或条文" in r.text)


# --- form -------------------------------------------------------------------------------------


def test_form_shows_facts_with_their_units(client: TestClient) -> None:
    """The form for a violation shows each fact with its label and unit."""
    r = client.get("/assess/water_over_standard")
    assert r.status_code == 200
    ratio = label_around(r.text, "fact.exceedance_ratio")
    assert "超标倍数" in ratio and '<span class="unit">倍</span>' in ratio
    days = label_around(r.text, "fact.duration_days")
    assert "违法行为持续时间" in days and '<span class="unit">天</span>' in days
    eia = client.get("/assess/eia_unapproved_construction").text
    inv = label_around(eia, "fact.total_investment")
    assert "建设项目总投资额" in inv and '<span class="unit">元</span>' in inv
    assert "必填" in inv


def test_form_shows_enum_facts_as_select_with_chinese_choices(client: TestClient) -> None:
    """An enum fact is a <select> with its Chinese choices and an empty 未查明 option."""
    page = client.get("/assess/discharge_without_permit").text
    label = label_around(page, "fact.permit_status")
    assert "<select" in label
    assert re.search(r'<option value="never"\s*>未取得排污许可证</option>', label)
    assert "（未查明）" in label


def test_form_asks_a_fact_the_benchmark_grades_more_finely_once(client: TestClient) -> None:
    """Where the benchmark edition grades more finely what a law fact selects (环评文件类别 under 报告书/报告表),
    the law fact's one select offers the finer choices under each of its own, and the edition's fact has no field of its own."""
    page = client.get("/assess/eia_unapproved_construction").text
    label = label_around(page, "fact.eia_document")
    assert re.search(r'<option value="report"\s*>环境影响报告书（环评文件类别未细分）</option>', label)
    assert re.search(r'<option value="report:report_heavy"\s*>环境影响报告书——报告书（化工', label)
    assert 'name="fact.eia_category"' not in page


def test_form_one_answer_sets_the_law_fact_and_the_benchmark_fact(client: TestClient) -> None:
    """Choosing “报告书——报告书（生产型）” sets 环境影响评价文件类型 = 报告书 and 环评文件类别 = 报告书（生产型）: the factor is graded from it."""
    form = {"violation_date": "2025-03-01", "decision_date": "2025-06-01", "fact.total_investment": "10000000",
            "fact.eia_document": "report:report_production", "jurisdiction": "yunnan", "party": "unit"}
    r = submit(client, "eia_unapproved_construction", form)
    assert r.status_code == 303, r.text[:2000]
    page = text_of(client.get(r.headers["location"]).text)
    assert "个性因子“环评文件类别”：报告书（生产型），第4级" in page


def test_form_puts_a_contradiction_beside_both_fields(client: TestClient) -> None:
    """初次违法 with 两年内同类违法次数 3: the form answers 422 and shows the message that names both, and computes nothing."""
    form = {"violation_date": "2025-03-01", "decision_date": "2025-06-01", "circumstance": "first_offense",
            "fact.violations_in_two_years": "3", "jurisdiction": "yunnan", "party": "unit"}
    r = submit(client, "water_over_standard", form)
    assert r.status_code == 422
    field = label_around(r.text, "fact.violations_in_two_years")
    assert "“初次违法”与“两年内同类违法次数（含本次）”（3次）相互矛盾" in field
    assert "初次违法" in r.text.split('class="circ"', 1)[1]


def test_result_page_lists_circumstances_not_applied_and_factors_at_their_default(client: TestClient) -> None:
    """The result page shows, with their reasons, the circumstances that took no effect (初次违法 alone) and the
    factors left at their default level, and the flag to find the facts out."""
    form = {**ORDINARY_FORM, "circumstance": "first_offense"}
    r = submit(client, "water_over_standard", form)
    assert r.status_code == 303, r.text[:2000]
    page = client.get(r.headers["location"]).text
    assert '<li data-circumstance="first_offense">初次违法：只是不予处罚的条件之一' in page
    assert re.search(r'<li data-factor="duration">持续时间：第1级（不足5天）。未提供“违法行为持续时间”', page)
    assert 'data-flag="factors_unknown"' in page


def test_form_groups_circumstances_with_legal_bases(client: TestClient) -> None:
    """The form shows the circumstance groups 不予处罚/从轻、减轻/从重, each circumstance with its legal basis."""
    page = client.get("/assess/water_over_standard").text
    legends = re.findall(r"<legend>(.*?)</legend>", page)
    for group in ("不予处罚情节", "从轻、减轻情节", "从重情节"):
        assert group in legends, legends
    fieldsets = re.findall(r'<fieldset class="circ">(.*?)</fieldset>', page, re.S)
    by_legend = {re.search(r"<legend>(.*?)</legend>", f).group(1): f for f in fieldsets}  # type: ignore[union-attr]
    assert 'value="minor"' in by_legend["不予处罚情节"]
    assert 'value="confessed"' in by_legend["从轻、减轻情节"]
    assert 'value="refused_correction"' in by_legend["从重情节"]
    for group, cid in (("不予处罚情节", "minor"), ("从轻、减轻情节", "confessed"), ("从重情节", "refused_correction")):
        label = label_around(by_legend[group], f'circumstance" value="{cid}')
        assert re.search(r'<span class="law">《[^》]+》第[^<]+条', label), label


def test_every_circumstance_on_the_form_shows_a_basis_the_benchmark_one_where_the_law_gives_none(client: TestClient) -> None:
    """Circumstances without an article of their own (主动报告, 重污染天气预警 …) show the benchmark
    edition that gives them effect, with that effect; one that neither the law nor the edition ties
    to this violation type (正面清单 for water) says so instead of showing nothing."""
    page = client.get("/assess/water_over_standard").text
    fieldsets = "".join(re.findall(r'<fieldset class="circ">(.*?)</fieldset>', page, re.S))
    ids = re.findall(r'name="circumstance" value="([a-z_]+)"', fieldsets)
    assert {"positive_list", "self_reported", "obstructed_inspection", "sensitive_area"} <= set(ids)
    for cid in ids:
        label = label_around(fieldsets, f'circumstance" value="{cid}')
        assert '<span class="law">《' in label or cid == "positive_list", (cid, label)
    self_reported = label_around(fieldsets, 'circumstance" value="self_reported')
    assert re.search(r"《[^》]*裁量[^》]*》（建模）（从轻\d+个百分点）", self_reported), self_reported
    positive = label_around(fieldsets, 'circumstance" value="positive_list')
    assert "本类违法行为无单独的法律或基准依据" in positive, positive
    listed = client.get("/assess/water_monitoring_violation").text  # where the edition's 首违不罚 list names it
    positive = label_around(listed, 'circumstance" value="positive_list')
    assert re.search(r'<span class="law">《[^<]*（列入监督执法正面清单的企业初次违法', positive), positive


def test_form_shows_the_penalty_provisions_of_both_regimes(client: TestClient) -> None:
    """The form header cites the penalty provisions under the single laws and under the Code."""
    page = client.get("/assess/eia_unapproved_construction").text
    basis = re.search(r'<div class="basis small">(.*?)</div>\s*</div>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "单行法" in basis and "环境影响评价法" in basis
    assert "生态环境法典" in basis


def test_form_for_unknown_violation_is_404(client: TestClient) -> None:
    """GET /assess/{unknown} answers 404."""
    assert client.get("/assess/no_such_violation").status_code == 404


# --- result -----------------------------------------------------------------------------------


def test_valid_form_redirects_to_the_result(client: TestClient, ordinary_result: str) -> None:
    """Posting a valid form answers 303 to /result/{id}."""
    assert re.fullmatch(r"/result/[0-9a-f]{24}", ordinary_result), ordinary_result


def test_result_page_shows_amount_in_yuan_and_wan(client: TestClient, ordinary_result: str) -> None:
    """The result page shows the recommended fine as 136,000 元（13.6 万元）."""
    r = client.get(ordinary_result)
    assert r.status_code == 200
    m = re.search(r'data-testid="recommended">([^<]*)<', r.text)
    assert m, r.text[:2000]
    assert m.group(1).strip() == "136,000 元（13.6 万元）"
    assert "予以处罚" in r.text
    assert "100,000 元（10 万元） 至 1,000,000 元（100 万元）" in r.text


def test_result_page_shows_trail_table_and_reasoning(client: TestClient, ordinary_result: str) -> None:
    """The result page has the trail table (one row per step, with bases) and the reasoning in a textarea."""
    rid = ordinary_result.rsplit("/", 1)[1]
    stored = client.get(f"/v1/assessments/{rid}").json()
    page = client.get(ordinary_result).text
    table = re.search(r'<table class="list trail">(.*?)</table>', page, re.S)
    assert table
    rows = re.findall(r"<tr><td>\d+</td>", table.group(1))
    assert len(rows) == len(stored["trail"])
    assert "从轻：主动供述行政机关尚未掌握的违法行为" in table.group(1)
    assert "《中华人民共和国行政处罚法》第三十二条第三项" in table.group(1)
    reasoning = re.search(r'<textarea id="reasoning"[^>]*>(.*?)</textarea>', page, re.S)
    assert reasoning
    assert htmllib.unescape(reasoning.group(1)) == stored["reasoning"]
    assert "复制说理" in page


def test_result_of_the_form_equals_the_api_assessment(client: TestClient, ordinary_result: str) -> None:
    """The form and the JSON API give the same figures for the same case."""
    rid = ordinary_result.rsplit("/", 1)[1]
    via_form = client.get(f"/v1/assessments/{rid}").json()
    via_api = client.post(
        "/v1/assessments",
        json={"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
              "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
    ).json()
    assert via_form["fine"] == via_api["fine"]
    assert via_form["reasoning"] == via_api["reasoning"]


def test_unknown_result_is_404(client: TestClient) -> None:
    """GET /result/{unknown} answers 404."""
    assert client.get("/result/0000000000000000deadbeef").status_code == 404


def test_print_view_has_amount_reasoning_and_signature_lines(client: TestClient, ordinary_result: str) -> None:
    """The print view is HTML with the print stylesheet, the amount, the trail, the reasoning and signature lines."""
    r = client.get(ordinary_result + "/print")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "/static/print.css" in page
    assert client.get("/static/print.css").status_code == 200
    assert "136,000 元（13.6 万元）" in page
    assert '<table class="list trail">' in page
    rid = ordinary_result.rsplit("/", 1)[1]
    reasoning = client.get(f"/v1/assessments/{rid}").json()["reasoning"]
    assert reasoning in htmllib.unescape(page)
    assert "承办人" in page and "审核人" in page
    assert "<textarea" not in page and "<form" not in page


def test_docx_download_is_a_word_document_with_the_reasoning(client: TestClient, ordinary_result: str) -> None:
    """The .docx download has the Word content type, is a zip starting with PK and its document.xml holds the reasoning."""
    rid = ordinary_result.rsplit("/", 1)[1]
    r = client.get(f"{ordinary_result}/reasoning.docx")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "attachment" in r.headers["content-disposition"]
    assert f"reasoning-{rid}.docx" in r.headers["content-disposition"]
    assert r.content[:2] == b"PK"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
        assert "[Content_Types].xml" in z.namelist()
        xml = z.read("word/document.xml")
    root = ElementTree.fromstring(xml)
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    reasoning = client.get(f"/v1/assessments/{rid}").json()["reasoning"]
    assert reasoning in paragraphs
    assert any("136,000元（13.6万元）" in p for p in paragraphs), paragraphs
    assert any(rid in p for p in paragraphs)


def test_exemption_result_shows_no_penalty_and_no_amount(client: TestClient) -> None:
    """minor + corrected_promptly + no_harm renders 不予处罚 without a recommended amount."""
    form = {**ORDINARY_FORM, "fact.exceedance_ratio": "", "circumstance": ["minor", "corrected_promptly", "no_harm"]}
    r = submit(client, "water_over_standard", form)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert re.search(r'data-testid="outcome">不予处罚<', page)
    assert 'data-testid="recommended"' not in page
    docx = client.get(r.headers["location"] + "/reasoning.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_lighter_law_result_shows_both_regimes_side_by_side(client: TestClient) -> None:
    """A lighter-law case shows the single-law and Code results side by side, the Code marked as applied."""
    r = submit(client, "eia_unapproved_construction", LIGHTER_FORM)
    assert r.status_code == 303, text_of(r.text)[:500]
    page = client.get(r.headers["location"]).text
    assert "从旧兼从轻" in page
    side = re.search(r'<div class="side">(.*?)</div>\s*<h3>', page, re.S)
    assert side, page
    boxes = dict(re.findall(r'data-regime="(\w+)">(.*?)</div>', side.group(1), re.S))
    assert set(boxes) == {"pre2026", "code2026"}
    assert "1,000,000 元（100 万元） 至 5,000,000 元（500 万元）" in boxes["pre2026"]
    assert "环境影响评价法" in boxes["pre2026"]
    assert "200,000 元（20 万元） 至 1,000,000 元（100 万元）" in boxes["code2026"]
    assert "（适用）" in boxes["code2026"] and "（适用）" not in boxes["pre2026"]
    assert re.search(r'class="regime applied" data-regime="code2026"', page)
    assert re.search(r'data-testid="recommended">200,000 元（20 万元）<', page)


# --- invalid input re-renders the form ---------------------------------------------------------


def test_bad_number_rerenders_form_with_message_next_to_field(client: TestClient) -> None:
    """A non-numeric 超标倍数 re-renders the form with 422 and the Chinese message inside that field's label."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "fact.exceedance_ratio": "abc"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    label = label_around(r.text, "fact.exceedance_ratio")
    assert 'class="invalid' in label
    assert '<span class="error">请填写数字（金额以元为单位，不写“万”）</span>' in label
    assert 'value="abc"' in label
    assert "请按提示修改标红的项目" in r.text
    # the other answers are kept
    assert 'value="2025-03-01"' in label_around(r.text, "violation_date")
    assert 'value="confessed" checked' in r.text


def test_money_written_in_wan_is_rejected_next_to_field(client: TestClient) -> None:
    """An amount written as “10万” re-renders with 422 and the message next to 建设项目总投资额."""
    r = submit(client, "eia_unapproved_construction", {**LIGHTER_FORM, "violation_date": "2025-03-01",
                                                        "decision_date": "2025-09-01", "fact.total_investment": "10万"})
    assert r.status_code == 422
    assert "请填写数字" in label_around(r.text, "fact.total_investment")


def test_missing_violation_date_rerenders_form_with_message(client: TestClient) -> None:
    """An empty 违法行为发生日期 re-renders with 422 and 请填写违法行为发生日期 next to that field."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "violation_date": ""})
    assert r.status_code == 422
    label = label_around(r.text, "violation_date")
    assert 'class="invalid' in label
    assert '<span class="error">请填写违法行为发生日期</span>' in label


def test_malformed_date_rerenders_form_with_message(client: TestClient) -> None:
    """A date not in YYYY-MM-DD re-renders with 422 and the date-format message next to that field."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "decision_date": "2025/09/01"})
    assert r.status_code == 422
    assert "日期格式应为 年-月-日" in label_around(r.text, "decision_date")


def test_unknown_enum_value_rerenders_form_with_message(client: TestClient) -> None:
    """An enum value not among the choices re-renders with 422 and the Chinese message next to that select."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "fact.discharge_area": "mars"})
    assert r.status_code == 422
    label = label_around(r.text, "fact.discharge_area")
    assert 'class="invalid' in label
    m = re.search(r'<span class="error">([^<]*)</span>', label)
    assert m and "取值无效" in m.group(1) and "排放去向" in m.group(1)


def test_every_wrong_field_is_marked_at_once(client: TestClient) -> None:
    """A negative ratio, a decision before the violation and a discovery before it are each marked
    next to their own field in one answer, not one per submit."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "fact.exceedance_ratio": "-0.5",
                                               "decision_date": "2025-01-01", "discovered_date": "2024-12-01"})
    assert r.status_code == 422
    assert "不得为负数" in label_around(r.text, "fact.exceedance_ratio")  # the engine's own check (fact_problem)
    assert "决定日期早于违法行为发生日期" in label_around(r.text, "decision_date")
    assert "发现日期早于违法行为发生日期" in label_around(r.text, "discovered_date")


def test_decision_before_violation_rerenders_form_with_message(client: TestClient) -> None:
    """A decision date before the violation re-renders with 422 and the message next to 决定日期."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "decision_date": "2025-01-01"})
    assert r.status_code == 422
    assert "决定日期早于违法行为发生日期" in label_around(r.text, "decision_date")


@pytest.mark.parametrize("amount", ["1e308", "123456789012345678901234567890.5", "1e30"])
def test_absurd_amount_rerenders_form_not_a_server_error(client: TestClient, amount: str) -> None:
    """An absurdly large 建设项目总投资额 re-renders the form with 422 and a message next to the field, never a 500."""
    form = {**LIGHTER_FORM, "violation_date": "2025-03-01", "decision_date": "2025-09-01", "fact.total_investment": amount}
    r = submit(client, "eia_unapproved_construction", form)
    assert r.status_code < 500, f"server error for form input {amount!r}: {r.text[:300]}"
    assert r.status_code == 422
    assert '<span class="error">' in label_around(r.text, "fact.total_investment")
