"""What the three documents say, from a stored record: 《行政处罚事先告知书》, 《行政处罚决定书》
(or 《不予行政处罚决定书》) and the 裁量说理.

Which penalty a document states (:func:`penalty`):

- a result of 予以处罚: the fine the officer decided, else (the notice only) the recommended fine;
- a result of 不予处罚 or 超过追责期限: 不予行政处罚 (行政处罚法第五十七条第一款第二项 allows that
  decision), with the record's basis (the exemption's, or 第三十六条 for the time limit); a notice is
  refused (409 ``notice_not_applicable``): 第四十四条 announces a penalty about to be imposed;
- 首违不罚 (“可以不予”) where the officer decided a fine all the same: that fine, on the basis the
  record names for it (``fine_if_punished``);
- a decision document needs the officer's decision on record (409 ``decision_required``); a
  decision the record's result cannot carry (no fine decided for a penalty, a fine decided where the
  law gives no penalty) is refused (409 ``decision_not_documentable``), never papered over.

The 说理 is built from the trail (the act-time law violated, the lighter-law comparison, the
provision and range, the factors, the circumstances applied and those not applied, the officer's
reason for the amount), not from the reasoning paragraph: that paragraph recommends and carries
internal reminders (程序提示), which a document served on the party must not. The reasoning
document prints the paragraph itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from discretion.engine.capitals import rmb
from discretion.engine.citation import date_text
from discretion.engine.identity import CODE_LABELS
from discretion.errors import ConflictError

from ..casedata import lines
from ..entered import UNKNOWN_VALUE, Entered, Lookup, entered
from ..pages.rendering import ROLE_LABELS, beijing, person
from ..storage.rows import case_of, decision_out, record_meta, stored_request
from . import statute
from .numbers import doc_number

if TYPE_CHECKING:  # python-docx (0.1 s to import) is loaded by the first document, not at the service's start
    from .layout import GovDocument

KINDS = ("notice", "decision", "reasoning")
TITLES = {"notice": "行政处罚事先告知书", "decision": "行政处罚决定书", "waiver": "不予行政处罚决定书",
          "reasoning": "行政处罚裁量说理"}
OUTCOMES = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限，不再给予行政处罚"}
ANNEX_TITLE = "裁量计算过程"
BLANK = "＿＿＿＿＿＿＿＿"  # to be filled in by hand


@dataclass(frozen=True)
class Issuer:
    """Who issues the documents, from the settings (DISCRETION_AGENCY_NAME …)."""

    agency_name: str = ""
    agency_short: str = ""
    number_pattern: str = "{case_number}"
    review_body: str = ""
    court: str = ""


@dataclass(frozen=True)
class Labels:
    """What the documents look up in the rulebooks: the labels of facts and circumstances
    (api.entered.Lookup), and the hearing threshold of a benchmark edition (yuan) for a party kind."""

    look: Lookup
    hearing_at: Callable[[str, str], int | None]  # (edition key, party kind)


@dataclass
class Source:
    """A stored assessment as the documents read it."""

    id: str
    result: dict[str, Any]
    request: dict[str, Any]
    case: dict[str, Any] | None
    decision: dict[str, Any] | None
    record: dict[str, Any]

    @property
    def kind(self) -> str:
        party = (self.case or {}).get("party")
        return str(party["kind"]) if party else str(self.request.get("party", "unit"))

    @property
    def you(self) -> str:
        return "你单位" if self.kind == "unit" else "你"

    @property
    def party_name(self) -> str | None:
        party = (self.case or {}).get("party")
        return str(party["name"]) if party else None

    @property
    def number(self) -> str | None:
        return (self.case or {}).get("number")

    @property
    def decision_date(self) -> dt.date:
        return dt.date.fromisoformat(self.request["decision_date"])

    def entered(self, labels: Labels) -> Entered:
        """What the handler entered, each input with whether it took effect (api.entered)."""
        return entered(self.request, self.result, labels.look)


def source(row: Mapping[str, Any]) -> Source:
    """A stored row (Store.get_row) as the documents read it."""
    dec = row.get("decision")
    return Source(
        id=row["id"], result=orjson.loads(row["result"]), request=stored_request(row),
        case=case_of(row), decision=None if dec is None else decision_out(dec, row), record=record_meta(row))


# --- the penalty a document states --------------------------------------------------------------


@dataclass(frozen=True)
class Penalty:
    fine: int | None  # yuan; None: 不予行政处罚
    basis: list[str]  # citations
    decided: bool  # the officer's decision (else the recommendation, for a notice)


def _steps(src: Source, step: str, regime: str | None = None) -> list[dict[str, Any]]:
    return [s for s in src.result["trail"] if s["step"] == step and (regime is None or s["regime"] == regime)]


def penalty(src: Source, *, for_decision: bool) -> Penalty:
    """The penalty a notice (``for_decision`` False) or a decision states; ConflictError (409) when
    the record cannot carry one (see the module's docstring)."""
    r, d = src.result, src.decision
    if for_decision and d is None:
        raise ConflictError(message="尚未记录承办人的决定：请先记录决定的罚款数额（不予处罚为 0 元），再生成决定书",
                            code="decision_required", field="id")
    basis = [b["citation"] for b in r["law"]["basis"]]
    if r["outcome"] == "penalty":
        if d is not None:
            if d["amount"] == 0:
                raise ConflictError(
                    message="决定的罚款为 0 元，而计算结果为予以处罚：不予行政处罚须有法定情形（行政处罚法第五十七条第一款），"
                            "本系统不能据此生成文书，请核对决定或人工制作文书", code="decision_not_documentable", field="id")
            return Penalty(d["amount"], basis, True)
        if r["fine"] is None:
            raise ConflictError(message="该违法行为的处罚种类和数额须依照有关法律、法规、规章的规定确定：请先记录决定的罚款数额，再生成文书",
                                code="decision_required", field="id")
        return Penalty(r["fine"]["recommended"], basis, False)
    if d is not None and d["amount"] > 0:
        punished = next((s for s in r["trail"] if s["rule"] == "fine_if_punished"), None)
        if r.get("fine_if_punished") is not None and punished is not None:  # 首违不罚 declined: the fine the law sets
            return Penalty(d["amount"], list(punished["basis"]), True)
        raise ConflictError(
            message=f"决定罚款 {d['amount']} 元，而计算结果为{OUTCOMES[r['outcome']]}：本系统不能据此生成文书，请核对决定或人工制作文书",
            code="decision_not_documentable", field="id")
    if r["outcome"] == "time_barred":
        basis = [b for s in _steps(src, "limitation") for b in s["basis"]]
    if not for_decision:
        more = "；决定给予处罚的，请先记录决定的罚款数额" if r.get("fine_if_punished") is not None else ""
        raise ConflictError(
            message=f"本案{OUTCOMES[r['outcome']]}：事先告知书告知的是拟作出的行政处罚（行政处罚法第四十四条），"
                    f"不予处罚的案件请生成不予行政处罚决定书（decision.docx）{more}", code="notice_not_applicable", field="id")
    return Penalty(None, list(dict.fromkeys(basis)), d is not None)


# --- the parts of the documents -----------------------------------------------------------------


def money(amount: int) -> str:
    """人民币136000元（大写：人民币壹拾叁万陆仟元整）: figures as the reasoning writes them, and capitals."""
    return f"人民币{amount}元（大写：{rmb(amount)}）"


def _header(doc: GovDocument, src: Source, issuer: Issuer, kind: str, title: str) -> None:
    doc.title(issuer.agency_name or BLANK)
    doc.title(title)
    number = doc_number(issuer.number_pattern, agency_short=issuer.agency_short, year=src.decision_date.year,
                        case_number=src.number, kind=kind)
    if number:
        doc.number(number)
    doc.blank()


def _particulars(doc: GovDocument, src: Source, *, addressed: bool) -> None:
    """当事人, their identity code in full and their address (行政处罚法第五十九条第一款第一项: the
    documents are served on the party), and the case number; what the record lacks is left blank to
    be written by hand. ``addressed``: the party is the addressee (a notice: 名称：, then the rest)."""
    case = src.case or {}
    party = case.get("party") or {}
    if addressed:
        doc.addressee(src.party_name or "当事人")
    else:
        doc.labelled("当事人", src.party_name or BLANK)
    doc.labelled(CODE_LABELS[src.kind], party.get("id_code") or BLANK)
    doc.labelled("地址", case.get("address") or BLANK)
    if src.number:
        doc.labelled("案号", src.number)


def _facts(doc: GovDocument, src: Source, labels: Labels) -> None:
    """The facts: who did what, when and where; the facts found; the evidence (to be listed by hand)."""
    r, q = src.result, src.request
    when = date_text(dt.date.fromisoformat(q["violation_date"]))
    if q.get("violation_end_date"):
        when += f"至{date_text(dt.date.fromisoformat(q['violation_end_date']))}"
    where = (src.case or {}).get("location")
    doc.para(f"{src.you}于{when}{f'在{where}' if where else ''}实施了“{r['violation']['title']}”的违法行为。")
    found = [f"{x.label}：{x.value}" for x in src.entered(labels).facts if x.value != UNKNOWN_VALUE]
    if found:
        doc.para("经查明：" + "；".join(found) + "。")
    doc.para(f"以上事实，有{BLANK}等证据为证。")


def _reasons(doc: GovDocument, src: Source, labels: Labels, pen: Penalty) -> None:
    """The 说理: the law violated, 从旧兼从轻, the provision and range, the factors, the circumstances
    applied and not applied, and the officer's reason for the amount."""
    r = src.result
    regime = r["law"]["regime"]
    numerals = iter("一二三四五")

    def sub(text: str) -> None:
        doc.heading(f"（{next(numerals)}）{text}", level=2)

    violated = [v["citation"] for v in r["law"]["violated"]]
    if violated:
        doc.para(f"{src.you}的上述行为违反了{'、'.join(violated)}的规定。")
    ll = r["law"].get("lighter_law")
    if ll:
        sub("新旧法律的比较（从旧兼从轻）")
        doc.para(f"{ll['reason']}（{'、'.join(ll['basis'])}）。")
        for x in ll["results"]:
            titles = {"pre2026": "依照行为时的单行法", "code2026": "依照《中华人民共和国生态环境法典》"}
            fine = x["fine"]
            rng = "" if fine is None else (f"，法定罚款幅度为{fine['legal_min']}元至"
                                           f"{'不设上限' if fine['legal_max'] is None else str(fine['legal_max']) + '元'}")
            cites = "、".join(b["citation"] for b in x["basis"])
            doc.para(f"{titles.get(x['regime'], x['regime'])}{f'（{cites}）' if cites else ''}：{OUTCOMES[x['outcome']]}{rng}。")
    ent = src.entered(labels)
    provisions = [s["text"] for s in _steps(src, "provision", regime)]
    # the factors left at their default level are said in a sentence of their own, below
    factors = [s["text"] for s in _steps(src, "factor", regime) if s["rule"] != "factors_defaulted"]
    if provisions or factors or ent.defaulted:
        sub("罚则和裁量因子")
        for text in provisions:
            doc.para(text + "。")
        if factors:
            doc.para(f"根据{r['rulebook']['citation']}，" + "；".join(factors) + "。")
        if ent.defaulted:
            doc.para("下列裁量因子所需的事实未查明，按默认等级计算：" + "；".join(
                f"{d['label']}按第{d['level']}级（{d['level_label']}）计" for d in ent.defaulted) + "。")
    refused_facts = ent.facts_not_applied
    if refused_facts:
        doc.para("所认定的事实中，" + "；".join(f"{x.label}（{x.value}）未予采用：{x.reason}" for x in refused_facts) + "。")
    applied = [s["text"] for s in r["trail"] if s["regime"] == regime and (
        (s["step"] == "adjustment" and s["rule"] != "adjusted") or s["step"] == "reduction"
        or (s["step"] == "exemption" and s["rule"] != "fine_if_punished"))]
    sub("情节")
    if ent.circumstances:
        doc.para("查明的情节：" + "；".join(dict.fromkeys(x.label for x in ent.circumstances)) + "。")
    doc.para("适用的情节：" + ("；".join(applied) if applied else "无") + "。")
    if r.get("circumstances_not_applied") is not None:  # the engine's own list (v1 addition): each with its reason
        items = [f"{x.label}（{x.reason}）" for x in ent.circumstances_not_applied]
        doc.para("未适用的情节：" + ("；".join(items) if items else "无") + "。")
    fine = r["fine"] if r["fine"] is not None else r.get("fine_if_punished")
    if pen.fine is not None and fine is not None:
        lo, hi = fine["band"]
        text = f"按上述因子和情节，罚款的裁量档次为{lo}元至{hi}元"
        if pen.decided and src.decision is not None:  # (the band of 首违不罚's fine, not the record's [0, 0])
            text += "，决定的罚款数额在该档次内" if lo <= pen.fine <= hi else "，决定的罚款数额不在该档次内"
            if src.decision["reason"]:
                text += f"，理由是：{src.decision['reason'].rstrip('。')}"
        doc.para(text + "。")


def _measures(doc: GovDocument, src: Source, you: str, pen: Penalty) -> None:
    """Measures besides the fine (责令改正 …), and the fines of individuals (双罚), decided apart.
    Education (行政处罚法第三十三条第三款) goes with 不予行政处罚 only: not where a fine is imposed."""
    for m in src.result["measures"]:
        if m["id"] == "penalty_set_elsewhere" or (m["id"] == "education" and pen.fine is not None):
            continue
        doc.para(f"依据{'、'.join(m['basis'])}的规定，{m['text']}。" if m["basis"] else f"{m['text']}。")
    for ind in src.result["individual_fines"]:
        doc.para(f"对{you}{ind['role']}的处罚，本机关另行依法处理。")


def _annex(doc: GovDocument, src: Source) -> None:
    rows = [[str(i), s["label"], s["text"], "、".join(s["basis"])] for i, s in enumerate(src.result["trail"], 1)]
    doc.annex(ANNEX_TITLE, ["序号", "步骤", "说明", "依据"], rows, widths_mm=(12, 22, 76, 46))


def _signature(doc: GovDocument, issuer: Issuer, day: dt.date | None) -> None:
    doc.annex_note([ANNEX_TITLE])
    doc.signature(issuer.agency_name or BLANK, date_text(day) if day else "　　年　　月　　日")


# --- the documents ---------------------------------------------------------------------------------


def notice(src: Source, issuer: Issuer, labels: Labels) -> GovDocument:
    """《行政处罚事先告知书》 (行政处罚法第四十四条): the facts, reasons and basis of the penalty about to be
    imposed, the rights of 陈述、申辩 and, where the hearing threshold is reached, of a hearing."""
    pen = penalty(src, for_decision=False)
    assert pen.fine is not None
    from .layout import GovDocument

    doc = GovDocument(TITLES["notice"], issuer.agency_name)
    _header(doc, src, issuer, "notice", TITLES["notice"])
    _particulars(doc, src, addressed=True)
    doc.para(statute.say(statute.NOTICE_OPENING, src.you))
    doc.heading("一、违法事实")
    _facts(doc, src, labels)
    doc.heading("二、理由和依据")
    _reasons(doc, src, labels, pen)
    doc.heading("三、拟作出的行政处罚")
    doc.para(f"依据{'、'.join(pen.basis)}的规定，本机关拟对{src.you}作出如下行政处罚：罚款{money(pen.fine)}。")
    _measures(doc, src, src.you, pen)
    doc.heading("四、{you}享有的权利".format(you=src.you))
    doc.para(statute.say(statute.STATEMENT_RIGHTS, src.you))
    if hearing(src, pen, labels):
        doc.para(statute.say(statute.HEARING_RIGHT, src.you))
    _signature(doc, issuer, None)  # dated when it is served
    _annex(doc, src)
    return doc


def hearing(src: Source, pen: Penalty, labels: Labels) -> bool:
    """Whether the notice tells of the right to a hearing (行政处罚法第六十三条): the record's flag, or
    a decided fine at or above the edition's threshold for the party (较大数额罚款)."""
    if any(f["id"] == "hearing_notice" for f in src.result["flags"]):
        return True
    at = labels.hearing_at(src.result["rulebook"]["key"], src.kind)
    return pen.fine is not None and at is not None and pen.fine >= at


def decision(src: Source, issuer: Issuer, labels: Labels) -> GovDocument:
    """《行政处罚决定书》 with the items of 行政处罚法第五十九条, or 《不予行政处罚决定书》 (第五十七条第一款)."""
    pen = penalty(src, for_decision=True)
    kind = "decision" if pen.fine is not None else "waiver"
    title = TITLES[kind]
    from .layout import GovDocument

    doc = GovDocument(title, issuer.agency_name)
    _header(doc, src, issuer, kind, title)
    _particulars(doc, src, addressed=False)
    doc.blank()
    doc.heading("一、违法事实和证据")
    _facts(doc, src, labels)
    doc.heading("二、理由和依据")
    _reasons(doc, src, labels, pen)
    if pen.fine is not None:
        doc.heading("三、行政处罚的种类和依据")
        doc.para(f"依据{'、'.join(pen.basis)}的规定，本机关决定对{src.you}作出如下行政处罚：罚款{money(pen.fine)}。")
        _measures(doc, src, src.you, pen)
        doc.heading("四、行政处罚的履行方式和期限")
        doc.para(statute.say(statute.PAYMENT, src.you))
        doc.para(statute.say(statute.SURCHARGE, src.you))
        doc.heading("五、申请行政复议或者提起行政诉讼的途径和期限")
    else:
        doc.heading("三、不予行政处罚的决定")
        basis = f"依据{'、'.join(pen.basis)}的规定，" if pen.basis else ""
        doc.para(f"{basis}本机关决定对{src.you}不予行政处罚。")
        _measures(doc, src, src.you, pen)
        doc.heading("四、申请行政复议或者提起行政诉讼的途径和期限")
    doc.para(statute.say(statute.REMEDIES, src.you, review_body=issuer.review_body or statute.REVIEW_BODY_UNNAMED,
                         court=issuer.court or statute.COURT_UNNAMED))
    if pen.fine is not None:
        doc.para(statute.say(statute.NOT_SUSPENDED, src.you))
    _signature(doc, issuer, src.decision_date)
    _annex(doc, src)
    return doc


def decision_lines(d: Mapping[str, Any]) -> list[str]:
    """The officer's decision as sentences for the reasoning document (the operator of a service
    without auth as 本机操作员, as the pages say: never the internal name ``local``)."""
    amount = f"罚款{money(d['amount'])}" if d["amount"] else "不予罚款（0元）"
    band = f"建议裁量档次（{d['band'][0]}元至{d['band'][1]}元）"
    where = f"在{band}内" if d["within_band"] else f"不在{band}内"
    out = [f"决定：{amount}，{where}。"]
    if d["reason"]:
        out.append(f"理由：{d['reason']}")
    who = f"{person(d['decided_by']['name'])}（{ROLE_LABELS.get(d['decided_by']['role'], d['decided_by']['role'])}）"
    out.append(f"决定人：{who}；决定时间：{beijing(d['decided_at'])}（北京时间）；决定编号：{d['id']}")
    return out


def reasoning(src: Source, issuer: Issuer, labels: Labels) -> GovDocument:
    """The 裁量说理 for the case file: the reasoning paragraph as the engine wrote it, the officer's
    decision, and the rulebooks used. An internal document: a personal identity number is masked."""
    r = src.result
    from .layout import GovDocument

    doc = GovDocument(TITLES["reasoning"], issuer.agency_name)
    doc.title(issuer.agency_name or BLANK)
    doc.title(TITLES["reasoning"])
    doc.blank()
    for label, text in lines(src.case, mask=True):
        doc.labelled(label, text)
    doc.labelled("违法行为", r["violation"]["title"])
    doc.labelled("处理结果", OUTCOMES[r["outcome"]])
    if r["fine"]:
        doc.labelled("建议罚款", money(r["fine"]["recommended"]))
    numerals = iter("一二三四")
    doc.heading(f"{next(numerals)}、裁量说理")
    doc.para(r["reasoning"])
    _entered_table(doc, src.entered(labels), f"{next(numerals)}、所填事实和情节")
    if src.decision is not None:
        doc.heading(f"{next(numerals)}、承办人决定")
        for line in decision_lines(src.decision):
            doc.para(line)
    rb = r["rulebook"]
    doc.heading(f"{next(numerals)}、计算依据")
    doc.para(f"裁量基准：{rb['title']}（{rb['key']}，内容哈希 {rb['sha256']}）。")
    doc.para(f"计算编号：{src.id}；记录序号 {src.record['seq']}，哈希 {src.record['hash']}。")
    doc.annex_note([ANNEX_TITLE])
    doc.blank()
    doc.para(f"承办人：{BLANK}　审核人：{BLANK}　日期：{BLANK}")
    _annex(doc, src)
    return doc


def _entered_table(doc: GovDocument, ent: Entered, heading: str) -> None:
    """Everything the handler entered (api.entered): the dates, party kind and jurisdiction, then a
    table of the facts and circumstances with whether each took effect and why not, then the factors
    left at their default level."""
    doc.heading(heading)
    for label, text in ent.basics[1:]:  # the violation is named above
        doc.labelled(label, text)
    rows = [[x.label, x.value, x.status, x.reason or ""] for x in ent.facts]
    rows += [[f"情节：{x.label}", "有", x.status, x.reason or ""] for x in ent.circumstances]
    rows += [[f"裁量因子：{d['label']}", UNKNOWN_VALUE, f"按默认第{d['level']}级（{d['level_label']}）计", d["reason"]]
             for d in ent.defaulted]  # the factors left unknown
    if rows:
        doc.table(["项目", "所填", "采用情况", "说明"], rows, widths_mm=(44, 38, 30, 44))
    else:
        doc.para("未填写事实和情节。")


BUILDERS = {"notice": notice, "decision": decision, "reasoning": reasoning}


def title_of(kind: str, src: Source) -> str:
    """The name of the document a kind gives for this record (a waived case's decision is 不予…)."""
    if kind == "decision" and penalty(src, for_decision=True).fine is None:
        return TITLES["waiver"]
    return TITLES[kind]
