"""POST /v1/assessments and GET /v1/assessments/{id}."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from discretion.case import Case
from discretion.errors import InputError, NotFoundError

from ..deps import State, state
from ..schemas import AssessmentIn

router = APIRouter(prefix="/v1/assessments", tags=["assessments"])


def to_case(body: AssessmentIn) -> Case:
    data = body.model_dump()
    data["decision_date"] = data["decision_date"] or dt.date.today()
    try:
        return Case.model_validate(data)
    except Exception as exc:  # pydantic errors of the core model: bad fact values etc.
        raise InputError(message=f"输入无效：{exc}", code="invalid_input", field="body") from None


def assess(s: State, body: AssessmentIn) -> dict[str, Any]:
    """Assess and store one case; returns the stored result with its id."""
    case = to_case(body)
    result = s.engine.assess(case).to_dict()
    request = body.model_dump(mode="json")
    rid = s.store.add(request, result)
    return {"id": rid, **result}


@router.post("", status_code=201, summary="计算一个案件的处罚")
async def create(body: AssessmentIn, s: Annotated[State, Depends(state)]) -> JSONResponse:
    return JSONResponse(assess(s, body), status_code=201)


@router.get("/{assessment_id}", summary="读取一次计算结果")
async def read(
    assessment_id: Annotated[str, Path(max_length=64)], s: Annotated[State, Depends(state)]
) -> dict[str, Any]:
    got = s.store.get(assessment_id)
    if got is None:
        raise NotFoundError(message=f"没有编号为 {assessment_id} 的计算结果", field="id")
    return got
