"""Request models of the JSON API (the responses are the library's result dicts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from discretion.rulebooks.models import Group, IsoDate

from .casedata import CaseIn
from .limits import unwritable


def _writable(text: str) -> str:
    """Refuses text a record may not hold (api.limits.UNWRITABLE): 422 ``invalid_character`` (api.errors
    knows the message by its start, UNWRITABLE_MESSAGE)."""
    problem = unwritable(text)
    if problem is not None:
        raise ValueError(problem)
    return text


Writable = AfterValidator(_writable)
Name = Annotated[str, StringConstraints(min_length=1, max_length=64), Writable]
RecordId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]  # api.storage.new_id: 24 hex digits


# The examples of /openapi.json: "Try it out" in /docs sends them as given and they succeed (a real
# violation code, facts from its facts_schema, an act and a decision in the past: the API refuses act
# dates after today). tests/test_openapi_examples.py sends every one of them to the app.
ASSESSMENT_EXAMPLE: dict[str, Any] = {
    "violation": "water_over_standard",
    "jurisdiction": "yunnan",
    "party": "unit",
    "facts": {"exceedance_ratio": 0.5},
    "circumstances": ["confessed"],
    "violation_date": "2025-03-01",
    "discovered_date": "2025-03-10",
    "decision_date": "2025-09-01",
    "case": {
        "number": "昆环罚〔2025〕21号",
        "party": {"name": "昆明某某化工有限公司", "kind": "unit", "id_code": "91350100M000100Y43"},
        "address": "昆明市官渡区某路1号",
        "location": "昆明市官渡区某排污口",
    },
}
# 136,000 yuan is what ASSESSMENT_EXAMPLE recommends (inside its band, so the reason is optional).
DECISION_EXAMPLE: dict[str, Any] = {"amount": 136000, "reason": "当事人如实供述违法事实，按建议数额决定。"}
DAILY_PENALTY_EXAMPLE: dict[str, Any] = {
    "original_fine": 100000, "order_served_date": "2025-06-01", "reinspection_date": "2025-06-21",
}


def param_example(value: Any, summary: str) -> dict[str, Any]:
    """The openapi_examples of a path or query parameter: one example, the one /docs fills in."""
    return {"example": {"summary": summary, "value": value}}


def json_example(example: dict[str, Any]) -> dict[str, Any]:
    """The openapi_extra of an operation whose JSON request body has this example."""
    return {"requestBody": {"content": {"application/json": {"example": example}}}}


Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class OfflineIn(BaseModel):
    """离线终端上传离线计算时附带（v1 的补充字段）：服务端用 bundle_hash 所指的规则集重新计算，结果逐字节一致才入档，并保留 made_at。"""

    model_config = ConfigDict(extra="forbid")

    made_at: dt.datetime = Field(description="离线计算的时间（ISO 8601，须带时区），入档时保留")
    bundle_hash: Sha256Hex = Field(description="离线包的规则集哈希（离线包 manifest.json 的 bundle_hash，即服务端规则集快照的键）")
    result_sha256: Sha256Hex = Field(description="离线计算结果（不含 id 的结果 JSON 字节）的 sha256")
    result: dict[str, Any] | None = Field(default=None, description="离线计算的结果（可选）：与服务端结果不一致时，据以逐项列出不同的字段")


class AssessmentIn(BaseModel):
    """POST /v1/assessments: one case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ASSESSMENT_EXAMPLE]})

    # The bounds below are documented in docs/limits.md (with the error code and field of each).
    violation: Annotated[str, StringConstraints(min_length=1, max_length=80), Writable] = Field(description="违法行为代码（1–80 个字符）")
    jurisdiction: Annotated[str, StringConstraints(min_length=1, max_length=80), Writable] = Field(
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
    edition: Annotated[str, StringConstraints(max_length=80), Writable] | None = Field(default=None, description="指定未发布版本（审查用，最多 80 个字符）")
    case: CaseIn | None = Field(default=None, description="案件信息（可选，v1 的补充字段）：案号、当事人、地址、违法地点；随记录保存，不影响计算")
    supersedes: RecordId | None = Field(
        default=None, examples=["0193a1b2c3d4e5f6a7b8c9d0"],
        description="修改后重新计算（可选，v1 的补充字段）：本次计算取代的原记录编号。原记录须存在（否则 404 superseded_not_found）、"
                    "须为调用者本人计算（否则 403 supersede_forbidden；审核人、管理员可查看但不能取代他人的记录），"
                    "且尚未被取代（否则 409 already_superseded，message 中给出取代它的记录编号；两个请求同时取代同一记录时只有一个成功）。"
                    "请求体是完整的新输入（不继承原记录的事实、情节或案件信息），可更正违法行为类型、案号和当事人。"
                    "两条记录都保留在哈希链上；列表只列出最新的一条，并在 history 中给出此前各版")
    offline: OfflineIn | None = Field(default=None, description="离线终端上传离线计算的结果时附带（可选，v1 的补充字段）；须同时给出决定日期和 Idempotency-Key")


class DailyPenaltyIn(BaseModel):
    """POST /v1/daily-penalties."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DAILY_PENALTY_EXAMPLE]})

    original_fine: StrictInt = Field(gt=0, le=10**12, description="原罚款数额（整数元）")
    order_served_date: IsoDate
    reinspection_date: IsoDate


class ErrorItem(BaseModel):
    code: str = Field(description="稳定的错误代码，如 unknown_violation")
    message: str = Field(description="中文说明")
    field: str | None = Field(description="出错的字段路径，如 facts.total_investment、circumstances[0]")


class ErrorOut(ErrorItem):
    """服务答复的每一种错误（4xx；5xx 仅用于服务器故障）。相互矛盾的输入（contradictory_inputs）在 errors 中逐项列出
    每一项输入（field 依次为各项，如 circumstances[0]、facts.violations_in_two_years），message 以中文指明各项。"""

    errors: list[ErrorItem]


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "资源不存在"},
    422: {"model": ErrorOut, "description": "输入无效（请求体过大时 code 为 body_too_large）"},
    503: {"model": ErrorOut, "description": "记录数据库暂时不可用（storage_unavailable：无法连接、超时、只读或磁盘已满），答复后关闭连接；请稍后重试"},
}


# --- records: assessments as stored, decisions, reproduction ----------------------------------

# Free text stored in records: no control characters but tab and line breaks.
RecordText = Annotated[str, StringConstraints(max_length=2000), Writable]


class DecisionIn(BaseModel):
    """POST /v1/assessments/{id}/decision：承办人决定的罚款数额及理由。"""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DECISION_EXAMPLE]})

    amount: StrictInt = Field(ge=0, le=10**12, description="决定的罚款数额（整数元；不予处罚为 0）")
    reason: RecordText | None = Field(
        default=None, description="理由；数额不在建议裁量档次内时必填（最多 2000 字）"
    )


class Who(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="用户名或令牌所有人（本机无认证时为 local）")
    role: str = Field(description="handler 承办人 | reviewer 审核人 | admin 管理员")


class DecisionOut(BaseModel):
    """承办人对一次计算作出的决定（哈希链上的独立记录）。"""

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


class OfflineRecord(BaseModel):
    """离线终端计算、上传后经服务端重新计算一致而入档的记录：何时离线计算、所用规则集、结果的 sha256。"""

    model_config = ConfigDict(extra="forbid")

    made_at: str = Field(description="离线计算的时间（UTC，ISO 8601）")
    bundle_hash: str = Field(description="离线包的规则集哈希（与 rulebook_set 相同）")
    result_sha256: str = Field(description="结果（不含 id）的 sha256，离线与服务端相同")


class RecordMeta(BaseModel):
    """计算记录的来历：计算人、时间、所用规则集和引擎，及其在哈希链中的位置。"""

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
    offline: OfflineRecord | None = Field(default=None, description="离线计算后上传的记录才有（v1 的补充字段）")


class FineOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_min: int
    legal_max: int | None
    band: list[int]
    recommended: int


class PartyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="当事人姓名或者名称")
    kind: Literal["unit", "individual"] = Field(description="unit 单位；individual 个人")
    id_code: str | None = Field(description="统一社会信用代码或公民身份号码（列表中个人的号码只显示前 4 位和后 4 位）")


class CaseOut(BaseModel):
    """案件信息，如 POST 时所给（证照号码已规范为大写）。"""

    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(description="案号")
    party: PartyOut | None = Field(description="当事人")
    address: str | None = Field(description="当事人地址")
    location: str | None = Field(description="违法地点")


class CaseSummaryOut(BaseModel):
    """列表中的案件信息：案号和当事人（个人的公民身份号码只显示前 4 位和后 4 位）。"""

    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(description="案号")
    party: PartyOut | None = Field(description="当事人")


class VersionOut(BaseModel):
    """修改后重新计算的一版记录（versions、history 中的一项）。"""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="计算编号")
    seq: int = Field(description="在哈希链中的序号")
    created_at: dt.datetime = Field(description="计算时间")
    outcome: Literal["penalty", "no_penalty", "time_barred"] = Field(description="处理结果")
    recommended: int | None = Field(description="建议罚款（元）")
    decision_amount: int | None = Field(description="该版已记录的决定数额（元）；尚无决定时为 null")


class AssessmentRecordOut(BaseModel):
    """GET /v1/assessments/{id}：所存的计算结果（与 POST 的答复相同），及其记录和决定。"""

    model_config = ConfigDict(extra="forbid")

    id: str
    outcome: Literal["penalty", "no_penalty", "time_barred"]
    violation: dict[str, Any]
    fine: FineOut | None
    individual_fines: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    circumstances_not_applied: list[dict[str, Any]] = Field(
        default_factory=list, description="未予适用的情节（见 POST 的答复；此项加入前保存的记录没有）")
    facts_not_applied: list[dict[str, Any]] = Field(
        default_factory=list, description="未予适用的事实（见 POST 的答复；此项加入前保存的记录没有）")
    factors_defaulted: list[dict[str, Any]] = Field(
        default_factory=list, description="按默认等级计算的裁量因子（见 POST 的答复；此项加入前保存的记录没有）")
    law: dict[str, Any]
    rulebook: dict[str, Any]
    trail: list[dict[str, Any]]
    reasoning: str
    request: dict[str, Any] = Field(
        description="所存的计算输入（v1 的补充字段）：violation、jurisdiction、party、facts、circumstances、各日期、edition，"
                    "decision_date 为计算所用的日期；不含 case 和 supersedes（另列）。修改后重新计算时可据此填写新的请求")
    record: RecordMeta
    decision: DecisionOut | None
    case: CaseOut | None = Field(description="案件信息；计算时未给出时为 null（v1 的补充字段）")
    supersedes: str | None = Field(description="本记录取代的原记录编号（修改后重新计算）；不是重新计算的为 null（v1 的补充字段）")
    superseded_by: str | None = Field(description="取代本记录的新记录编号；尚未被取代时为 null（v1 的补充字段）")
    versions: list[VersionOut] = Field(description="本案各版记录，按时间顺序（最早的在前，含本记录）；未重新计算过时只有本记录（v1 的补充字段）")


class AssessmentItem(BaseModel):
    """列表中的一条计算记录：足以看出建议档次和决定。"""

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
    case: CaseSummaryOut | None = Field(description="案号和当事人（个人的号码已遮盖）；未给出时为 null（v1 的补充字段）")
    supersedes: str | None = Field(description="本记录取代的原记录编号；不是重新计算的为 null（v1 的补充字段）")
    history: list[VersionOut] = Field(description="本记录此前的各版（修改后重新计算所取代的），新的在前；修改次数即其项数（v1 的补充字段）")


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
    """GET /v1/assessments/{id}/reproduce：用所存规则集对所存请求的重新计算。"""

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


# --- responses of the JSON API v1 (for the OpenAPI document) -----------------------------------
#
# Each model describes one response body exactly as the service writes it: every key, its type and
# whether it may be null. They are strict (no coercion: "100000" is not an int, 1 is not true) and
# closed (extra="forbid"), except a trail step's `data`, whose keys depend on the step. A key the
# service leaves out when it has nothing to say (never null) is declared with `_absent`: not
# required, not nullable, and without a default in the schema. Serialised with by_alias=True and
# exclude_unset=True, a validated body gives back the same JSON.

from pydantic import WithJsonSchema  # noqa: E402

from discretion.rulebooks.models import FactType, FlagId, Regime, Status  # noqa: E402  (the response models' vocabularies)

Outcome = Literal["penalty", "no_penalty", "time_barred"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Band = Annotated[list[int], Field(min_length=2, max_length=2)]
# Dates are written as text (YYYY-MM-DD); a strict model would accept only date objects.
DateText = Annotated[dt.date, Field(strict=False)]
# A JSON number written as an integer when it is whole (1, not 1.0) and kept so when serialised again.
JsonNumber = Annotated[int | float, WithJsonSchema({"type": "number"})]
# The step names of the trail, in pipeline order (discretion.engine.trail.STEP_LABELS; a test keeps them equal).
StepName = Literal[
    "regime", "edition", "limitation", "provision", "exemption", "escalation", "concurrence", "range", "factor",
    "position", "adjustment", "reduction", "rounding", "individual_fine", "measure", "flag", "lighter_law", "circumstance",
    "fact",
]
# The procedural reminders a result may carry: the rulebooks' (FlagId) and the engine's own notices.
ResultFlagId = Literal[FlagId, "factors_unknown", "edition_for_repealed_laws"]

_OUT = ConfigDict(extra="forbid", strict=True)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _absent(description: str, **kwargs: Any) -> Any:
    """A key that is left out (never null) when it does not apply: optional, not nullable."""
    return Field(default=None, description=description, json_schema_extra=_drop_default, **kwargs)


class LegalRefOut(BaseModel):
    """法律依据：法律名称、条、款、项，及其引用文字。"""

    model_config = _OUT

    law: str = Field(description="法律法规全称，如 中华人民共和国水污染防治法（不带书名号）")
    article: int = Field(description="条")
    paragraph: int | None = Field(description="款；未细化到款时为 null")
    item: int | None = Field(description="项；未细化到项时为 null")
    citation: str = Field(description="引用文字，如《中华人民共和国水污染防治法》第八十三条第二项")


class AssessedViolation(BaseModel):
    model_config = _OUT

    code: str = Field(description="违法行为代码")
    title: str = Field(description="违法行为名称")


class AssessedFine(BaseModel):
    """The fine of an assessment (or of one regime in the lighter-law comparison)."""

    model_config = _OUT

    legal_min: int = Field(description="法定最低罚款（元）")
    legal_max: int | None = Field(description="法定最高罚款（元）；法律未规定上限时为 null")
    band: Band = Field(description="建议裁量档次 [下限, 上限]（元）；减轻处罚时为 [减轻下限, 法定最低额]")
    recommended: int = Field(description="建议罚款（元）")


class IndividualFineOut(BaseModel):
    """对单位以外的个人（直接负责的主管人员和其他直接责任人员）的罚款（双罚）。"""

    model_config = _OUT

    role: str = Field(description="受罚人员，如 直接负责的主管人员和其他直接责任人员")
    legal_min: int = Field(description="法定最低罚款（元）")
    legal_max: int | None = Field(description="法定最高罚款（元）；未规定上限时为 null")
    recommended: int | None = Field(description="建议罚款（元）；未规定上限、无法按位置计算时为 null")


class MeasureOut(BaseModel):
    """罚款以外的处理措施（责令改正、责令停止建设、没收违法所得等）。"""

    model_config = _OUT

    id: str = Field(description="措施标识，如 order_correction、stop_construction、education")
    text: str = Field(description="措施内容（中文）")
    basis: list[str] = Field(description="法律依据（引用文字）")


class FlagOut(BaseModel):
    """A procedural reminder (听证告知、集体讨论、法制审核、按日连续处罚 ...)."""

    model_config = _OUT

    id: ResultFlagId = Field(description="程序提示标识（factors_unknown：裁量因子的事实未查明，按默认等级计算；"
                                        "edition_for_repealed_laws：所适用的裁量基准依据已废止的法律制定）")
    label: str = Field(description="程序提示内容（中文）")
    basis: list[str] = Field(description="法律依据（引用文字）")


class RegimeSummaryOut(BaseModel):
    """The result of one regime in the lighter-law comparison."""

    model_config = _OUT

    regime: Regime = Field(description="法律体系：pre2026 单行法；code2026《生态环境法典》")
    outcome: Outcome = Field(description="该法律体系下的处理结果")
    fine: AssessedFine | None = Field(description="罚款；不罚款时为 null")
    individual_fines: list[IndividualFineOut] = Field(description="对个人的罚款（双罚）")
    basis: list[LegalRefOut] = Field(description="处罚依据")


class LighterLawOut(BaseModel):
    """从旧兼从轻：违法行为与决定分属不同法律体系时，两者的比较及所适用者。"""

    model_config = _OUT

    applied: Regime = Field(description="所适用的法律体系")
    reason: str = Field(description="比较结论及理由（中文）")
    basis: list[str] = Field(description="从旧兼从轻的法律依据（引用文字）")
    results: list[RegimeSummaryOut] = Field(
        min_length=2, max_length=2, description="两种法律体系下的结果：[行为时的法律, 决定时的法律]"
    )


class LawOut(BaseModel):
    model_config = _OUT

    regime: Regime = Field(description="所适用的法律体系：pre2026 单行法；code2026《生态环境法典》")
    regime_title: str = Field(description="法律体系名称，如 单行法、《中华人民共和国生态环境法典》")
    basis: list[LegalRefOut] = Field(description="处罚依据（罚则；不予处罚时为不予处罚的依据）")
    violated: list[LegalRefOut] = Field(description="所违反的规定")
    lighter_law: LighterLawOut | None = Field(description="从旧兼从轻的比较；行为时与决定时适用同一法律体系时为 null")


class RulebookOut(BaseModel):
    """一次计算所用的裁量基准版本和法律规则集。"""

    model_config = _OUT

    id: str = Field(description="裁量基准标识，如 yunnan")
    edition: str = Field(description="版本，如 2023")
    key: str = Field(description="版本键，如 yunnan@2023")
    title: str = Field(description="裁量基准名称")
    citation: str = Field(description="引用文字（带书名号）")
    status: Status = Field(description="版本状态：draft 草稿；approved 已批准；published 已发布")
    sha256: Sha256 = Field(description="裁量基准版本文件的 sha256")
    law_edition: str = Field(description="法律规则集的版本")
    law_sha256: Sha256 = Field(description="法律规则集的 sha256")


class TrailStepData(BaseModel):
    """A step's structured data: its keys depend on the step (open-ended)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "description": (
                "该步骤的结构化数据，键随步骤而定，例如：regime：regimes、act_date；edition：edition、sha256；"
                "limitation：years、deadline、discovered；provision：legal_min、legal_max；"
                "factor：factor、label、level、score、weight、matched、modelled；position：position、modelled；"
                "adjustment：direction、points、modelled 或 position；reduction：floor、ratio、modelled；"
                "rounding：position、recommended、band；concurrence：applied、candidates；lighter_law：applied、compared；"
                "factor（rule 为 factors_defaulted，按默认等级计算的因子）：factors；factor（rule 为 from_law/事实名，"
                "裁量基准的事实由法律层事实确定）：fact、law_fact、value；circumstance（未适用的情节）：code、reason；fact（未适用的事实）：fact、reason；"
                "其余步骤为空对象。小数以字符串表示（如 score、position），金额为整数元"
            )
        },
    )


