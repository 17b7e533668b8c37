"""``discretion rulebooks approve FILE`` and ``discretion rulebooks publish FILE``.

Both need the API token of a reviewer or admin (``--token`` or ``DISCRETION_TOKEN``); the token's
owner is recorded as reviewer (approve) or publisher (publish). The edition file is rewritten in
place: only its ``status`` line and ``approval`` block change, and the whole tree must still load
afterwards, or the file is put back as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from discretion.errors import ForbiddenError, RulebookError
from discretion.rulebooks import approval, tree
from discretion.rulebooks.loaded import LoadedEdition, RulebookSet
from discretion.rulebooks.models import Approval, Status

from ..deps import Principal

ROLES = ("reviewer", "admin")


def _principal(args: argparse.Namespace) -> Principal:
    from .. import auth
    from ..settings import load_settings

    who = auth.cli_principal(args.token or os.environ.get("DISCRETION_TOKEN"), load_settings())
    if who.role not in ROLES:
        raise ForbiddenError(message=f"当前令牌的角色（{who.role}）无权审核或发布裁量基准版本，需要：{'、'.join(ROLES)}", field="token")
    return who


def _edition(args: argparse.Namespace) -> tuple[Path, RulebookSet, LoadedEdition]:
    path = Path(args.file)
    rs, le = tree.edition_file(path, Path(args.rulebooks) if args.rulebooks else None)
    return path, rs, le


def _write(path: Path, rs: RulebookSet, le: LoadedEdition, status: Status, record: Approval) -> None:
    """Rewrite the status line and approval block; keep the old bytes if the tree would not load."""
    raw = path.read_bytes()
    text = approval.rewrite(raw.decode("utf-8"), status, record)
    approval.verify_rewrite(le.model, text, le.doc.file)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)
    try:
        tree.load(rs.root)
    except RulebookError:
        path.write_bytes(raw)
        raise


def cmd_approve(args: argparse.Namespace) -> int:
    who = _principal(args)
    path, rs, le = _edition(args)
    record = approval.approve(le.model, who.name, dt.date.today())
    _write(path, rs, le, "approved", record)
    print(f"已审核：{le.model.title}（{le.key}）")
    print(f"起草人 {record.author}，审核人 {record.reviewer}，日期 {record.date.isoformat()}，内容哈希 {record.sha256}")
    print(f"发布请运行：discretion rulebooks publish {path}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    who = _principal(args)
    path, rs, le = _edition(args)
    record = approval.publish(le.model, who.name, dt.date.today())
    _write(path, rs, le, "published", record)
    print(f"已发布：{le.model.title}（{le.key}），发布人 {who.name}，日期 {dt.date.today().isoformat()}")
    print("服务在下次启动时载入本版本，并按施行日期选用。")
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    for name, func, text in (
        ("approve", cmd_approve, "法制审核通过一个草案版本（记录审核人、日期和内容哈希；审核人不得为起草人）"),
        ("publish", cmd_publish, "发布一个已审核的版本（内容须与审核时一致）"),
    ):
        p = rulebooks.add_parser(name, help=text, description=text + "。需要审核人（reviewer）或管理员（admin）的 API 令牌。")
        p.add_argument("file", metavar="FILE", help="裁量基准版本文件，如 rulebooks/yunnan/code-draft.yaml")
        p.add_argument("--token", help="API 令牌（默认取环境变量 DISCRETION_TOKEN）")
        p.set_defaults(func=func)
