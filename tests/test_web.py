"""The server-rendered web form (TestClient, HTML): index, form, result, print view, .docx, errors."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import re
import zipfile
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from api.clock import today
from discretion.rulebooks.tree import SHIPPED

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


def test_the_form_refuses_an_act_or_discovery_after_today_next_to_the_field(client: TestClient) -> None:
    """The form shows, next to each field, that a violation or discovery date after today (Beijing time)
    cannot be computed; nothing is stored; its decision date defaults to today in Beijing time."""
    page = client.get("/assess/water_over_standard").text
    assert f'name="decision_date" value="{today().isoformat()}"' in page
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "violation_date": tomorrow, "discovered_date": tomorrow,
                                               "decision_date": tomorrow})
    assert r.status_code == 422
    for label in ("违法行为发生日期", "发现日期"):
        assert f"{label}（{tomorrow}）晚于今天（北京时间 {today().isoformat()}）" in text_of(r.text)


# --- index ------------------------------------------------------------------------------------


def test_index_lists_every_violation_with_a_form_link(client: TestClient) -> None:
    """The index lists every violation type (one per file), each linking to its form."""
    r = client.get("/", params={"on": "2025-09-01"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="/assess/(\w+)"', r.text))
    count = len(list((SHIPPED / "law" / "violations").glob("*.yaml")))
    assert len(links) == count >= 40
    assert f"共 {count} 类违法行为" in r.text
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
    row = re.search(r'<tr data-circumstance="first_offense" class="refused">(.*?)</tr>', page, re.S)
    assert row is not None and "情节：初次违法" in row[1] and "未采用：只是不予处罚的条件之一" in row[1]
    assert re.search(r'<li data-factor="duration">持续时间：第1级（不足5天）。未提供“违法行为持续时间”', page)
    assert 'data-flag="factors_unknown"' in page


def test_result_page_lists_facts_not_applied(client: TestClient) -> None:
    """Decided under the Code after comparing both laws, the result page lists 建设项目总投资额 (which only
    the separate laws read) as a fact not applied, with its reason."""
    r = submit(client, "eia_unapproved_construction", LIGHTER_FORM)
    assert r.status_code == 303, r.text[:2000]
    page = client.get(r.headers["location"]).text
    row = re.search(r'<tr data-fact="total_investment" class="refused">(.*?)</tr>', page, re.S)
    assert row is not None and "建设项目总投资额" in row[1], page[-4000:]
    assert "未采用：该事实只在单行法下适用（已用于从旧兼从轻的比较）" in row[1]
    assert "未逐项说明" not in page  # every fact entered says whether it took effect


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
    assert any("人民币136000元（大写：人民币壹拾叁万陆仟元整）" in p for p in paragraphs), paragraphs
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
    # 环境影响报告书 not refined further: graded at the lowest 报告书 level (3 of 5, weight 1 of 4), position
    # 0.7 × 0.125 = 0.0875: 200,000 + 800,000 × 0.0875 = 270,000
    assert re.search(r'data-testid="recommended">270,000 元（27 万元）<', page)


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


def test_two_measures_with_one_id_both_reach_the_result_page_print_view_and_docx(client: TestClient) -> None:
    """逾期不拆除 (水污染防治法第八十四条第二款): 责令限期拆除 and 强制拆除 share the id ``dismantle``; the result
    page and the print view list both measures, and the .docx's reasoning names both."""
    form = {"party": "unit", "jurisdiction": "yunnan", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
            "fact.in_drinking_water_area": "false", "fact.not_corrected": "true"}
    r = submit(client, "illegal_sewage_outlet", form)
    assert r.status_code == 303, r.text[:500]
    where = r.headers["location"]
    for page in (client.get(where).text, client.get(where + "/print").text):
        measures = re.search(r"<h3>措施</h3><ul>(.*?)</ul>", page, re.S)
        assert measures, page[:2000]
        items = htmllib.unescape(measures.group(1))
        assert "责令限期拆除" in items and "强制拆除，所需费用由违法者承担" in items and "责令当事人改正或者限期改正违法行为" in items
    with zipfile.ZipFile(io.BytesIO(client.get(where + "/reasoning.docx").content)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "责令限期拆除；强制拆除，所需费用由违法者承担" in xml


# --- the case's identity on the form, the pages and the list --------------------------------------

PERSON = {"case.number": "昆环罚〔2025〕31号", "case.party.name": "赵某某", "case.party.id_code": "11010519491231002x",
          "case.address": "昆明市盘龙区某路8号", "case.location": "盘龙江某河段"}


def test_the_form_has_the_case_fields_with_chinese_labels(client: TestClient) -> None:
    """案号, 当事人名称, the identity code, the address and the place of the violation, all optional."""
    page = client.get("/assess/water_over_standard").text
    assert "案件信息（可选）" in page
    for name, label in (("case.number", "案号"), ("case.party.name", "当事人名称或姓名"),
                        ("case.party.id_code", "统一社会信用代码或公民身份号码"), ("case.address", "当事人地址"),
                        ("case.location", "违法地点")):
        assert label in label_around(page, name), name


def test_a_case_from_the_form_is_stored_and_shown_masked_on_the_result_and_print_pages(client: TestClient) -> None:
    """The case typed in the form is kept with the record (the identity code in capitals) and the
    result page and the print view show it with the personal identity number masked."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "party": "individual", **PERSON})
    assert r.status_code == 303, r.text[:2000]
    rid = r.headers["location"].rsplit("/", 1)[1]
    case = client.get(f"/v1/assessments/{rid}").json()["case"]
    assert case == {"number": "昆环罚〔2025〕31号", "party": {"name": "赵某某", "kind": "individual", "id_code": "11010519491231002X"},
                    "address": "昆明市盘龙区某路8号", "location": "盘龙江某河段"}
    for page in (client.get(f"/result/{rid}").text, client.get(f"/result/{rid}/print").text):
        shown = text_of(page)
        assert "案号 昆环罚〔2025〕31号" in shown and "当事人 赵某某（个人）" in shown
        assert "公民身份号码 1101**********002X" in shown and "11010519491231002X" not in page
        assert "违法地点 盘龙江某河段" in shown


@pytest.mark.parametrize(("extra", "field", "says"), [
    ({"case.party.id_code": "110105194912310021"}, "case.party.id_code", "校验不通过"),
    ({"case.party.id_code": "91350100M000100Y43"}, "case.party.id_code", "统一社会信用代码"),
    ({"case.party.name": "", "case.party.id_code": "11010519491231002X"}, "case.party.name", "请同时填写当事人名称"),
    ({"case.number": "号" * 65}, "case.number", "最多 64 个字符"),
    ({"case.location": "某河\u202e段"}, "case.location", "双向文字控制字符"),
])
def test_a_wrong_case_field_is_shown_beside_it_and_the_form_keeps_what_was_typed(
        client: TestClient, extra: dict[str, str], field: str, says: str) -> None:
    """The form checks the case as the API does; the message goes next to the field (422), nothing is stored."""
    before = client.get("/v1/assessments", params={"limit": 1}).json()["items"]
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "party": "individual", **PERSON, **extra})
    assert r.status_code == 422
    label = label_around(r.text, field)
    assert 'class="invalid"' in label and f'data-field="{field}"' in label and says in label, label
    assert 'value="昆明市盘龙区某路8号"' in r.text  # the rest is kept
    assert client.get("/v1/assessments", params={"limit": 1}).json()["items"] == before


def test_the_cases_page_searches_case_numbers_and_party_names(client: TestClient) -> None:
    """最近案件 has a search box; a search lists only the matching cases, the identity number masked."""
    r = submit(client, "water_over_standard", {**ORDINARY_FORM, "party": "individual", **PERSON, "case.number": "WEB-SEARCH-7"})
    rid = r.headers["location"].rsplit("/", 1)[1]
    page = client.get("/cases").text
    assert 'name="q"' in page and "检索" in page
    found = client.get("/cases", params={"q": "web-search"}).text
    assert f'data-id="{rid}"' in found and found.count("data-id=") == 1
    assert "1101**********002X" in found and "11010519491231002X" not in found
    none = client.get("/cases", params={"q": "没有这样的案号"}).text
    assert "data-id=" not in none and "没有案号或当事人含" in none
    assert client.get("/cases", params={"q": ""}).status_code == 200
    assert client.get("/cases", params={"q": "x" * 65}).status_code == 422


def test_the_result_page_links_the_case_files_documents(client: TestClient, ordinary_result: str) -> None:
    """The result page offers the notice and the reasoning, and the decision once one is recorded."""
    page = client.get(ordinary_result).text
    rid = ordinary_result.rsplit("/", 1)[1]
    assert f'href="/result/{rid}/notice.docx"' in page and f'href="/result/{rid}/reasoning.docx"' in page
    assert "决定书（记录决定后可下载）" in page
    r = client.get(f"/result/{rid}/notice.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]


BANNER_FLAGS = ("detention_referral", "hearing_notice", "collective_discussion", "legal_review")
PRE2026 = {"party": "unit", "jurisdiction": "yunnan", "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
BANNER_CASES = {  # the golden cases' inputs (rulebooks/law/cases/), with each banner's flag set by one or more
    "referral": ("air_evading_supervision", {**PRE2026, "fact.permit_managed": "on"}),
    "crime": ("hazardous_waste_dumping", {**PRE2026, "fact.act": "dumping", "fact.disposal_cost": "100000",
                                          "fact.hw_quantity_tonnes": "5"}),
    "below_crime": ("hazardous_waste_dumping", {**PRE2026, "fact.act": "dumping", "fact.disposal_cost": "100000",
                                                "fact.hw_quantity_tonnes": "0.5"}),
    "small": ("eia_registration_not_filed", PRE2026),
}


def banners_on(page: str) -> set[str]:
    """The ids of the banners at the top of a result or print page."""
    return set(re.findall(r'role="alert" data-banner="([a-z_]+)"', page))


@pytest.mark.parametrize("name", sorted(BANNER_CASES))
def test_banners_appear_exactly_for_the_flags_the_engine_set(client: TestClient, name: str) -> None:
    """The result page and its print view show a banner (role="alert") for 移送公安机关, 听证, 集体讨论 and
    法制审核 exactly when the result carries the flag, and for 涉嫌犯罪 exactly when a factor level asks for it."""
    code, form = BANNER_CASES[name]
    r = submit(client, code, form)
    assert r.status_code == 303, r.text[:500]
    rid = r.headers["location"].rsplit("/", 1)[-1]
    data = client.get(f"/v1/assessments/{rid}").json()
    want = {f["id"] for f in data["flags"]} & set(BANNER_FLAGS)
    if any("涉嫌犯罪" in s["text"] for s in data["trail"] if s["step"] == "factor"):
        want.add("crime_referral")
    assert {"referral": "detention_referral" in want, "crime": "crime_referral" in want,
            "below_crime": "crime_referral" not in want and "hearing_notice" in want,
            "small": not want}[name]
    for page in (client.get(f"/result/{rid}").text, client.get(f"/result/{rid}/print").text):
        assert banners_on(page) == want
        if want:  # the banners come before the outcome, and the flags they show are not listed again below
            assert page.index('data-testid="banners"') < page.index('data-testid="outcome"')
        for flag in want & set(BANNER_FLAGS):
            assert f'data-flag="{flag}"' not in page


def test_each_banner_says_what_to_do_and_cites_the_administrative_penalty_law(client: TestClient) -> None:
    """Each banner names the duty in Chinese and cites its article of 行政处罚法 (or the engine's basis for 拘留)."""
    pages = []
    for name in ("referral", "crime"):
        code, form = BANNER_CASES[name]
        pages.append(text_of(client.get(submit(client, code, form).headers["location"]).text))
    referral, crime = pages
    law = "《中华人民共和国行政处罚法》"
    assert "须移送公安机关" in referral and "移送公安机关依法予以拘留" in referral
    assert "《中华人民共和国环境保护法》第六十三条第三项" in referral
    assert "须告知听证权利" in referral and f"{law}第六十三条第一款第一项" in referral and f"{law}第六十四条第一项" in referral
    assert "须法制审核" in referral and f"{law}第五十八条第一款" in referral
    assert "须集体讨论决定" in crime and f"{law}第五十七条第二款" in crime
    assert "须审查是否涉嫌犯罪" in crime and "移送司法机关" in crime and f"{law}第二十七条" in crime
    assert "3吨以上" in crime


# --- a UI in Chinese only (issue 13 item 5) -----------------------------------------------------

IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+|\w+@\d{4}|\b[0-9a-f]{16,}\b|\blocal\b|\bdraft\b")


def handler_text(page: str) -> str:
    """What a handler reads on a page: its visible text without the 技术信息 <details>, scripts, styles
    and text quoted verbatim from a rulebook (data-source="rulebook")."""
    page = re.sub(r"<details\b.*?</details>", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<td data-source="rulebook">.*?</td>', " ", page, flags=re.S)
    return text_of(page)


def test_no_page_shows_a_code_an_edition_key_or_a_hash_outside_its_technical_details(client: TestClient) -> None:
    """Every page a handler or reviewer reads (index, search, form, result, print, cases, login, review, the edition
    diff with its conditions in words, replay, 修改后重新计算, error pages) shows titles and Chinese names; codes,
    edition keys, rule ids, `local`, `draft` and hashes only in 技术信息."""
    rid = submit(client, "water_over_standard", ORDINARY_FORM).headers["location"].rsplit("/", 1)[-1]
    token = csrf(client, f"/result/{rid}")
    client.post(f"/result/{rid}/decision", data={"amount": "136000", "reason": "", "csrf_token": token, "confirmed": "1"})
    html = {"accept": "text/html"}
    pages = ["/", "/?q=水", "/assess/water_over_standard", f"/result/{rid}", f"/result/{rid}/print", "/cases",
             "/cases?q=某", "/login", "/review", "/review/replay", "/nope", "/result/x", "/?on=2025-13-01",
             "/review/diff?a=yunnan@2021&b=yunnan@2023", "/review/diff?a=yunnan@2023&b=yunnan@2026-draft",
             "/review/diff?a=yunnan@2021&b=yunnan/kunming@2021", f"/result/{rid}/edit"]
    # (/result/x: a 404 echoes the id typed in the address, so a word, not a hex id)
    for path in pages:
        r = client.get(path, headers=html)
        assert r.status_code in (200, 404, 422), path
        assert IDENTIFIER.findall(handler_text(r.text)) == [], path
    result = client.get(f"/result/{rid}").text
    assert "yunnan@2023" in result and rid in result  # in 技术信息, not lost
    assert "决定人 本机操作员（管理员）" in text_of(result)


def test_the_same_edition_shows_the_same_file_hash_on_the_result_and_the_review_pages(client: TestClient,
                                                                                     ordinary_result: str) -> None:
    """The hash a result records (the edition file's) is labelled 版本文件哈希 on the result, print and /review
    pages with the same value; /review labels the approval's hash 审核内容哈希 apart from it."""
    rid = ordinary_result.rsplit("/", 1)[-1]
    sha = client.get(f"/v1/assessments/{rid}").json()["rulebook"]["sha256"]
    for path in (ordinary_result, f"{ordinary_result}/print"):
        assert f"版本文件哈希 {sha}" in text_of(client.get(path).text)
    review = client.get("/review").text
    section = review[review.index('id="yunnan@2023"'):]
    section = section[:section.index("</section>")]
    assert f"版本文件哈希 {sha}" in text_of(section) and "审核内容哈希 " in text_of(section)
    content = re.search(r"审核内容哈希 ([0-9a-f]{64})", text_of(section))
    assert content is not None and content.group(1) != sha


NAV = ('<a href="/">选择违法行为</a>', '<a href="/cases">最近案件</a>')


def test_error_pages_keep_the_sites_layout_and_navigation(client: TestClient) -> None:
    """404, 403 and 422 pages of the service are in the site's layout with its navigation and a Chinese heading."""
    html = {"accept": "text/html"}
    found = [
        (404, client.get("/nope", headers=html), "页面不存在"),
        (404, client.get(f"/result/{'0' * 24}", headers=html), "页面不存在"),
        (422, client.get("/?on=2025-13-01", headers=html), "输入有误"),
        (403, client.post("/assess/water_over_standard", data=ORDINARY_FORM, headers=html), "表单已失效"),
    ]
    for status, r, heading in found:
        assert r.status_code == status
        assert all(link in r.text for link in NAV) and '<header class="top">' in r.text
        assert f"<h1>{heading}</h1>" in r.text and 'role="alert"' in r.text


def test_429_503_and_500_pages_keep_the_sites_layout_too() -> None:
    """The error handlers answer a page in the site's layout for too many attempts, storage failures and
    unexpected errors (which answered bare markup, or JSON for a 500, before)."""
    from fastapi import FastAPI

    from api import errors
    from api.storage.failures import StorageUnavailable
    from discretion.errors import TooManyAttemptsError

    app = FastAPI()
    errors.install(app)

    @app.get("/locked")
    def locked() -> None:
        raise TooManyAttemptsError(message="登录失败次数过多，请 5 分钟后再试", retry_after=300)

    @app.get("/down")
    def down() -> None:
        raise StorageUnavailable(message="数据库暂时无法访问")

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        for path, status, heading in (("/locked", 429, "尝试过于频繁"), ("/down", 503, "服务暂不可用"),
                                      ("/broken", 500, "服务器内部错误")):
            r = c.get(path, headers={"accept": "text/html"})
            assert r.status_code == status and r.headers["content-type"].startswith("text/html")
            assert all(link in r.text for link in NAV) and f"<h1>{heading}</h1>" in r.text
        assert c.get("/broken").json()["code"] == "internal_error"  # the API still answers JSON


def test_the_header_shows_review_to_the_local_operator(client: TestClient) -> None:
    """Without auth the local operator is an admin: the navigation links 审核 (/review)."""
    assert '<a href="/review">审核</a>' in client.get("/").text


def test_the_daily_penalty_page_computes_what_the_api_computes(client: TestClient) -> None:
    """/daily (linked in the header) shows the days, the total in figures and capitals, the law and the basis,
    the same as POST /v1/daily-penalties for the same input."""
    assert '<a href="/daily">按日连续处罚</a>' in client.get("/").text
    form = {"original_fine": "100000", "order_served_date": "2026-09-01", "reinspection_date": "2026-09-11"}
    api = client.post("/v1/daily-penalties", json={**form, "original_fine": 100000}).json()
    r = client.get("/daily", params={**form, "original_fine": "100,000"})
    assert r.status_code == 200
    assert f'data-testid="daily-days">{api["days"]} 日<' in r.text and api["days"] == 10
    assert f'data-testid="daily-total">{api["total"]:,} 元<' in r.text
    assert 'data-testid="daily-capitals">人民币壹佰万元整<' in r.text
    text = text_of(r.text)
    assert api["text"] in text and all(b in text for b in api["basis"]) and "《生态环境法典》（2026年8月15日起）" in text
    assert IDENTIFIER.findall(handler_text(r.text)) == []
    assert "按日连续处罚计算" in client.get("/daily").text and 'data-testid="daily-result"' not in client.get("/daily").text


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"original_fine": "10万", "order_served_date": "2026-09-01", "reinspection_date": "2026-09-11"}, "original_fine", "整数元"),
    ({"original_fine": "0", "order_served_date": "2026-09-01", "reinspection_date": "2026-09-11"}, "original_fine", "大于零"),
    ({"original_fine": "1000", "order_served_date": "2026-9-1", "reinspection_date": "2026-09-11"}, "order_served_date", "日期格式"),
    ({"original_fine": "1000", "order_served_date": "2026-09-11", "reinspection_date": "2026-09-01"},
     "reinspection_date", "必须晚于"),
    ({"original_fine": "1000", "order_served_date": "2026-09-11", "reinspection_date": ""}, "reinspection_date", "请填写"),
    ({"original_fine": "9999999999999", "order_served_date": "1900-01-01", "reinspection_date": "2199-12-31"},
     "reinspection_date", "总额超出上限"),
])
def test_the_daily_penalty_page_marks_a_wrong_field_beside_it(client: TestClient, form: dict[str, str], field: str,
                                                              message: str) -> None:
    """A wrong or missing input on /daily is 422 with the Chinese message beside its field, the typed values kept."""
    r = client.get("/daily", params=form)
    assert r.status_code == 422
    got = re.search(rf'data-testid="{field}-error">([^<]*)<', r.text)
    assert got is not None and message in got.group(1)
    assert 'data-testid="daily-result"' not in r.text
    for name, value in form.items():
        assert f'name="{name}" value="{htmllib.escape(value)}"' in r.text


