"""What the core commands share: the rulebook tree and engine an invocation asks for, argument
types, and JSON output. (Not a command group: ``register_all`` passes over ``_`` modules.)"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from discretion.engine.assessment import Engine
from discretion.errors import ForbiddenError, InputError
from discretion.rulebooks import tree

# The --database-url option's help, for every command that has it (resolved by api.settings.database_url).
DATABASE_URL_HELP = "数据库地址（默认取 DISCRETION_DATABASE_URL 或 DATABASE_URL，否则为数据目录 DISCRETION_HOME 中的 discretion.db）"


def rulebooks_root(args: argparse.Namespace) -> Path | None:
    """The rulebook tree given with ``--rulebooks`` (None: the shipped one)."""
    return Path(args.rulebooks) if getattr(args, "rulebooks", None) else None


def load_engine(args: argparse.Namespace) -> Engine:
    return Engine(tree.load(rulebooks_root(args)), getattr(args, "matcher", "durable"))


def date_arg(text: str) -> dt.date:
    """An argparse type: a date as YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期须为 YYYY-MM-DD：{text}") from None


def token_principal(args: argparse.Namespace, roles: tuple[str, ...], what: str) -> Any:
    """The owner of the API token given with ``--token`` (or ``DISCRETION_TOKEN``), looked up in the
    database the command works on (``--database-url`` where it has one), who must hold one of
    ``roles`` to do ``what`` (a Chinese phrase)."""
    from .. import auth
    from ..settings import load_settings

    settings = load_settings()
    if getattr(args, "database_url", None):
        settings = settings.model_copy(update={"database_url": args.database_url})
    who = auth.cli_principal(args.token or os.environ.get("DISCRETION_TOKEN"), settings)
    if who.role not in roles:
        raise ForbiddenError(message=f"当前令牌的角色（{who.role}）无权{what}，需要：{'、'.join(roles)}", field="token")
    return who


def read_secret(from_stdin: bool, what: str, field: str, flag: str, confirm: bool) -> str:
    """A password or passphrase: one line of standard input (``flag`` given), else typed twice
    (``confirm``) or once at the terminal; refused when there is no terminal to ask at."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError(message=f"非交互环境下请用 {flag} 从标准输入提供{what}", field=field)
    first = getpass.getpass(f"{what}：")
    if confirm and getpass.getpass(f"再次输入{what}：") != first:
        raise InputError(message=f"两次输入的{what}不一致", field=field)
    return first


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
