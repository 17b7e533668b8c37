"""The consistency analytics' SQL (table ``decided_cases``): counts aggregated in the database, never
the records themselves brought into Python; the same statements on SQLite and PostgreSQL.

- :func:`cube`: decided cases counted by (violation type, handler, position bin): cases, below and
  above the band, waived. Every figure of the page is a sum over it (discretion/review/analytics.py),
  and it walks ``ix_decided_cases_cube`` in its own order (no sort, no table row read);
- :func:`timeline`: by month and side of the band (``ix_decided_cases_month``);
- :func:`reasons`: the reasons given for decisions outside the band, counted by their key in the
  order of ``ix_decided_cases_reasons``, the most frequent per violation type first (a window
  function over the grouped counts), then the text of those kept;
- :func:`record`, :func:`profiles`, :func:`with_profile`: the like cases of one decided case
  (``ix_decided_cases_like``): the distinct features of the cases that may be like it, counted,
  then the few cases of the nearest.

Filters (:class:`Scope`) are bound parameters; a violation type list is an ``IN``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from .schema import decided_cases as t

Data = Literal["real", "synthetic", "all"]


@dataclass(frozen=True)
class Scope:
    """Which decided cases: real ones (the default), synthetic ones or both; decided from ``since``
    to ``until`` (Beijing days, both included); of the given violation types (None: all); of one
    jurisdiction and one edition (None: any)."""

    data: Data = "real"
    since: dt.date | None = None
    until: dt.date | None = None
    violations: tuple[str, ...] | None = None
    jurisdiction: str | None = None
    edition: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.data != "all":
            out.append(t.c.synthetic.is_(self.data == "synthetic"))
        if self.violations is not None:
            out.append(t.c.violation.in_(self.violations))
        if self.since is not None:
            out.append(t.c.decided_on >= self.since)
        if self.until is not None:
            out.append(t.c.decided_on <= self.until)
        if self.jurisdiction is not None:
            out.append(t.c.jurisdiction == self.jurisdiction)
        if self.edition is not None:
            out.append(t.c.edition == self.edition)
        return out


def _count_if(cond: ColumnElement[bool]) -> Any:
    return func.sum(case((cond, 1), else_=0))


def cube(engine: Engine, scope: Scope, part: tuple[str | None, str | None] = (None, None)) -> list[tuple[str, str, int | None, int, int, int, int]]:
    """(violation, handler, bin, cases, below, above, waived) for every combination that has cases;
    ``part``: only the violation types from its first code (included) to its second (excluded), so
    that parts of the cube can be counted at once on separate connections (:func:`parts`)."""
    conds = scope.where()
    if part[0] is not None:
        conds.append(t.c.violation >= part[0])
    if part[1] is not None:
        conds.append(t.c.violation < part[1])
    q = (select(t.c.violation, t.c.handler, t.c.bin, func.count(), _count_if(t.c.side < 0), _count_if(t.c.side > 0),
                _count_if(t.c.waived.is_(True)))
         .where(and_(True, *conds))
         .group_by(t.c.violation, t.c.handler, t.c.bin))
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def parts(codes: Sequence[str], n: int) -> list[tuple[str | None, str | None]]:
    """``n`` ranges of violation codes that together hold every code (known or not), cut at the
    known ``codes`` so that each holds about as many types."""
    ordered = sorted(set(codes))
    cuts = [ordered[len(ordered) * i // n] for i in range(1, n)] if len(ordered) >= n else []
    bounds: list[str | None] = [None, *cuts, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def timeline(engine: Engine, scope: Scope, handler: str | None = None) -> list[tuple[int, int, int]]:
    """(month YYYYMM, side, cases), month by month; of one handler's cases when given."""
    conds = scope.where()
    if handler is not None:
        conds.append(t.c.handler == handler)
    q = (select(t.c.month, t.c.side, func.count()).where(and_(True, *conds))
         .group_by(t.c.month, t.c.side).order_by(t.c.month, t.c.side))
    with engine.connect() as conn:
        return [(int(m), int(s), int(n)) for m, s, n in conn.execute(q)]


def reasons(engine: Engine, scope: Scope, handler: str | None = None, top: int | None = None) -> list[tuple[str, str, int]]:
    """(violation, reason, cases) of the decisions outside the band, each type's most frequent
    reasons first (among equals, the one given first, then by key: the same order on every
    database, whatever its collation), at most ``top`` per type; of one handler's cases when given.

    The reasons are counted by key in the order of ``ix_decided_cases_reasons`` (no table row read,
    no sort), then the text of each reason kept is read once."""
    conds = [t.c.reason_key.is_not(None), *scope.where()]
    if handler is not None:
        conds.append(t.c.handler == handler)
    n = func.count()
    rank = func.row_number().over(partition_by=t.c.violation, order_by=(n.desc(), func.min(t.c.decided_on), t.c.reason_key))
    inner = (select(t.c.violation, t.c.reason_key, n.label("n"), rank.label("rank")).where(and_(*conds))
             .group_by(t.c.violation, t.c.reason_key).subquery())
    q = select(inner.c.violation, inner.c.reason_key, inner.c.n)
    if top is not None:
        q = q.where(inner.c.rank <= top)
    q = q.order_by(inner.c.violation, inner.c.rank)
    data = [scope.data == "synthetic"] if scope.data != "all" else [False, True]  # a seek on the index's first column
    text_of = (select(t.c.reason).where(t.c.synthetic.in_(data), t.c.violation == bindparam("v"),
                                        t.c.reason_key == bindparam("k"), t.c.reason_key.is_not(None)).limit(1))
    with engine.connect() as conn:
        counted = conn.execute(q).all()
        return [(v, conn.execute(text_of, {"v": v, "k": k}).scalar_one(), int(c)) for v, k, c in counted]


# --- like cases -----------------------------------------------------------------------------------

ROW_COLUMNS = tuple(c.name for c in t.c)


def record(engine: Engine, ref: str) -> dict[str, Any] | None:
    """The decided case of an assessment id (or of a synthetic reference), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.ref == ref)).first()
    return None if row is None else dict(row._mapping)


def _alike(row: dict[str, Any]) -> list[ColumnElement[bool]]:
    """The cases that may be like ``row``: of the same data (real or synthetic), violation type,
    regime and kind of party."""
    return [t.c.synthetic.is_(bool(row["synthetic"])), t.c.violation == row["violation"], t.c.regime == row["regime"],
            t.c.party == row["party"]]


def profiles(engine: Engine, row: dict[str, Any]) -> list[tuple[str, int]]:
    """(features, cases) of the cases that may be like ``row``, ``row`` itself left out."""
    q = select(t.c.features, func.count()).where(and_(*_alike(row))).group_by(t.c.features)
    with engine.connect() as conn:
        got = [(f, int(n)) for f, n in conn.execute(q)]
    return [(f, n - 1 if f == row["features"] else n) for f, n in got]


def with_profile(engine: Engine, row: dict[str, Any], features: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The most recently decided cases (at most ``limit`` of each) with the given features that may
    be like ``row``, ``row`` left out."""
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for f in features:
            q = (select(t).where(and_(*_alike(row), t.c.features == f, t.c.ref != row["ref"]))
                 .order_by(t.c.decided_on.desc(), t.c.id.desc()).limit(limit))
            out += [dict(r._mapping) for r in conn.execute(q)]
    return out
