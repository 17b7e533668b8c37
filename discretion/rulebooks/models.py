"""Rulebook models: the schema of every YAML file under ``rulebooks/``.

Every model forbids unknown keys, so a typo is an error naming file and line.
Money is integer yuan; rates and multiples are :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from . import conditions

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(v: Any) -> Any:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if not isinstance(v, str) or not _ISO_DATE.match(v):
        raise ValueError("日期必须写作 YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"日期不存在：{v}") from None


def _decimal(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, float):
        raise ValueError("比例和倍数须写成十进制数（由加载器读成 Decimal），不得为浮点数")
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, str):
        try:
            return Decimal(v)
        except Exception:
            raise ValueError("不是合法的十进制数") from None
    raise ValueError("须为数字")


def _yuan(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("金额须为整数元")
    if v < 0:
        raise ValueError("金额不得为负数")
    return v


def _condition(v: Any) -> Any:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError("条件须为字符串表达式")
    try:
        conditions.parse(v)
    except conditions.ConditionSyntaxError as exc:
        raise ValueError(str(exc)) from None
    return v


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Dec = Annotated[Decimal, BeforeValidator(_decimal)]
Yuan = Annotated[int, BeforeValidator(_yuan)]
Condition = Annotated[Union[str, None], BeforeValidator(_condition)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- legal references ------------------------------------------------------------

REGIMES = ("pre2026", "code2026")
Regime = Literal["pre2026", "code2026"]


class LegalRef(Model):
    """A place in a statute: law (full name), article, paragraph (款), item (项)."""

    law: str = Field(min_length=2, max_length=60)
    article: int = Field(ge=1, le=2000)
    paragraph: int | None = Field(default=None, ge=1, le=20)
    item: int | None = Field(default=None, ge=1, le=40)


class Quoted(Model):
    """A legal reference with the quoted statute text beside it."""

    ref: LegalRef
    text: str = Field(min_length=4)


class Duty(Quoted):
    """A provision the act breaks (义务条款), quoted; ``when``: the facts that select the act that
    breaks it (the sub-act or item), as a provision's ``when`` selects its penalty (None: every act
    of the violation type breaks it)."""

    when: Condition = None


class Modelled(Model):
    """Marks a value that is not verified against official text, with its source."""

    note: str
    source: str


# --- facts and circumstances -------------------------------------------------------

FactType = Literal["money", "count", "number", "bool", "enum", "date"]


class FactDef(Model):
    name: Id
    label: str
    type: FactType
    unit: str | None = None
    hint: str | None = None
    choices: dict[str, str] | None = None  # enum value -> Chinese label
    min: Dec | None = None
    max: Dec | None = None

    @model_validator(mode="after")
    def _enum_has_choices(self) -> "FactDef":
        if self.type == "enum" and not self.choices:
            raise ValueError("enum 类型的事实必须列出 choices")
        if self.type != "enum" and self.choices:
            raise ValueError("只有 enum 类型的事实可以有 choices")
        return self


CircumstanceGroup = Literal["exemption", "mitigating", "aggravating", "other"]


class CircumstanceDef(Model):
    id: Id
    label: str
    group: CircumstanceGroup
    basis: list[Quoted] = Field(default_factory=list)
    hint: str | None = None
    # True: the circumstance applies only to the violation types that list it under their own
    # ``circumstances`` (e.g. 重污染天气预警期间超标排放大气污染物: air pollution only); others refuse it.
    listed_only: bool = False


# --- fines -------------------------------------------------------------------------


class RangeFine(Model):
    """处X元以上Y元以下的罚款."""

    kind: Literal["range"]
    min: Yuan
    max: Yuan
    # “可以处X元以上Y元以下的罚款”: the fine may be left out (as for ``up_to``; the loader checks 可以处)
    optional: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "RangeFine":
        if self.min > self.max:
            raise ValueError("罚款下限大于上限")
        return self


class UpToFine(Model):
    """处X元以下的罚款 (no statutory minimum)."""

    kind: Literal["up_to"]
    max: Yuan
    # “可以处X元以下的罚款”: the fine may be left out (the quoted text must say 可以处; the loader checks)
    optional: bool = False


class RateFine(Model):
    """A percentage of a base fact, e.g. 总投资额百分之一以上百分之五以下."""

    kind: Literal["rate"]
    base: Id
    min_rate: Dec = Field(ge=0)
    max_rate: Dec = Field(gt=0)
    base_floor: Yuan | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "RateFine":
        if self.min_rate > self.max_rate:
            raise ValueError("比例下限大于上限")
        return self


class MultipleFine(Model):
    """A multiple of a base fact with an optional floor of the base (不足二十万元的，按二十万元计算)."""

    kind: Literal["multiple"]
    base: Id
    min_multiple: Dec = Field(ge=0)
    max_multiple: Dec = Field(gt=0)
    base_floor: Yuan | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "MultipleFine":
        if self.min_multiple > self.max_multiple:
            raise ValueError("倍数下限大于上限")
        return self


class PerUnitFine(Model):
    """A range per occurrence / per vehicle, multiplied by a count fact (每次、每辆)."""

    kind: Literal["per_unit"]
    count: Id
    unit_label: str  # 次, 辆, 艘 ...
    min: Yuan
    max: Yuan

    @model_validator(mode="after")
    def _ordered(self) -> "PerUnitFine":
        if self.min > self.max:
            raise ValueError("罚款下限大于上限")
        return self


Fine = Annotated[
    Union[RangeFine, UpToFine, RateFine, MultipleFine, PerUnitFine], Field(discriminator="kind")
]


class IndividualFine(Model):
    """A fine on responsible individuals (双罚)."""

    role: str
    fine: Fine
    when: Condition = None


class Measure(Model):
    """A non-monetary measure (责令改正, 责令停止建设, 没收违法所得 ...)."""

    id: Id
    text: str
    when: Condition = None
    basis: Quoted | None = None  # where another paragraph orders it; defaults to its provision's (escalation's) basis


FlagId = Literal[
    "detention_referral",  # 移送公安机关拘留
    "government_approval_closure",  # 报请政府批准停业、关闭
    "daily_penalty_eligible",  # 按日连续处罚
    "permit_revocation",  # 吊销许可证
    "hearing_notice",  # 听证告知
    "collective_discussion",  # 集体讨论
    "legal_review",  # 法制审核
]


class Flag(Model):
    flag: FlagId
    when: Condition = None
    basis: Quoted


class Escalation(Model):
    """An escalated band of a provision (情节严重, 拒不改正, 逾期不改正 ...)."""

    id: Id
    label: str
    when: str
    basis: Quoted | None = None  # defaults to the provision's own basis
    fine: Fine | None = None  # replaces the provision's fine when given
    individual_fines: list[IndividualFine] | None = None  # replaces when given
    measures: list[Measure] = Field(default_factory=list)  # added
    flags: list[Flag] = Field(default_factory=list)  # added

    _when = field_validator("when", mode="before")(_condition)


class Provision(Model):
    """One penalty provision of one law for this violation type."""

    id: Id
    label: str | None = None
    basis: Quoted
    when: Condition = None
    fine: Fine | None = None  # None: the provision imposes no fine (measures only)
    # “依法予以处罚”: the statute punishes the act but leaves the penalty's kind and amount to other
    # rules (e.g. 大气污染防治法第一百一十四条第二款): a penalty whose amount is set elsewhere, never
    # 不予处罚 and never the lighter law; ``fine`` stays None
    amount_elsewhere: bool = False
    individual_fines: list[IndividualFine] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    # the other paragraph of the same article the provision is read with: the one that sets its fine
    # (固体废物污染环境防治法第一百一十二条第一款第三项 with 第二款), or the one whose act its paragraph
    # refers back to (“依照前款的规定处罚”); cited whole, “第一款第三项、第二款”
    read_with: LegalRef | None = None
    note: str | None = None


class RegimeRules(Model):
    """The law of one regime for one violation type."""

    violated: list[Duty] = Field(min_length=1)
    requires: list[Id] = Field(default_factory=list)  # facts required under this regime
    provisions: list[Provision] = Field(min_length=1)
    note: str | None = None


class FactRef(Model):
    """A fact used by a violation: a standard fact by name, optionally overriding label/hint."""

    name: Id
    label: str | None = None
    hint: str | None = None


class Contradiction(Model):
    """Inputs that deny each other: a case for which ``when`` holds (or whose fact ``exceeds[0]``
    is larger than ``exceeds[1]``) is refused (422 ``contradictory_inputs``, naming each field of
    the rule that the case gave). ``reason`` says why, in Chinese, for the handler."""

    id: Id
    when: Condition = None
    exceeds: list[Id] | None = Field(default=None, min_length=2, max_length=2)
    reason: str = Field(min_length=4)

    @model_validator(mode="after")
    def _one_form(self) -> "Contradiction":
        if (self.when is None) == (self.exceeds is None):
            raise ValueError("矛盾规则须给出 when 或 exceeds 之一")
        return self


# The catalogue's groups: the sections of 《生态环境法典》第五编第二章 (法律责任分则) that a type's main
# penalty article stands in (第六节 海洋 aside: no Yunnan bureau applies it).
GROUPS: dict[str, str] = {
    "monitoring": "生态环境监测",
    "eia": "环境影响评价",
    "permit": "排污许可",
    "air": "大气污染防治",
    "water": "水污染防治",
    "soil": "土壤污染防治",
    "solid_waste": "固体废物污染防治",
    "noise": "噪声污染防治",
    "radiation": "放射性污染防治",
    "chemical": "化学物质、电磁辐射和光污染",
    "ecology": "生态保护",
    "low_carbon": "绿色低碳发展",
    "other": "其他违法行为",
}
Group = Literal[
    "monitoring", "eia", "permit", "air", "water", "soil", "solid_waste", "noise", "radiation",
    "chemical", "ecology", "low_carbon", "other",
]


class BeforeCode(Model):
    """Why a type has no ``pre2026`` rules: the act was not punishable before the Code
    (``not_punishable``: no penalty, 行政处罚法第四条、第三十七条), or an earlier provision punished it
    but its text is not in this rulebook (``not_encoded``: the service refuses such a case, 422
    ``regime_not_encoded``, naming ``laws``, rather than guess)."""

    status: Literal["not_punishable", "not_encoded"]
    laws: list[str] = Field(default_factory=list)
    note: str = Field(min_length=4)

    @model_validator(mode="after")
    def _laws_named(self) -> "BeforeCode":
        if self.status == "not_encoded" and not self.laws:
            raise ValueError("not_encoded 须在 laws 中写明未收录文本的法律、法规名称")
        if self.status == "not_punishable" and self.laws:
            raise ValueError("not_punishable 表示此前没有处罚规定，不应列出 laws")
        return self


class Violation(Model):
    """One violation type (违法行为) with its law under each regime."""

    code: Id
    title: str
    group: Group
    keywords: list[str] = Field(default_factory=list)
    facts: list[Union[FactDef, FactRef]] = Field(default_factory=list)
    circumstances: list[Id] = Field(default_factory=list)  # extra, violation-specific ids
    regimes: dict[Regime, RegimeRules]
    # a type without pre2026 rules says why: not punishable before the Code, or not encoded here
    before_code: BeforeCode | None = None
    note: str | None = None
    # inputs that deny each other where this type's own facts are involved (besides law.yaml's)
    contradictions: list[Contradiction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _before_code(self) -> "Violation":
        if ("pre2026" in self.regimes) == (self.before_code is not None):
            raise ValueError(
                "没有 pre2026 罚则的违法行为须以 before_code 说明原因（not_punishable 或 not_encoded）；"
                "有 pre2026 罚则的不得再写 before_code"
            )
        return self

    @field_validator("facts", mode="before")
    @classmethod
    def _fact_strings(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"name": x} if isinstance(x, str) else x for x in v]
        return v


# --- law layer --------------------------------------------------------------------------


class RegimeDef(Model):
    id: Regime
    title: str
    effective_from: IsoDate
    effective_to: IsoDate | None = None
    laws: list[str]  # full law names whose provisions belong to this regime


class LimitationRule(Model):
    id: Id
    years: int = Field(ge=1, le=20)
    when: Condition = None
    basis: Quoted


class StatutoryExemption(Model):
    """A statutory ground for 不予处罚 (mandatory) or 可以不予处罚 (discretionary)."""

    id: Id
    label: str
    when: str
    mandatory: bool
    basis: Quoted

    _when = field_validator("when", mode="before")(_condition)


class StatutoryAdjustment(Model):
    """A statutory ground for 从轻/减轻 or 从重 (the edition decides by how much)."""

    id: Id
    circumstance: Id
    direction: Literal["mitigate", "aggravate"]
    basis: Quoted


class RegimeGeneral(Model):
    limitation: list[LimitationRule] = Field(min_length=1)
    exemptions: list[StatutoryExemption]
    adjustments: list[StatutoryAdjustment]
    concurrence: Quoted  # one act, several norms: the higher fine (art. 29 / art. 1055)
    lighter_law: Quoted  # 从旧兼从轻 (art. 37 / art. 1057)
    education: Quoted  # 不予处罚的，应当对当事人进行教育
    correction: Quoted  # 责令改正 (行政处罚法 art. 28)
    legality: Quoted  # no penalty without a provision (行政处罚法 art. 4)
    benchmark: Quoted  # discretion benchmarks (行政处罚法 art. 34)
    daily_penalty: Quoted | None = None
    # 行政处罚法第四十条 (必须查明事实): cited where a benchmark factor's facts were left unknown
    fact_finding: Quoted | None = None
    # the laws this regime repealed (法典第一千二百四十二条): cited where a case decided under this
    # regime is placed with a benchmark edition issued under the repealed laws
    repeal: Quoted | None = None


class ChangelogEntry(Model):
    date: IsoDate
    text: str
    violations: list[Id] = Field(default_factory=list)


class EditionChange(Model):
    """A benchmark edition's changelog entry: what changed (``date``: when it was made), which
    violation types it affects (codes, or ``all``) and which decision dates (``affects_from`` to
    ``affects_to``, inclusive; ``null``: until the edition lapses)."""

    date: IsoDate
    text: str = Field(min_length=4)
    violations: Union[Annotated[list[Id], Field(min_length=1)], Literal["all"]]
    affects_from: IsoDate
    affects_to: IsoDate | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "EditionChange":
        if self.affects_to is not None and self.affects_to < self.affects_from:
            raise ValueError("affects_to 早于 affects_from")
        return self


Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]  # sha256 (hex) of a raw Ed25519 public key


class Signature(Model):
    """The reviewer's Ed25519 signature of an approval (``discretion.rulebooks.signing``): the key
    it was made with (its fingerprint), when (UTC) and the signature itself (base64)."""

    key: Fingerprint
    signed_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    value: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$")  # 64 bytes


class Approval(Model):
    """法制审核 of an edition: author, reviewer (never the author), date and the sha256 of the
    edition's canonical content (``discretion.rulebooks.approval.content_hash``), signed by the
    reviewer (``signature``; required on loading, see ``discretion.rulebooks.signing``); publication
    adds who published it and when."""

    author: str = Field(min_length=1, max_length=80)
    reviewer: str = Field(min_length=1, max_length=80)
    date: IsoDate
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: Signature | None = None
    published_by: str | None = Field(default=None, min_length=1, max_length=80)
    published_on: IsoDate | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Approval":
        if self.reviewer == self.author:
            raise ValueError("审核人不得为版本起草人")
        if (self.published_by is None) != (self.published_on is None):
            raise ValueError("published_by 与 published_on 须同时给出")
        if self.published_on is not None and self.published_on < self.date:
            raise ValueError("发布日期早于审核日期")
        return self


Status = Literal["draft", "approved", "published"]


class ReviewerKey(Model):
    """One entry of ``rulebooks/reviewers.yaml``: a reviewer's Ed25519 public key (base64 of the 32
    raw bytes), registered on ``added`` by ``added_by`` (an admin)."""

    reviewer: str = Field(min_length=1, max_length=80)
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")
    added: IsoDate
    added_by: str = Field(min_length=1, max_length=80)
    note: str | None = None


class ReviewerRegistry(Model):
    """``rulebooks/reviewers.yaml``: the public keys approvals are verified against (the trust anchor)."""

    keys: list[ReviewerKey] = Field(default_factory=list)


class LawEdition(Model):
    """``rulebooks/law/law.yaml``: the national law layer."""

    id: Id
    edition: str
    title: str
    status: Status
    effective_from: IsoDate
    effective_to: IsoDate | None = None
    regimes: list[RegimeDef] = Field(min_length=1)
    facts: list[FactDef]
    circumstances: list[CircumstanceDef]
    general: dict[Regime, RegimeGeneral]
    # inputs that deny each other (circumstances, the law layer's facts): refused
    contradictions: list[Contradiction] = Field(default_factory=list)
    changelog: list[ChangelogEntry] = Field(default_factory=list)


# --- benchmark layer ----------------------------------------------------------------------


class Level(Model):
    level: int = Field(ge=1, le=9)
    label: str
    when: Condition = None  # None: the default level when nothing else matches


class Factor(Model):
    id: Id
    label: str
    weight: Dec = Field(default=Decimal(1), gt=0)
    levels: list[Level] = Field(min_length=2)
    source: str | None = None
    modelled: Modelled | None = None


class FromLaw(Model):
    """An edition's own enum fact that grades what the law layer's enum fact of the violation type
    already selects (one fact, asked once): ``values`` maps each of the law fact's choices to the
    edition fact's choices it allows. One allowed value: the edition's fact is read from the law's
    (the caller need not give it); several: the caller may refine among them; none: the edition
    does not grade that choice. Any other value given is refused as contradicting the law's fact."""

    fact: Id  # the edition's fact
    law_fact: Id  # the violation type's own enum fact in the law layer
    values: dict[str, list[str]]
    note: str | None = None  # the reading, for the reviewer (docs/rulebooks.md)


