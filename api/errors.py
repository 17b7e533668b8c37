"""One error shape for every error the service answers: a stable code, a Chinese message, the field.

``{"code": "unknown_violation", "message": "未知的违法行为代码：x", "field": "violation", "errors": [...]}``
Domain errors are mapped here in one place; nothing a client can send yields a 500. A storage
failure (the database unreachable, hanging, read-only or full: api/storage/failures.py), wherever
it is raised, is 503 ``storage_unavailable`` with ``Connection: close`` (:class:`StorageGuard`).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from discretion.errors import (
    AuthError,
    ConflictError,
    DiscretionError,
    ForbiddenError,
    InputError,
    NotFoundError,
    RulebookError,
    TooManyAttemptsError,
)

from .limits import UNWRITABLE_MESSAGE, Answering
from .pages.rendering import JURISDICTIONS, TEMPLATES
from .storage.failures import StorageUnavailable, is_failure, unavailable

log = logging.getLogger("discretion.api")

_STATUS_CODES = {
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("body_too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）"),
}

_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "date_from_datetime_parsing": "日期格式错误，须为 YYYY-MM-DD",
    "date_parsing": "日期格式错误，须为 YYYY-MM-DD",
    "date_type": "日期格式错误，须为 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "string_too_long": "字符串过长",
    "string_pattern_mismatch": "格式不符",
    "string_too_short": "字符串过短",
    "too_long": "项目过多",
    "json_invalid": "请求体不是合法的 JSON",
    "model_attributes_type": "请求体须为 JSON 对象",
    "model_type": "请求体须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
    "list_type": "须为列表",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_parsing_size": "整数过大",
    "finite_number": "须为有限数字（不接受 NaN、Infinity）",
    "int_from_float": "须为整数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "less_than": "数值过大",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


def body(code: str, message: str, field: str | None = None, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, "errors": errors or [{"code": code, "message": message, "field": field}]}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "[key]")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "body"


# the query parameters of the pages, as a reader knows them
_FIELD_LABELS = {"q": "关键词或条文", "on": "日期", "decision_date": "决定日期", "limit": "每页条数"}


def wants_html(request: Request) -> bool:
    """Pages of the web form answer errors as pages; the JSON API always answers JSON."""
    return _html_wanted(request.url.path, request.headers.get("accept", ""))


def _html_wanted(path: str, accept: str) -> bool:
    if path.startswith("/v1") or path in ("/healthz", "/openapi.json"):
        return False
    return "text/html" in accept


# the heading of an error page, by status
PAGE_HEADINGS = {
    401: "未登录", 403: "无权访问", 404: "页面不存在", 405: "不支持该请求方法", 409: "与已有记录冲突",
    413: "请求过大", 415: "请求格式不支持", 422: "输入有误", 429: "尝试过于频繁", 500: "服务器内部错误",
    503: "服务暂不可用",
}
_NO_REQUEST = SimpleNamespace(state=SimpleNamespace())  # an error answered before a request exists: no user shown


def error_html(status: int, message: str, request: Any = None, heading: str | None = None) -> str:
    """An error page in the site's layout and navigation (``error.html`` extends ``base.html``)."""
    return TEMPLATES.get_template("error.html").render(
        request=request if request is not None else _NO_REQUEST, status=status, message=message,
        heading=heading or PAGE_HEADINGS.get(status, "请求无效"), jurisdictions=JURISDICTIONS)


def _page(status: int, message: str, headers: dict[str, str] | None = None, request: Any = None) -> HTMLResponse:
    return HTMLResponse(error_html(status, message, request), status_code=status, headers=headers)


# A storage failure: the connection is closed after the answer (a client, or a proxy, then connects
# afresh, possibly to another worker or instance).
UNAVAILABLE_HEADERS = {"connection": "close"}


