"""``discretion reviewers keygen|add|list``: reviewers' signing keys for approvals.

- ``keygen NAME --out FILE``: a new Ed25519 key pair for reviewer NAME (the owner name of their API
  token). The private key is written to FILE (mode 0600, never overwritten), encrypted with a
  passphrase unless ``--no-passphrase``; the reviewer keeps it. The public key is printed, to be
  registered by an admin.
- ``add NAME --public-key KEY --token ADMIN``: an admin registers the public key for NAME in the
  rulebook tree's ``reviewers.yaml`` (appended; the change is then reviewed and committed like any
  rulebook change: that file, not the database, is the trust anchor of approvals).
- ``list``: the registered keys (reviewer, fingerprint, added, by whom).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from discretion.errors import ConflictError, InputError, RulebookError
from discretion.rulebooks import loading, signing, tree
from discretion.rulebooks.models import ReviewerRegistry

from ..clock import today
from ._common import read_secret, rulebooks_root, token_principal

HEADER = "# 审核人公钥登记：法制审核电子签名的信任根（docs/rulebooks.md “审核人公钥登记”）。\nkeys:\n"


def cmd_keygen(args: argparse.Namespace) -> int:
    if not args.name.strip() or len(args.name) > 80:
        raise InputError(message="审核人名称须为 1 至 80 个字符（与其 API 令牌的持有人一致）", field="name")
    out = Path(args.out)
    if out.exists():
        raise ConflictError(message=f"文件已存在，不覆盖：{out}", field="out")
    passphrase = None
    if not args.no_passphrase:
        passphrase = read_secret(args.passphrase_stdin, "私钥口令", "passphrase", "--passphrase-stdin", confirm=True)
        if len(passphrase) < 8:
            raise InputError(message="私钥口令至少 8 个字符（不加密请用 --no-passphrase）", field="passphrase")
    key = signing.new_key()
    pem = signing.private_pem(key, passphrase.encode("utf-8") if passphrase else None)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConflictError(message=f"文件已存在，不覆盖：{out}", field="out") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    fp = signing.fingerprint(signing.public_raw(key))
    print(f"已为审核人 {args.name} 生成签名密钥：私钥写入 {out}（仅本人可读{'，已用口令加密' if passphrase else '，未加密'}），"
          f"公钥指纹 {fp}。私钥请本人妥善保管，不要交给他人、不要放入规则库或服务器。", file=sys.stderr)
    print("请把公钥交给管理员登记（登记后提交的 reviewers.yaml 须经审查）：", file=sys.stderr)
    print(f"discretion reviewers add {args.name} --public-key {signing.public_text(key)}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    admin = token_principal(args, ("admin",), "登记审核人公钥").name
    raw = signing.decode_public(args.public_key)
    if raw is None:
        raise InputError(message="不是有效的 Ed25519 公钥（应为 discretion reviewers keygen 打印的 44 个字符）", field="public_key")
    root = rulebooks_root(args) or tree.SHIPPED
    path = root / signing.REGISTRY
    before = path.read_bytes() if path.exists() else None
    text = before.decode("utf-8") if before is not None else HEADER
    fp = signing.fingerprint(raw)
    entry = signing.entry_text(args.name, args.public_key, today(), admin)
    updated = (text if text.endswith("\n") else text + "\n") + entry
    doc = loading.parse(updated.encode("utf-8"), signing.REGISTRY)
    _, issues = signing.registry(loading.validate(doc, ReviewerRegistry), doc)
    if issues:
        raise RulebookError(message="登记后的 reviewers.yaml 有错误，未写入", issues=issues)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(updated.encode("utf-8"))
    os.replace(tmp, path)
    print(f"已在 {path} 为审核人 {args.name} 登记公钥（指纹 {fp}），登记人 {admin}。请提交该文件的改动并经审查。")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    root = rulebooks_root(args) or tree.SHIPPED
    path = root / signing.REGISTRY
    if not path.is_file():
        print(f"{path} 不存在：没有登记任何审核人公钥")
        return 0
    model = loading.validate(loading.read(path), ReviewerRegistry)
    for k in model.keys:
        raw = signing.decode_public(k.public_key)
        fp = signing.fingerprint(raw) if raw is not None else "（无效公钥）"
        print(f"{k.reviewer}\t{fp}\t登记于 {k.added.isoformat()}\t登记人 {k.added_by}")
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    reviewers = sub.add_parser("reviewers", help="审核人的签名密钥（审批电子签名）")
    rs = reviewers.add_subparsers(dest="reviewers_command", required=True)
    k = rs.add_parser("keygen", help="为审核人生成 Ed25519 签名密钥对（私钥写入文件，由审核人本人保管）")
    k.add_argument("name", help="审核人名称（须与其 API 令牌的持有人一致）")
    k.add_argument("--out", required=True, help="私钥文件路径（新建，权限 0600，不覆盖已有文件）")
    g = k.add_mutually_exclusive_group()
    g.add_argument("--passphrase-stdin", action="store_true", help="从标准输入读取私钥口令（一行）")
    g.add_argument("--no-passphrase", action="store_true", help="私钥不加密（不建议）")
    k.set_defaults(func=cmd_keygen)
    a = rs.add_parser("add", help="管理员在规则库的 reviewers.yaml 中登记审核人的公钥")
    a.add_argument("name", help="审核人名称（须与其 API 令牌的持有人一致）")
    a.add_argument("--public-key", required=True, help="公钥（discretion reviewers keygen 打印的 base64 文本）")
    a.add_argument("--token", help="管理员的 API 令牌（默认取环境变量 DISCRETION_TOKEN）")
    a.set_defaults(func=cmd_add)
    rs.add_parser("list", help="列出登记的审核人公钥").set_defaults(func=cmd_list)
