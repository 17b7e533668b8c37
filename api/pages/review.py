"""Pages for legal reviewers (法制审核): the editions with status, approval and changelog, and the
semantic diff of two editions. Reviewers and admins only.

Editions are named by key here (``yunnan@2023``), never by file path: the web reads only the
rulebooks the service loaded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from discretion.errors import InputError, NotFoundError
from discretion.review import diff
from discretion.rulebooks.approval import STATUS_LABELS, content_hash
from discretion.rulebooks.loaded import LoadedEdition, RulebookSet

from ..deps import State, require, state
from .rendering import TEMPLATES

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("reviewer", "admin"))])

REGIME_CHOICES = {"": "各按其施行日期适用的法律", "pre2026": "两版都按单行法", "code2026": "两版都按《生态环境法典》"}


def _previous(rs: RulebookSet, le: LoadedEdition) -> str | None:
    """The edition this one follows: the parent of a prefecture edition, else the latest earlier
    edition of the same jurisdiction."""
    e = le.model
    if e.parent:
        return e.parent
    earlier = [x for x in rs.editions.values() if x.model.id == e.id and x.model.effective_from < e.effective_from]
    return max(earlier, key=lambda x: x.model.effective_from).key if earlier else None


def _edition_row(rs: RulebookSet, le: LoadedEdition) -> dict[str, Any]:
    e = le.model
    titles = {code: lv.model.title for code, lv in rs.violations.items()}
    changes = []
    for c in e.changelog:
        codes = None if c.violations == "all" else [(code, titles.get(code, code)) for code in c.violations]
        changes.append({"date": c.date.isoformat(), "text": c.text, "violations": codes,
                        "affects_from": c.affects_from.isoformat(),
                        "affects_to": c.affects_to.isoformat() if c.affects_to else None})
    return {
        "key": le.key,
        "title": e.title,
        "file": le.doc.file,
        "status": e.status,
        "status_label": STATUS_LABELS[e.status],
        "effective_from": e.effective_from.isoformat(),
        "effective_to": e.effective_to.isoformat() if e.effective_to else None,
        "parent": e.parent,
        "author": e.author,
        "approval": e.approval,
        "content_sha256": content_hash(e),  # what the approval signs (status and approval left out)
        "file_sha256": le.sha256,  # the whole file, as each assessment records it (rulebook.sha256)
        "changelog": changes,
        "previous": _previous(rs, le),
    }


@router.get("/review", response_class=HTMLResponse)
async def review_index(request: Request, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    rs = s.rulebooks
    ordered = sorted(rs.editions.values(), key=lambda le: (le.model.id, le.model.effective_from))
    rows = [_edition_row(rs, le) for le in ordered]
    # preselect the newest edition not yet published (else the newest) against the one it follows
    pending = [r for r in rows if r["status"] != "published"] or rows
    newest = max(pending, key=lambda r: r["effective_from"]) if pending else None
    ctx = {"editions": rows, "regimes": REGIME_CHOICES, "titles": {r["key"]: r["title"] for r in rows},
           "default_b": newest["key"] if newest else None, "default_a": newest["previous"] if newest else None}
    return TEMPLATES.TemplateResponse(request, "review_index.html", ctx)


@router.get("/review/diff", response_class=HTMLResponse)
async def review_diff(
    request: Request,
    s: Annotated[State, Depends(state)],
    a: Annotated[str, Query(max_length=100)],
    b: Annotated[str, Query(max_length=100)],
    regime: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    rs = s.rulebooks
    for name, key in (("a", a), ("b", b)):
        if key not in rs.editions:
            raise NotFoundError(message=f"未知的裁量基准版本：{key}（可选：{'、'.join(sorted(rs.editions))}）", field=name)
    if regime and regime not in REGIME_CHOICES:
        raise InputError(message=f"未知的法律体系：{regime}", field="regime")
    d = diff.diff(rs, rs.editions[a], rs, rs.editions[b], regime or None)
    return TEMPLATES.TemplateResponse(
        request, "review_diff.html",
        {"d": d, "keys": sorted(rs.editions), "regimes": REGIME_CHOICES, "regime": regime or "", "a": a, "b": b,
         "titles": {k: le.model.title for k, le in rs.editions.items()},
         "files": {k: le.sha256 for k, le in rs.editions.items()}},
    )
