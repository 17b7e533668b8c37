"""POST /v1/assessments and GET /v1/assessments/{id}."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from discretion.case import Case
from discretion.errors import InputError, NotFoundError

from ..deps import State, state
from ..schemas import ERROR_RESPONSES, AssessmentIn
from ..storage import new_id

router = APIRouter(prefix="/v1/assessments", tags=["assessments"], responses=ERROR_RESPONSES)


MAX_INT = 10**15
MAX_TEXT = 200


def _fact_value(name: str, v: Any) -> Any:
    path = f"facts.{name}"
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        if abs(v) > MAX_INT:
            raise InputError(message="数值过大", code="invalid_fact", field=path)
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InputError(message="须为有限数字（不接受 NaN、Infinity）", code="invalid_fact", field=path)
        if abs(v) > MAX_INT:
            raise InputError(message="数值过大", code="invalid_fact", field=path)
        return v
    if isinstance(v, str):
        if len(v) > MAX_TEXT:
            raise InputError(message=f"文字过长（最多 {MAX_TEXT} 个字符）", code="invalid_fact", field=path)
        return v
    raise InputError(message="事实的值须为数字、字符串、true/false 或 null", code="invalid_fact", field=path)


def to_case(body: AssessmentIn) -> Case:
    data = body.model_dump()
    data["facts"] = {k: _fact_value(k, v) for k, v in body.facts.items()}
    data["decision_date"] = data["decision_date"] or dt.date.today()
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in msg)
        code = "date_out_of_range" if msg.startswith("日期超出") else "invalid_input"
        raise InputError(message=msg if chinese else "输入无效", code=code, field=loc) from None


_BODY_SCHEMA = AssessmentIn.model_json_schema()


@router.post(
    "",
    status_code=201,
    summary="计算一个案件的处罚",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}},
    responses={201: {"description": "计算结果（已保存），含 id"}},
)
async def create(request: Request, s: Annotated[State, Depends(state)]) -> Response:
    """Assess one case and store it; answers 201 only after the record is committed.

    The body is validated straight from its bytes (pydantic-core's JSON parser), and the result is
    encoded once, for the store and the answer alike."""
    body = parse_body(await request.body(), request.headers.get("content-type"))
    case = to_case(body)
    a = s.engine.assess(case)
    rid = new_id()
    payload = a.to_json(id=rid)
    rulebook = a.rulebook
    await asyncio.wrap_future(
        s.store.submit_json(rid, body.model_dump(mode="json"), payload, outcome=a.outcome,
                            edition=rulebook["key"], sha256=rulebook["sha256"])
    )
    return Response(payload, status_code=201, media_type="application/json")


def parse_body(raw: bytes, content_type: str | None) -> AssessmentIn:
    if content_type and "json" not in content_type.split(";")[0]:
        raise InputError(message="请求体须为 JSON（Content-Type: application/json）", code="invalid_input", field="body")
    try:
        return AssessmentIn.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


@router.get("/{assessment_id}", summary="读取一次计算结果")
async def read(
    assessment_id: Annotated[str, Path(max_length=64)], s: Annotated[State, Depends(state)]
) -> dict[str, Any]:
    got = s.store.get(assessment_id)
    if got is None:
        raise NotFoundError(message=f"没有编号为 {assessment_id} 的计算结果", field="id")
    return got
