"""Consistency analytics (同案同罚): the figures of decided cases from counts aggregated elsewhere.

The database aggregates the decided cases into counts (``api/storage/analytics.py``); this module
turns counts into figures, exactly (fractions), and knows no database. docs/consistency.md explains
every figure; in short:

- **position**: where a decided amount lies in the statutory range, in percentage points (0 = the
  statutory minimum, 100 = the maximum). The database counts positions in bins of one point
  ([k, k+1), the maximum itself in the top bin); a quantile is read from the bins by linear
  interpolation within its bin (the grouped-data estimate), so it is exact to within one point,
  on SQLite and PostgreSQL alike.
- **outside-band rate**: the share of decided cases whose amount lies below or above the
  recommended band; **waiver rate**: the share decided at 0 yuan (不予处罚), time-barred cases aside.
- a handler against the bureau (all handlers in the same filters): their **expected** rate is the
  bureau's rate of each violation type weighted by the handler's own cases of that type (indirect
  standardisation: a handler who decides more of a type that departs more often is not flagged
  for it); their **departure** is, case by case, the position minus the bureau's median position
  of that violation type (rounded to the whole point), and their median departure the median of those.
- a **flag** when a handler has at least :data:`MIN_CASES` decided cases and their outside-band
  rate differs from the expected by more than :data:`RATE_THRESHOLD` points, or their median
  departure (over at least :data:`MIN_CASES` cases with a position) exceeds :data:`MEDIAN_THRESHOLD`
  points either way. A flag says "look at these decisions", not "they are wrong".
- **like cases**: :func:`distance` between two cases' features (:func:`parse_features`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

MIN_CASES = 30  # decided cases (with a position, for the median) before a handler is compared at all
RATE_THRESHOLD = 10  # percentage points between a handler's outside-band rate and the expected one
MEDIAN_THRESHOLD = 10  # percentage points of the statutory range between a handler's median departure and 0
QUANTILES = {"p5": Fraction(5, 100), "p25": Fraction(25, 100), "median": Fraction(1, 2), "p75": Fraction(75, 100),
             "p95": Fraction(95, 100)}
FLAG_LABELS = {
    "outside_high": "档次外决定的比例明显高于全局同类案件",
    "outside_low": "档次外决定的比例明显低于全局同类案件",
    "position_high": "决定数额在法定幅度中的位置明显高于全局同类案件",
    "position_low": "决定数额在法定幅度中的位置明显低于全局同类案件",
}


def quantile(bins: Mapping[int, int], q: Fraction) -> Fraction | None:
    """The ``q`` quantile of values counted in bins of width one ([k, k+1) for bin k), by linear
    interpolation within the bin it falls in: k + (q·N − F) / c, F the count below bin k and c its
    count. None when nothing is counted."""
    total = sum(bins.values())
    if total <= 0:
        return None
    target = q * total
    below = 0
    keys = sorted(k for k, c in bins.items() if c > 0)
    for k in keys:
        c = bins[k]
        if below + c >= target:
            return k + (target - below) / c
        below += c
    return Fraction(keys[-1] + 1)


def pct(value: Fraction | None, places: int = 1) -> Decimal | None:
    """A fraction as a decimal rounded half up to ``places`` places (None stays None)."""
    if value is None:
        return None
    step = Decimal(1).scaleb(-places)
    out = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(step, rounding=ROUND_HALF_UP)
    return out.copy_abs() if out.is_zero() else out  # never "-0.0"


def share(part: int, whole: int) -> Fraction | None:
    """``part / whole`` in percent, None for an empty whole."""
    return None if whole <= 0 else Fraction(100 * part, whole)


@dataclass
class Tally:
    """Counts of decided cases: how many, below and above the band, waived, and the positions by bin."""

    cases: int = 0
    below: int = 0
    above: int = 0
    waived: int = 0
    bins: Counter[int] = field(default_factory=Counter)

    def add(self, bin_: int | None, n: int, below: int, above: int, waived: int) -> None:
        self.cases += n
        self.below += below
        self.above += above
        self.waived += waived
        if bin_ is not None:
            self.bins[bin_] += n

    def merge(self, other: Tally) -> None:
        self.add(None, other.cases, other.below, other.above, other.waived)
        self.bins.update(other.bins)

    @property
    def outside(self) -> int:
        return self.below + self.above

    @property
    def positioned(self) -> int:
        return sum(self.bins.values())

    def quantiles(self) -> dict[str, Fraction | None]:
        return {k: quantile(self.bins, q) for k, q in QUANTILES.items()}

    def figures(self) -> dict[str, Any]:
        """The tally as the report shows it (percentages rounded to 0.1)."""
        return {
            "cases": self.cases,
            "with_position": self.positioned,
            "position_pct": {k: pct(v) for k, v in self.quantiles().items()},
            "below": self.below,
            "inside": self.cases - self.outside,
            "above": self.above,
            "outside_rate_pct": pct(share(self.outside, self.cases)),
            "waived": self.waived,
            "waiver_rate_pct": pct(share(self.waived, self.cases)),
        }


def round_half_up(v: Fraction) -> int:
    return math.floor(v + Fraction(1, 2))


@dataclass
class Comparison:
    """One handler against the bureau: their tally, their departures from the bureau's median
    position of each violation type (bins of one point), and the bureau's rates for their mix of types."""

    name: str
    tally: Tally
    departures: Counter[int]
    expected_outside: Fraction | None  # percent
    expected_waived: Fraction | None  # percent

    def flags(self) -> list[str]:
        out = []
        t = self.tally
        if t.cases >= MIN_CASES and self.expected_outside is not None:
            gap = share(t.outside, t.cases) - self.expected_outside  # type: ignore[operator]
            if gap > RATE_THRESHOLD:
                out.append("outside_high")
            elif gap < -RATE_THRESHOLD:
                out.append("outside_low")
        median = quantile(self.departures, Fraction(1, 2))
        if sum(self.departures.values()) >= MIN_CASES and median is not None:
            if median > MEDIAN_THRESHOLD:
                out.append("position_high")
            elif median < -MEDIAN_THRESHOLD:
                out.append("position_low")
        return out

    def figures(self) -> dict[str, Any]:
        t = self.tally
        observed = share(t.outside, t.cases)
        return {
            "name": self.name,
            **t.figures(),
            "departure_pct": {k: pct(quantile(self.departures, q)) for k, q in QUANTILES.items()},
            "expected_outside_rate_pct": pct(self.expected_outside),
            "outside_gap_pct": pct(None if observed is None or self.expected_outside is None else observed - self.expected_outside),
            "expected_waiver_rate_pct": pct(self.expected_waived),
            "flags": [{"code": f, "label": FLAG_LABELS[f]} for f in self.flags()],
            "enough_cases": t.cases >= MIN_CASES,
        }


