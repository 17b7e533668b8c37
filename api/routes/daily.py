"""POST /v1/daily-penalties: 按日连续处罚."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from discretion.engine.case import MAX_DATE, MIN_DATE
from discretion.engine.daily import daily_penalty
from discretion.errors import InputError

from ..deps import State, state, unique_keys
from ..schemas import DAILY_PENALTY_EXAMPLE, ERROR_RESPONSES, DailyPenaltyIn, DailyPenaltyOut, json_example

router = APIRouter(prefix="/v1/daily-penalties", tags=["daily-penalties"], responses=ERROR_RESPONSES)


MAX_TOTAL = 10**15  # yuan: the bound of every number the API takes (docs/limits.md); below 2^53, exact in any JSON reader


@router.post("", summary="按日连续处罚计算", response_model=None, openapi_extra=json_example(DAILY_PENALTY_EXAMPLE), responses={200: {"model": DailyPenaltyOut, "description": "按日连续处罚的天数、总额及依据"}})
async def compute(body: DailyPenaltyIn, s: Annotated[State, Depends(state)],
                  _: Annotated[None, Depends(unique_keys)]) -> dict[str, Any]:
    """Dates inside 1900–2199 and a total of at most 10^15 yuan, like an assessment's numbers (422 otherwise)."""
    for field in ("order_served_date", "reinspection_date"):
        if not MIN_DATE <= getattr(body, field) <= MAX_DATE:
            raise InputError(message=f"日期超出可计算的范围（{MIN_DATE} 至 {MAX_DATE}）", code="date_out_of_range", field=field)
    days = (body.reinspection_date - body.order_served_date).days
    if body.original_fine * days > MAX_TOTAL:
        raise InputError(message=f"按日连续处罚总额超出上限（{MAX_TOTAL:,} 元）", code="amount_out_of_range", field="reinspection_date")
    return daily_penalty(s.rulebooks.law, body.original_fine, body.order_served_date, body.reinspection_date).to_dict()
