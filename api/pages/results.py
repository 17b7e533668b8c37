"""The handler's pages after an assessment: its result (``/result/{id}``) with the officer's decision,
the print and Word versions, and the handler's recent cases (``/cases``)."""

from __future__ import annotations

import asyncio
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from discretion.engine.money import wan
from discretion.errors import DiscretionError, InputError, NotFoundError

from ..casedata import MAX_SEARCH, SEARCH_PATTERN, lines
from ..deps import Principal, State, check_owner, principal, require, state
from ..limits import unwritable
from ..storage.records import check_decision
from .rendering import OUTCOMES, REGIMES, ROLE_LABELS, beijing, render

router = APIRouter(include_in_schema=False)


def _stored(s: State, rid: str, who: Principal) -> dict[str, Any]:
    got = s.store.get_record(rid)  # the result with its record and the officer's decision
    if got is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    check_owner(who, got["record"]["created_by"]["name"])
    return got


def decision_lines(d: dict[str, Any]) -> list[str]:
    """The officer's decision as sentences for the reasoning document."""
    amount = f"罚款人民币{d['amount']:,}元（{wan(d['amount'])}万元）" if d["amount"] else "不予罚款（0元）"
    band = f"建议裁量档次（{d['band'][0]:,}元至{d['band'][1]:,}元）"
    where = f"在{band}内" if d["within_band"] else f"不在{band}内"
    lines = [f"决定：{amount}，{where}。"]
    if d["reason"]:
        lines.append(f"理由：{d['reason']}")
    who = f"{d['decided_by']['name']}（{ROLE_LABELS.get(d['decided_by']['role'], d['decided_by']['role'])}）"
    lines.append(f"决定人：{who}；决定时间：{beijing(d['decided_at'])}（北京时间）；决定编号：{d['id']}")
    return lines


def _result_context(s: State, rid: str, who: Principal) -> dict[str, Any]:
    r = _stored(s, rid, who)
    # pages never show a personal identity number in full (api/casedata.py)
    return {"r": r, "outcomes": OUTCOMES, "regimes": REGIMES, "roles": ROLE_LABELS, "case_lines": lines(r.get("case"), mask=True)}


@router.get("/result/{rid}", response_class=HTMLResponse)
async def result(request: Request, rid: str, s: Annotated[State, Depends(state)],
                 who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    return render(request, "result.html", **_result_context(s, rid, who))


@router.post("/result/{rid}/decision", response_class=HTMLResponse)
async def result_decide(
    request: Request, rid: str, s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(require("handler", "admin"))],
) -> Response:
    """The officer's decision from the result page (the same rules as POST /v1/assessments/{id}/decision)."""
    form = await request.form()
    raw = str(form.get("amount") or "").strip().replace(",", "").replace("，", "")
    reason = str(form.get("reason") or "")
    row = await asyncio.to_thread(s.store.get_row, rid)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    check_owner(who, row["created_by"])
    errors: dict[str, str] = {}
    try:
        if not raw.isdigit() or len(raw) > 13:
            raise InputError(message="请填写整数元（不写“万”），不小于 0", field="amount")
        if len(reason) > 2000:
            raise InputError(message="理由最多 2000 字", field="reason")
        if (problem := unwritable(reason)) is not None:
            raise InputError(message=f"理由{problem}", code="invalid_character", field="reason")
        within, why = check_decision(row, int(raw), reason)
        await s.store.add_decision(rid, amount=int(raw), reason=why, within_band=within, who=who)
        return RedirectResponse(f"/result/{rid}", status_code=303)
    except DiscretionError as exc:
        errors[exc.field or "form"] = exc.message
    ctx = _result_context(s, rid, who)
    return render(request, "result.html", status=422, decision_errors=errors,
                   decision_values={"amount": raw, "reason": reason}, **ctx)


@router.get("/cases", response_class=HTMLResponse)
async def cases(request: Request, s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)],
                q: Annotated[str | None, Query(max_length=MAX_SEARCH, pattern=SEARCH_PATTERN)] = None) -> HTMLResponse:
    """最近案件: the current user's recent assessments, with their decisions; ``q`` searches their
    case numbers and party names (as GET /v1/assessments?q= does)."""
    search = (q or "").strip() or None
    items, _ = await asyncio.to_thread(lambda: s.store.list(handler=who.name, search=search, limit=50))
    return render(request, "cases.html", items=items, me=who, outcomes=OUTCOMES, roles=ROLE_LABELS, q=search or "")


@router.get("/result/{rid}/print", response_class=HTMLResponse)
async def result_print(request: Request, rid: str, s: Annotated[State, Depends(state)],
                       who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    return render(request, "print.html", **_result_context(s, rid, who))


@router.get("/result/{rid}/reasoning.docx")
async def result_docx(rid: str, s: Annotated[State, Depends(state)],
                      who: Annotated[Principal, Depends(principal)]) -> Response:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    r = _stored(s, rid, who)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(12)
    doc.add_heading("行政处罚裁量说理", level=1)
    doc.add_paragraph(f"违法行为：{r['violation']['title']}")
    doc.add_paragraph(f"处理结果：{OUTCOMES[r['outcome']]}")
    if r["fine"]:
        doc.add_paragraph(f"建议罚款：人民币{r['fine']['recommended']:,}元（{wan(r['fine']['recommended'])}万元）")
    doc.add_paragraph(r["reasoning"])
    if r.get("decision"):
        doc.add_heading("承办人决定", level=2)
        for line in decision_lines(r["decision"]):
            doc.add_paragraph(line)
    doc.add_paragraph(f"裁量基准：{r['rulebook']['title']}（{r['rulebook']['key']}，内容哈希 {r['rulebook']['sha256']}）")
    doc.add_paragraph(f"计算编号：{r['id']}")
    buf = io.BytesIO()
    doc.save(buf)
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="reasoning-{rid}.docx"'},
    )