def unavailable_response(exc: StorageUnavailable, html_wanted: bool, request: Any = None) -> Response:
    """503 ``storage_unavailable``: the JSON error shape, or a Chinese page for the web form."""
    if html_wanted:
        return _page(503, exc.message, UNAVAILABLE_HEADERS, request)
    return JSONResponse(body(exc.code, exc.message, exc.field), status_code=503, headers=UNAVAILABLE_HEADERS)


class StorageGuard:
    """ASGI middleware: a storage failure raised anywhere inside (a route, a page, the access checks,
    which read users and tokens) is answered 503 as above, if nothing was answered yet, and logged
    in one line instead of a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = Answering(send)
        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if watched.started or not is_failure(exc):
                raise
            answer = unavailable(exc)
            log.error("%s %s：%s（%s）", scope.get("method"), scope.get("path"), answer.message,
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            accept = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept"), "")
            await unavailable_response(answer, _html_wanted(scope["path"], accept), Request(scope))(scope, receive, send)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            kind = err.get("type", "")
            if kind == "json_invalid":
                errors.append({"code": "malformed_json", "message": "请求体不是合法的 JSON", "field": "body"})
                continue
            raw = str(err.get("msg", "")).removeprefix("Value error, ")
            if kind == "value_error" and raw.startswith(UNWRITABLE_MESSAGE):  # api.schemas.Writable: names the character
                errors.append({"code": "invalid_character", "message": raw, "field": _field(tuple(err.get("loc", ())))})
                continue
            msg = _PYDANTIC_MESSAGES.get(kind)
            if msg is None:
                raw = str(err.get("msg", ""))
                msg = raw.removeprefix("Value error, ") if raw.startswith("Value error, ") else f"取值无效（{raw}）"
            errors.append({"code": "invalid_input", "message": msg, "field": _field(tuple(err.get("loc", ())))})
        first = errors[0] if errors else {"code": "invalid_input", "message": "输入无效", "field": None}
        if wants_html(request):  # e.g. a bad date or an overlong keyword in a page's address
            return _page(422, "；".join(f"{_FIELD_LABELS.get(e['field'], e['field'])}：{e['message']}" for e in errors),
                         request=request)
        return JSONResponse(body(first["code"], first["message"], first["field"], errors), status_code=422)

    @app.exception_handler(DiscretionError)
    async def _domain(request: Request, exc: DiscretionError) -> Response:
        if isinstance(exc, StorageUnavailable):
            log.error("%s %s：%s", request.method, request.url.path, exc.message)
            return unavailable_response(exc, wants_html(request), request)
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, InputError):
            status = 422
        elif isinstance(exc, AuthError):
            status = 401
        elif isinstance(exc, ForbiddenError):
            status = 403
        elif isinstance(exc, ConflictError):
            status = 409
        elif isinstance(exc, TooManyAttemptsError):
            status = 429
        elif isinstance(exc, RulebookError):
            log.error("rulebook error while serving: %s", exc)
            status = 500
        else:
            log.error("engine error: %s", exc)
            status = 500
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttemptsError) else None
        if wants_html(request):
            return _page(status, exc.message, headers, request)
        fields = getattr(exc, "fields", ())  # contradictory inputs: one error per field, the same code and message
        errors = [{"code": exc.code, "message": exc.message, "field": f} for f in fields] if fields else None
        errors = getattr(exc, "errors", None) or errors  # an offline result that differs: one entry per differing field
        return JSONResponse(body(exc.code, exc.message, exc.field, errors), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # starlette could not parse the body (e.g. nesting too deep)
            return JSONResponse(body("malformed_json", "请求体不是合法的 JSON", "body"), status_code=422)
        code, msg = _STATUS_CODES.get(exc.status_code, ("http_error", "请求无效"))
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, status_code=exc.status_code)
        if wants_html(request):
            return _page(exc.status_code, msg, request=request)
        return JSONResponse(body(code, msg), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error")
        if wants_html(request):
            return _page(500, "服务器内部错误，已记录。请稍后重试；问题持续时请告知管理员。", request=request)
        return JSONResponse(body("internal_error", "服务器内部错误，已记录"), status_code=500)