class TrailStepOut(BaseModel):
    """计算过程（说明链）中的一步。"""

    model_config = _OUT

    step: StepName = Field(description="步骤")
    label: str = Field(description="步骤的中文名称，如 适用法律、裁量因子")
    rule: str | None = Field(description="所用规则的标识；没有对应规则时为 null")
    basis: list[str] = Field(description="依据（引用文字）")
    text: str = Field(description="说明（中文，可直接写入案卷）")
    regime: Regime | None = Field(description="该步骤所属的法律体系；不限于某一法律体系的步骤（regime、edition）为 null")
    data: TrailStepData


class NotAppliedOut(BaseModel):
    """案件所填而未予适用的一项情节。"""

    model_config = _OUT

    code: str = Field(description="情节标识（circumstances 中的值）")
    label: str = Field(description="情节名称（中文）")
    reason: str = Field(description="未予适用的理由（中文），如 只是不予处罚的条件之一，本案不具备其全部条件；重复填写的，说明与第几项重复")


class FactNotAppliedOut(BaseModel):
    """案件所填而未予适用的一项事实：所适用法律体系下该违法行为的规则（罚则、加重情节、裁量因子、免罚清单、
    矛盾检查、由法律层事实确定的基准事实）都不读取它。"""

    model_config = _OUT

    name: str = Field(description="事实名称（facts 的键）")
    field: str = Field(description="所填的字段，如 facts.duration_days")
    label: str = Field(description="事实名称（中文）")
    reason: str = Field(description="未予适用的理由（中文），如 该事实只在《中华人民共和国生态环境法典》下适用，本案适用单行法，不影响处理结果")


