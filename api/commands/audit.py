"""``discretion audit verify``: walk the hash chain of the records and name what was tampered with."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import DATABASE_URL_HELP

KIND_LABELS = {"altered": "篡改", "inserted": "插入", "deleted": "删除", "broken_link": "链接断开", "snapshot": "快照"}


def cmd_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from discretion.errors import DiscretionError

    from ..settings import database_url
    from ..storage import make_engine
    from ..storage.chain import verify

    url = database_url(args.database_url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        from pathlib import Path

        if not Path(url.removeprefix("sqlite:///")).is_file():
            raise DiscretionError(code="database_not_found", message=f"数据库文件不存在：{url.removeprefix('sqlite:///')}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        if not {"assessments", "decisions", "chain_head"} <= tables:
            raise DiscretionError(code="database_not_initialised",
                                  message="数据库中没有记录表（尚未迁移？请先运行 discretion db upgrade 或启动服务）")
        rep = verify(engine)
    except SQLAlchemyError as exc:
        raise DiscretionError(code="database_unavailable", message=f"无法读取数据库：{str(getattr(exc, 'orig', exc)).strip()}") from None
    finally:
        engine.dispose()
    if rep.sound:
        print(f"哈希链完整：共 {rep.records} 条记录（计算记录 {rep.assessments} 条，决定记录 {rep.decisions} 条），"
              f"链头序号 {rep.head_seq}，哈希 {rep.head_hash}")
        return 0
    for p in rep.problems:
        print(p.message)
    print(f"哈希链校验失败：发现 {len(rep.problems)} 处问题（共读到 {rep.records} 条记录，链头序号 {rep.head_seq}）")
    return 1


def register(sub: Any, rulebooks: Any) -> None:
    audit = sub.add_parser("audit", help="记录审计（哈希链）")
    subs = audit.add_subparsers(dest="audit_command", required=True)
    v = subs.add_parser("verify", help="校验全部记录的哈希链，列出被改动、插入或删除的记录（有问题时退出码为 1）")
    v.add_argument("--database-url", help=DATABASE_URL_HELP)
    v.set_defaults(func=cmd_verify)
