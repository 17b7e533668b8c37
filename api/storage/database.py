"""Engines for the records' database, and the locks that serialise its writers and migrations.

SQLite gets WAL, ``synchronous=FULL``, foreign keys and ``BEGIN IMMEDIATE`` for the chain's writer;
PostgreSQL gets pre-ping. Several processes take turns on the chain and on migrations through a
file lock beside a SQLite database, or PostgreSQL advisory locks (:data:`CHAIN_LOCK`,
:data:`MIGRATION_LOCK`). Every wait on the database is bounded by the settings'
:class:`~api.settings.DatabaseTimeouts`: SQLite's ``busy_timeout``; PostgreSQL's
``connect_timeout``, ``statement_timeout`` and ``lock_timeout``; the pool's timeout.
:func:`check_writable` refuses, at start-up, a database the service could not write.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from discretion.errors import DiscretionError

from ..settings import DatabaseTimeouts, sqlite_file
from .failures import is_failure, reason

CHAIN_LOCK = 0x64697363_72657421  # pg_advisory_xact_lock key of the chain ("discret!")
MIGRATION_LOCK = CHAIN_LOCK + 1


def make_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine with the pragmas, transaction handling and timeouts the chain needs (``timeouts``:
    the settings' by default, i.e. ``DISCRETION_DB_*_TIMEOUT_S`` or their documented defaults)."""
    timeouts = timeouts or DatabaseTimeouts()
    path = sqlite_file(url)
    if path is not None:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a folder made for it: owner-only
            _create_owner_only(path)
        except OSError as exc:
            raise DiscretionError(code="database_unavailable",
                                  message=f"无法创建数据库文件 {path}：{exc.strerror or exc}") from None
    postgresql = url.startswith("postgresql")
    pooled = {"pool_timeout": timeouts.pool_timeout_s} if postgresql or path is not None else {}  # not in-memory SQLite
    engine = create_engine(url, pool_pre_ping=postgresql, connect_args=_postgresql_args(url, timeouts) if postgresql else {},
                           **pooled)
    engine.timeouts = timeouts  # type: ignore[attr-defined]  # read by the chain's writer and healthz
    busy_ms = math.ceil(timeouts.lock_timeout_s * 1000)
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
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # a lock held longer: "database is locked"
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("discretion_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgresql_args(url: str, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """libpq's ``connect_timeout`` (whole seconds, at least 2) and the server-side statement and lock
    timeouts, sent as start-up ``options`` in front of any the URL gives (which then win)."""
    from sqlalchemy.engine import make_url

    given = make_url(url).query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    ours = (f"-c statement_timeout={math.ceil(timeouts.statement_timeout_s * 1000)} "
            f"-c lock_timeout={math.ceil(timeouts.lock_timeout_s * 1000)}")
    return {"connect_timeout": max(2, math.ceil(timeouts.connect_timeout_s)), "options": f"{ours} {given}".strip()}


def timeouts_of(engine: Engine) -> DatabaseTimeouts:
    """The timeouts ``engine`` was made with (the defaults for an engine made elsewhere)."""
    got = getattr(engine, "timeouts", None)
    return got if isinstance(got, DatabaseTimeouts) else DatabaseTimeouts()


def file_problem(engine: Engine) -> str | None:
    """Why SQLite could not write this database's files (Chinese), or None (and for PostgreSQL): its
    folder and files must be writable (SQLite makes the -wal, -shm and .lock files beside it)."""
    lock = lock_path(engine)
    if lock is None:
        return None
    path = lock.with_name(Path(str(engine.url.database)).name)
    if not os.access(path.parent, os.W_OK):
        return f"数据库所在目录 {path.parent} 不可写（SQLite 须在其中创建 -wal、-shm 和 .lock 文件）"
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", lock.name):
        f = path.with_name(name)
        if f.exists() and not os.access(f, os.W_OK):
            return f"数据库文件 {f} 只读"
    return None


def write_problem(engine: Engine) -> str | None:
    """Why the service could not write its records to this (migrated) database now (Chinese), or None.

    SQLite: :func:`file_problem`, and a write must be accepted (an update of the chain head, rolled
    back). PostgreSQL: the session must not be read-only (a standby, ``default_transaction_read_only``)
    and the role must be allowed to insert records and move the chain head. One short query."""
    problem = file_problem(engine)
    if problem is not None:
        return problem
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                read_only, allowed, role = conn.execute(text(
                    "SELECT current_setting('transaction_read_only'), has_table_privilege('assessments', 'INSERT') "
                    "AND has_table_privilege('decisions', 'INSERT') AND has_table_privilege('idempotency_keys', 'INSERT') "
                    "AND has_table_privilege('chain_head', 'UPDATE'), current_user")).one()
                conn.rollback()
                if read_only == "on":
                    return "PostgreSQL 会话为只读（transaction_read_only = on：备库，或设置了 default_transaction_read_only）"
                if not allowed:
                    return f"PostgreSQL 角色 {role} 没有写入记录表（assessments、decisions、idempotency_keys、chain_head）的权限"
                return None
            with conn.begin() as tx:
                conn.execute(text("UPDATE chain_head SET seq = seq WHERE id = 1"))
                tx.rollback()
    except Exception as exc:
        if is_failure(exc):
            return reason(exc)
        raise
    return None


def check_writable(engine: Engine, files_only: bool = False) -> None:
    """Refuse (``database_read_only``) a database the service could not write its records to;
    ``files_only``: only :func:`file_problem` (before migrating: the tables may not exist yet)."""
    problem = file_problem(engine) if files_only else write_problem(engine)
    if problem is not None:
        raise DiscretionError(code="database_read_only",
                              message=f"数据库不可写，服务无法保存记录：{problem}。请检查文件及其目录的写权限和磁盘空间，"
                                      "或 PostgreSQL 角色的写权限（DISCRETION_DATABASE_URL）")


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
