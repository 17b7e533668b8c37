"""The case file's documents (.docx in the GB/T 9704-2012 layout), read back with python-docx: the page,
the fonts, the party with the identity code as each document shows it, the amount in capitals, the
rights and time limits the law gives, and which record yields which document."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Pt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.documents.numbers import disposition, doc_number
from api.main import create_app
from api.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_openapi_responses import EXEMPTION, RARE, TIME_BARRED  # noqa: E402  (cases of the rarer shapes)

PENALTY = {"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
           "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
UNIT = {"number": "昆环罚〔2025〕12号", "party": {"name": "昆明某某化工有限公司", "kind": "unit", "id_code": "91350100M000100Y43"},
        "address": "昆明市官渡区某路1号", "location": "昆明市官渡区某排污口"}
PERSON_CODE = "11010519491231002X"
PERSON = {"number": "昆环罚〔2025〕13号", "party": {"name": "钱某某", "kind": "individual", "id_code": PERSON_CODE},
          "address": "昆明市西山区某村"}
SETTINGS = {"agency_name": "昆明市生态环境局", "agency_short": "昆", "review_body": "昆明市人民政府",
            "court": "昆明市官渡区人民法院", "doc_number_pattern": "{agency_short}环罚{doc}〔{year}〕{serial}号"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    db = tmp_path_factory.mktemp("documents") / "d.db"
    return create_app(Settings(database_url=f"sqlite:///{db}", **SETTINGS))


def post(client: TestClient, body: dict[str, Any]) -> str:
    r = client.post("/v1/assessments", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def decide(client: TestClient, rid: str, amount: int, reason: str | None = "理由") -> None:
    r = client.post(f"/v1/assessments/{rid}/decision", json={"amount": amount, "reason": reason})
    assert r.status_code == 201, r.text


def fetch(client: TestClient, rid: str, kind: str) -> Any:
    return client.get(f"/v1/assessments/{rid}/documents/{kind}.docx")


def read(r: Any) -> DocxDocument:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return Document(io.BytesIO(r.content))


def texts(doc: DocxDocument) -> list[str]:
    """Every paragraph's text, the annex table's cells included."""
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        out += [c.text for row in table.rows for c in row.cells]
    return out


def whole(doc: DocxDocument) -> str:
    return "\n".join(texts(doc))


def body(doc: DocxDocument) -> str:
    """The document's own text, before the annex (the trail's table repeats the record's words)."""
    lines = [p.text for p in doc.paragraphs]
    return "\n".join(lines[:lines.index("附件：裁量计算过程")])


def mm(length: int) -> float:
    """A length read back (Word keeps twentieths of a point) in mm, to 0.1 mm."""
    return round(length / 36000, 1)


@pytest.fixture(scope="module")
def unit_case(client: TestClient) -> str:
    return post(client, {**PENALTY, "case": UNIT})


# --- the layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["notice", "reasoning"])
def test_documents_are_a4_with_the_gbt_9704_margins_fonts_and_line_pitch(client: TestClient, unit_case: str, kind: str) -> None:
    """A4 portrait; margins 37/35/28/26 mm; body 仿宋 三号 (16 pt) at a fixed 28.9 pt; the title lines
    in 方正小标宋简体 二号 (22 pt); every office font has WenQuanYi Zen Hei as its alternate."""
    doc = read(fetch(client, unit_case, kind))
    section = doc.sections[0]
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert [mm(m) for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)] == [37, 35, 28, 26]
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert normal.paragraph_format.line_spacing == Pt(28.9)
    agency, title = doc.paragraphs[0], doc.paragraphs[1]
    assert agency.text == "昆明市生态环境局" and title.text in ("行政处罚事先告知书", "行政处罚裁量说理")
    for p in (agency, title):
        run = p.runs[0]
        assert run.font.size == Pt(22) and run._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    body = next(p for p in doc.paragraphs if p.text.startswith(("根据", "经查")))
    assert body.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋" and body.runs[0].font.size == Pt(16)
    assert body.paragraph_format.first_line_indent == Pt(32)
    fonts = doc.part.part_related_by(RT.FONT_TABLE).blob.decode()
    for name in ("方正小标宋简体", "仿宋", "黑体"):
        assert re.search(rf'w:name="{name}">\s*<w:altName w:val="WenQuanYi Zen Hei"/>', fonts), name


