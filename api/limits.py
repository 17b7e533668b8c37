"""Request limits enforced before the application sees a request (see docs/limits.md).

- :class:`BodyLimit`, a pure ASGI middleware: a body over ``max_bytes`` (64 KiB by default,
  ``DISCRETION_MAX_BODY_BYTES``), or over the path's own limit in :data:`ALLOWANCES`, answers 422
  ``body_too_large`` (issue 3: 422 for bad input, an oversized body included) as soon as the ``Content-Length`` says so or the bytes received pass the limit
  (chunked bodies), without reading the rest; a body that has not arrived in full within
  :data:`BODY_TIMEOUT_S` answers 408 ``request_timeout``.
- :class:`HeadLimitedHttpTools` and :class:`HeadLimitedH11`, uvicorn's httptools and h11 protocols
  with two bounds uvicorn does not set: the request line and headers together at most
  :data:`MAX_HEAD_BYTES` (431 ``headers_too_large``; without it a client can stream a header of
  any size into memory under httptools, and h11 answers a plain 400 at 16 KiB), and complete
  within :data:`HEAD_TIMEOUT_S` of the connection or of the request's first byte (408
  ``request_timeout``; without it a client sending a byte a second holds a connection forever),
  however the head arrives. ``discretion serve`` uses httptools (:data:`HTTP_PROTOCOL`; h11 where
  httptools is missing).

Every refusal is the one error shape ``{"code", "message", "field", "errors"}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


MAX_HEAD_BYTES = int(_env_number("DISCRETION_MAX_HEAD_BYTES", 32 * 1024))  # request line + headers
HEAD_TIMEOUT_S = _env_number("DISCRETION_HEAD_TIMEOUT_S", 10.0)
BODY_TIMEOUT_S = _env_number("DISCRETION_BODY_TIMEOUT_S", 30.0)
HTTP_PROTOCOL = "api.limits:HeadLimitedHttpTools"  # for uvicorn's ``http=``

# Paths whose body limit differs from the service's (exact path -> bytes), set by the module that
# owns the path (e.g. api/pages/replay.py: the upload of a case file); every other path keeps max_bytes.
ALLOWANCES: dict[str, int] = {}


# Characters no stored text may hold (item 10 of issue 14): what XML 1.0 cannot carry, so that a
# record can always be written to a .docx/.xlsx (C0 controls but tab, line feed and carriage return;
# DEL and the C1 controls; lone surrogates; the non-characters U+FDD0–U+FDEF and U+xFFFE/U+xFFFF of
# every plane), and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
# U+2066–U+2069) that make a text read differently from what it holds.
_NONCHARACTERS = "".join(f"\\U{p:04x}fffe\\U{p:04x}ffff" for p in range(17))
UNWRITABLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\u202a-\u202e\u2066-\u2069"
    + _NONCHARACTERS + "]")


UNWRITABLE_MESSAGE = "含有不允许的"  # how unwritable's messages start


def unwritable(text: str) -> str | None:
    """A Chinese message naming the first character ``text`` may not hold (see UNWRITABLE), or None."""
    m = UNWRITABLE.search(text)
    if m is None:
        return None
    bidi = "\u202a" <= m.group() <= "\u202e" or "\u2066" <= m.group() <= "\u2069"
    kind = "双向文字控制字符" if bidi else "控制字符或非字符"
    return f"{UNWRITABLE_MESSAGE}{kind}（U+{ord(m.group()):04X}，第 {m.start() + 1} 个字符）"


class _Duplicate(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        raise _Duplicate(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return out


def duplicate_key(raw: bytes) -> str | None:
    """The first key that appears twice in one JSON object of ``raw`` (JSON parsers keep the last
    one silently, so a client and the service could read different requests), or None. Bodies that
    are not valid JSON are left to the request model's own error."""
    try:
        json.loads(raw, object_pairs_hook=_pairs)
    except _Duplicate as dup:
        return str(dup.args[0])
    except (ValueError, RecursionError):
        return None
    return None


def error_json(code: str, message: str, field: str) -> bytes:
    item = {"code": code, "message": message, "field": field}
    return json.dumps({**item, "errors": [item]}, ensure_ascii=False).encode()


