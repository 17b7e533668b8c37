"""按日连续处罚 as the service computes it, for the API (POST /v1/daily-penalties) and the page
(/daily) alike: the service's bounds on dates and the total, then the engine's ``daily_penalty``."""

from __future__ import annotations

import datetime as dt

from discretion.engine.case import MAX_DATE, MIN_DATE
from discretion.engine.daily import DailyPenalty, daily_penalty
from discretion.errors import InputError
from discretion.rulebooks.models import LawEdition

MAX_TOTAL = 10**15  # yuan: the bound of every number the API takes (docs/limits.md); below 2^53, exact in any JSON reader


def compute(law: LawEdition, original_fine: int, order_served_date: dt.date, reinspection_date: dt.date) -> DailyPenalty:
    """Dates inside 1900–2199 and a total of at most 10^15 yuan, like an assessment's numbers (InputError otherwise)."""
    for field, day in (("order_served_date", order_served_date), ("reinspection_date", reinspection_date)):
        if not MIN_DATE <= day <= MAX_DATE:
            raise InputError(message=f"日期超出可计算的范围（{MIN_DATE} 至 {MAX_DATE}）", code="date_out_of_range", field=field)
    days = (reinspection_date - order_served_date).days
    if original_fine * days > MAX_TOTAL:
        raise InputError(message=f"按日连续处罚总额超出上限（{MAX_TOTAL:,} 元）", code="amount_out_of_range", field="reinspection_date")
    return daily_penalty(law, original_fine, order_served_date, reinspection_date)