def test_pages_are_numbered_in_the_footer_odd_right_and_even_left(client: TestClient, unit_case: str) -> None:
    """— PAGE — in 4号宋体, odd pages right-aligned and even pages left-aligned (GB/T 9704 §7.5)."""
    doc = read(fetch(client, unit_case, "notice"))
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        xml = footer.paragraphs[0]._p.xml
        assert "PAGE" in xml and f'w:val="{align}"' in xml and "宋体" in xml
        assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(" —")


def test_the_trail_is_an_annex_table_on_a_page_of_its_own(client: TestClient, unit_case: str) -> None:
    """附件：裁量计算过程 after the body; the annex has a header row and one row per step of the trail."""
    trail = client.get(f"/v1/assessments/{unit_case}").json()["trail"]
    doc = read(fetch(client, unit_case, "notice"))
    assert "附件：裁量计算过程" in texts(doc)
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == ["序号", "步骤", "说明", "依据"]
    assert len(table.rows) == len(trail) + 1
    assert [r.cells[2].text for r in table.rows[1:]] == [s["text"] for s in trail]
    assert "w:tblHeader" in table.rows[0]._tr.xml


# --- the notice --------------------------------------------------------------------------------------


def test_the_notice_states_the_proposed_fine_in_figures_and_capitals_and_the_rights(client: TestClient, unit_case: str) -> None:
    """事先告知书: the party with its full credit code, the case number and the numbered title line,
    the facts and place, the proposed fine (recommended: no decision yet), 陈述、申辩 and, the hearing
    flag being set, 要求听证 within five days."""
    doc = read(fetch(client, unit_case, "notice"))
    text = whole(doc)
    lines = texts(doc)
    assert "昆环罚告〔2025〕12号" in lines
    assert "昆明某某化工有限公司：" in lines
    assert "统一社会信用代码：91350100M000100Y43" in lines and "地址：昆明市官渡区某路1号" in lines
    assert "案号：昆环罚〔2025〕12号" in lines
    assert "在昆明市官渡区某排污口实施了" in text and "超标倍数：0.5倍" in text
    assert "罚款人民币136000元（大写：人民币壹拾叁万陆仟元整）" in text
    assert "你单位有权进行陈述和申辩" in text and "第四十四条、第四十五条" in text
    assert "要求听证的，应当在本机关告知后五日内提出" in text and "第六十三条、第六十四条第一项" in text
    assert "程序提示" not in body(doc) and "建议" not in body(doc)  # internal reminders stay internal


def test_the_notice_of_a_decided_case_proposes_the_decided_fine(client: TestClient) -> None:
    """Once the officer has decided, the notice proposes that amount (375000: 叁拾柒万伍仟元整)."""
    rid = post(client, {**PENALTY, "case": UNIT})
    decide(client, rid, 375000, "情节较重")
    text = whole(read(fetch(client, rid, "notice")))
    assert "罚款人民币375000元（大写：人民币叁拾柒万伍仟元整）" in text
    assert "不在该档次内，理由是：情节较重" in text


def test_a_notice_without_the_hearing_threshold_does_not_offer_a_hearing(client: TestClient, unit_case: str) -> None:
    """The hearing sentence follows the record's hearing flag, or a decided fine at or above the
    edition's threshold (yunnan@2023: 50000 yuan for a unit)."""
    from api.documents import content, issuer, labels

    state = client.app.state.discretion  # type: ignore[attr-defined]
    src = content.source(state.store.get_row(unit_case))
    src.result["flags"] = [f for f in src.result["flags"] if f["id"] != "hearing_notice"]
    lab = labels(state.rulebooks, state.engine.compiled)
    rights = "要求听证的，应当在本机关告知后五日内提出"
    src.result["fine"] = {**src.result["fine"], "recommended": 49900}
    assert rights not in whole(content.notice(src, issuer(state.settings), lab).doc)
    src.result["fine"] = {**src.result["fine"], "recommended": 50000}
    assert rights in whole(content.notice(src, issuer(state.settings), lab).doc)


