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

    # The bounds below are documented in docs/limits.md (with the error code and field of each).
    violation: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(description="违法行为代码（1–80 个字符）")
    jurisdiction: Annotated[str, StringConstraints(min_length=1, max_length=80)] = Field(
        default="yunnan", description="辖区，如 yunnan、yunnan/kunming（1–80 个字符）")
    party: Literal["unit", "individual"] = "unit"
    facts: dict[Name, Any] = Field(
        default_factory=dict,
        max_length=64,
        description=(
            "事实：名称 → 值（数字、字符串、true/false 或 null），见 GET /v1/violations/{code} 的 facts_schema。"
            "最多 64 项；名称 1–64 个字符；字符串值最多 200 个字符；数值须有限且绝对值不超过 10^15"
            "（金额、数量等另受 facts_schema 的 minimum/maximum 及 10^12 的上限约束），否则 422 invalid_fact（field 为 facts.名称）"
        ),
    )
    circumstances: list[Name] = Field(default_factory=list, max_length=64, description="情节标识（最多 64 个，每个 1–64 个字符）")
    violation_date: IsoDate = Field(description="违法行为发生日期 YYYY-MM-DD（1900-01-01 至 2199-12-31，超出为 422 date_out_of_range）")
    violation_end_date: IsoDate | None = Field(default=None, description="连续或继续状态的违法行为终了日期（同上范围）")
    discovered_date: IsoDate | None = Field(default=None, description="发现日期（同上范围）")
    decision_date: IsoDate | None = Field(default=None, description="决定日期，默认为今天（同上范围）")
    edition: Annotated[str, StringConstraints(max_length=80)] | None = Field(default=None, description="指定未发布版本（审查用，最多 80 个字符）")


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


# --- records: assessments as stored, decisions, reproduction ----------------------------------

# Free text stored in records: no control characters but tab and line breaks.
RecordText = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class DecisionIn(BaseModel):
    """POST /v1/assessments/{id}/decision: the amount the officer decided, and why."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=0, le=10**12, description="决定的罚款数额（整数元；不予处罚为 0）")
    reason: RecordText | None = Field(
        default=None, description="理由；数额不在建议裁量档次内时必填（最多 2000 字）"
    )


class Who(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="用户名或令牌所有人（本机无认证时为 local）")
    role: str = Field(description="handler 承办人 | reviewer 审核人 | admin 管理员")


class DecisionOut(BaseModel):
    """The officer's decision on an assessment (its own chained record)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    assessment_id: str
    amount: int = Field(description="决定的罚款数额（元）")
    reason: str | None
    within_band: bool = Field(description="是否在建议裁量档次内")
    band: list[int] = Field(description="建议裁量档次 [下限, 上限]（元）；无罚款建议时为 [0, 0]")
    recommended: int | None = Field(description="建议罚款（元）")
    decided_by: Who
    decided_at: dt.datetime
    seq: int = Field(description="在哈希链中的序号")
    hash: str


class RecordMeta(BaseModel):
    """Who made an assessment, when, with which rulebooks and engine; its place in the hash chain."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    prev_hash: str
    hash: str = Field(description="sha256(prev_hash ‖ 记录内容的规范字节)")
    created_at: dt.datetime
    created_by: Who
    engine_version: str
    rulebook_set: str = Field(description="所用规则集源文件的内容哈希（快照的键）")
    edition: str = Field(description="裁量基准版本，如 yunnan@2023")
    sha256: str = Field(description="裁量基准版本文件的 sha256")


class FineOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_min: int
    legal_max: int | None
    band: list[int]
    recommended: int


class AssessmentRecordOut(BaseModel):
    """GET /v1/assessments/{id}: the stored result (as POST answered it), its record and decision."""

    model_config = ConfigDict(extra="forbid")

    id: str
    outcome: Literal["penalty", "no_penalty", "time_barred"]
    violation: dict[str, Any]
    fine: FineOut | None
    individual_fines: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    law: dict[str, Any]
    rulebook: dict[str, Any]
    trail: list[dict[str, Any]]
    reasoning: str
    record: RecordMeta
    decision: DecisionOut | None


class AssessmentItem(BaseModel):
    """One assessment in a list: enough for a supervisor to see the band and the decision."""

    model_config = ConfigDict(extra="forbid")

    id: str
    seq: int
    created_at: dt.datetime
    created_by: Who
    violation: str
    title: str
    outcome: Literal["penalty", "no_penalty", "time_barred"]
    recommended: int | None
    band: list[int] | None
    edition: str
    decision: DecisionOut | None


class AssessmentList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AssessmentItem]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")
    next: str | None = Field(description="下一页的地址（含相同的筛选条件）")


class Difference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="字段路径，如 fine.recommended、trail[3].text")
    stored: Any = Field(description="保存的值")
    now: Any = Field(description="重新计算的值")


class EngineVersions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stored: str
    now: str


class ReproductionOut(BaseModel):
    """GET /v1/assessments/{id}/reproduce: the stored request re-evaluated with the stored rulebooks."""

    model_config = ConfigDict(extra="forbid")

    id: str
    identical: bool
    rulebooks: Literal["current", "snapshot"] = Field(description="current：当前规则集即所用规则集；snapshot：由快照重建")
    rulebook_set: str
    edition: str
    sha256: str
    engine_version: EngineVersions
    reproduced_at: dt.datetime
    differences: list[Difference]
