"""Storage of assessments with SQLAlchemy 2 (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import queue

import orjson
import secrets
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, event, insert, select
from sqlalchemy.engine import Engine

metadata = MetaData()

assessments = Table(
    "assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("violation", String(80), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
    Column("edition", String(80), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("request", Text, nullable=False),
    Column("result", Text, nullable=False),
)


def new_id() -> str:
    """A time-ordered id: 12 hex digits of milliseconds, then 12 random hex digits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(6)}"


class Store:
    """Assessment records. Writes go through one writer thread that commits whatever is waiting
    in one transaction (group commit): every caller gets its id only after its row is durably
    committed, and concurrent requests share the cost of the commit (an fsync on SQLite)."""

    BATCH_MAX = 256

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if url.startswith("sqlite"):

            @event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()

        metadata.create_all(self.engine)
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[str]]] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="discretion-store-writer", daemon=True)
        self._writer.start()

    def submit(self, request: dict[str, Any], result: dict[str, Any]) -> "Future[str]":
        """Queue one record; the future resolves to its id once committed (or to the error)."""
        rid = new_id()
        return self.submit_json(
            rid, request, orjson.dumps({"id": rid, **result}, default=str),
            outcome=result["outcome"], edition=result["rulebook"]["key"], sha256=result["rulebook"]["sha256"],
        )

    def submit_json(
        self, rid: str, request: dict[str, Any], result_json: bytes, *, outcome: str, edition: str, sha256: str
    ) -> "Future[str]":
        """Queue a record whose result is already JSON (with its id inside); resolves to the id."""
        row = {
            "id": rid,
            "created_at": dt.datetime.now(dt.timezone.utc),
            "violation": request["violation"],
            "outcome": outcome,
            "edition": edition,
            "sha256": sha256,
            "request": orjson.dumps(request, default=str).decode(),
            "result": result_json.decode(),
        }
        fut: Future[str] = Future()
        self._queue.put((row, fut))
        return fut

    GATHER_S = 0.002  # after the first waiting row, gather others this long: fewer, larger commits

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.GATHER_S
            while len(batch) < self.BATCH_MAX:
                left = deadline - time.monotonic()
                try:
                    batch.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(assessments), [row for row, _ in batch])
            except Exception as exc:  # the whole batch failed: nobody gets an id
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for row, fut in batch:
                fut.set_result(row["id"])

    def get(self, rid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments.c.result).where(assessments.c.id == rid)).first()
        return None if row is None else orjson.loads(row[0])
