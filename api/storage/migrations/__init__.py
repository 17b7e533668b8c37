"""Schema migrations (Alembic), shipped in the package and configured in code (no alembic.ini).

``upgrade(engine)`` brings a database to the newest revision. It is safe when several processes
start at once: SQLite takes the file lock beside the database, PostgreSQL ``pg_advisory_lock``.
A new revision: ``alembic -c /dev/null``-free, e.g. in Python
``command.revision(config(engine), message=..., autogenerate=True)`` against a database at head.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from discretion.errors import DiscretionError

from ..database import MIGRATION_LOCK, file_lock, lock_path

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
_REVISION = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r'^down_revision\s*=\s*["\']([^"\']+)["\']', re.M)


def known_head() -> str | None:
    """The newest revision, read from the revision files without importing Alembic (about half a
    second of start-up per worker): the one no other revision names as its predecessor. None when
    the files don't show a single head (then Alembic decides)."""
    revisions, downs = set(), set()
    for f in (HERE / "versions").glob("*.py"):
        body = f.read_text(encoding="utf-8")
        if m := _REVISION.search(body):
            revisions.add(m.group(1))
        if m := _DOWN.search(body):
            downs.add(m.group(1))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def _at(engine: Engine, revision: str) -> bool:
    """Whether the database is already at ``revision`` (one cheap query; False on any doubt)."""
    try:
        with engine.connect() as conn:
            got = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False
    return got == [revision]


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision this program knows."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(config()).get_current_head())


def current(engine: Engine) -> str | None:
    """The database's revision (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _locked(engine: Engine, conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
    else:
        with file_lock(lock_path(engine)):
            yield


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision``; returns the revision it is at afterwards."""
    if revision == "head" and (fast := known_head()) is not None and _at(engine, fast):
        return fast  # already there: no lock, no Alembic import (every worker's start-up)
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    try:
        with engine.connect() as conn, _locked(engine, conn):
            tables = set(inspect(conn).get_table_names())
            conn.rollback()
            if "alembic_version" not in tables and tables & {"assessments", "decisions"}:
                raise DiscretionError(
                    code="database_unversioned",
                    message="数据库中已有未经迁移管理的旧记录表（assessments），无法接续哈希链；"
                    "请备份后换用新的数据库文件（DISCRETION_DATABASE_URL）",
                )
            with conn.begin():
                command.upgrade(config(conn), revision)
            return MigrationContext.configure(conn).get_current_revision() or ""
    except CommandError as exc:
        raise DiscretionError(code="database_revision_unknown",
                              message=f"数据库的迁移版本不为本程序所知（数据库可能由更新的版本创建）：{exc}") from None
    except SQLAlchemyError as exc:
        raise DiscretionError(code="database_unavailable", message=f"无法连接或迁移数据库：{_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