def test_a_waived_case_has_no_notice(client: TestClient) -> None:
    """不予处罚 and 超过追责期限: 409 notice_not_applicable (第四十四条 announces a penalty to be imposed)."""
    for body in (EXEMPTION, TIME_BARRED):
        r = fetch(client, post(client, body), "notice")
        assert r.status_code == 409 and r.json()["code"] == "notice_not_applicable", r.text
        assert "不予行政处罚决定书" in r.json()["message"]


# --- the decision ------------------------------------------------------------------------------------


def test_a_decision_document_needs_the_officers_decision(client: TestClient) -> None:
    """Before a decision is recorded, decision.docx is 409 decision_required."""
    r = fetch(client, post(client, {**PENALTY, "case": UNIT}), "decision")
    assert r.status_code == 409 and r.json()["code"] == "decision_required"


def test_the_decision_carries_the_items_of_article_59_and_the_time_limits(client: TestClient) -> None:
    """行政处罚决定书: party, name and address; facts; reasons; the fine in figures and capitals and its
    basis; payment within 15 days and the 3 % daily surcharge; review within 60 days (to the body
    set), suit within six months (to the court set); the agency, the decision date and the seal."""
    rid = post(client, {**PENALTY, "case": UNIT})
    decide(client, rid, 375000, "情节较重")
    doc = read(fetch(client, rid, "decision"))
    text, lines = whole(doc), texts(doc)
    assert lines[1] == "行政处罚决定书" and "昆环罚〔2025〕12号" in lines
    assert "当事人：昆明某某化工有限公司" in lines and "地址：昆明市官渡区某路1号" in lines
    assert "统一社会信用代码：91350100M000100Y43" in lines
    assert "违反了《中华人民共和国水污染防治法》第十条的规定" in text
    assert "依据《中华人民共和国水污染防治法》第八十三条第二项的规定，本机关决定对你单位作出如下行政处罚：" \
           "罚款人民币375000元（大写：人民币叁拾柒万伍仟元整）。" in text
    assert "根据《云南省生态环境行政处罚裁量权规则和基准规定（2023年版）》（建模），个性因子“超标状况”" in text
    assert "适用的情节：从轻：主动供述行政机关尚未掌握的违法行为" in text
    assert "自收到本决定书之日起十五日内，到指定的银行或者通过电子支付系统缴纳罚款（《中华人民共和国行政处罚法》第六十七条第三款）" in text
    assert "每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额（《中华人民共和国行政处罚法》第七十二条第一款第一项）" in text
    assert "自收到本决定书之日起六十日内向昆明市人民政府申请行政复议（《中华人民共和国行政复议法》第二十条第一款）" in text
    assert "自收到本决定书之日起六个月内向昆明市官渡区人民法院提起行政诉讼（《中华人民共和国行政诉讼法》第四十六条第一款）" in text
    assert "昆明市生态环境局（印章）" in lines and "2025年9月1日" in lines


def test_the_decision_of_a_waived_case_is_a_decision_not_to_punish(client: TestClient) -> None:
    """不予处罚 with a decision of 0: 《不予行政处罚决定书》 with the exemption's basis, no payment terms."""
    rid = post(client, {**EXEMPTION, "case": UNIT})
    decide(client, rid, 0, None)
    r = fetch(client, rid, "decision")
    doc = read(r)
    text = whole(doc)
    assert texts(doc)[1] == "不予行政处罚决定书"
    assert "依据《中华人民共和国行政处罚法》第三十三条第一款的规定，本机关决定对你单位不予行政处罚。" in text
    assert "十五日内" not in text and "加处罚款" not in text
    assert "六十日内" in text and "六个月内" in text
    assert unquote(r.headers["content-disposition"].split("filename*=UTF-8''")[1]) == "不予行政处罚决定书（昆环罚〔2025〕12号）.docx"


def test_a_time_barred_case_is_not_punished_on_the_limitation_article(client: TestClient) -> None:
    """超过追责期限: 不予行政处罚 on 行政处罚法第三十六条第一款."""
    rid = post(client, {**TIME_BARRED, "case": UNIT})
    decide(client, rid, 0, None)
    text = whole(read(fetch(client, rid, "decision")))
    assert "依据《中华人民共和国行政处罚法》第三十六条第一款的规定，本机关决定对你单位不予行政处罚。" in text


