"""按日连续处罚: days from the day after the correction order was served to the re-inspection
day, times the original fine (环境保护法 art. 59; 《生态环境法典》art. 1060; 按日连续处罚办法 arts. 17, 19)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..rulebooks.models import LawEdition
from .citation import cite
from .dates import regime_on
from .money import yuan_text

MAX_FINE = 10**12
# The 2014 ministry measure is not among the verified texts; it is cited for the counting rule only.
_MEASURE = "《环境保护主管部门实施按日连续处罚办法》第十七条、第十九条（现行有效性未核实）"


@dataclass(frozen=True)
class DailyPenalty:
    original_fine: int
    order_served_date: dt.date
    reinspection_date: dt.date
    days: int
    total: int
    regime: str
    basis: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "original_fine": self.original_fine,
            "order_served_date": self.order_served_date.isoformat(),
            "reinspection_date": self.reinspection_date.isoformat(),
            "days": self.days,
            "total": self.total,
            "regime": self.regime,
            "basis": list(self.basis),
            "text": self.text,
        }


def daily_penalty(law: LawEdition, original_fine: int, order_served_date: dt.date, reinspection_date: dt.date) -> DailyPenalty:
    """Compute the daily penalty; the regime is the one in force when the order was served."""
    if isinstance(original_fine, bool) or not isinstance(original_fine, int):
        raise InputError(message="原罚款数额须为整数元", code="invalid_input", field="original_fine")
    if original_fine <= 0:
        raise InputError(message="原罚款数额须大于零", code="invalid_input", field="original_fine")
    if original_fine > MAX_FINE:
        raise InputError(message="原罚款数额过大", code="invalid_input", field="original_fine")
    if reinspection_date <= order_served_date:
        raise InputError(message="复查日期必须晚于责令改正决定书送达日期", code="invalid_date", field="reinspection_date")
    regime = regime_on(law, order_served_date)
    if regime is None:
        raise InputError(message="送达日期早于本系统收录的法律", code="date_out_of_range", field="order_served_date")
    quoted = law.general[regime].daily_penalty  # type: ignore[index]
    basis = (cite(quoted.ref),) if quoted else ()
    basis += (_MEASURE,)
    days = (reinspection_date - order_served_date).days
    total = original_fine * days
    first = order_served_date + dt.timedelta(days=1)
    text = (
        f"自责令改正决定书送达之日的次日（{first.isoformat()}）起至复查发现违法行为之日（{reinspection_date.isoformat()}）止，"
        f"计罚{days}日；按日连续处罚数额为原罚款{yuan_text(original_fine)}×{days}日={yuan_text(total)}"
    )
    return DailyPenalty(original_fine, order_served_date, reinspection_date, days, total, regime, basis, text)
