"""``discretion users`` and ``discretion tokens``: web accounts and API tokens (stored hashed).

Every change (a user added or disabled, a token created or revoked) is appended to the records'
hash chain with who made it: the admin given with ``--token``, or else the operating-system user
running the command (``discretion audit verify`` checks these events with the records)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from discretion.errors import InputError

from ..deps import ROLES, Principal
from ..throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_SECONDS, address_key, minutes
from ._common import DATABASE_URL_HELP, read_secret, token_principal


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[Any]:
    """The access store on the records' database (migrated), with the chain writer its changes go
    through; closed (the writer stopped) afterwards."""
    from ..auth import AccessStore
    from ..settings import database_url
    from ..storage import Store

    store = Store(database_url(args.database_url))
    try:
        yield AccessStore(store.engine, chain=store)
    finally:
        store.close()


def _acting(args: argparse.Namespace) -> Principal | None:
    """The admin acting with ``--token`` (recorded as who made the change), or None: the change is
    recorded as made by the operating-system user running the command."""
    if not args.token:
        return None
    who: Principal = token_principal(args, ("admin",), "变更账户或令牌")
    return who


def _password(args: argparse.Namespace) -> str:
    return read_secret(args.password_stdin, "密码", "password", "--password-stdin", confirm=True)


def cmd_user_add(args: argparse.Namespace) -> int:
    by = _acting(args)
    password = _password(args)
    with _store(args) as store:
        store.add_user(args.name, args.role, password, by)
    print(f"已创建用户 {args.name}（角色：{args.role}）；已记入哈希链")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    by = _acting(args)
    with _store(args) as store:
        revoked = store.disable_user(args.name, by)
    print(f"已停用用户 {args.name}，吊销其令牌 {revoked} 个（各服务进程在 10 秒内生效）；已记入哈希链")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    """Lift a login lock: a user's (``NAME``) or a client address's (``--address``)."""
    if (args.name is None) == (args.address is None):
        raise InputError(message="请指定要解除登录锁定的用户名，或用 --address 指定网络地址（二者选一）", field="name")
    if args.address is not None:
        import ipaddress

        try:
            ipaddress.ip_address(args.address)
        except ValueError:
            raise InputError(message=f"不是有效的 IP 地址：{args.address}", field="address") from None
        with _store(args) as store:
            n = store.throttle.unlock_address(args.address)
        print(f"已解除网络地址 {address_key(args.address)} 的登录限制（清除失败记录 {n} 条）")
    else:
        with _store(args) as store:
            n = store.unlock(args.name)
        print(f"已解除用户 {args.name} 的登录锁定（清除失败记录 {n} 条）")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        locked = store.throttle.locked()
        users = store.list_users()
    for u in users:
        status = f"已停用于 {u['disabled_at']:%Y-%m-%d %H:%M}" if u["disabled_at"] else "有效"
        if u["name"] in locked:
            status += f"（登录已锁定，约 {minutes(locked[u['name']])} 分钟后自动解除；discretion users unlock {u['name']}）"
        print(f"{u['name']}\t{u['role']}\t{status}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    by = _acting(args)
    with _store(args) as store:
        tid, token = store.create_token(args.owner, args.role, args.label or "", by)
    print(f"已创建令牌 {tid}（持有人：{args.owner}，角色：{args.role}），创建人已记入哈希链。令牌只显示这一次，请妥善保存：",
          file=sys.stderr)
    print(token)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    by = _acting(args)
    with _store(args) as store:
        store.revoke_token(args.id, by)
    print(f"已吊销令牌 {args.id}（各服务进程在 10 秒内生效）；已记入哈希链")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        tokens = store.list_tokens()
    for t in tokens:
        status = f"已吊销于 {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "有效"
        print(f"{t.id}\t{t.owner}\t{t.role}\t{t.label or '—'}\t创建于 {t.created_at:%Y-%m-%d %H:%M}\t{status}")
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    def db(p: argparse.ArgumentParser, acting: bool = False) -> argparse.ArgumentParser:
        p.add_argument("--database-url", help=DATABASE_URL_HELP)
        if acting:
            p.add_argument("--token", help="操作的管理员的 API 令牌（可选；记入哈希链。不给则记为运行本命令的操作系统用户）")
        return p

    users = sub.add_parser("users", help="网页登录账户")
    us = users.add_subparsers(dest="users_command", required=True)
    a = db(us.add_parser("add", help="创建用户（记入哈希链）"), acting=True)
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, required=True)
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
    a.set_defaults(func=cmd_user_add)
    d = db(us.add_parser("disable", help="停用用户（记入哈希链）"), acting=True)
    d.add_argument("name")
    d.set_defaults(func=cmd_user_disable)
    db(us.add_parser("list", help="列出用户（含登录锁定）")).set_defaults(func=cmd_user_list)
    u = db(us.add_parser("unlock", help=f"解除登录锁定（{WINDOW_SECONDS // 60} 分钟内同一用户名登录失败 {ACCOUNT_LIMIT} 次、同一地址 {ADDRESS_LIMIT} 次即锁定）"))
    u.add_argument("name", nargs="?", help="用户名")
    u.add_argument("--address", help="改为解除一个网络地址（IPv6 按 /64 网段）的登录限制")
    u.set_defaults(func=cmd_user_unlock)

    tokens = sub.add_parser("tokens", help="API 令牌")
    ts = tokens.add_subparsers(dest="tokens_command", required=True)
    c = db(ts.add_parser("create", help="创建令牌（只显示一次，库中只存哈希；创建人记入哈希链）"), acting=True)
    c.add_argument("--owner", required=True, help="持有人（用户名或系统名，如 mobile-app）")
    c.add_argument("--role", choices=ROLES, required=True)
    c.add_argument("--label", help="用途说明")
    c.set_defaults(func=cmd_token_create)
    r = db(ts.add_parser("revoke", help="吊销令牌（记入哈希链）"), acting=True)
    r.add_argument("id")
    r.set_defaults(func=cmd_token_revoke)
    db(ts.add_parser("list", help="列出令牌（不含令牌本身）")).set_defaults(func=cmd_token_list)