class Answering:
    """An ASGI ``send`` that notes whether the answer has begun (after which no other can be sent)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int, body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = ALLOWANCES.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = limit + 1
                if size > limit:
                    await _too_large(send, limit)
                    return
        seen = 0
        complete = False
        deadline: float | None = None

        async def limited() -> dict[str, Any]:
            nonlocal seen, complete, deadline
            if complete:  # the body is in: later calls wait for a disconnect, with no deadline
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.body_timeout_s
            try:
                async with asyncio.timeout(max(0.0, deadline - loop.time())):
                    message = await receive()
            except TimeoutError:
                raise _TooSlow() from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        tracked = Answering(send)
        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not tracked.started:
                await _too_large(send, limit)
        except _TooSlow:
            if not tracked.started:
                await _send_error(send, 408, "request_timeout", f"请求体未在 {self.body_timeout_s:g} 秒内收齐", "body")


class _TooLarge(BaseException):  # not Exception: the app's error handlers must not turn it into a 500
    pass


class _TooSlow(BaseException):
    pass


async def _too_large(send: Send, limit: int) -> None:
    await _send_error(send, 422, "body_too_large", f"请求体过大（上限 {limit} 字节）", "body")


async def _send_error(send: Send, status: int, code: str, message: str, field: str) -> None:
    payload = error_json(code, message, field)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


# --- the request head, in the server's protocol -----------------------------------------------------
#
# Both of uvicorn's HTTP/1.1 protocols get the same two bounds, however the head arrives (in one
# segment or thousands, as one huge header or thousands of small ones, behind a pipelined request):
# the parser is fed at most MAX_HEAD_BYTES of a request head (counted from the connection, or from
# the end of the previous request, until the headers are complete); a head not complete by then is
# 431, and one not complete within HEAD_TIMEOUT_S of the connection or of its first byte is 408.
# Only the part of a pipelined head that arrives in the same read as the end of the request before
# it is not counted (at most one read of the transport, 256 KiB). A refusal behind a request still
# being answered waits for that answer (answers keep the order of the requests).

READ_SLACK = 256 * 1024  # the most one read of the transport brings (h11 may buffer that beyond a head)


class _HeadLimit:
    """The bookkeeping both protocols share (a mixin in front of uvicorn's protocol class)."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport | None
    cycle: Any

    def _head_init(self) -> None:
        self._head_bytes = 0
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str, str] | None = None  # owed once the requests before it are answered

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        """Feed ``data`` to the parser, letting it see at most MAX_HEAD_BYTES of each request head."""
        while data and self._refusal is None and not (self.transport is None or self.transport.is_closing()):
            if not self._head_open():
                self._feed(data)
                self._head_open()  # note a head that began and ended in this read (h11)
                return
            room = MAX_HEAD_BYTES - self._head_bytes
            part, data = data[:room], data[room:]
            self._head_bytes += len(part)
            if part:
                self._feed(part)
            if self._head_open() and data:  # the head reached the limit and goes on
                self._refuse(431, "headers_too_large", f"请求行和请求头过大（上限 {MAX_HEAD_BYTES} 字节）", "headers")
                return
            # the head ended within the limit: the rest is its body, or the next request's head

    def _head_open(self) -> bool:
        """Whether the parser is inside a request head (the protocol's own state)."""
        return self._in_head

    def _feed(self, data: bytes) -> None:
        raise NotImplementedError

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._in_head and self._head_bytes:
            self._refuse(408, "request_timeout", f"请求头未在 {HEAD_TIMEOUT_S:g} 秒内收齐", "headers")
        elif self._in_head and not self.cycle:  # connected and silent: close without an answer
            self._close()

    def _refuse(self, status: int, code: str, message: str, field: str) -> None:
        """Answer ``status`` and close; behind a request still being answered (pipelined), stop
        reading and answer once it has been (answers keep the order of the requests)."""
        if self.transport is None or self.transport.is_closing():
            return
        if (self.cycle is not None and not self.cycle.response_complete) or getattr(self, "pipeline", None):
            self._refusal = (status, code, message, field)
            self._disarm()
            self.flow.pause_reading()  # type: ignore[attr-defined]
            return
        payload = error_json(code, message, field)
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % (status, reason, len(payload)) + payload
        )
        self._close()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]  # starts a pipelined request already read, if any
        if self._refusal is not None:
            refusal, self._refusal = self._refusal, None
            self._refuse(*refusal)  # owed after the last request read: now, or after those started above

    def _close(self) -> None:
        self._in_head = False  # ignore whatever else arrives
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without httptools: serve uses HeadLimitedH11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]


if HttpToolsProtocol is not None:

    class HeadLimitedHttpTools(_HeadLimit, HttpToolsProtocol):  # type: ignore[misc, valid-type]
        """httptools (what ``discretion serve`` runs) with a bounded, timed request head."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_init()

        def _feed(self, data: bytes) -> None:
            HttpToolsProtocol.data_received(self, data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True  # what follows is the next request's head
            self._head_bytes = 0

else:  # pragma: no cover
    HTTP_PROTOCOL = "api.limits:HeadLimitedH11"


import h11  # noqa: E402  (uvicorn's own dependency)
from uvicorn.protocols.http.h11_impl import H11Protocol  # noqa: E402


class HeadLimitedH11(_HeadLimit, H11Protocol):  # type: ignore[misc]
    """h11 (uvicorn's pure-Python protocol, where httptools is missing) with the same bounded, timed
    head and the same answers. Stock h11 refuses a head over 16 KiB with a plain-text 400 and waits
    for a trickled head forever. h11's own bound is raised past ours (a pipelined request h11 holds
    while the one before it is answered is not counted here: at most one read)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES + READ_SLACK)
        self._head_init()
        self._in_head = False  # h11's state says when a head begins (below)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True  # a new connection owes its first head

    def _head_open(self) -> bool:
        if self.conn.their_state is not h11.IDLE:  # a head is complete (or the connection failed)
            if self._in_head:
                self._in_head = False
                self._disarm()
            return False
        if not self._in_head:  # the first bytes of the next request on this connection
            self._in_head, self._head_bytes = True, 0
            self._arm()
        return True

    def _feed(self, data: bytes) -> None:
        H11Protocol.data_received(self, data)
