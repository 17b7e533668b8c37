"""按日连续处罚 (/daily): a Chinese form and its result, computed as POST /v1/daily-penalties is
(``api.dailypenalty.compute``, the engine's ``daily_penalty``). A GET form: it records nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from discretion.engine.capitals import rmb
from discretion.engine.daily import DailyPenalty
from discretion.errors import DiscretionError

from ..dailypenalty import compute
from ..deps import State, state
from .rendering import REGIMES, render

router = APIRouter(include_in_schema=False)

FIELDS = {"original_fine": "原罚款数额（元）", "order_served_date": "责令改正决定书送达日期",
          "reinspection_date": "复查发现违法行为的日期"}
MAX_FINE_DIGITS = 13


def _date(raw: str, field: str, errors: dict[str, str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = "日期格式错误，须为 年-月-日（如 2026-09-01）"
        return None


@router.get("/daily", response_class=HTMLResponse)
async def daily_page(request: Request, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    """The empty form; with its three fields filled in, the result below it (or each problem beside its field)."""
    values = {k: (request.query_params.get(k) or "").strip() for k in FIELDS}
    errors: dict[str, str] = {}
    result: DailyPenalty | None = None
    if any(values.values()):
        for k, label in FIELDS.items():
            if not values[k]:
                errors[k] = f"请填写{label}"
        raw = values["original_fine"].replace(",", "").replace("，", "")
        fine = None
        if raw and (not raw.isdecimal() or len(raw) > MAX_FINE_DIGITS or int(raw) <= 0):
            errors["original_fine"] = "请填写大于零的整数元（不写“万”）"
        elif raw:
            fine = int(raw)
        served = _date(values["order_served_date"], "order_served_date", errors) if values["order_served_date"] else None
        again = _date(values["reinspection_date"], "reinspection_date", errors) if values["reinspection_date"] else None
        if not errors and fine is not None and served is not None and again is not None:
            try:
                result = compute(s.rulebooks.law, fine, served, again)
            except DiscretionError as exc:
                errors[exc.field if exc.field in FIELDS else "form"] = exc.message
    return render(request, "daily.html", status=422 if errors else 200, values=values, errors=errors, fields=FIELDS,
                  d=result, capitals=rmb(result.total) if result else "", regimes=REGIMES)