class DefaultedFactorOut(BaseModel):
    """因所需事实未填写（或本基准对法律层所选情形未分级）而按默认等级计算的一项裁量因子。"""

    model_config = _OUT

    id: str = Field(description="因子标识")
    label: str = Field(description="因子名称（中文）")
    level: int = Field(description="所取的默认等级")
    level_label: str = Field(description="该等级的名称（中文）")
    missing: list[str] = Field(description="尚可补充的事实名称（facts 的键）；为空表示本基准对所选情形未分级，无需补充")
    reason: str = Field(description="理由（中文），如 未提供“违法行为持续时间”，按默认的第1级（不足5天）计")


class AssessmentOut(BaseModel):
    """POST /v1/assessments (201): the assessment, as stored, with its id."""

    model_config = _OUT

    id: str = Field(description="计算编号（GET /v1/assessments/{id} 可读取）")
    outcome: Outcome = Field(description="处理结果：penalty 处罚；no_penalty 不予处罚；time_barred 超过追责期限")
    violation: AssessedViolation
    fine: AssessedFine | None = Field(description="罚款；不予处罚、超过追责期限或不罚款时为 null")
    fine_if_punished: AssessedFine = _absent(
        "首违不罚（可以不予行政处罚，行政处罚法第三十三条第一款、法典第一千零五十六条第二款）时，行政机关决定给予处罚所适用的罚款；"
        "其他情形省略（v1 的补充字段）"
    )
    individual_fines: list[IndividualFineOut] = Field(description="对个人的罚款（双罚）")
    measures: list[MeasureOut] = Field(description="罚款以外的措施")
    flags: list[FlagOut] = Field(description="程序提示")
    circumstances_not_applied: list[NotAppliedOut] = Field(
        description="所填情节中未予适用的（及其理由），按填写顺序；全部适用时为空列表（v1 的补充字段）")
    facts_not_applied: list[FactNotAppliedOut] = Field(
        description="所填事实中未予适用的（所适用法律体系下该违法行为的规则都不读取，及其理由），按填写顺序；"
                    "全部读取时为空列表（v1 的补充字段）")
    factors_defaulted: list[DefaultedFactorOut] = Field(
        description="按默认等级计算的裁量因子（所需事实未填写，或本基准对所选情形未分级）；有可补充的事实时另有提示 factors_unknown"
                    "（v1 的补充字段）")
    law: LawOut
    rulebook: RulebookOut
    trail: list[TrailStepOut] = Field(description="计算过程，按步骤顺序")
    reasoning: str = Field(description="裁量理由（中文，可直接写入案卷）")


