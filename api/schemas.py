"""Request models of the JSON API (the responses are the library's result dicts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from discretion.models import IsoDate

Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AssessmentIn(BaseModel):
    """POST /v1/assessments: one case."""

    model_config = ConfigDict(extra="forbid")

    violation: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(description="违法行为代码")
    jurisdiction: Annotated[str, StringConstraints(min_length=1, max_length=80)] = "yunnan"
    party: Literal["unit", "individual"] = "unit"
    facts: dict[Name, Any] = Field(
        default_factory=dict,
        max_length=64,
        description="事实：名称 → 值（数字、字符串、true/false 或 null），见 GET /v1/violations/{code} 的 facts_schema",
    )
    circumstances: list[Name] = Field(default_factory=list, max_length=64, description="情节标识")
    violation_date: IsoDate
    violation_end_date: IsoDate | None = None
    discovered_date: IsoDate | None = None
    decision_date: IsoDate | None = Field(default=None, description="默认为今天")
    edition: Annotated[str, StringConstraints(max_length=80)] | None = Field(default=None, description="指定未发布版本（审查用）")


class DailyPenaltyIn(BaseModel):
    """POST /v1/daily-penalties."""

    model_config = ConfigDict(extra="forbid")

    original_fine: int = Field(gt=0, le=10**12, description="原罚款数额（元）")
    order_served_date: IsoDate
    reinspection_date: IsoDate


def today() -> dt.date:
    return dt.date.today()