class ViolationBenchmark(Model):
    """Per-violation benchmark: 个性裁量因子 and optional band limits."""

    factors: list[Factor] = Field(default_factory=list)
    from_law: list[FromLaw] = Field(default_factory=list)  # the edition's facts read from the law's
    min_position: Dec | None = Field(default=None, ge=0, le=1)  # narrows the usable range
    max_position: Dec | None = Field(default=None, ge=0, le=1)
    note: str | None = None


class CategoryBenchmark(Model):
    """个性裁量基准 by category (the benchmark table's sections: 环评、排污许可、大气、水、固废、噪声、土壤、辐射……):
    the factors every violation type of the catalogue group takes when the edition gives it no entry of its own."""

    factors: list[Factor] = Field(min_length=1)
    note: str | None = None


class Formula(Model):
    """How factor levels place the fine inside the statutory range (二维叠加)."""

    kind: Literal["two_dimensional"]
    individual_weight: Dec = Field(ge=0, le=1)  # share of 个性 factors; the rest is 共性
    bands: int = Field(ge=1, le=10)  # the range is cut into this many equal bands
    modelled: Modelled | None = None


class Adjustment(Model):
    """How far a circumstance moves the position (从重 up, 从轻 down), in percentage points."""

    id: Id
    circumstance: Id
    direction: Literal["mitigate", "aggravate"]
    points: Dec = Field(gt=0, le=100)
    basis: Quoted | None = None
    modelled: Modelled | None = None


