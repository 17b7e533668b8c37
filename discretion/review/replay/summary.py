"""The replay's summary: counts, amount changes and the main cause per violation type."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...engine.money import wan
from ...rulebooks.loaded import RulebookSet
from ..casefile import RowError
from .results import CaseResult


@dataclass
class Stats:
    """Counts for one violation type (or all)."""

    code: str
    title: str
    cases: int = 0  # rows assessed under at least one edition
    changed: int = 0
    up: int = 0
    down: int = 0
    band: int = 0
    newly_waived: int = 0
    newly_fined: int = 0
    errors: int = 0  # only one edition could assess the case
    deltas: list[int] = field(default_factory=list)  # the non-zero amount changes
    causes: Counter[str] = field(default_factory=Counter)  # the first cause of each change

    def add(self, r: CaseResult) -> None:
        self.cases += 1
        kind = r.change
        if kind == "unchanged":
            return
        self.changed += 1
        if kind == "amount_up":
            self.up += 1
        elif kind == "amount_down":
            self.down += 1
        elif kind == "band":
            self.band += 1
        elif kind == "newly_waived":
            self.newly_waived += 1
        elif kind == "newly_fined":
            self.newly_fined += 1
        elif kind == "error":
            self.errors += 1
        d = r.delta
        if d:
            self.deltas.append(d)
        if r.causes:
            c = r.causes[0]
            self.causes[c.text] += 1

    @property
    def median(self) -> int | None:
        """The median of the non-zero amount changes (the lower middle one for an even count)."""
        return statistics.median_low(self.deltas) if self.deltas else None

    @property
    def max_change(self) -> int | None:
        """The largest amount change by size, with its sign."""
        return max(self.deltas, key=lambda d: (abs(d), d)) if self.deltas else None

    def top_cause(self) -> tuple[str, int] | None:
        got = self.causes.most_common(1)
        return got[0] if got else None

    def to_dict(self) -> dict[str, Any]:
        top = self.top_cause()
        return {
            "violation": self.code,
            "title": self.title,
            "cases": self.cases,
            "changed": self.changed,
            "up": self.up,
            "down": self.down,
            "band": self.band,
            "newly_waived": self.newly_waived,
            "newly_fined": self.newly_fined,
            "errors": self.errors,
            "median_change": self.median,
            "max_change": self.max_change,
            "top_cause": None if top is None else {"text": top[0], "cases": top[1]},
        }


SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("violation", "违法行为代码"),
    ("title", "违法行为"),
    ("cases", "案件数"),
    ("changed", "有变化"),
    ("up", "罚款上调"),
    ("down", "罚款下调"),
    ("band", "档次变化"),
    ("newly_waived", "新增不予处罚"),
    ("newly_fined", "新增罚款"),
    ("errors", "仅一版可算"),
    ("median_change", "变化中位数（元）"),
    ("max_change", "最大变化（元）"),
    ("top_cause", "主要原因"),
)


@dataclass
class Summary:
    """The replay's summary by violation type, built as results arrive."""

    from_edition: dict[str, Any]
    to_edition: dict[str, Any]
    titles: dict[str, str]
    rows: int = 0
    invalid: int = 0
    row_errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS bad rows
    by_violation: dict[str, Stats] = field(default_factory=dict)
    total: Stats = field(default_factory=lambda: Stats("*", "合计"))
    seconds: float = 0.0
    workers: int = 1

    MAX_ERRORS = 1000

    @classmethod
    def for_editions(cls, rulebooks: RulebookSet, from_key: str, to_key: str) -> "Summary":
        def info(key: str) -> dict[str, Any]:
            e = rulebooks.editions[key].effective
            return {"key": key, "title": e.title, "status": e.status, "sha256": rulebooks.editions[key].sha256}

        titles = {c: lv.model.title for c, lv in rulebooks.violations.items()}
        return cls(info(from_key), info(to_key), titles)

    def add(self, r: CaseResult) -> None:
        self.rows += 1
        if r.status == "invalid":
            self.invalid += 1
            if r.error is not None and len(self.row_errors) < self.MAX_ERRORS:
                self.row_errors.append(r.error)
            return
        code = r.violation or "?"
        st = self.by_violation.get(code)
        if st is None:
            st = self.by_violation[code] = Stats(code, self.titles.get(code, code))
        st.add(r)
        self.total.add(r)

    @property
    def assessed(self) -> int:
        return self.rows - self.invalid

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def ordered(self) -> list[Stats]:
        """Violation types, most changed first."""
        return sorted(self.by_violation.values(), key=lambda s: (-s.changed, -s.cases, s.code))

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_edition,
            "to": self.to_edition,
            "rows": self.rows,
            "assessed": self.assessed,
            "invalid": self.invalid,
            "changed": self.total.changed,
            "by_violation": [s.to_dict() for s in self.ordered()],
            "total": self.total.to_dict(),
            "row_errors": [e.to_dict() for e in self.row_errors],
            "seconds": round(self.seconds, 3),
            "cases_per_second": round(self.rate, 1),
            "workers": self.workers,
        }

    def table(self) -> list[dict[str, Any]]:
        """The summary rows (the types, then the total) for a table or a spreadsheet sheet."""
        out = []
        for s in [*self.ordered(), self.total]:
            d = s.to_dict()
            top = s.top_cause()
            d["top_cause"] = f"{top[0]}（{top[1]}件）" if top else None
            out.append(d)
        return out


def yuan_change(d: int | None) -> str:
    """A signed amount change, short: +1.32万元, −4,500元, — (none)."""
    if d is None:
        return "—"
    sign = "+" if d > 0 else ("−" if d < 0 else "")
    a = abs(d)
    return sign + (f"{wan(a)}万元" if a >= 10000 else f"{a:,}元")