# --- everything entered comes back; 修改后重新计算 (issue 13 items 3, 4) ---------------------------------

FULL = {"violation": "water_over_standard", "party": "individual", "jurisdiction": "yunnan/kunming",
        "facts": {"exceedance_ratio": 0.5, "discharge_area": "mixed", "serious": False, "duration_days": 12},
        "circumstances": ["confessed", "first_offense"], "violation_date": "2025-03-01", "violation_end_date": "2025-03-12",
        "discovered_date": "2025-03-15", "decision_date": "2025-09-01",
        "case": {"number": "昆环罚〔2025〕88号", "party": {"name": "钱某某", "kind": "individual", "id_code": "11010519491231002X"},
                 "address": "昆明市西山区某村", "location": "昆明市西山区某河段"}}


class FormReader(HTMLParser):
    """The values a browser would send from the page's case form (inputs, ticked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "case" in a.get("class", "").split():
            self._in_form = True
        if not self._in_form or "name" not in a and tag != "option":
            return
        if tag == "input" and (a.get("type") not in ("checkbox",) or "checked" in a):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def form_of(page: str) -> list[tuple[str, str]]:
    reader = FormReader()
    reader.feed(page)
    return reader.fields


def send_form(client: TestClient, fields: list[tuple[str, str]]) -> Any:
    """POST the case form's fields as a browser does (a name may repeat: the ticked circumstances)."""
    return client.post("/assess/water_over_standard", content=urlencode(fields), follow_redirects=False,
                       headers={"content-type": "application/x-www-form-urlencoded"})