class Reduction(Model):
    """减轻: a fine below the statutory minimum, when its conditions hold."""

    when: str
    floor_ratio: Dec = Field(ge=0, le=1)  # the fine is not below this share of the minimum
    ratio: Dec = Field(ge=0, le=1)  # the recommended fine as a share of the minimum
    basis: Quoted
    modelled: Modelled | None = None

    _when = field_validator("when", mode="before")(_condition)


class ExemptionEntry(Model):
    """An entry of the edition's 轻微不罚 / 首违不罚 list."""

    id: Id
    kind: Literal["minor", "first_offense"]
    violations: list[Id] = Field(min_length=1)
    label: str
    when: str
    basis: list[Quoted] = Field(min_length=1)
    modelled: Modelled | None = None

    _when = field_validator("when", mode="before")(_condition)


class Rounding(Model):
    step: Yuan = Field(ge=1)
    mode: Literal["half_up", "down"]


class Thresholds(Model):
    """Procedural thresholds: fines at or above these amounts raise flags."""

    hearing_unit: Yuan
    hearing_individual: Yuan
    collective_discussion: Yuan
    legal_review: Yuan
    basis: list[Quoted] = Field(min_length=1)
    modelled: Modelled | None = None


class BenchmarkEdition(Model):
    """A provincial or prefecture benchmark edition (自由裁量规则和基准)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*(/[a-z0-9][a-z0-9_\-]*)*$", max_length=80)]  # yunnan, yunnan/kunming
    edition: str
    title: str
    issuer: str
    document: str
    author: str = Field(min_length=1, max_length=80)  # who drafted this edition (never its reviewer)
    status: Status
    approval: Approval | None = None  # required once approved or published (discretion.rulebooks.approval)
    effective_from: IsoDate
    effective_to: IsoDate | None = None
    parent: str | None = None  # "yunnan@2023" for a prefecture edition
    modelled: Modelled | None = None
    facts: list[FactDef] = Field(default_factory=list)  # facts the factors and exemptions read
    formula: Formula | None = None
    common_factors: list[Factor] | None = None
    violations: dict[Id, ViolationBenchmark] = Field(default_factory=dict)
    # a group's factors for each type of that group without its own entry in ``violations``
    categories: dict[Group, CategoryBenchmark] = Field(default_factory=dict)
    adjustments: list[Adjustment] | None = None
    reduction: Reduction | None = None
    exemptions: list[ExemptionEntry] | None = None
    rounding: Rounding | None = None
    thresholds: Thresholds | None = None
    # inputs that deny each other where the edition's own facts are involved: refused
    contradictions: list[Contradiction] | None = None
    changelog: list[EditionChange] = Field(min_length=1)
