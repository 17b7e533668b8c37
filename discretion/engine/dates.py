"""Dates in the pipeline: the regime in force on a day, limitation deadlines, memoised ISO texts."""

from __future__ import annotations

import datetime as dt

from ..rulebooks.models import LawEdition


def add_years(d: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def regime_on(law: LawEdition, on: dt.date) -> str | None:
    for r in law.regimes:
        if r.effective_from <= on and (r.effective_to is None or on <= r.effective_to):
            return r.id
    return None


_ISO: dict[dt.date, str] = {}


def iso(d: dt.date) -> str:
    """``d.isoformat()``, memoised (a few thousand days recur; cleared when full)."""
    got = _ISO.get(d)
    if got is None:
        got = d.isoformat()
        if len(_ISO) >= 8192:
            _ISO.clear()
        _ISO[d] = got
    return got
