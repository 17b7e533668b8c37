"""POST /v1/daily-penalties: 按日连续处罚 (computed by api.dailypenalty, as the /daily page is)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ..dailypenalty import compute as compute_daily
from ..deps import State, state, unique_keys
from ..schemas import DAILY_PENALTY_EXAMPLE, ERROR_RESPONSES, DailyPenaltyIn, DailyPenaltyOut, json_example

router = APIRouter(prefix="/v1/daily-penalties", tags=["daily-penalties"], responses=ERROR_RESPONSES)


@router.post("", summary="按日连续处罚计算", response_model=None, openapi_extra=json_example(DAILY_PENALTY_EXAMPLE), responses={200: {"model": DailyPenaltyOut, "description": "按日连续处罚的天数、总额及依据"}})
async def compute(body: DailyPenaltyIn, s: Annotated[State, Depends(state)],
                  _: Annotated[None, Depends(unique_keys)]) -> dict[str, Any]:
    """Dates inside 1900–2199 and a total of at most 10^15 yuan, like an assessment's numbers (422 otherwise)."""
    return compute_daily(s.rulebooks.law, body.original_fine, body.order_served_date, body.reinspection_date).to_dict()