# --- the violation catalogue ---


class FactChoiceOut(BaseModel):
    model_config = _OUT

    value: str = Field(description="取值")
    label: str = Field(description="取值的中文名称")


class FactRefinesOut(BaseModel):
    """裁量基准的事实如何由法律层的事实确定（from_law）。"""

    model_config = _OUT

    fact: str = Field(description="所细分的法律层事实的名称")
    choices: dict[str, list[str]] = Field(description="法律层事实的取值 → 本事实可选的取值")


class FactOut(BaseModel):
    """表单要填写的一项事实。"""

    model_config = _OUT

    name: str = Field(description="事实名称（facts 对象的键）")
    label: str = Field(description="中文名称")
    type: FactType = Field(description="类型：money 金额（元）；count 数量；number 数值；bool 是否；enum 选项；date 日期")
    unit: str | None = Field(description="单位，如 元、天；无单位时为 null")
    required: bool = Field(description="是否必填（给出 decision_date 时为所计算的各法律体系所需之和）")
    hint: str = _absent("填写提示；没有时省略")
    choices: list[FactChoiceOut] = _absent("enum 类型的选项；其他类型省略")
    min: str = _absent("最小值（十进制数字的文字，如 \"0\"）；没有时省略")
    max: str = _absent("最大值（十进制数字的文字）；没有时省略")
    refines: FactRefinesOut = _absent(
        "裁量基准的事实细分法律层的一项事实时给出（同一事实只问一次）：法律层事实的每个取值对应本事实可选的取值；"
        "只有一个的由法律层事实确定，无需填写；有几个的可在其中细分；没有的不应填写；填写其他取值为 422 contradictory_inputs")


