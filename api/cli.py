"""The ``discretion`` command line: the same library calls as the JSON API and the web form.

This module builds the parser from the command groups in :mod:`api.commands` and runs the chosen
command: its return value is the exit code, and an error it raises becomes a message on stderr and
exit code 1 (broken rulebooks) or 2 (anything else).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from pydantic import ValidationError

from discretion.errors import DiscretionError, RulebookError

from . import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="discretion", description="生态环境行政处罚裁量计算（云南）")
    parser.add_argument("--rulebooks", help="规则集目录（默认为内置规则集）")
    sub = parser.add_subparsers(dest="command", required=True)
    commands.register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except RulebookError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    except DiscretionError as exc:
        fields = getattr(exc, "fields", ()) or ((exc.field,) if exc.field else ())  # contradictory inputs name each
        where = f"（{'、'.join(fields)}）" if fields else ""
        print(f"错误：{exc.code}{where}：{exc.message}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            print(f"错误：invalid_input（{loc}）：{err['msg']}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"错误：无法读取输入：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
