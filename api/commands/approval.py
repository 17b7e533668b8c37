"""``discretion rulebooks approve FILE`` and ``discretion rulebooks publish FILE``.

Both need the API token of a reviewer or admin (``--token`` or ``DISCRETION_TOKEN``); the token's
owner is recorded as reviewer (approve) or publisher (publish). Approving also needs the reviewer's
private key (``--key`` or ``DISCRETION_REVIEWER_KEY``, made by ``discretion reviewers keygen``) whose
public key is registered for them in the tree's ``reviewers.yaml``: the approval is signed with it.
The edition file is rewritten in place: only its ``status`` line and ``approval`` block change, and
the whole tree must still load afterwards (signatures verified), or the file is put back as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from discretion.errors import ForbiddenError, InputError, RulebookError
from discretion.rulebooks import approval, signing, tree
from discretion.rulebooks.loaded import LoadedEdition, RulebookSet
from discretion.rulebooks.models import Approval, Status

from ..clock import today
from ..deps import Principal
from ._common import read_secret, token_principal

ROLES = ("reviewer", "admin")


def _principal(args: argparse.Namespace) -> Principal:
    who: Principal = token_principal(args, ROLES, "审核或发布裁量基准版本")
    return who


def _private_key(args: argparse.Namespace, rs: RulebookSet, reviewer: str) -> Ed25519PrivateKey:
    """The reviewer's private key from ``--key``, checked to be one registered for ``reviewer``."""
    name = args.key or os.environ.get("DISCRETION_REVIEWER_KEY")
    if not name:
        raise InputError(message="审核须用审核人本人的私钥签名：请用 --key 指定私钥文件（或环境变量 DISCRETION_REVIEWER_KEY）", field="key")
    try:
        pem = Path(name).read_bytes()
    except OSError as exc:
        raise InputError(message=f"无法读取私钥文件 {name}：{exc.strerror}", field="key") from None
    passphrase = None
    if signing.pem_is_encrypted(pem):
        passphrase = read_secret(args.passphrase_stdin, "私钥口令", "passphrase", "--passphrase-stdin", confirm=False).encode("utf-8")
    key = signing.load_private(pem, passphrase)
    fp = signing.fingerprint(signing.public_raw(key))
    if rs.reviewers is None or fp not in rs.reviewers.of(reviewer):
        raise ForbiddenError(message=f"该私钥（公钥指纹 {fp[:16]}…）不是审核人“{reviewer}”在 {signing.REGISTRY} 中登记的公钥；"
                                     f"请先由管理员登记（discretion reviewers add），并经审查提交", field="key")
    return key


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
    record = approval.approve(le.model, who.name, today())
    record = signing.sign(_private_key(args, rs, who.name), le.key, record, dt.datetime.now(dt.UTC))
    _write(path, rs, le, "approved", record)
    assert record.signature is not None
    print(f"已审核：{le.model.title}（{le.key}）")
    print(f"起草人 {record.author}，审核人 {record.reviewer}，日期 {record.date.isoformat()}，内容哈希 {record.sha256}")
    print(f"审核人签名：公钥指纹 {record.signature.key}，签名时间 {record.signature.signed_at}")
    print(f"发布请运行：discretion rulebooks publish {path}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    who = _principal(args)
    path, rs, le = _edition(args)
    record = approval.publish(le.model, who.name, today())
    _write(path, rs, le, "published", record)
    print(f"已发布：{le.model.title}（{le.key}），发布人 {who.name}，日期 {record.published_on}")
    print("服务在下次启动时载入本版本，并按施行日期选用。")
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    for name, func, text in (
        ("approve", cmd_approve, "法制审核通过一个草案版本（记录审核人、日期和内容哈希，并以审核人的私钥签名；审核人不得为起草人）"),
        ("publish", cmd_publish, "发布一个已审核的版本（内容须与审核时一致）"),
    ):
        p = rulebooks.add_parser(name, help=text, description=text + "。需要审核人（reviewer）或管理员（admin）的 API 令牌。")
        p.add_argument("file", metavar="FILE", help="裁量基准版本文件，如 rulebooks/yunnan/code-draft.yaml")
        p.add_argument("--token", help="API 令牌（默认取环境变量 DISCRETION_TOKEN）")
        if name == "approve":
            p.add_argument("--key", help="审核人的私钥文件（discretion reviewers keygen 生成；默认取环境变量 DISCRETION_REVIEWER_KEY）")
            p.add_argument("--passphrase-stdin", action="store_true", help="从标准输入读取私钥口令（一行）")
        p.set_defaults(func=func)
