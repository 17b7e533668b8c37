"""Storage of assessments with SQLAlchemy 2 (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
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

    def add(self, request: dict[str, Any], result: dict[str, Any]) -> str:
        rid = new_id()
        result = {"id": rid, **result}
        with self.engine.begin() as conn:
            conn.execute(
                insert(assessments).values(
                    id=rid,
                    created_at=dt.datetime.now(dt.timezone.utc),
                    violation=request["violation"],
                    outcome=result["outcome"],
                    edition=result["rulebook"]["key"],
                    sha256=result["rulebook"]["sha256"],
                    request=json.dumps(request, ensure_ascii=False, default=str),
                    result=json.dumps(result, ensure_ascii=False, default=str),
                )
            )
        return rid

    def get(self, rid: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments.c.result).where(assessments.c.id == rid)).first()
        return None if row is None else json.loads(row[0])