class ViolationOut(BaseModel):
    """一类违法行为，按所查询日期施行的法律体系和裁量基准版本。"""

    model_config = _OUT

    code: str = Field(description="违法行为代码（稳定）")
    title: str = Field(description="违法行为名称")
    group: Group = Field(description="分组：主要罚则条文所在的《生态环境法典》第五编第二章的节（监测、环评、排污许可、大气……其他）")
    group_label: str = Field(description="分组名称，如“大气污染防治”")
    regime: Regime = Field(description="该日（违法行为日期）适用的法律体系")
    regimes: list[Regime] = Field(
        min_length=1,
        max_length=2,
        description=(
            "需要计算的法律体系：通常只有违法行为日期适用的一个；给出 decision_date 且两日分属单行法与"
            "《生态环境法典》时为两者（从旧兼从轻）"
        ),
    )
    punishable: bool = Field(description="该法律体系对该行为是否规定了罚则")
    not_encoded: list[str] = Field(
        description=(
            "该法律体系下处罚该行为的法律、法规已有规定但本规则集未收录其条文时，列出其名称（此时评估请求答复 422 "
            "regime_not_encoded）；否则为空"
        )
    )
    penalty_basis: list[LegalRefOut] = Field(description="该日有效的罚则")
    facts: list[FactOut] = Field(description="计算所需或可填的事实")
    circumstances: list[str] = Field(description="适用于该行为的情节标识")
    keywords: list[str] = Field(description="检索关键词")
    edition: str | None = Field(description="该日（给出 decision_date 时为决定日期）施行的裁量基准版本键，如 yunnan@2023；当日没有施行的版本时为 null")