def test_a_first_offence_the_bureau_decides_to_punish_is_fined_on_the_penalty_article(client: TestClient) -> None:
    """首违不罚 (“可以不予”) with a decided fine: a 行政处罚决定书 on the fine's own article, not on 第三十三条."""
    rid = post(client, {**RARE["first_offense_fine_if_punished"], "case": UNIT})
    decide(client, rid, 100000, "当事人拒不配合调查，决定给予处罚")
    text = body(read(fetch(client, rid, "decision")))
    assert "依据《中华人民共和国水污染防治法》第八十三条第二项的规定，本机关决定对你单位作出如下行政处罚：罚款人民币100000元" in text
    assert "对当事人进行教育" not in text  # education goes with 不予处罚 only
    assert "决定的罚款数额在该档次内" in text


def test_a_decision_the_result_cannot_carry_is_refused(client: TestClient) -> None:
    """A penalty result decided at 0, or a mandatory exemption decided with a fine: 409 decision_not_documentable."""
    rid = post(client, {**PENALTY, "case": UNIT})
    decide(client, rid, 0, "不罚")
    assert fetch(client, rid, "decision").json()["code"] == "decision_not_documentable"
    rid = post(client, {**EXEMPTION, "case": UNIT})
    decide(client, rid, 5000, "罚")
    assert fetch(client, rid, "decision").json()["code"] == "decision_not_documentable"


# --- personal identity numbers ------------------------------------------------------------------


def test_the_served_documents_name_a_person_in_full_and_the_reasoning_masks_the_number(client: TestClient) -> None:
    """The notice and the decision go to the party: 公民身份号码 in full, 你 as the address; the
    reasoning (internal) shows 1101**********002X."""
    rid = post(client, {**PENALTY, "case": PERSON})
    decide(client, rid, 136000)
    for kind, you in (("notice", "你有权进行陈述和申辩"), ("decision", "你如不服本决定")):
        text = body(read(fetch(client, rid, kind)))
        assert f"公民身份号码：{PERSON_CODE}" in text and "钱某某" in text
        assert you in text and "你单位" not in text
    reasoning = whole(read(fetch(client, rid, "reasoning")))
    assert "公民身份号码：1101**********002X" in reasoning and PERSON_CODE not in reasoning
    assert "案号：昆环罚〔2025〕13号" in reasoning


def test_a_document_without_a_case_leaves_the_party_to_be_written_in(client: TestClient) -> None:
    """No case: the party's name, code and address are blanks to fill in, and no number line is printed."""
    rid = post(client, PENALTY)
    lines = texts(read(fetch(client, rid, "notice")))
    assert "当事人：" in lines and "统一社会信用代码：＿＿＿＿＿＿＿＿" in lines and "地址：＿＿＿＿＿＿＿＿" in lines
    assert not any(re.fullmatch(r"昆环罚.*号", t) for t in lines[:4])


# --- names, numbers and access --------------------------------------------------------------------


def test_the_file_name_is_chinese_with_the_case_number_and_an_ascii_fallback(client: TestClient, unit_case: str) -> None:
    """Content-Disposition: filename="notice-<id>.docx"; filename*=UTF-8''行政处罚事先告知书（昆环罚〔2025〕12号）.docx."""
    header = fetch(client, unit_case, "notice").headers["content-disposition"]
    assert header.startswith(f'attachment; filename="notice-{unit_case}.docx"; filename*=UTF-8\'\'')
    assert header.isascii()
    assert unquote(header.split("''", 1)[1]) == "行政处罚事先告知书（昆环罚〔2025〕12号）.docx"


def test_a_file_name_never_carries_a_path_or_a_quote() -> None:
    """Characters a file name may not hold are replaced; the header stays one ASCII line."""
    from api.documents.numbers import file_name

    name = file_name("行政处罚决定书", '../a"b\\c')
    assert name == "行政处罚决定书（.._a_b_c）.docx"
    assert "\n" not in disposition(name, "x.docx") and disposition(name, "x.docx").isascii()


