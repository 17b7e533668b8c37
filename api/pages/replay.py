"""The reviewer page for impact replay (``/review/replay``): upload a case file or use synthetic
cases, choose two editions (drafts allowed), see the summary by violation type and the chart, and
download the per-case results. Reviewers and admins only.

Bounds: an upload of at most :data:`MAX_UPLOAD_BYTES` (the body limit of this one path is raised
to that plus :data:`FORM_OVERHEAD` in :data:`api.limits.ALLOWANCES`; every other path keeps the
service's limit) and at most :data:`MAX_ROWS` cases, synthetic or uploaded. The replay runs in this
worker process on a thread (one replay at a time per process), with the service's engine; the
command line (``discretion replay``) is for large files and uses every core.

The per-case results are kept for download as files in a private temporary folder shared by the
service's workers, named by an unguessable token, and removed after :data:`KEEP_SECONDS`.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from discretion.errors import DiscretionError, InputError, NotFoundError
from discretion.review import casefile, chart, synth
from discretion.review import replay as rp
from discretion.rulebooks.approval import STATUS_LABELS
from discretion.rulebooks.loaded import RulebookSet

from .. import limits
from ..clock import today
from ..deps import State, require, state
from .rendering import TEMPLATES

PATH = "/review/replay"
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
FORM_OVERHEAD = 64 * 1024  # the other fields and the multipart framing
MAX_ROWS = 20_000
DEFAULT_SYNTH = 1000
KEEP_SECONDS = 3600
SHOWN_ERRORS = 50
DOWNLOADS = Path(tempfile.gettempdir()) / "discretion-replay"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
_MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

limits.ALLOWANCES[PATH] = MAX_UPLOAD_BYTES + FORM_OVERHEAD

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("reviewer", "admin"))])
_busy = threading.Lock()  # one replay at a time in this process (taken on the worker thread): it is CPU-bound


def _editions(rs: RulebookSet) -> list[dict[str, Any]]:
    out = []
    for le in sorted(rs.editions.values(), key=lambda x: (x.model.id, x.model.effective_from)):
        e = le.model
        out.append({"key": le.key, "title": e.title, "status": e.status, "status_label": STATUS_LABELS[e.status],
                    "draft": e.status != "published"})
    return out


def _defaults(rs: RulebookSet) -> tuple[str | None, str | None]:
    """The newest unpublished edition (else the newest) against the latest earlier edition of its jurisdiction."""
    eds = list(rs.editions.values())
    if not eds:
        return None, None
    pending = [le for le in eds if le.model.status != "published"] or eds
    to = max(pending, key=lambda le: le.model.effective_from)
    earlier = [le for le in eds if le.model.id == to.model.id and le.model.effective_from < to.model.effective_from]
    frm = max(earlier, key=lambda le: le.model.effective_from) if earlier else to
    return frm.key, to.key


def _page(request: Request, s: State, status: int = 200, **ctx: Any) -> HTMLResponse:
    frm, to = _defaults(s.rulebooks)
    values = {"from": frm, "to": to, "source": "synth", "n": str(DEFAULT_SYNTH), "seed": str(synth.SEED)}
    values.update(ctx.pop("values", {}))
    base = {
        "editions": _editions(s.rulebooks),
        "values": values,
        "error": None,
        "r": None,
        "max_rows": MAX_ROWS,
        "max_mib": MAX_UPLOAD_BYTES // (1024 * 1024),
        "status_labels": STATUS_LABELS,
    }
    base.update(ctx)
    return TEMPLATES.TemplateResponse(request, "replay.html", base, status_code=status)


@router.get(PATH, response_class=HTMLResponse)
async def replay_form(request: Request, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    return _page(request, s)


def _int(form: Any, name: str, default: int, lo: int, hi: int, label: str) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise InputError(message=f"{label}须为整数", field=name) from None
    if not lo <= v <= hi:
        raise InputError(message=f"{label}须在 {lo:,} 至 {hi:,} 之间", field=name)
    return v


async def _cases(form: Any, s: State) -> tuple[casefile.CaseFile, str]:
    """The case file to replay and a line describing it."""
    if (form.get("source") or "synth") == "upload":
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InputError(message="请选择要上传的案件文件", field="file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputError(message=f"文件过大：最多 {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB", code="too_large", field="file")
        name = Path(upload.filename).name
        return casefile.read_bytes(data, name, max_rows=MAX_ROWS), f"上传的文件 {name}"
    n = _int(form, "n", DEFAULT_SYNTH, 1, MAX_ROWS, "合成案例数")
    seed = _int(form, "seed", synth.SEED, 0, 2**63 - 1, "随机种子")
    engine = s.engine
    day = today()
    cases = synth.generate(engine.rulebooks, engine.compiled, n, seed, today=day)
    return casefile.from_cases(synth.entries(cases, seed)), f"{n:,} 个合成案例（种子 {seed}，截至 {day.isoformat()}，非真实案件）"


def _cleanup(now: float) -> None:
    if not DOWNLOADS.is_dir():
        return
    for p in DOWNLOADS.iterdir():
        try:
            if now - p.stat().st_mtime > KEEP_SECONDS:
                p.unlink()
        except OSError:  # another worker removed it first
            pass


def _store(results: list[rp.CaseResult], summary: rp.Summary) -> str:
    """Write the per-case results as CSV and XLSX for download; returns their token."""
    _cleanup(time.time())
    DOWNLOADS.mkdir(mode=0o700, exist_ok=True)
    token = secrets.token_urlsafe(24)
    casefile.write_table(DOWNLOADS / f"{token}.csv", rp.RESULT_COLUMNS, (r.row_dict() for r in results), fmt="csv")
    casefile.write_table(
        DOWNLOADS / f"{token}.xlsx",
        rp.RESULT_COLUMNS,
        (rp.labelled(r.row_dict()) for r in results),
        fmt="xlsx",
        sheet="逐案结果",
        extra=[("汇总", rp.SUMMARY_COLUMNS, summary.table())],
    )
    return token


def _run(s: State, cases: casefile.CaseFile, frm: str, to: str) -> dict[str, Any]:
    with _busy:
        results, summary = rp.run(s.rulebooks, cases, frm, to, workers=1, engine=s.engine)
        token = _store(results, summary)
        svg = chart.inline_svg(summary)
    bad = [r.error for r in results if r.status == "invalid" and r.error is not None]
    rows = []
    for st in [*summary.ordered(), summary.total]:
        top = st.top_cause()
        rows.append({**st.to_dict(), "median": rp.yuan_change(st.median), "max": rp.yuan_change(st.max_change),
                     "top": f"{top[0]}（{top[1]:,}件）" if top else ""})
    return {"summary": summary, "rows": rows, "svg": svg, "token": token, "bad": bad[:SHOWN_ERRORS], "bad_count": len(bad)}


@router.post(PATH, response_class=HTMLResponse)
async def replay_run(request: Request, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    form = await request.form(max_files=1, max_fields=20)
    values = {k: str(form.get(k) or "") for k in ("from", "to", "source", "n", "seed")}
    try:
        frm, to = values["from"], values["to"]
        rp.check_editions(s.rulebooks, frm, to)
        cases, what = await _cases(form, s)
        r = await asyncio.to_thread(_run, s, cases, frm, to)
    except DiscretionError as exc:
        return _page(request, s, status=422, values=values, error=exc)
    finally:
        await form.close()
    r["what"] = what
    return _page(request, s, values=values, r=r)


@router.get(PATH + "/{name}")
async def replay_download(name: str) -> FileResponse:
    token, _, ext = name.rpartition(".")
    path = DOWNLOADS / name
    if not _TOKEN.fullmatch(token) or ext not in _MEDIA or not path.is_file():
        raise NotFoundError(message="结果文件不存在或已过期（保留一小时），请重新回放", field="name")
    return FileResponse(path, media_type=_MEDIA[ext], filename=f"replay-results.{ext}")
