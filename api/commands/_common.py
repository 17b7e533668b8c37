"""What the core commands share: the rulebook tree and engine an invocation asks for, argument
types, and JSON output. (Not a command group: ``register_all`` passes over ``_`` modules.)"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from discretion.engine.assessment import Engine
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


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
