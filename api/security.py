"""Security headers on every answer, and whether a request came over HTTPS.

:class:`SecurityHeaders`, a pure ASGI middleware outside every other, adds to each response
(pages, JSON, static files, errors and refusals alike):

- ``Content-Security-Policy``: scripts, styles, images, fonts and form targets from this service
  only, no inline script (the pages have none: ``static/app.js``, ``static/docs.js``), no inline
  style on the pages (Swagger UI at ``/docs`` sets styles from its script, so there ``style-src``
  also allows inline styles), no plugins, and no framing (``frame-ancestors 'none'``);
- ``X-Frame-Options: DENY`` (the same for older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` (a case's address never leaves in a ``Referer``).
"""

from __future__ import annotations

from typing import Any

from .limits import Receive, Scope, Send

_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data:; font-src 'self'; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
CSP = _POLICY.format(styles="")
CSP_DOCS = _POLICY.format(styles=" 'unsafe-inline'")  # Swagger UI's script sets inline styles

_COMMON = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
HEADERS = [(b"content-security-policy", CSP.encode()), *_COMMON]
HEADERS_DOCS = [(b"content-security-policy", CSP_DOCS.encode()), *_COMMON]
_OURS = {name for name, _ in HEADERS}


def is_https(scope: Scope) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a proxy that says so
    (``X-Forwarded-Proto: https``). Only used to add ``Secure`` to cookies, which a client gains
    nothing by asking for, so the header is believed from anyone."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS_DOCS if scope.get("path") == "/docs" else HEADERS

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in _OURS]
                message = {**message, "headers": [*kept, *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
