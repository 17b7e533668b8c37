"""Login and logout for the web form (with auth on); the session is a signed cookie."""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..auth import SESSION_COOKIE, SESSION_SECONDS
from ..deps import State, caller, state
from ..security import is_https
from .rendering import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a local path: never redirect a user off-site after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parsed = urllib.parse.urlsplit(target)
    return "/" if parsed.scheme or parsed.netloc else target


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, s: Annotated[State, Depends(state)]) -> Response:
    form = await request.form()
    name = str(form.get("name") or "")[:64]
    password = str(form.get("password") or "")[:256]
    target = _safe_next(str(form.get("next") or "/"))
    access = request.app.state.access
    who = access.store.login(name, password) if name and password else None
    if who is None:
        return render(request, "login.html", status=401, next=target, error="用户名或密码错误，或该用户已停用。", username=name)
    response = RedirectResponse(target, status_code=303)
    cookie = access.signer.session(who.name, access.store.session_generation(who.name))
    response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True,
                        samesite="strict", secure=access.secure_cookies or is_https(request.scope), path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session on the server (every session of this user: the generation moves on) and in the browser."""
    access = request.app.state.access
    who = caller(request)
    if access.auth and who.via == "session":
        access.store.end_sessions(who.name)
    response = RedirectResponse("/login" if access.auth else "/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