class ViolationList(BaseModel):
    """GET /v1/violations."""

    model_config = _OUT

    items: list[ViolationOut]


class FactSchemaProperty(BaseModel):
    """一项事实的 JSON Schema。"""

    model_config = _OUT

    type: Literal["number", "integer", "boolean", "string"] = Field(description="JSON 类型")
    title: str = Field(description="事实的中文名称")
    description: str = _absent("单位及填写提示；没有时省略")
    enum: list[str] = _absent("可选值（enum 类型）")
    x_enum_labels: dict[str, str] = _absent("可选值 → 中文名称（enum 类型）", alias="x-enum-labels")
    format: Literal["date"] = _absent("date 类型的事实为 date")
    minimum: JsonNumber = _absent("最小值（数值类型；整数值写作整数）")
    maximum: JsonNumber = _absent("最大值；没有时省略")
    multiple_of: JsonNumber = _absent("金额精确到分（money 类型为 0.01）", alias="multipleOf")
    x_refines: str = _absent("本事实细分的法律层事实（其取值决定本事实可选的取值，见 allOf）", alias="x-refines")


class FactsSchema(BaseModel):
    """一类违法行为的事实对象的 JSON Schema（draft 2020-12）。"""

    model_config = _OUT

    schema_uri: Literal["https://json-schema.org/draft/2020-12/schema"] = Field(alias="$schema")
    type: Literal["object"]
    properties: dict[str, FactSchemaProperty] = Field(description="事实名称 → 该事实的 JSON Schema")
    required: list[str] = Field(description="必填的事实")
    additional_properties: Literal[False] = Field(alias="additionalProperties")
    all_of: list[dict[str, Any]] = _absent(
        "细分法律层事实的裁量基准事实的取值约束（if 法律层事实取某值 then 本事实只能取其中之一，或不应填写）", alias="allOf")


class ViolationDetailOut(ViolationOut):
    """GET /v1/violations/{code}：一类违法行为及其事实的 JSON Schema。"""

    facts_schema: FactsSchema = Field(description="facts 对象的 JSON Schema，供客户端生成和校验表单")


# --- daily penalties and health ---


class DailyPenaltyOut(BaseModel):
    """POST /v1/daily-penalties: 按日连续处罚."""

    model_config = _OUT

    original_fine: int = Field(description="原罚款数额（元）")
    order_served_date: DateText = Field(description="责令改正决定书送达日期")
    reinspection_date: DateText = Field(description="复查发现违法行为之日")
    days: int = Field(description="计罚日数：自送达之日的次日起至复查之日止")
    total: int = Field(description="按日连续处罚数额（元）= 原罚款数额 × 计罚日数")
    regime: Regime = Field(description="送达之日适用的法律体系")
    basis: list[str] = Field(description="法律依据（引用文字）")
    text: str = Field(description="计算说明（中文）")


