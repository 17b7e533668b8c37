"""The handler's pages after an assessment: its result (``/result/{id}``) with the officer's decision,
the print and Word versions, and the handler's recent cases (``/cases``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from discretion.engine.capitals import rmb
from discretion.errors import DiscretionError, InputError, NotFoundError

from ..casedata import MAX_SEARCH, SEARCH_PATTERN, lines
from ..deps import Principal, State, check_owner, principal, require, state
from ..documents import DocumentKind, serve
from ..entered import entered, lookup
from ..limits import unwritable
from ..storage.failures import StorageUnavailable
from ..storage.records import check_decision
from ..storage.rows import band_of
from .alerts import banners
from .rendering import OUTCOMES, REGIMES, ROLE_LABELS, render

router = APIRouter(include_in_schema=False)


async def _stored(s: State, rid: str, who: Principal) -> dict[str, Any]:
    got = await s.store.call(s.store.get_record, rid)  # the result with its record and the officer's decision
    if got is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    check_owner(who, got["record"]["created_by"]["name"])
    return got


async def _result_context(s: State, rid: str, who: Principal) -> dict[str, Any]:
    r = await _stored(s, rid, who)
    # pages never show a personal identity number in full (api/casedata.py)
    must = banners(r)  # what must not be missed, at the top of the page (api/pages/alerts.py)
    versions = r.get("versions") or []
    at = next((i for i, v in enumerate(versions) if v["id"] == r["id"]), 0)
    return {"r": r, "outcomes": OUTCOMES, "regimes": REGIMES, "roles": ROLE_LABELS, "case_lines": lines(r.get("case"), mask=True),
            "banners": must, "banner_ids": [b["id"] for b in must], "me": who,
            # everything the handler entered, from the stored record (api/entered.py)
            "ent": entered(r["request"], r, lookup(s.rulebooks, s.engine.compiled)),
            # 修改后重新计算: this record's place among the versions of its case, and whether it may be changed here
            "versions": versions, "version_no": at + 1, "latest": versions[-1] if versions else None,
            "editable": r.get("superseded_by") is None and r["record"]["created_by"]["name"] == who.name}


@router.get("/result/{rid}", response_class=HTMLResponse)
async def result(request: Request, rid: str, s: Annotated[State, Depends(state)],
                 who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    return render(request, "result.html", **await _result_context(s, rid, who))


@router.post("/result/{rid}/decision", response_class=HTMLResponse)
async def result_decide(
    request: Request, rid: str, s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(require("handler", "admin"))],
) -> Response:
    """The officer's decision from the result page (the same rules as POST /v1/assessments/{id}/decision),
    in two steps without script: the form's post checks it and answers a confirmation page (the amount in
    figures and in capitals, the band, the reason) whose 确认记录 posts the same values with
    ``confirmed=1``; only that post, checked again, records the decision."""
    form = await request.form()
    raw = str(form.get("amount") or "").strip().replace(",", "").replace("，", "")
    reason = str(form.get("reason") or "")
    row = await s.store.call(s.store.get_row, rid)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    check_owner(who, row["created_by"])
    errors: dict[str, str] = {}
    try:
        if not raw.isdecimal() or len(raw) > 13:
            raise InputError(message="请填写整数元（不写“万”），不小于 0", field="amount")
        if len(reason) > 2000:
            raise InputError(message="理由最多 2000 字", field="reason")
        if (problem := unwritable(reason)) is not None:
            raise InputError(message=f"理由{problem}", code="invalid_character", field="reason")
        within, why = check_decision(row, int(raw), reason)
        if form.get("confirmed") != "1":
            ctx = await _result_context(s, rid, who)
            return render(request, "decision_confirm.html", r=ctx["r"], amount=int(raw), capitals=rmb(int(raw)),
                          reason=why or "", within=within, band=band_of(row), roles=ROLE_LABELS, me=who)
        await s.store.wait(s.store.add_decision(rid, amount=int(raw), reason=why, within_band=within, who=who))
        return RedirectResponse(f"/result/{rid}", status_code=303)
    except StorageUnavailable:
        raise  # 503, a page of its own (api/errors.py): not an error of the form
    except DiscretionError as exc:
        errors[exc.field or "form"] = exc.message
    ctx = await _result_context(s, rid, who)
    return render(request, "result.html", status=422, decision_errors=errors,
                   decision_values={"amount": raw, "reason": reason}, **ctx)


@router.get("/cases", response_class=HTMLResponse)
async def cases(request: Request, s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)],
                q: Annotated[str | None, Query(max_length=MAX_SEARCH, pattern=SEARCH_PATTERN)] = None) -> HTMLResponse:
    """最近案件: the current user's recent assessments, with their decisions; ``q`` searches their
    case numbers and party names (as GET /v1/assessments?q= does)."""
    search = (q or "").strip() or None
    items, _ = await s.store.call(s.store.list, handler=who.name, search=search, limit=50)
    return render(request, "cases.html", items=items, me=who, outcomes=OUTCOMES, roles=ROLE_LABELS, q=search or "")


@router.get("/result/{rid}/print", response_class=HTMLResponse)
async def result_print(request: Request, rid: str, s: Annotated[State, Depends(state)],
                       who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    return render(request, "print.html", **await _result_context(s, rid, who))


@router.get("/result/{rid}/{kind}.docx")
async def result_document(rid: str, kind: DocumentKind, s: Annotated[State, Depends(state)],
                          who: Annotated[Principal, Depends(principal)]) -> Response:
    """The case file's documents (告知书, 决定书, 说理), as GET /v1/assessments/{id}/documents/{kind}.docx."""
    return await serve(s, who, rid, kind)