def test_the_result_and_print_pages_list_everything_entered_with_what_took_effect(client: TestClient) -> None:
    """Dates, party kind, jurisdiction; each fact with its label and the value as chosen (the enum's choice, 否);
    each circumstance as applied or not with the engine's reason; the factors left unknown — from the stored record."""
    rid = client.post("/v1/assessments", json=FULL).json()["id"]
    for page in (client.get(f"/result/{rid}").text, client.get(f"/result/{rid}/print").text):
        section = page[page.index('data-testid="entered"'):]
        section = text_of(section[:section.index("</section>")])
        for said in ("违法行为终了日期 2025年3月12日", "发现日期 2025年3月15日", "当事人类型 个人", "辖区 云南省昆明市",
                     "超标倍数 0.5倍", "排放去向/所在区域 二类功能区（商业、居住混合区）、Ⅳ类水体", "情节严重 否", "违法行为持续时间 12天",
                     "情节：主动供述行政机关尚未掌握的违法行为 有 已采用", "情节：初次违法 有 未采用：只是不予处罚的条件之一",
                     "废水/废气类别：第1级（常规污染物（生活废水等））"):
            assert said in section, (said, section)
        assert IDENTIFIER.findall(handler_text(page)) == []


def test_the_edit_form_is_filled_with_everything_the_record_was_given(client: TestClient) -> None:
    """修改后重新计算 opens the form filled from the stored record: dates, party, jurisdiction, each fact (否 kept),
    the circumstances ticked, the case (a personal identity number masked), and the record it will supersede."""
    rid = client.post("/v1/assessments", json=FULL).json()["id"]
    assert 'href="/result/' + rid + '/edit"' in client.get(f"/result/{rid}").text
    page = client.get(f"/result/{rid}/edit").text
    sent = form_of(page)
    values = dict(sent)
    assert {k: values[k] for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date", "party",
                                   "jurisdiction", "supersedes")} == {
        "violation_date": "2025-03-01", "violation_end_date": "2025-03-12", "discovered_date": "2025-03-15",
        "decision_date": "2025-09-01", "party": "individual", "jurisdiction": "yunnan/kunming", "supersedes": rid}
    assert values["fact.exceedance_ratio"] == "0.5" and values["fact.discharge_area"] == "mixed"
    assert values["fact.duration_days"] == "12" and ("fact.serious", "0") in sent and ("fact.serious", "1") not in sent
    assert sorted(v for k, v in sent if k == "circumstance") == ["confessed", "first_offense"]
    assert values["case.number"] == "昆环罚〔2025〕88号" and values["case.party.name"] == "钱某某"
    assert values["case.party.id_code"] == "1101**********002X" and "11010519491231002X" not in page
    assert values["case.address"] == "昆明市西山区某村" and values["case.location"] == "昆明市西山区某河段"
    assert "修改后重新计算" in text_of(page) and IDENTIFIER.findall(handler_text(page)) == []


