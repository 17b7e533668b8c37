"""The store: the chain's writer, reading records, rulebook snapshots, and verification."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from sqlalchemy import and_, exists, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from .chain import VerifyReport, verify
from ..settings import DatabaseTimeouts
from .database import check_writable, make_engine
from .failures import bounded, settled
from .rows import case_of, case_summary, decision_out, is_id, iso_z, record_meta, stored_request
from .schema import assessments, decisions, rulebook_snapshots
from .snapshots import pack_files, set_hash, unpack_files
from .writer import ChainWriter

T = TypeVar("T")
MAX_VERSIONS = 1000  # versions of one record walked (a chain of recomputations is a handful)
GRACE_S = 1.0  # the writer answers a record it could not begin in time; the caller waits this much longer for that answer


class Store(ChainWriter):
    """Records: assessments and decisions on one hash chain, snapshots, and the access tables.

    Records are appended by the writer this store is (:class:`~api.storage.writer.ChainWriter`:
    ``submit_*`` and ``add_*``); here they are read, snapshots kept, and the chain verified."""

    def __init__(self, url: str, *, migrate: bool = True, timeouts: DatabaseTimeouts | None = None) -> None:
        """Open (and with ``migrate``, migrate) the database; one the service could not write to is
        refused (``database_read_only``, :func:`~api.storage.database.check_writable`)."""
        self.url = url
        engine = make_engine(url, timeouts)
        try:
            if migrate:
                from .migrations import upgrade

                check_writable(engine, files_only=True)
                upgrade(engine)
            check_writable(engine)
        except BaseException:
            engine.dispose()
            raise
        super().__init__(engine)

    def close(self) -> None:
        """Stop the writer (after what is queued) and release the connections."""
        self._stop_writer()
        self.engine.dispose()

    # --- bounded waits for the service's event loop ---------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, a read of this store, in a thread; a storage failure, or no answer
        within the request bound, is 503 ``storage_unavailable`` (api/storage/failures.py)."""
        return await bounded(self.timeouts.request_s, functools.partial(fn, *args, **kwargs))

    async def wait(self, fut: asyncio.Future[T]) -> T:
        """The outcome of a record queued with ``add_*``, within the request bound (as :meth:`call`)."""
        return await settled(fut, self.timeouts.request_s + GRACE_S)

    # --- snapshots ---------------------------------------------------------------------------

    def put_snapshot(self, files: Mapping[str, bytes]) -> str:
        """Keep a copy of a rulebook source set (once per distinct set); returns its hash."""
        key = set_hash(files)
        with self.engine.connect() as conn:
            if conn.execute(select(literal(1)).where(rulebook_snapshots.c.set_hash == key)).first():
                return key
        blob = pack_files(files)
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
            with conn.begin():
                conn.execute(upsert(rulebook_snapshots).values(
                    set_hash=key, created_at=dt.datetime.now(dt.UTC), files=blob).on_conflict_do_nothing())
        return key

    def get_snapshot(self, key: str) -> dict[str, bytes] | None:
        with self.engine.connect() as conn:
            blob = conn.execute(select(rulebook_snapshots.c.files).where(rulebook_snapshots.c.set_hash == key)).scalar()
        return None if blob is None else unpack_files(blob)

    # --- reading -----------------------------------------------------------------------------

    def get(self, rid: str) -> dict[str, Any] | None:
        """The stored result of an assessment (what POST answered)."""
        if not is_id(rid):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments.c.result).where(assessments.c.id == rid)).first()
        return None if row is None else orjson.loads(row[0])

    def get_row(self, rid: str) -> dict[str, Any] | None:
        """An assessment's stored row (every column) and its decision row (or None) under ``decision``."""
        if not is_id(rid):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments).where(assessments.c.id == rid)).first()
            if row is None:
                return None
            dec = conn.execute(select(decisions).where(decisions.c.assessment_id == rid)).first()
            newer = conn.execute(select(assessments.c.id).where(assessments.c.supersedes == rid)).scalar()
        out = dict(row._mapping)
        out["decision"] = None if dec is None else dict(dec._mapping)
        out["superseded_by"] = newer
        return out

    def get_record(self, rid: str) -> dict[str, Any] | None:
        """The stored result with its record (who, when, edition, engine, chain) and decision."""
        got = self.get_row(rid)
        if got is None:
            return None
        out: dict[str, Any] = orjson.loads(got["result"])
        out["request"] = stored_request(got)
        out["record"] = record_meta(got)
        out["decision"] = None if got["decision"] is None else decision_out(got["decision"], got)
        out["case"] = case_of(got)
        out["supersedes"] = got["supersedes"]
        out["superseded_by"] = got["superseded_by"]
        with self.engine.connect() as conn:
            out["versions"] = _versions(conn, got)
        return out

    def list(
        self,
        *,
        violation: str | None = None,
        outcome: str | None = None,
        handler: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outside_band: bool | None = None,
        decided: bool | None = None,
        search: str | None = None,
        include_superseded: bool = False,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Assessments newest first with their decisions; returns (items, seq to continue before).
        ``search``: only those whose case number or party name contains it (letters in any case).

        Only the latest version of each record is listed (one no recomputation has superseded), with
        its earlier versions, newest first, under ``history``; ``include_superseded`` lists every
        record. The filters apply to the listed record itself."""
        a, d = assessments, decisions
        cols = [a.c.id, a.c.seq, a.c.hash, a.c.created_at, a.c.created_by, a.c.created_role, a.c.violation, a.c.title,
                a.c.outcome, a.c.recommended, a.c.band_min, a.c.band_max, a.c.edition, a.c.sha256, a.c.case_json, a.c.supersedes]
        dcols = [d.c.id.label("d_id"), d.c.seq.label("d_seq"), d.c.hash.label("d_hash"), d.c.created_at.label("d_created_at"),
                 d.c.created_by.label("d_created_by"), d.c.created_role.label("d_created_role"), d.c.amount.label("d_amount"),
                 d.c.reason.label("d_reason"), d.c.within_band.label("d_within_band")]
        q = select(*cols, *dcols).select_from(a.outerjoin(d, d.c.assessment_id == a.c.id))
        conds = []
        if violation is not None:
            conds.append(a.c.violation == violation)
        if outcome is not None:
            conds.append(a.c.outcome == outcome)
        if handler is not None:
            conds.append(a.c.created_by == handler)
        if since is not None:
            conds.append(a.c.created_at >= since)
        if until is not None:
            conds.append(a.c.created_at < until)
        if outside_band is not None:
            conds.append(d.c.within_band.is_(not outside_band))
        if decided is True:
            conds.append(d.c.id.is_not(None))
        elif decided is False:
            conds.append(d.c.id.is_(None))
        if search is not None:  # a bound parameter, its % and _ escaped: matched literally
            conds.append(or_(a.c.case_number.icontains(search, autoescape=True),
                             a.c.case_party.icontains(search, autoescape=True)))
        if not include_superseded:
            newer = assessments.alias("newer")
            conds.append(~exists().where(newer.c.supersedes == a.c.id))
        if before_seq is not None:
            conds.append(a.c.seq < before_seq)
        if conds:
            q = q.where(and_(*conds))
        q = q.order_by(a.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
            more = len(rows) > limit
            rows = rows[:limit]
            earlier = _earlier(conn, [r["supersedes"] for r in rows if r["supersedes"]])
        items = []
        for r in rows:
            decision = None
            if r["d_id"] is not None:
                drow = {k[2:]: v for k, v in r.items() if k.startswith("d_")}
                drow["assessment_id"] = r["id"]
                decision = decision_out(drow, r)
            items.append({
                "id": r["id"],
                "seq": r["seq"],
                "created_at": iso_z(r["created_at"]),
                "created_by": {"name": r["created_by"], "role": r["created_role"]},
                "violation": r["violation"],
                "title": r["title"],
                "outcome": r["outcome"],
                "recommended": r["recommended"],
                "band": None if r["band_min"] is None else [r["band_min"], r["band_max"]],
                "edition": r["edition"],
                "decision": decision,
                "case": case_summary(r),
                "supersedes": r["supersedes"],
                "history": _walk_back(r["supersedes"], earlier),
            })
        return items, (rows[-1]["seq"] if more and rows else None)

    # --- verification --------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        return verify(self.engine)


# --- versions: a record and the recomputations that superseded it ---------------------------------


def _version_rows(conn: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    a, d = assessments, decisions
    q = (select(a.c.id, a.c.seq, a.c.created_at, a.c.outcome, a.c.recommended, a.c.supersedes,
                d.c.amount.label("decision_amount"))
         .select_from(a.outerjoin(d, d.c.assessment_id == a.c.id)).where(where))
    return [dict(r._mapping) for r in conn.execute(q)]


def version_out(r: Mapping[str, Any]) -> dict[str, Any]:
    """One version of a record as the API shows it in ``versions`` and ``history``."""
    return {"id": r["id"], "seq": r["seq"], "created_at": iso_z(r["created_at"]), "outcome": r["outcome"],
            "recommended": r["recommended"], "decision_amount": r["decision_amount"]}


def _earlier(conn: Connection, first: list[str]) -> dict[str, dict[str, Any]]:
    """The rows of the records named (``first``) and of every record they supersede, by id (one query
    per step back, for all the records of a page at once)."""
    found: dict[str, dict[str, Any]] = {}
    frontier = set(first)
    for _ in range(MAX_VERSIONS):
        if not frontier:
            break
        rows = _version_rows(conn, assessments.c.id.in_(frontier))
        found.update((r["id"], r) for r in rows)
        frontier = {r["supersedes"] for r in rows if r["supersedes"] and r["supersedes"] not in found}
    return found


def _walk_back(rid: str | None, rows: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The versions a record supersedes, newest first, from ``rid`` (the one it names) back."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while rid is not None and rid in rows and rid not in seen and len(out) < MAX_VERSIONS:
        seen.add(rid)
        out.append(version_out(rows[rid]))
        rid = rows[rid]["supersedes"]
    return out


def _versions(conn: Connection, row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every version of the record's line, oldest first, this one included: the ones it supersedes
    and the ones that superseded it since."""
    here = _version_rows(conn, assessments.c.id == row["id"])
    back = _walk_back(row["supersedes"], _earlier(conn, [row["supersedes"]] if row["supersedes"] else []))
    forward: list[dict[str, Any]] = []
    nxt = row.get("superseded_by")
    seen = {row["id"]}
    while nxt is not None and nxt not in seen and len(forward) < MAX_VERSIONS:
        seen.add(nxt)
        got = _version_rows(conn, assessments.c.id == nxt)
        if not got:
            break
        forward.append(version_out(got[0]))
        nxt = conn.execute(select(assessments.c.id).where(assessments.c.supersedes == nxt)).scalar()
    return [*reversed(back), *(version_out(r) for r in here), *forward]
