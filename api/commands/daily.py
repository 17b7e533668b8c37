"""``discretion daily-penalty``: the daily penalty for a violation that goes on after the order to correct it."""

from __future__ import annotations

import argparse
from typing import Any

from discretion.engine.daily import daily_penalty
from discretion.rulebooks import tree

from ._common import date_arg, print_json, rulebooks_root


def cmd_daily(args: argparse.Namespace) -> int:
    rs = tree.load(rulebooks_root(args))
    r = daily_penalty(rs.law, args.fine, args.served, args.reinspection)
    if args.format == "json":
        print_json(r.to_dict())
    else:
        print(r.text)
        print("依据：" + "、".join(r.basis))
    return 0


def register(sub: Any) -> None:
    d = sub.add_parser("daily-penalty", help="按日连续处罚计算")
    d.add_argument("--fine", type=int, required=True, help="原罚款数额（元）")
    d.add_argument("--served", type=date_arg, required=True, help="责令改正决定书送达日期")
    d.add_argument("--reinspection", type=date_arg, required=True, help="复查发现违法行为的日期")
    d.add_argument("--format", choices=["text", "json"], default="text")
    d.set_defaults(func=cmd_daily)
