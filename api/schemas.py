"""Request models of the JSON API (the responses are the library's result dicts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

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

    original_fine: StrictInt = Field(gt=0, le=10**12, description="原罚款数额（整数元）")
    order_served_date: IsoDate
    reinspection_date: IsoDate


def today() -> dt.date:
    return dt.date.today()


class ErrorItem(BaseModel):
    code: str = Field(description="稳定的错误代码，如 unknown_violation")
    message: str = Field(description="中文说明")
    field: str | None = Field(description="出错的字段路径，如 facts.total_investment、circumstances[0]")


class ErrorOut(ErrorItem):
    """Every error the service answers (4xx; 5xx only for server faults)."""

    errors: list[ErrorItem]


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "资源不存在"},
    413: {"model": ErrorOut, "description": "请求体过大"},
    422: {"model": ErrorOut, "description": "输入无效"},
}
