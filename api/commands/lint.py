"""``discretion rulebooks lint [PATH]``: the legal reviewer's checks on a rulebook tree."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from discretion.errors import NotFoundError
from discretion.review import lint


def _tree_of(path: Path) -> Path | None:
    """The rulebook tree holding a file: the nearest folder above it with ``law/law.yaml``."""
    for folder in path.resolve().parents:
        if (folder / "law" / "law.yaml").is_file():
            return folder
    return None


def _target(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """The tree to lint and, when PATH is one file of it, that file (as findings name it)."""
    given = args.path or getattr(args, "rulebooks", None)
    if not given:
        return None, None
    path = Path(given)
    if path.is_dir():
        return path, None
    if path.is_file():
        root = _tree_of(path)
        if root is None:
            raise NotFoundError(message=f"{path} 不在规则集目录中（其上级目录都没有 law/law.yaml）", field="path")
        return root, str(path.resolve().relative_to(root.resolve().parent))
    raise NotFoundError(message=f"路径不存在：{path}", field="path")


def summary(findings: list[lint.Finding]) -> str:
    n_err, n_warn = len(lint.errors(findings)), len(lint.warnings(findings))
    if not findings:
        return "规则集检查通过：没有错误或警告。"
    return f"共 {n_err} 个错误、{n_warn} 个警告。"


def cmd_lint(args: argparse.Namespace) -> int:
    root, only = _target(args)
    findings = lint.lint(root)
    if only is not None:
        findings = [f for f in findings if f.file == only]
    if args.format == "json":
        out: dict[str, Any] = {
            "findings": [f.to_dict() for f in findings],
            "errors": len(lint.errors(findings)),
            "warnings": len(lint.warnings(findings)),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(str(f))
        print(summary(findings))
    return 1 if lint.errors(findings) else 0


def register(sub: Any, rulebooks: Any) -> None:
    p = rulebooks.add_parser(
        "lint",
        help="法制审核检查：超出法定幅度、等级空档或重叠、永不适用或不应同时适用的规则、重复编号、缺少依据、版本期间、下级放宽上级",
        description="逐项列出 文件:行: 级别 [检查项] 规则编号: 说明；有错误时退出码为 1（只有警告时为 0）。",
    )
    p.add_argument("path", nargs="?", help="规则集目录，或其中的一个文件（只列该文件的问题）；默认为 --rulebooks 或内置规则集")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_lint)