def test_document_numbers_follow_the_pattern_and_are_left_out_when_a_field_is_missing() -> None:
    """{serial} is the last run of digits of the case number; without one the number is None (to be written by hand)."""
    pattern = "{agency_short}环罚{doc}〔{year}〕{serial}号"
    assert doc_number(pattern, agency_short="昆", year=2026, case_number="昆环罚〔2026〕12号", kind="notice") == "昆环罚告〔2026〕12号"
    assert doc_number(pattern, agency_short="昆", year=2026, case_number="昆环罚〔2026〕12号", kind="decision") == "昆环罚〔2026〕12号"
    assert doc_number(pattern, agency_short="昆", year=2026, case_number=None, kind="decision") is None
    assert doc_number(pattern, agency_short="", year=2026, case_number="12", kind="decision") is None
    assert doc_number("{case_number}", agency_short="", year=2026, case_number="KM-7", kind="notice") == "KM-7"


@pytest.mark.parametrize("pattern", ["{agency}〔{year}〕", "{year!r}", "{year:>8}", "{", "a\nb"])
def test_a_document_number_pattern_with_unknown_fields_is_refused_at_start(pattern: str) -> None:
    """DISCRETION_DOC_NUMBER_PATTERN may name only the fields the documents fill in."""
    with pytest.raises(ValidationError):
        Settings(doc_number_pattern=pattern)


def test_an_unknown_kind_or_record_is_refused(client: TestClient, unit_case: str) -> None:
    """Another document name is 422; an unknown id is 404."""
    assert client.get(f"/v1/assessments/{unit_case}/documents/letter.docx").status_code == 422
    assert client.get(f"/v1/assessments/{'0' * 24}/documents/notice.docx").status_code == 404


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = tmp_path_factory.mktemp("documents-auth") / "a.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", auth=True))
    store = app.state.access.store
    tokens = {name: store.create_token(f"app-{name}", role, "tests")[1]
              for name, role in (("h1", "handler"), ("h2", "handler"), ("rev", "reviewer"))}
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, tokens


def test_documents_follow_the_access_rules_of_the_record(secured: tuple[TestClient, dict[str, str]]) -> None:
    """A handler gets only their own records' documents (403 for another's); a reviewer gets all."""
    c, tokens = secured
    auth = {k: {"Authorization": f"Bearer {t}"} for k, t in tokens.items()}
    rid = c.post("/v1/assessments", json={**PENALTY, "case": UNIT}, headers=auth["h1"]).json()["id"]
    for kind in ("notice", "reasoning"):
        assert c.get(f"/v1/assessments/{rid}/documents/{kind}.docx", headers=auth["h1"]).status_code == 200
        r = c.get(f"/v1/assessments/{rid}/documents/{kind}.docx", headers=auth["h2"])
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert c.get(f"/v1/assessments/{rid}/documents/{kind}.docx", headers=auth["rev"]).status_code == 200
    assert c.get(f"/v1/assessments/{rid}/documents/notice.docx").status_code == 401


def test_circumstances_not_applied_are_named_with_their_reason_when_the_record_has_them(client: TestClient) -> None:
    """A record carrying ``circumstances_not_applied`` (the result's v1 addition) prints each with its
    label and reason under 情节 (无 when the list is empty); a record made before it has no such line
    (it is left out rather than guessed)."""
    from api.documents import content, issuer, labels

    rid = post(client, {**PENALTY, "case": UNIT})
    decide(client, rid, 136000)
    state = client.app.state.discretion  # type: ignore[attr-defined]
    lab = labels(state.rulebooks, state.engine.compiled)
    src = content.source(state.store.get_row(rid))
    assert "未适用的情节：无。" in body(content.decision(src, issuer(state.settings), lab).doc)
    del src.result["circumstances_not_applied"]  # as in a record made before the field existed
    assert "未适用的情节" not in body(content.decision(src, issuer(state.settings), lab).doc)
    src.request["circumstances"] = [*src.request["circumstances"], "first_offense"]
    src.result["circumstances_not_applied"] = [{"code": "first_offense", "reason": "该违法行为不是初次违法"}]
    label = state.rulebooks.circumstances["first_offense"].label
    assert f"未适用的情节：{label}（该违法行为不是初次违法）。" in body(content.decision(src, issuer(state.settings), lab).doc)


# --- everything the handler entered (issue 13 item 3) -----------------------------------------------

