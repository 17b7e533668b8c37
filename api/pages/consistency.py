"""同案同罚 pages: ``/review/consistency`` for reviewers and admins (every handler beside the bureau,
the charts, the tables and their downloads), ``/consistency`` for a handler (their own figures
beside the bureau's, as GET /v1/analytics/consistency answers them; a supervisor is sent on to
``/review/consistency``), and ``/consistency/like/{ref}``, the like cases of one decided case
side by side. The report, what each role may see, the charts and the files are api/consistency.py's
and api/consistency_files.py's, the same as the API's.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import consistency as c
from .. import consistency_files as files
from ..deps import SUPERVISORS, Principal, State, principal, require, state
from .rendering import JURISDICTIONS, REGIMES, render

router = APIRouter(include_in_schema=False)
Filters = Annotated[c.Filters, Depends(c.filters)]
Supervisor = Annotated[Principal, Depends(require("reviewer", "admin"))]
Anyone = Annotated[Principal, Depends(principal)]
OUTCOME_SHORT = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限"}


def _choices(s: State) -> dict[str, Any]:
    rs = s.rulebooks
    return {
        "violations": sorted(((code, lv.model.title) for code, lv in rs.violations.items()), key=lambda x: x[1]),
        "groups": list(c.law_groups(rs)),
        "jurisdictions": [(j, JURISDICTIONS.get(j, j)) for j in c.jurisdictions(rs)],
        "editions": [(k, le.model.title) for k, le in sorted(rs.editions.items())],
        "data": c.DATA_LABELS,
    }


async def _page(request: Request, s: State, who: Principal, f: c.Filters, path: str) -> HTMLResponse:
    r = await c.report(s, who, f)
    svgs = await asyncio.to_thread(lambda: {name: files.chart(r, name) for name in files.CHARTS})  # CPU: off the event loop
    query = f.query()
    others = {k: v for k, v in query.items() if k != "handler"}
    links = {h["name"]: f"{path}?{urlencode({**others, 'handler': h['name']})}" for h in r["handlers"]}
    return render(request, "consistency.html", r=r, svgs=svgs, f=f, path=path, choices=_choices(s), me=who,
                  person=files.person, export_query=urlencode(query), tables=files.TABLES, links=links,
                  top_reasons=c.TOP_REASONS)


@router.get("/review/consistency", response_class=HTMLResponse)
async def review_page(request: Request, f: Filters, s: Annotated[State, Depends(state)], who: Supervisor) -> HTMLResponse:
    return await _page(request, s, who, f, "/review/consistency")


@router.get("/consistency", response_class=HTMLResponse)
async def own_page(request: Request, f: Filters, s: Annotated[State, Depends(state)], who: Anyone) -> Response:
    """A handler's own figures beside the bureau's; reviewers and admins go on to /review/consistency."""
    if who.role in SUPERVISORS:
        q = request.url.query
        return RedirectResponse("/review/consistency" + (f"?{q}" if q else ""), status_code=303)
    return await _page(request, s, who, f, "/consistency")


async def _export(fmt: str, table: str, f: c.Filters, s: State, who: Principal) -> Response:
    r = await c.report(s, who, f, top=None)
    body = files.export(r, fmt, table, c.labeller(s.rulebooks))
    name = f"consistency-{table}.csv" if fmt == "csv" else "consistency.xlsx"
    return Response(body, media_type=files.MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


Fmt = Annotated[Literal["csv", "xlsx"], Path()]
TableName = Literal["violations", "handlers", "reasons", "timeline"]


@router.get("/review/consistency/export.{fmt}")
async def review_export(fmt: Fmt, f: Filters, s: Annotated[State, Depends(state)], who: Supervisor,
                        table: TableName = "violations") -> Response:
    return await _export(fmt, table, f, s, who)


@router.get("/consistency/export.{fmt}")
async def own_export(fmt: Fmt, f: Filters, s: Annotated[State, Depends(state)], who: Anyone,
                     table: TableName = "violations") -> Response:
    return await _export(fmt, table, f, s, who)


@router.get("/consistency/like")
async def like_form(ref: Annotated[str, Query(max_length=40, pattern=r"^\s*[0-9a-zA-Z-]+\s*$")]) -> RedirectResponse:
    """The form of the consistency page (a record number typed in) to the like cases of that record."""
    return RedirectResponse(f"/consistency/like/{ref.strip()}", status_code=303)


@router.get("/consistency/like/{ref}", response_class=HTMLResponse)
async def like_page(request: Request, ref: Annotated[str, Path(max_length=40, pattern=r"^[0-9a-zA-Z-]+$")],
                    s: Annotated[State, Depends(state)], who: Anyone) -> HTMLResponse:
    """The like cases of one decided case, side by side (a handler: of their own cases only)."""
    got = await c.like_cases(s, who, ref)
    return render(request, "consistency_like.html", got=got, regimes=REGIMES, parties=c.PARTY_LABELS, sides=c.SIDE_LABELS,
                  outcomes=OUTCOME_SHORT, person=files.person, jurisdiction_labels=JURISDICTIONS, me=who,
                  supervisor=who.role in SUPERVISORS)
