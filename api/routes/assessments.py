"""POST /v1/assessments and GET /v1/assessments/{id}."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
import orjson
from fastapi.responses import Response
from pydantic import ValidationError

from discretion.case import Case
from discretion.errors import InputError, NotFoundError

from ..deps import State, state
from ..schemas import AssessmentIn

router = APIRouter(prefix="/v1/assessments", tags=["assessments"])


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


@router.post("", status_code=201, summary="计算一个案件的处罚")
async def create(body: AssessmentIn, s: Annotated[State, Depends(state)]) -> Response:
    """Assess one case and store it; answers 201 only after the record is committed."""
    case = to_case(body)
    result = s.engine.assess(case).to_dict()
    rid = await asyncio.wrap_future(s.store.submit(body.model_dump(mode="json"), result))
    return Response(orjson.dumps({"id": rid, **result}, default=str), status_code=201, media_type="application/json")


@router.get("/{assessment_id}", summary="读取一次计算结果")
async def read(
    assessment_id: Annotated[str, Path(max_length=64)], s: Annotated[State, Depends(state)]
) -> dict[str, Any]:
    got = s.store.get(assessment_id)
    if got is None:
        raise NotFoundError(message=f"没有编号为 {assessment_id} 的计算结果", field="id")
    return got
