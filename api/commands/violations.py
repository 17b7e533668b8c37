"""``discretion violations``: the violation types in force on a day, found by keyword or article."""

from __future__ import annotations

import argparse
from typing import Any

from discretion.engine.catalog import grouped, violations_on

from ..clock import today
from ._common import date_arg, load_engine, print_json


def cmd_violations(args: argparse.Namespace) -> int:
    engine = load_engine(args)
    items = violations_on(engine.compiled, args.on, args.q, args.jurisdiction)
    if args.format == "json":
        print_json({"items": items})
        return 0
    for _, label, members in grouped(items):
        print(f"【{label}】")
        for v in members:
            if v["not_encoded"]:
                basis = "处罚规定见" + "".join(f"《{law}》" for law in v["not_encoded"]) + "，尚未收录其条文"
            else:
                basis = "、".join(b["citation"] for b in v["penalty_basis"]) or "（该日无适用罚则）"
            print(f"{v['code']}\t{v['title']}\t{basis}")
    print(f"共 {len(items)} 类")
    return 0


def register(sub: Any) -> None:
    v = sub.add_parser("violations", help="列出某日适用的违法行为")
    v.add_argument("--on", type=date_arg, default=today())
    v.add_argument("--q", help="关键词或条文，如“水污染防治法 83”")
    v.add_argument("--jurisdiction", default="yunnan")
    v.add_argument("--format", choices=["text", "json"], default="text")
    v.set_defaults(func=cmd_violations)
