"""``discretion audit verify``: walk the hash chain of the records and name what was tampered with;
``discretion audit head``: the chain's head, to keep outside the database (``verify --expect-head``)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, Callable, TypeVar

from ..clock import BEIJING
from ._common import DATABASE_URL_HELP

T = TypeVar("T")
KIND_LABELS = {"altered": "篡改", "inserted": "插入", "deleted": "删除", "broken_link": "链接断开", "snapshot": "快照"}


def _read(args: argparse.Namespace, read: Callable[[Any], T]) -> T:
    """``read`` the records' database; refused with a Chinese message when it is missing, never
    migrated or unreadable."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from discretion.errors import DiscretionError

    from ..settings import database_url, sqlite_file
    from ..storage import make_engine

    url = database_url(args.database_url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise DiscretionError(code="database_not_found", message=f"数据库文件不存在：{path}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        if not {"assessments", "decisions", "chain_head"} <= tables:
            raise DiscretionError(code="database_not_initialised",
                                  message="数据库中没有记录表（尚未迁移？请先运行 discretion db upgrade 或启动服务）")
        return read(engine)
    except SQLAlchemyError as exc:
        raise DiscretionError(code="database_unavailable", message=f"无法读取数据库：{str(getattr(exc, 'orig', exc)).strip()}") from None
    finally:
        engine.dispose()


def kept_head(text: str) -> tuple[int, str]:
    """An argparse type: a kept head written ``SEQ:HASH`` (as ``discretion audit head`` prints it)."""
    seq, _, digest = text.strip().partition(":")
    if not (seq.isdigit() and len(seq) <= 18 and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise argparse.ArgumentTypeError(f"链头须写作 序号:哈希（64 位小写十六进制），如 discretion audit head 所示：{text}")
    return int(seq), digest


def cmd_verify(args: argparse.Namespace) -> int:
    from ..storage.chain import verify

    rep = _read(args, lambda engine: verify(engine, args.expect_head))
    if rep.sound:
        kept = f"；与保存的链头（序号 {args.expect_head[0]}）相符" if args.expect_head else ""
        access = f"，权限变更记录 {rep.access} 条" if rep.access else ""
        print(f"哈希链完整：共 {rep.records} 条记录（计算记录 {rep.assessments} 条，决定记录 {rep.decisions} 条{access}），"
              f"链头序号 {rep.head_seq}，哈希 {rep.head_hash}{kept}")
        return 0
    for p in rep.problems:
        print(p.message)
    print(f"哈希链校验失败：发现 {len(rep.problems)} 处问题（共读到 {rep.records} 条记录，链头序号 {rep.head_seq}）")
    return 1


def cmd_head(args: argparse.Namespace) -> int:
    from ..storage.chain import head

    h = _read(args, head)
    if h.seq == 0:
        print("尚无记录：链头为空（序号 0）")
        return 0
    at = h.at if h.at is None or h.at.tzinfo else h.at.replace(tzinfo=dt.UTC)
    when = "" if at is None else f"，时间 {at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}（北京时间）"
    print(f"链头：序号 {h.seq}，记录 {h.record_id}{when}")
    print(f"{h.seq}:{h.hash}")
    print("请把上一行另行保存（如每日记入案件管理系统或纸面登记）；日后用 "
          f"discretion audit verify --expect-head {h.seq}:{h.hash} 核对，其后的记录被删除或哈希链被重建时校验失败。")
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    audit = sub.add_parser("audit", help="记录审计（哈希链）")
    subs = audit.add_subparsers(dest="audit_command", required=True)
    v = subs.add_parser("verify", help="校验全部记录的哈希链，列出被改动、插入或删除的记录（有问题时退出码为 1）")
    v.add_argument("--database-url", help=DATABASE_URL_HELP)
    v.add_argument("--expect-head", type=kept_head, metavar="序号:哈希",
                   help="另行保存的链头（discretion audit head 所示）：其后的记录被删除或哈希链被重建时校验失败")
    v.set_defaults(func=cmd_verify)
    h = subs.add_parser("head", help="显示哈希链的链头（序号、哈希、时间），供另行保存")
    h.add_argument("--database-url", help=DATABASE_URL_HELP)
    h.set_defaults(func=cmd_head)
