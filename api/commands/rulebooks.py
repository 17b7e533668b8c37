"""``discretion rulebooks check``, ``schema`` and ``test``: the group the reviewers' rulebook
commands (``lint``, ``diff``, ``approve``, ``publish``) join."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import TypeAdapter

from discretion.review import golden
from discretion.rulebooks import tree
from discretion.rulebooks.models import BenchmarkEdition, LawEdition, Violation

from ._common import load_engine, print_json, rulebooks_root


def cmd_check(args: argparse.Namespace) -> int:
    from discretion.review import lint

    rs = tree.load(rulebooks_root(args))
    findings = lint.lint(rs.root, loaded=rs)  # the lint checks too; errors fail the check
    for f in findings:
        print(str(f))
    if lint.errors(findings):
        print(f"规则集可以加载，但检查发现 {len(lint.errors(findings))} 个错误、{len(lint.warnings(findings))} 个警告（discretion rulebooks lint）。")
        return 1
    print(f"规则集有效：{len(rs.violations)} 类违法行为，{len(rs.editions)} 个裁量基准版本（law {rs.law.edition}）"
          + (f"；{len(findings)} 个警告。" if findings else "。"))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from typing import Union

    adapter: TypeAdapter[Any] = TypeAdapter(Union[LawEdition, Violation, BenchmarkEdition])
    schema = adapter.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "discretion rulebook"
    schema["description"] = "rulebooks/law/law.yaml (LawEdition), rulebooks/law/violations/*.yaml (Violation), rulebooks/<jurisdiction>/*.yaml (BenchmarkEdition)"
    print_json(schema)
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    engine = load_engine(args)
    cases = golden.load_cases(rulebooks_root(args))
    failed = 0
    for lc in cases:
        diffs = golden.run(engine, lc)
        if args.verbose:  # every case: its result, its sentence and where it is written
            print(f"[{'失败 failed' if diffs else '通过 passed'}] {lc.name}（{lc.file}:{lc.line}）")
        if diffs:
            failed += 1
            print(golden.report(lc, diffs))  # the report shows the trail of the assessment run() made
            print()
    passed = len(cases) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from pathlib import Path

    from discretion.review import coverage

    rs = tree.load(rulebooks_root(args))
    if args.format == "json":
        print_json({"articles": [
            {"article": r.article, "group": r.group, "types": [{"code": c, "title": t, "before_code": r.before[c]} for c, t in r.types]}
            for r in coverage.rows(rs)
        ]})
        return 0
    table = coverage.markdown(rs)
    if not args.update:
        print(table)
        return 0
    for name in args.update:
        path = Path(name)
        try:
            path.write_text(coverage.replace(path.read_text(encoding="utf-8"), table), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"{name}: 无法更新覆盖表：{exc}")
            return 1
        print(f"已更新 {name} 的覆盖表")
    return 0


def register(sub: Any) -> Any:
    """Add ``discretion rulebooks`` with check, schema and test; returns its sub-commands, for the other groups."""
    rb = sub.add_parser("rulebooks", help="规则集")
    rbs = rb.add_subparsers(dest="rb_command", required=True)
    rbs.add_parser("check", help="校验全部规则集（出错时给出 文件:行）").set_defaults(func=cmd_check)
    rbs.add_parser("schema", help="输出规则集的 JSON Schema").set_defaults(func=cmd_schema)
    t = rbs.add_parser("test", help="运行全部黄金案例")
    t.add_argument("--matcher", choices=["durable", "reference"], default="durable")
    t.add_argument("-v", "--verbose", action="store_true", help="逐个列出每个案例（案例名称及其结果）")
    t.set_defaults(func=cmd_test)
    c = rbs.add_parser("coverage", help="覆盖表：法典条文 → 违法行为 → 2026年8月15日前的规定")
    c.add_argument("--format", choices=["markdown", "json"], default="markdown")
    c.add_argument("--update", nargs="+", metavar="FILE", help="改写文件中覆盖表标记之间的内容（如 README.md docs/rulebooks.md）")
    c.set_defaults(func=cmd_coverage)
    return rbs
