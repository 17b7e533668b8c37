"""A pure ASGI middleware bounding request bodies (413 before the body is read in full)."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = self.max_bytes + 1
                if size > self.max_bytes:
                    await _too_large(send, self.max_bytes)
                    return
        seen = 0
        too_big = False

        async def limited() -> dict[str, Any]:
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_big = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.max_bytes)


class _TooLarge(BaseException):  # not Exception: the app's error handlers must not turn it into a 500
    pass


async def _too_large(send: Send, limit: int) -> None:
    payload = json.dumps(
        {"code": "body_too_large", "message": f"请求体过大（上限 {limit} 字节）", "field": "body",
         "errors": [{"code": "body_too_large", "message": f"请求体过大（上限 {limit} 字节）", "field": "body"}]},
        ensure_ascii=False,
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