class EditionOut(BaseModel):
    model_config = _OUT

    key: str = Field(description="版本键，如 yunnan@2023")
    status: Status = Field(description="版本状态")
    effective_from: DateText = Field(description="施行日期")
    sha256: Sha256 = Field(description="版本文件的 sha256")


class HealthRulebooks(BaseModel):
    model_config = _OUT

    rulebook_set: str = Field(description="所加载规则集源文件的内容哈希（尚未确定时为空字符串）")
    generation: int = Field(description="重新加载代次（启动时为 0）")
    violations: int = Field(description="违法行为类型数")
    editions: list[EditionOut] = Field(description="裁量基准版本")


class RulebookIssueOut(BaseModel):
    model_config = _OUT

    code: Literal["rulebook_invalid"]
    message: str = Field(description="问题说明（中文）")
    field: str = Field(description="文件:行（无行号时为文件）")
    file: str
    line: int | None
    rule_id: str | None


class ReloadAttemptOut(BaseModel):
    model_config = _OUT

    ok: bool = Field(description="是否成功（失败时继续使用原规则集）")
    changed: bool = Field(description="规则集是否有变化")
    generation: int
    rulebook_set: str
    trigger: str = Field(description="触发方式，如 SIGHUP、POST /v1/admin/reload（用户）")
    message: str
    at: str = Field(description="时间（ISO 8601，UTC，精确到秒）", json_schema_extra={"format": "date-time"})
    issues: list[RulebookIssueOut] = Field(description="新规则集的问题（失败时）")


class HealthReload(BaseModel):
    model_config = _OUT

    seen: int = Field(description="本进程看到的重新加载次数")
    shared: bool = Field(description="是否与其他工作进程共享重新加载代次")
    last: ReloadAttemptOut | None = Field(description="最近一次重新加载的结果；尚未重新加载时为 null")


class HealthOut(BaseModel):
    """GET /healthz：{"status": "ok"}；detail=true 时另给出本进程及其规则集。"""

    model_config = _OUT

    status: Literal["ok"]
    pid: int = _absent("本进程号（仅 detail=true）")
    rulebooks: HealthRulebooks = _absent("所加载的规则集（仅 detail=true）")
    reload: HealthReload = _absent("重新加载的情况（仅 detail=true）")


class HealthFailingOut(ErrorOut):
    """GET /healthz 的 503：某项检查未通过（code 为 storage_unavailable，field 为未通过的检查，如 database）。"""

    model_config = _OUT

    status: Literal["unavailable"]
    checks: dict[str, Literal["ok", "failing"]] = Field(description="各项检查的结果，如 {\"database\": \"failing\"}")


# --- GET /v1/analytics/consistency (api/consistency.py) ------------------------------------------

Pct = Annotated[JsonNumber | None, Field(description="百分数，保留一位小数；无数据时为 null")]


class QuantilesOut(BaseModel):
    """分位数（百分数或百分点）：第5、25、50（中位数）、75、95百分位；无数据时为 null。"""

    model_config = _OUT

    p5: Pct
    p25: Pct
    median: Pct
    p75: Pct
    p95: Pct


class FiguresOut(BaseModel):
    """一组已决定案件的数字。位置：决定数额在法定幅度中的位置（0 为法定最低额，100 为法定最高额）。"""

    model_config = _OUT

    cases: int = Field(description="已决定的案件数")
    with_position: int = Field(description="有法定幅度（可计算位置）的案件数")
    position_pct: QuantilesOut = Field(description="位置的分位数（%）")
    below: int = Field(description="决定数额低于建议档次的件数")
    inside: int = Field(description="在建议档次内的件数")
    above: int = Field(description="高于建议档次的件数")
    outside_rate_pct: Pct = Field(description="档次外比例（%）")
    waived: int = Field(description="不予处罚（决定 0 元，超过追责期限的除外）的件数")
    waiver_rate_pct: Pct = Field(description="不予处罚比例（%）")


class ReasonOut(BaseModel):
    model_config = _OUT

    reason: str = Field(description="档次外决定所附的理由（原文）")
    cases: int


class ViolationFiguresOut(FiguresOut):
    """一类违法行为：全局的数字，档次外理由（最常见的在前），及所关注承办人的数字（mine）。"""

    violation: str = Field(description="违法行为代码")
    title: str
    reasons: list[ReasonOut] = Field(description="档次外决定的理由及件数（最常见的 3 条；导出文件列出全部）；指定承办人（承办人查询时为本人）时只列其本人的")
    mine: FiguresOut | None = Field(description="所关注承办人（承办人查询时为本人）在这一类的数字；未指定承办人时为 null")


class FlagOut(BaseModel):
    model_config = _OUT

    code: Literal["outside_high", "outside_low", "position_high", "position_low"]
    label: str