def test_resubmitting_the_edit_form_supersedes_the_record_and_both_pages_say_so(client: TestClient) -> None:
    """The edit form sent with one fact changed: a new record naming the old one (the stored identity number put
    back whole, 否 kept); the old page says 已被…取代 with a link to the new, takes no decision and offers no edit;
    the new page says it is 第 2 版; /cases lists the new one only, 已修改 1 次, linking the first version."""
    old = client.post("/v1/assessments", json=FULL).json()["id"]
    fields = [(k, "1.5" if k == "fact.exceedance_ratio" else v) for k, v in form_of(client.get(f"/result/{old}/edit").text)]
    r = send_form(client, fields)
    assert r.status_code == 303, text_of(r.text)[:2000]
    new = r.headers["location"].rsplit("/", 1)[-1]
    got = client.get(f"/v1/assessments/{new}").json()
    assert got["supersedes"] == old and got["case"] == FULL["case"]
    assert got["request"]["facts"] == {**FULL["facts"], "exceedance_ratio": 1.5}
    assert got["request"]["circumstances"] and set(got["request"]["circumstances"]) == set(FULL["circumstances"])
    assert {k: got["request"][k] for k in ("party", "jurisdiction", "violation_end_date", "discovered_date")} == {
        "party": "individual", "jurisdiction": "yunnan/kunming", "violation_end_date": "2025-03-12", "discovered_date": "2025-03-15"}
    old_page = client.get(f"/result/{old}").text
    banner = old_page[old_page.index('data-testid="superseded"'):]
    assert "此记录已被修改后重新计算的记录取代" in banner and f'href="/result/{new}"' in banner
    assert 'action="/result/' + old + '/decision"' not in old_page and f"/result/{old}/edit" not in old_page
    assert "第 1 版" in text_of(client.get(f"/result/{old}/print").text)
    new_page = client.get(f"/result/{new}").text
    assert "修改后重新计算的第 2 版（已修改 1 次）" in text_of(new_page) and f'href="/result/{old}"' in new_page
    cases = client.get("/cases", params={"q": "昆环罚〔2025〕88号"}).text
    rows = re.findall(r'<tr data-id="([0-9a-f]{24})">(.*?)</tr>', cases, re.S)
    mine = {rid: row for rid, row in rows if rid in (old, new)}
    assert list(mine) == [new] and "已修改 1 次" in text_of(mine[new]) and f'href="/result/{old}"' in mine[new]
    for page in (old_page, new_page, cases):
        assert IDENTIFIER.findall(handler_text(page)) == []


def test_a_stale_edit_form_is_refused_and_points_to_the_newest_version(client: TestClient) -> None:
    """Two tabs on the same record: the second submission is refused (409) with a link to the record the first made;
    opening 修改 on a superseded record goes to the newest version's form."""
    old = client.post("/v1/assessments", json=FULL).json()["id"]
    fields = form_of(client.get(f"/result/{old}/edit").text)
    first = send_form(client, fields)
    assert first.status_code == 303
    new = first.headers["location"].rsplit("/", 1)[-1]
    second = send_form(client, fields)
    assert second.status_code == 409
    assert "该记录已经修改后重新计算过" in text_of(second.text) and f'href="/result/{new}"' in second.text
    r = client.get(f"/result/{old}/edit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/result/{new}/edit"
