"""One error shape for every error the service answers: a stable code, a Chinese message, the field.

``{"code": "unknown_violation", "message": "未知的违法行为代码：x", "field": "violation", "errors": [...]}``
Domain errors are mapped here in one place; nothing a client can send yields a 500.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from discretion.errors import (
    AuthError,
    ConflictError,
    DiscretionError,
    ForbiddenError,
    InputError,
    NotFoundError,
    RulebookError,
)

from .limits import UNWRITABLE_MESSAGE

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


def _wants_html(request: Request) -> bool:
    """Pages of the web form answer errors as pages; the JSON API always answers JSON."""
    path = request.url.path
    if path.startswith("/v1") or path in ("/healthz", "/openapi.json"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _page(status: int, message: str) -> HTMLResponse:
    text = html.escape(message)
    return HTMLResponse(
        f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{status}</title>"
        f"<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><h1>{status}</h1>"
        f"<p>{text}</p><p><a href=\"/\">返回首页</a></p></main></body></html>",
        status_code=status,
    )


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
        if _wants_html(request):  # e.g. a bad date or an overlong keyword in a page's address
            return _page(422, "；".join(f"{_FIELD_LABELS.get(e['field'], e['field'])}：{e['message']}" for e in errors))
        return JSONResponse(body(first["code"], first["message"], first["field"], errors), status_code=422)

    @app.exception_handler(DiscretionError)
    async def _domain(request: Request, exc: DiscretionError) -> JSONResponse:
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
        elif isinstance(exc, RulebookError):
            log.error("rulebook error while serving: %s", exc)
            status = 500
        else:
            log.error("engine error: %s", exc)
            status = 500
        if _wants_html(request):
            return _page(status, exc.message)
        fields = getattr(exc, "fields", ())  # contradictory inputs: one error per field, the same code and message
        errors = [{"code": exc.code, "message": exc.message, "field": f} for f in fields] if fields else None
        return JSONResponse(body(exc.code, exc.message, exc.field, errors), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # starlette could not parse the body (e.g. nesting too deep)
            return JSONResponse(body("malformed_json", "请求体不是合法的 JSON", "body"), status_code=422)
        code, msg = _STATUS_CODES.get(exc.status_code, ("http_error", "请求无效"))
        if isinstance(exc.detail, dict):
            return JSONResponse(exc.detail, status_code=exc.status_code)
        if _wants_html(request):
            return _page(exc.status_code, msg)
        return JSONResponse(body(code, msg), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(body("internal_error", "服务器内部错误，已记录"), status_code=500)
