"""POST /v1/daily-penalties: 按日连续处罚."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from discretion.engine.daily import daily_penalty

from ..deps import State, state
from ..schemas import ERROR_RESPONSES, DailyPenaltyIn, DailyPenaltyOut

router = APIRouter(prefix="/v1/daily-penalties", tags=["daily-penalties"], responses=ERROR_RESPONSES)


@router.post("", summary="按日连续处罚计算", response_model=None, responses={200: {"model": DailyPenaltyOut, "description": "按日连续处罚的天数、总额及依据"}})
async def compute(body: DailyPenaltyIn, s: Annotated[State, Depends(state)]) -> dict[str, Any]:
    return daily_penalty(s.rulebooks.law, body.original_fine, body.order_served_date, body.reinspection_date).to_dict()
