"""Databases for the storage and records tests: every such test runs on SQLite and on PostgreSQL.

PostgreSQL is ``DISCRETION_TEST_POSTGRES`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
the CI database). Each database handed out is fresh: a new SQLite file, or a new schema (put first
on the connection's search_path) that is dropped at the end of the session. When PostgreSQL is
unreachable its tests fail if ``CI`` is set and are skipped otherwise.

The fixtures ``databases`` (this class, per session) and ``db_url`` (a fresh database of each
backend) are in conftest.py.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

POSTGRES = os.environ.get("DISCRETION_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


class Databases:
    """Hands out fresh, empty database URLs; drops the PostgreSQL schemas at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schemas: list[str] = []
        self._admin: Engine | None = None
        self._pg_error: str | None = None
        self._pg_checked = False

    def _postgres(self) -> Engine:
        if not self._pg_checked:
            self._pg_checked = True
            engine = create_engine(POSTGRES, pool_pre_ping=True)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                self._admin = engine
            except Exception as exc:  # any failure means: not reachable
                engine.dispose()
                self._pg_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if self._admin is None:
            msg = f"PostgreSQL unreachable at {POSTGRES} ({self._pg_error})"
            if os.environ.get("CI"):
                pytest.fail(msg)
            pytest.skip(msg)
        return self._admin

    def new(self, backend: str) -> str:
        if backend == "sqlite":
            folder = self.tmp / secrets.token_hex(4)
            return f"sqlite:///{folder}/records.db"
        admin = self._postgres()
        schema = f"discretion_test_{os.getpid()}_{secrets.token_hex(4)}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        return f"{POSTGRES}?options=-csearch_path%3D{schema}"

    def close(self) -> None:
        if self._admin is not None:
            with self._admin.begin() as conn:
                for schema in self.schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self._admin.dispose()

