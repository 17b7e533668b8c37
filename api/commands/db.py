"""``discretion db upgrade`` and ``discretion db current``: the schema migrations (Alembic)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import DATABASE_URL_HELP


def _engine(args: argparse.Namespace) -> Any:
    from ..settings import database_url
    from ..storage import make_engine

    return make_engine(database_url(args.database_url))


def _revision(engine: Any) -> str | None:
    """The database's migration revision (None before the first); an unreachable one is a DiscretionError."""
    from sqlalchemy.exc import SQLAlchemyError

    from discretion.errors import DiscretionError

    from ..storage.migrations import current

    try:
        return current(engine)
    except SQLAlchemyError as exc:
        raise DiscretionError(code="database_unavailable", message=f"无法连接数据库：{str(getattr(exc, 'orig', exc)).strip()}") from None


def cmd_upgrade(args: argparse.Namespace) -> int:
    from ..settings import database_location
    from ..storage.migrations import upgrade

    engine = _engine(args)
    print(f"数据库：{database_location(str(engine.url))}")
    try:
        before = _revision(engine)
        rev = upgrade(engine)
    finally:
        engine.dispose()
    if before is None:
        print(f"已创建数据库结构（迁移版本 {rev}）")
    elif before == rev:
        print(f"数据库结构已是最新（迁移版本 {rev}），无需迁移")
    else:
        print(f"数据库结构已从迁移版本 {before} 升级到 {rev}")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from ..storage.migrations import head

    engine = _engine(args)
    try:
        rev = _revision(engine)
    finally:
        engine.dispose()
    newest = head()
    if rev is None:
        print(f"数据库尚未迁移（最新版本 {newest}）；请运行 discretion db upgrade")
        return 1
    state = "已是最新" if rev == newest else f"需要升级到 {newest}"
    print(f"迁移版本 {rev}（{state}）")
    return 0 if rev == newest else 1


def register(sub: Any, rulebooks: Any) -> None:
    db = sub.add_parser("db", help="数据库（结构迁移）")
    dbs = db.add_subparsers(dest="db_command", required=True)
    for name, func, text in (
        ("upgrade", cmd_upgrade, "把数据库结构迁移到最新版本（服务启动时也会自动执行）"),
        ("current", cmd_current, "显示数据库的迁移版本（不是最新时退出码为 1）"),
    ):
        p = dbs.add_parser(name, help=text)
        p.add_argument("--database-url", help=DATABASE_URL_HELP)
        p.set_defaults(func=func)
