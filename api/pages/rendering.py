"""The pages' Jinja2 templates (``api/templates``), their filters, and the labels the pages share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from discretion.engine.money import wan
from discretion.rulebooks.approval import STATUS_LABELS

from ..clock import BEIJING

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
TEMPLATES.env.filters["wan"] = lambda v: "" if v is None else wan(v)
TEMPLATES.env.filters["yuan"] = lambda v: "—" if v is None else f"{v:,}"


def _csrf_field(request: Request) -> Markup:
    """The hidden CSRF field every form posting to this service carries (see api.auth)."""
    token = getattr(request.state, "csrf_token", "")
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')


TEMPLATES.env.globals["csrf_field"] = _csrf_field


def _tech(*parts: object, open: bool = False) -> Markup:
    """The technical identifiers of what a page shows (codes, edition keys, hashes, ids), kept out of
    the Chinese text a handler reads: a closed <details> “技术信息” (open on the print view)."""
    body = "；".join(str(escape(p)) for p in parts if p not in (None, ""))
    return Markup(f'<details class="tech"{" open" if open else ""}><summary>技术信息</summary>'
                  f'<span class="small muted">{body}</span></details>')


TEMPLATES.env.globals["tech"] = _tech
LOCAL_OPERATOR = "本机操作员"


def person(name: str) -> str:
    """A recorded user as a handler reads it: the operator of a service without auth is recorded as
    "local" (api.deps.LOCAL), an internal name no page or document prints: 本机操作员."""
    return LOCAL_OPERATOR if name == "local" else name


TEMPLATES.env.filters["person"] = person


def step_text(s: dict[str, Any]) -> str:
    """A trail step's text as a page shows it: the edition step without its key (the page's 技术信息
    names it) and with its status in Chinese; the API's text is left as the engine wrote it."""
    text = str(s.get("text", ""))
    if s.get("step") == "edition" and s.get("rule"):
        text = text.replace(f"（{s['rule']}，", "（", 1)
        for status, label in STATUS_LABELS.items():
            text = text.replace(f"未发布：{status}）", f"未发布：{label}）", 1)
    return text


TEMPLATES.env.filters["step_text"] = step_text

JURISDICTIONS = {"yunnan": "云南省", "yunnan/kunming": "云南省昆明市"}
OUTCOMES = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限，不再给予行政处罚"}
REGIMES = {"pre2026": "单行法（2026年8月15日前）", "code2026": "《生态环境法典》（2026年8月15日起）"}
ROLE_LABELS = {"handler": "承办人", "reviewer": "审核人", "admin": "管理员"}


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("jurisdictions", JURISDICTIONS)
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)


def beijing(stamp: str) -> str:
    """A stored UTC time as Beijing time, to the minute: 2026-09-01 14:05."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


TEMPLATES.env.filters["beijing"] = beijing
