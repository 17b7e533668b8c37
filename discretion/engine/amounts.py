"""Amounts inside a statutory range: the recommended fine at a position, its band, and 减轻
below the minimum; small texts of positions and shares for the trail."""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .money import Range, ceil_to, fitting_step, round_to


def reduced(minimum: int, red: Any, rounding: Any) -> tuple[int, int] | None:
    """减轻 below a statutory minimum: (recommended, floor), or None where there is no room below the
    minimum (no minimum, or the rounding step leaves nothing between the floor and the minimum)."""
    if red is None or minimum <= 0:
        return None
    floor_amt = ceil_to(Decimal(minimum) * red.floor_ratio, rounding.step)  # the floor, rounded up to the step
    rec = max(round_to(Decimal(minimum) * red.ratio, rounding.step, rounding.mode), floor_amt)
    if rec >= minimum:
        return None
    return rec, floor_amt


def max_of(r: Range) -> float:
    return math.inf if r.max is None else r.max


def pct(d: Decimal) -> str:
    return f"{(d * 100).normalize():f}%"


def fmt(d: Decimal) -> str:
    """A position for the trail: at most four decimals, no trailing zeros (0.14, 0.0467, 1)."""
    text = f"{d:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def amount(rng: Range, p: Decimal, step: int, mode: str, bands: int) -> tuple[int, tuple[int, int]]:
    lo = rng.min
    hi = rng.max if rng.max is not None else rng.min
    step = fitting_step(step, hi, lo)
    width = Decimal(hi - lo)
    # "处N元以下的罚款" has no statutory minimum, but a fine of 0 元 is no fine: the lowest amount
    # recommended is one rounding step (modelled; docs/rulebooks.md "Rounding")
    floor = min(step, hi) if lo == 0 else lo
    rec = round_to(lo + width * p, step, mode)
    rec = min(max(rec, floor), hi)
    g = min(bands - 1, int((p * bands).to_integral_value(rounding=ROUND_FLOOR)))
    key = (lo, hi, g, step, mode, bands)
    band = _BANDS.get(key)
    if band is None:  # a band depends on its number only: a few per range
        b0 = min(max(round_to(lo + width * g / bands, step, mode), floor), hi)
        b1 = min(max(round_to(lo + width * (g + 1) / bands, step, mode), floor), hi)
        band = (b0, b1)
        if len(_BANDS) >= 4096:
            _BANDS.clear()
        _BANDS[key] = band
    return rec, band


_BANDS: dict[tuple[int, int, int, int, str, int], tuple[int, int]] = {}