class HandlerFiguresOut(FiguresOut):
    """一名承办人与全局的对比。"""

    name: str = Field(description="承办人（用户名）")
    departure_pct: QuantilesOut = Field(description="偏离的分位数（百分点）：每件案件的位置减去全局同类违法行为的中位位置")
    expected_outside_rate_pct: Pct = Field(description="按该承办人各类违法行为件数加权的全局档次外比例（%）")
    outside_gap_pct: Pct = Field(description="档次外比例减去预期比例（百分点）")
    expected_waiver_rate_pct: Pct = Field(description="按该承办人各类违法行为件数加权的全局不予处罚比例（%）")
    flags: list[FlagOut] = Field(description="提示：件数足够且偏离超过阈值（见 method）")
    enough_cases: bool = Field(description="件数是否达到比较所需的最低件数")


class BureauFiguresOut(FiguresOut):
    departure_pct: QuantilesOut = Field(description="全部案件相对同类违法行为中位位置的偏离（百分点）")


class MethodOut(BaseModel):
    model_config = _OUT

    position: str
    departure: str
    expected: str
    flag: str
    min_cases: int
    rate_threshold_pct: int
    median_threshold_pct: int
    bin_pct: int


class ConsistencyFiltersOut(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    from_: DateText | None = Field(alias="from")
    to: DateText | None
    violation: str | None
    group: str | None
    jurisdiction: str | None
    handler: str | None = Field(description="所关注的承办人（承办人查询时为本人）")
    edition: str | None
    data: Literal["real", "synthetic", "all"]


class MonthMineOut(BaseModel):
    model_config = _OUT

    cases: int
    below: int
    above: int
    outside_rate_pct: Pct


class MonthOut(MonthMineOut):
    month: str = Field(description="月份 YYYY-MM（决定日，北京时间）")
    mine: MonthMineOut | None = Field(description="所关注承办人当月的数字；未指定时为 null")


class ConsistencyOut(BaseModel):
    """GET /v1/analytics/consistency：裁量一致性统计（同案同罚）。"""

    model_config = _OUT

    view: Literal["bureau", "handler"] = Field(description="bureau：审核人、管理员所见（全部承办人）；handler：承办人所见（本人与全局）")
    filters: ConsistencyFiltersOut
    method: MethodOut
    bureau: BureauFiguresOut = Field(description="全局：所选范围内全部承办人的已决定案件")
    focus: HandlerFiguresOut | None = Field(description="所关注承办人与全局的对比；未指定时为 null")
    violations: list[ViolationFiguresOut] = Field(description="按违法行为类型，件数多的在前")
    handlers: list[HandlerFiguresOut] = Field(description="按承办人（承办人查询时只有本人），件数多的在前")
    flagged: int = Field(description="有提示的承办人数")
    timeline: list[MonthOut] = Field(description="按月：决定件数、低于和高于建议档次的件数")


class LabelOut(BaseModel):
    model_config = _OUT

    id: str
    label: str


class FactorLevelOut(BaseModel):
    model_config = _OUT

    factor: str
    label: str
    level: int
    level_label: str | None
    score: JsonNumber = Field(description="等级在该因子中的分值（0 至 1）")


class DecidedCaseOut(BaseModel):
    """一件已决定案件。承办人查询时，他人案件的 ref 和 handler 为 null。"""

    model_config = _OUT

    ref: str | None = Field(description="计算编号（合成数据为 SYN-种子-序号）")
    synthetic: bool
    handler: str | None
    violation: str
    title: str
    regime: str
    party: str
    jurisdiction: str
    edition: str
    outcome: str
    decided_on: str = Field(description="决定日（北京时间）YYYY-MM-DD")
    legal_range: list[int | None] = Field(description="法定幅度 [最低额, 最高额]（元）")
    band: Band | None = Field(description="建议裁量档次（元）；无罚款建议时为 null")
    recommended: int | None
    amount: int = Field(description="决定的罚款数额（元）")
    position_pct: Pct = Field(description="决定数额在法定幅度中的位置（%）")
    side: Literal[-1, 0, 1] = Field(description="-1 低于建议档次，0 档次内，1 高于")
    waived: bool
    reason: str | None
    factors: list[FactorLevelOut]
    circumstances: list[LabelOut]


class FactorDifferenceOut(BaseModel):
    model_config = _OUT

    factor: str
    label: str
    level_here: int
    level_there: int


class DifferenceOut(BaseModel):
    model_config = _OUT

    distance: JsonNumber = Field(description="距离（见 method）")
    factors: list[FactorDifferenceOut] = Field(description="等级不同的裁量因子")
    only_here: list[LabelOut] = Field(description="只有所选案件具有的情节")
    only_there: list[LabelOut] = Field(description="只有该相似案件具有的情节")
    legal_range_differs: bool


class LikeCaseOut(DecidedCaseOut):
    difference: DifferenceOut


class PositionsOut(BaseModel):
    model_config = _OUT

    min: JsonNumber
    median: JsonNumber
    max: JsonNumber


class LikeCasesOut(BaseModel):
    """GET /v1/analytics/consistency/like/{ref}：相似案件对照。"""

    model_config = _OUT

    record: DecidedCaseOut
    like: list[LikeCaseOut] = Field(description="相似案件，最近的在前")
    positions_pct: PositionsOut | None = Field(description="相似案件决定位置的最小、中位、最大值（%）")
    method: str