ENTERED = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01",
           "facts": {"exceedance_ratio": 0.5, "discharge_area": "mixed", "serious": False, "duration_days": 12},
           "circumstances": ["confessed", "first_offense"], "case": UNIT}


def test_the_decision_lists_the_facts_as_entered_the_circumstances_applied_and_not_and_the_factors_left_unknown(
        client: TestClient) -> None:
    """决定书: each fact with its label and the value as chosen (the enum's choice, 否, the unit); every circumstance
    found, the one applied and the one not applied with the engine's reason; the factors left at their default level."""
    rid = post(client, ENTERED)
    decide(client, rid, 136000)
    text = body(read(fetch(client, rid, "decision")))
    said = ["经查明：超标倍数：0.5倍；排放去向/所在区域：二类功能区（商业、居住混合区）、Ⅳ类水体；情节严重：否；违法行为持续时间：12天。",
            "查明的情节：主动供述行政机关尚未掌握的违法行为；初次违法。", "适用的情节：从轻：主动供述行政机关尚未掌握的违法行为",
            "未适用的情节：初次违法（只是不予处罚的条件之一，本案不具备其全部条件",
            "下列裁量因子所需的事实未查明，按默认等级计算：废水/废气类别按第1级（常规污染物（生活废水等））计；", "案号：昆环罚〔2025〕12号"]
    assert [s for s in said if s not in text] == []


def test_the_reasoning_tables_every_input_with_whether_it_took_effect(client: TestClient) -> None:
    """裁量说理: the dates, party kind and jurisdiction, then one row per fact, circumstance and factor left unknown:
    what was entered, whether it took effect and why not."""
    rid = post(client, ENTERED)
    doc = read(fetch(client, rid, "reasoning"))
    assert "二、所填事实和情节" in texts(doc) and "违法行为发生日期：2025年3月1日" in texts(doc) and "辖区：云南省" in texts(doc)
    table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["项目", "所填", "采用情况", "说明"]
    assert ["情节严重", "否", "已采用", ""] in rows  # the engine lists the facts not applied: the others took effect
    assert not any("未逐项说明" in r for r in rows)
    assert ["情节：主动供述行政机关尚未掌握的违法行为", "有", "已采用", ""] in rows
    refused = next(r for r in rows if r[0] == "情节：初次违法")
    assert refused[2] == "未采用" and refused[3].startswith("只是不予处罚的条件之一")
    unknown = next(r for r in rows if r[0] == "裁量因子：废水/废气类别")
    assert unknown[1:3] == ["未查明", "按默认第1级（常规污染物（生活废水等））计"] and unknown[3].startswith("未提供“废水/废气类别”")
    assert doc.tables[-1].rows[0].cells[0].text == "序号"  # the trail stays the annex, last


def test_facts_the_engine_did_not_apply_are_named_with_the_reason_in_the_decision(client: TestClient) -> None:
    """A record whose result lists ``facts_not_applied`` (the engine's, {code, label, reason}) says in the decision
    which fact was not taken up and why, and marks the others 已采用 in the reasoning's table."""
    from api.documents import content, issuer, labels

    rid = post(client, ENTERED)
    decide(client, rid, 136000)
    state = client.app.state.discretion  # type: ignore[attr-defined]
    lab = labels(state.rulebooks, state.engine.compiled)
    src = content.source(state.store.get_row(rid))
    src.result["facts_not_applied"] = [{"code": "serious", "label": "情节严重", "reason": "所适用的罚则不以情节严重为条件"}]
    assert "所认定的事实中，情节严重（否）未予采用：所适用的罚则不以情节严重为条件。" in body(content.decision(src, issuer(state.settings), lab).doc)
    table = content.reasoning(src, issuer(state.settings), lab).doc.tables[0]
    rows = {r.cells[0].text: r.cells[2].text for r in table.rows}
    assert rows["情节严重"] == "未采用" and rows["超标倍数"] == "已采用"


def test_no_document_prints_the_internal_name_of_the_local_operator(client: TestClient) -> None:
    """Without auth the decision is recorded as made by ``local``: the reasoning says 本机操作员, never local."""
    rid = post(client, PENALTY)
    decide(client, rid, 136000)
    text = whole(read(fetch(client, rid, "reasoning")))
    assert "决定人：本机操作员（管理员）" in text and "local" not in text
