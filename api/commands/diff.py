"""``discretion rulebooks diff A B``: what changes from edition A to edition B, for the legal review."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from discretion.review import diff
from discretion.rulebooks import tree


def cmd_diff(args: argparse.Namespace) -> int:
    rs = tree.load(Path(args.rulebooks) if args.rulebooks else None)
    d = diff.compare(args.a, args.b, rs, args.regime)
    if args.format == "json":
        print(json.dumps(d.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(diff.render_text(d))
    return 0


def register(sub: Any, rulebooks: Any) -> None:
    p = rulebooks.add_parser(
        "diff",
        help="比较两个裁量基准版本（逐类违法行为，附两版的法律依据原文）",
        description="A、B 为版本编号（如 yunnan@2023、yunnan@2026-draft）或版本文件路径（连同其所在规则集目录一起读取）。",
    )
    p.add_argument("a", metavar="A", help="原版本：版本编号或 YAML 文件路径")
    p.add_argument("b", metavar="B", help="新版本：版本编号或 YAML 文件路径")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--regime", choices=["pre2026", "code2026"],
                   help="两版都按此法律体系比较（默认：各按其施行日期适用的法律）")
    p.set_defaults(func=cmd_diff)
