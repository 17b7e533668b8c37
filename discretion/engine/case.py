"""The case: the assessment input of the API contract, validated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Bounds of every case, whichever way it arrives (API, web form, CLI --input, case files):
# documented in docs/limits.md. The API checks the same bounds before a Case is built.
MAX_FACTS = 64
MAX_CIRCUMSTANCES = 64
MAX_NAME = 64  # characters of a fact name or a circumstance id
MAX_TEXT = 200  # characters of a text (enum or date) fact value
MAX_DIGITS = 50  # significant digits of a numeric fact value (its size is the engine's check: MAX_AMOUNT)
MAX_AMOUNT = Decimal("1000000000000")  # one trillion yuan: far above any base in the law (money, counts, numbers)
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


def _name(v: str) -> str:
    if not 1 <= len(v) <= MAX_NAME:
        raise ValueError(f"事实名称须为 1 至 {MAX_NAME} 个字符")
    return v


def _value(x: Any) -> Any:
    if isinstance(x, str) and len(x) > MAX_TEXT:
        raise ValueError(f"文字过长（最多 {MAX_TEXT} 个字符）")
    if isinstance(x, Decimal) and len(x.as_tuple().digits) > MAX_DIGITS:
        raise ValueError(f"数值的有效数字过多（最多 {MAX_DIGITS} 位）")
    return x


FactName = Annotated[str, AfterValidator(_name)]
FactValue = Annotated[Union[bool, int, Decimal, str, None], AfterValidator(_value)]  # errors name facts.<name>


class Case(BaseModel):
    """What a case handler knows about one violation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    violation: str = Field(min_length=1, max_length=80)
    jurisdiction: str = Field(default="yunnan", min_length=1, max_length=80)
    party: Literal["unit", "individual"] = "unit"
    facts: dict[FactName, FactValue] = Field(default_factory=dict, max_length=MAX_FACTS)
    circumstances: list[str] = Field(default_factory=list, max_length=MAX_CIRCUMSTANCES)
    violation_date: dt.date
    violation_end_date: dt.date | None = None
    discovered_date: dt.date | None = None
    decision_date: dt.date = Field(default_factory=dt.date.today)
    edition: str | None = Field(default=None, max_length=80)  # e.g. "yunnan@2026-draft": asks for a draft

    @field_validator("facts", mode="before")
    @classmethod
    def _no_floats(cls, v: Any) -> Any:
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if isinstance(x, float):
                    # JSON numbers with a fraction arrive as floats: keep their decimal text
                    x = Decimal(repr(x))
                out[k] = x
            return out
        return v

    @field_validator("circumstances")
    @classmethod
    def _short(cls, v: list[str]) -> list[str]:
        for c in v:
            if not 1 <= len(c) <= MAX_NAME:
                raise ValueError(f"情节标识须为 1 至 {MAX_NAME} 个字符")
        return v  # order and duplicates kept, so an error can name circumstances[i] as sent

    @field_validator("violation_date", "violation_end_date", "discovered_date", "decision_date")
    @classmethod
    def _in_range(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and not (MIN_DATE <= v <= MAX_DATE):
            raise ValueError(f"日期超出可计算的范围（{MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()}）")
        return v

    @property
    def end_date(self) -> dt.date:
        """The day the violation ended (the violation date for a one-off act)."""
        return self.violation_end_date or self.violation_date
