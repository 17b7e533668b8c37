"""Login and logout for the web form (with auth on); the session is a signed cookie.

A refused login re-renders the form for a browser (401; 429 with ``Retry-After`` while the name or
the address is throttled, see ``api/throttle.py``) and answers the JSON error shape to a client that
does not ask for HTML (401 ``invalid_credentials``, 429 ``login_locked`` / ``login_rate_limited``).
The same answer whether or not the name is a user's."""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from discretion.errors import AuthError, TooManyAttemptsError

from ..auth import SESSION_COOKIE, SESSION_SECONDS
from ..deps import State, caller, state
from ..errors import wants_html
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
    client = request.client.host if request.client else None
    try:
        who = access.store.login(name, password, client) if name and password else None
    except TooManyAttemptsError as exc:
        if not wants_html(request):
            raise  # api.errors: 429 in the JSON error shape, with Retry-After
        page = render(request, "login.html", status=429, next=target, error=exc.message, username=name)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if who is None:
        message = "用户名或密码错误，或该用户已停用。"
        if not wants_html(request):
            raise AuthError(code="invalid_credentials", message=message)
        return render(request, "login.html", status=401, next=target, error=message, username=name)
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
