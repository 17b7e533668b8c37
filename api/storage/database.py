"""Engines for the records' database, and the locks that serialise its writers and migrations.

SQLite gets WAL, ``synchronous=FULL``, foreign keys and ``BEGIN IMMEDIATE`` for the chain's writer;
PostgreSQL gets pre-ping. Several processes take turns on the chain and on migrations through a
file lock beside a SQLite database, or PostgreSQL advisory locks (:data:`CHAIN_LOCK`,
:data:`MIGRATION_LOCK`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

from ..settings import sqlite_file

CHAIN_LOCK = 0x64697363_72657421  # pg_advisory_xact_lock key of the chain ("discret!")
MIGRATION_LOCK = CHAIN_LOCK + 1


def make_engine(url: str) -> Engine:
    """An engine with the pragmas and transaction handling the chain needs."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a folder made for it: owner-only
        _create_owner_only(path)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _: Any) -> None:
            conn.isolation_level = None  # the driver's own BEGIN off: we emit it (below)
            cur = conn.cursor()
            # A new database gets 8 KiB pages (a record of ~12 KB fills fewer pages: fewer WAL frames
            # and checkpoint writes); an existing one keeps its page size (this is then a no-op).
            cur.execute("PRAGMA page_size=8192")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a commit is on disk before anyone is told
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("discretion_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _create_owner_only(path: Path) -> None:
    """Create a new SQLite database file owner-only (0600): it holds the records, the users' password
    hashes and the service's keys. SQLite gives its -wal and -shm files the database file's
    permissions. An existing file keeps the permissions its operator gave it."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def lock_path(engine: Engine) -> Path | None:
    """The lock file beside a SQLite database (None for other databases and in-memory SQLite)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:":
        return None
    return Path(db).with_name(Path(db).name + ".lock")


@contextlib.contextmanager
def file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (flock); a no-op without a path."""
    if path is None:
        yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