@dataclass
class Summary:
    """The bureau, each violation type and each handler, from the counts by (type, handler, bin)."""

    bureau: Tally
    by_type: dict[str, Tally]
    by_handler: dict[str, Tally]
    cells: dict[tuple[str, str], Tally]

    @cached_property
    def type_medians(self) -> dict[str, Fraction]:
        """The bureau's median position of each violation type that has positions."""
        out = {}
        for t, tally in self.by_type.items():
            m = quantile(tally.bins, Fraction(1, 2))
            if m is not None:
                out[t] = m
        return out

    def compare(self, handler: str) -> Comparison:
        """``handler`` against the bureau (see the module's docstring)."""
        medians = {t: round_half_up(m) for t, m in self.type_medians.items()}
        departures: Counter[int] = Counter()
        exp_out = exp_waived = Fraction(0)
        for (t, h), cell in self.cells.items():
            if h != handler:
                continue
            whole = self.by_type[t]  # (a few thousand cells: the loop costs less than an index would)
            exp_out += Fraction(cell.cases * whole.outside, whole.cases)
            exp_waived += Fraction(cell.cases * whole.waived, whole.cases)
            if t in medians:
                for b, c in cell.bins.items():
                    departures[b - medians[t]] += c
        mine = self.by_handler.get(handler, Tally())
        n = mine.cases
        return Comparison(handler, mine, departures, None if n == 0 else 100 * exp_out / n,
                          None if n == 0 else 100 * exp_waived / n)

    def bureau_departures(self) -> Counter[int]:
        """Every case's departure from its type's median position (the bureau's own spread)."""
        medians = {t: round_half_up(m) for t, m in self.type_medians.items()}
        out: Counter[int] = Counter()
        for t, tally in self.by_type.items():
            if t in medians:
                for b, c in tally.bins.items():
                    out[b - medians[t]] += c
        return out


