"""Money: statutory ranges in integer yuan from the fine forms of the law, and rounding.

All arithmetic is Decimal or int; a range's minimum is rounded up and its maximum down
to whole yuan so the result never leaves the statute's bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Mapping

from ..rulebooks.models import Fine, MultipleFine, PerUnitFine, RangeFine, RateFine, UpToFine

_ROUNDING = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN}


@dataclass(frozen=True, slots=True)
class Range:
    """A statutory fine range in yuan; ``max`` None means no upper bound can be computed."""

    min: int
    max: int | None
    text: str  # how the range was computed, in Chinese


def _yuan(d: Decimal, rounding: str) -> int:
    return int(d.to_integral_value(rounding=rounding))


# Texts of whole-yuan amounts, memoised: the same statutory bounds and rounded fines recur in
# nearly every case. Only exact ints are memoised (a Decimal's text depends on its exponent, and
# Decimal("1E+5") == 100000); the caches are small and cleared when full, so memory stays flat.
_CACHE_MAX = 1024
_WAN: dict[int, str] = {}
_YUAN: dict[int, str] = {}


def wan(amount: int | Decimal) -> str:
    """An amount in 万元 without trailing zeros: 125000 → 12.5."""
    if type(amount) is int:
        got = _WAN.get(amount)
        if got is None:
            got = _wan(amount)
            if len(_WAN) >= _CACHE_MAX:
                _WAN.clear()
            _WAN[amount] = got
        return got
    return _wan(amount)


def _wan(amount: int | Decimal) -> str:
    if isinstance(amount, int):
        whole, rest = divmod(amount, 10000)
        if rest == 0:
            return str(whole)
        return f"{whole}.{rest:04d}".rstrip("0") if amount >= 0 else format((Decimal(amount) / 10000).normalize(), "f")
    return format((Decimal(amount) / Decimal(10000)).normalize(), "f")


def yuan_text(amount: int) -> str:
    """12500 → 12500元（1.25万元）."""
    if type(amount) is int:
        got = _YUAN.get(amount)
        if got is None:
            got = f"{amount}元（{wan(amount)}万元）" if amount >= 10000 else f"{amount}元"
            if len(_YUAN) >= _CACHE_MAX:
                _YUAN.clear()
            _YUAN[amount] = got
        return got
    return f"{amount}元（{wan(amount)}万元）" if amount >= 10000 else f"{amount}元"


def fine_range(fine: Fine, facts: Mapping[str, Any]) -> Range:
    """The statutory range of one fine form, given the case's facts."""
    if isinstance(fine, RangeFine):
        return Range(fine.min, fine.max, f"{yuan_text(fine.min)}以上{yuan_text(fine.max)}以下")
    if isinstance(fine, UpToFine):
        return Range(0, fine.max, f"{yuan_text(fine.max)}以下")
    if isinstance(fine, PerUnitFine):
        n = int(facts.get(fine.count) or 0)
        lo, hi = n * fine.min, n * fine.max
        per = f"每{fine.unit_label}{yuan_text(fine.min)}" if fine.min == fine.max else (
            f"每{fine.unit_label}{yuan_text(fine.min)}以上{yuan_text(fine.max)}以下")
        return Range(lo, hi, f"{per}，共{n}{fine.unit_label}，合计{yuan_text(lo)}至{yuan_text(hi)}")
    if isinstance(fine, (RateFine, MultipleFine)):
        raw = facts.get(fine.base)
        if raw is None:
            return Range(0, None, f"{fine.base}未提供，无法计算上限")
        base = Decimal(raw)
        floor_note = ""
        if fine.base_floor is not None and base < fine.base_floor:
            floor_note = f"（不足{yuan_text(fine.base_floor)}，按{yuan_text(fine.base_floor)}计算）"
            base = Decimal(fine.base_floor)
        if isinstance(fine, RateFine):
            lo_f, hi_f = fine.min_rate, fine.max_rate
            how = f"{_pct(lo_f)}至{_pct(hi_f)}" if lo_f != hi_f else _pct(lo_f)
        else:
            lo_f, hi_f = fine.min_multiple, fine.max_multiple
            how = f"{_num(lo_f)}倍至{_num(hi_f)}倍" if lo_f != hi_f else f"{_num(lo_f)}倍"
        lo = _yuan(base * lo_f, ROUND_CEILING)
        hi = _yuan(base * hi_f, ROUND_FLOOR)
        if lo > hi:  # a fixed share of an amount that is not whole: one amount, rounded half up
            lo = hi = _yuan(base * lo_f, ROUND_HALF_UP)
        return Range(lo, hi, f"基数{_num(base)}元{floor_note}的{how}，即{yuan_text(lo)}至{yuan_text(hi)}")
    raise TypeError(f"unknown fine form {fine!r}")  # pragma: no cover - models forbid it


def _pct(d: Decimal) -> str:
    return f"百分之{_num(d * 100)}"


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f")


def round_to(amount: Decimal, step: int, mode: str) -> int:
    """Round an amount to a multiple of ``step`` yuan."""
    q = (amount / step).to_integral_value(rounding=_ROUNDING[mode])
    return int(q) * step


def fitting_step(step: int, maximum: int, minimum: int = 0) -> int:
    """The rounding step for a small range: one whose maximum is below the edition's step (处五百元以下
    under a benchmark that rounds to 1000 元), or whose minimum is below the step and not a multiple
    of it (二百元以上二千元以下): the step divided by ten until neither holds, so the recommended fine
    and its band lie inside the statutory range (modelled; docs/rulebooks.md “Rounding”). Any other
    range keeps the edition's step."""
    while step >= 10 and step % 10 == 0 and (step > maximum or 0 < minimum < step and minimum % step):
        step //= 10
    return step


def ceil_to(amount: Decimal, step: int) -> int:
    """Round up to a multiple of ``step`` (keeps a floor a floor)."""
    return int((amount / step).to_integral_value(rounding=ROUND_CEILING)) * step