def summarise(rows: Iterable[tuple[str, str, int | None, int, int, int, int]]) -> Summary:
    """The summary of cube rows (violation, handler, bin or None, cases, below, above, waived): each
    (type, handler) cell is tallied once, then the types, the handlers and the bureau from the cells."""
    cells: dict[tuple[str, str], Tally] = {}
    for violation, handler, bin_, n, below, above, waived in rows:
        cell = cells.get((violation, handler))
        if cell is None:
            cell = cells[(violation, handler)] = Tally()
        n = int(n)
        cell.cases += n
        cell.below += int(below or 0)
        cell.above += int(above or 0)
        cell.waived += int(waived or 0)
        if bin_ is not None:
            cell.bins[int(bin_)] += n
    bureau = Tally()
    by_type: dict[str, Tally] = {}
    by_handler: dict[str, Tally] = {}
    for (violation, handler), cell in cells.items():
        for tally in (bureau, by_type.setdefault(violation, Tally()), by_handler.setdefault(handler, Tally())):
            tally.merge(cell)
    return Summary(bureau, by_type, by_handler, cells)


# --- like cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Features:
    """A case's features for the like-case distance (api/storage/decided.features writes them)."""

    factors: dict[str, tuple[int, Fraction]]  # factor id → (level, score 0 … 1)
    circumstances: frozenset[str]
    legal_range: str  # "min-max" or "-"

    @property
    def text(self) -> str:
        f = ",".join(f"{k}:{lv}:{_score_text(s)}" for k, (lv, s) in sorted(self.factors.items()))
        return f"f={f}|c={','.join(sorted(self.circumstances))}|r={self.legal_range}"


def _score_text(s: Fraction) -> str:
    return str(s.numerator) if s.denominator == 1 else str(Decimal(s.numerator) / Decimal(s.denominator))


def parse_features(text: str) -> Features:
    """The :class:`Features` of a features text ``f=…|c=…|r=…``; ValueError if it is not one."""
    parts = dict(p.split("=", 1) for p in text.split("|"))
    if set(parts) != {"f", "c", "r"}:
        raise ValueError(f"not a features text: {text!r}")
    factors = {}
    for item in filter(None, parts["f"].split(",")):
        fid, level, score = item.split(":")
        factors[fid] = (int(level), Fraction(Decimal(score)))
    return Features(factors, frozenset(filter(None, parts["c"].split(","))), parts["r"])


@dataclass(frozen=True)
class Distance:
    """The distance between two cases and what makes it: each factor both editions grade counts
    the difference of its scores (0 … 1), each circumstance only one case has counts 1, a different
    statutory range counts 1."""

    total: Fraction
    factors: dict[str, tuple[int, int]]  # factor → (level here, level there), the ones that differ
    only_here: frozenset[str]
    only_there: frozenset[str]
    range_differs: bool


def distance(a: Features, b: Features) -> Distance:
    """The documented distance from case ``a`` to case ``b`` (symmetric in its total)."""
    total = Fraction(0)
    differ = {}
    for fid in sorted(a.factors.keys() & b.factors.keys()):
        (la, sa), (lb, sb) = a.factors[fid], b.factors[fid]
        total += abs(sa - sb)
        if la != lb:
            differ[fid] = (la, lb)
    here, there = a.circumstances - b.circumstances, b.circumstances - a.circumstances
    total += len(here) + len(there)
    range_differs = a.legal_range != b.legal_range
    total += 1 if range_differs else 0
    return Distance(total, differ, frozenset(here), frozenset(there), range_differs)


def nearest(chosen: Features, profiles: Iterable[tuple[str, int]], k: int) -> list[tuple[str, Distance, int]]:
    """The profiles (features text, how many cases have it) nearest to ``chosen``, nearest first
    (ties by text), until they hold at least ``k`` cases: (text, distance, count)."""
    ranked = sorted(((text, distance(chosen, parse_features(text)), n) for text, n in profiles if n > 0),
                    key=lambda x: (x[1].total, x[0]))
    out = []
    held = 0
    for item in ranked:
        if held >= k:
            break
        out.append(item)
        held += item[2]
    return out
