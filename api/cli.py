"""The ``discretion`` command line: the same library calls as the JSON API and the web form."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import TypeAdapter, ValidationError

from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.catalog import violations_on
from discretion.engine.daily import daily_penalty
from discretion.engine.money import yuan_text
from discretion.errors import DiscretionError, RulebookError
from discretion.review import golden
from discretion.rulebooks import tree
from discretion.rulebooks.models import BenchmarkEdition, LawEdition, Violation

from . import commands


def _root(args: argparse.Namespace) -> Path | None:
    return Path(args.rulebooks) if getattr(args, "rulebooks", None) else None


def _engine(args: argparse.Namespace) -> Engine:
    return Engine(tree.load(_root(args)), getattr(args, "matcher", "durable"))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期须为 YYYY-MM-DD：{text}") from None


def _within(lo: int, hi: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer from ``lo`` to ``hi`` (argparse exits 2 with the message)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}须为整数：{text}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{what}须在 {lo} 至 {hi} 之间：{text}")
        return n

    return parse


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes", "是"):
        return True
    if low in ("false", "no", "否"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        d = Decimal(text)
        if d.is_finite():
            return d
    except InvalidOperation:
        pass
    return text


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- commands ------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from discretion.review import lint

    rs = tree.load(_root(args))
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
    _print_json(schema)
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    engine = _engine(args)
    cases = golden.load_cases(_root(args))
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


def _case_from_args(args: argparse.Namespace) -> Case:
    if args.input:
        raw = json.loads(Path(args.input).read_text(encoding="utf-8"), parse_float=Decimal)
        return Case.model_validate(raw)
    if not args.violation or not args.violation_date:
        raise DiscretionError(message="须给出 --violation 和 --violation-date，或者 --input 文件", code="invalid_input")
    facts: dict[str, Any] = {}
    for item in args.fact or []:
        if "=" not in item:
            raise DiscretionError(message=f"事实须写成 名称=值：{item}", code="invalid_input", field="fact")
        k, v = item.split("=", 1)
        facts[k.strip()] = _value(v.strip())
    data: dict[str, Any] = {
        "violation": args.violation,
        "jurisdiction": args.jurisdiction,
        "party": args.party,
        "facts": facts,
        "circumstances": args.circumstance or [],
        "violation_date": args.violation_date,
        "violation_end_date": args.end_date,
        "discovered_date": args.discovered_date,
        "decision_date": args.decision_date or dt.date.today(),
        "edition": args.edition,
    }
    return Case.model_validate(data)


def cmd_assess(args: argparse.Namespace) -> int:
    engine = _engine(args)
    case = _case_from_args(args)
    a = engine.assess(case)
    if args.format == "json":
        _print_json(a.to_dict())
        return 0
    d = a.to_dict()
    outcome = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限，不再处罚"}[a.outcome]
    print(f"违法行为：{a.title}（{case.violation}）")
    print(f"处理结果：{outcome}")
    print(f"适用法律：{d['law']['regime_title']}；依据：{'、'.join(b['citation'] for b in d['law']['basis']) or '—'}")
    if d["fine"]:
        f = d["fine"]
        mx = "不设上限" if f["legal_max"] is None else yuan_text(f["legal_max"])
        print(f"法定幅度：{yuan_text(f['legal_min'])} 至 {mx}")
        print(f"裁量档次：{yuan_text(f['band'][0])} 至 {yuan_text(f['band'][1])}")
        print(f"建议罚款：{yuan_text(f['recommended'])}")
    for ind in d["individual_fines"]:
        rec = "—" if ind["recommended"] is None else yuan_text(ind["recommended"])
        print(f"对个人罚款：{ind['role']}，建议 {rec}")
    if d["measures"]:
        print("措施：" + "；".join(m["text"] for m in d["measures"]))
    if d["flags"]:
        print("提示：" + "；".join(fl["label"] for fl in d["flags"]))
    print(f"裁量基准：{d['rulebook']['title']}（{d['rulebook']['key']}，sha256 {d['rulebook']['sha256'][:12]}…）")
    print()
    print("计算过程：")
    for i, s in enumerate(a.trail, 1):
        basis = f"（{'、'.join(s.basis)}）" if s.basis else ""
        print(f"  {i}. {s.text}{basis}")
    print()
    print("说理：")
    print(a.reasoning)
    return 0


def cmd_violations(args: argparse.Namespace) -> int:
    engine = _engine(args)
    items = violations_on(engine.compiled, args.on, args.q, args.jurisdiction)
    if args.format == "json":
        _print_json({"items": items})
        return 0
    for v in items:
        basis = "、".join(b["citation"] for b in v["penalty_basis"]) or "（该日无适用罚则）"
        print(f"{v['code']}\t{v['title']}\t{basis}")
    print(f"共 {len(items)} 类")
    return 0


def cmd_daily(args: argparse.Namespace) -> int:
    rs = tree.load(_root(args))
    r = daily_penalty(rs.law, args.fine, args.served, args.reinspection)
    if args.format == "json":
        _print_json(r.to_dict())
    else:
        print(r.text)
        print("依据：" + "、".join(r.basis))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from api.server import serve

    if args.auth:
        os.environ["DISCRETION_AUTH"] = "1"
    return serve(args.host, args.port, args.workers, _root(args))


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="discretion", description="生态环境行政处罚裁量计算（云南）")
    parser.add_argument("--rulebooks", help="规则集目录（默认为内置规则集）")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("assess", help="计算一个案件的处罚")
    a.add_argument("--input", help="案件 JSON 文件（API 的 assessment 输入格式）")
    a.add_argument("--violation", help="违法行为代码，见 discretion violations")
    a.add_argument("--fact", action="append", metavar="名称=值", help="事实，可多次给出")
    a.add_argument("--circumstance", action="append", metavar="情节", help="情节，可多次给出")
    a.add_argument("--violation-date", type=_date)
    a.add_argument("--end-date", type=_date, help="连续或继续状态的违法行为终了日期")
    a.add_argument("--discovered-date", type=_date)
    a.add_argument("--decision-date", type=_date, help="默认为今天")
    a.add_argument("--jurisdiction", default="yunnan")
    a.add_argument("--party", choices=["unit", "individual"], default="unit")
    a.add_argument("--edition", help="指定裁量基准版本（如 yunnan@2026-draft，用于审查草案）")
    a.add_argument("--format", choices=["text", "json"], default="text")
    a.add_argument("--matcher", choices=["durable", "reference"], default="durable")
    a.set_defaults(func=cmd_assess)

    v = sub.add_parser("violations", help="列出某日适用的违法行为")
    v.add_argument("--on", type=_date, default=dt.date.today())
    v.add_argument("--q", help="关键词或条文，如“水污染防治法 83”")
    v.add_argument("--jurisdiction", default="yunnan")
    v.add_argument("--format", choices=["text", "json"], default="text")
    v.set_defaults(func=cmd_violations)

    d = sub.add_parser("daily-penalty", help="按日连续处罚计算")
    d.add_argument("--fine", type=int, required=True, help="原罚款数额（元）")
    d.add_argument("--served", type=_date, required=True, help="责令改正决定书送达日期")
    d.add_argument("--reinspection", type=_date, required=True, help="复查发现违法行为的日期")
    d.add_argument("--format", choices=["text", "json"], default="text")
    d.set_defaults(func=cmd_daily)

    s = sub.add_parser("serve", help="启动服务")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_within(1, 65535, "端口"), default=8000)
    s.add_argument("--workers", type=_within(1, 64, "工作进程数"), default=1, help="工作进程数（1–64）")
    s.add_argument("--auth", action="store_true", help="要求 API 令牌和网页登录（在非本机地址上提供服务时必须）")
    s.set_defaults(func=cmd_serve)

    rb = sub.add_parser("rulebooks", help="规则集")
    rbs = rb.add_subparsers(dest="rb_command", required=True)
    rbs.add_parser("check", help="校验全部规则集（出错时给出 文件:行）").set_defaults(func=cmd_check)
    rbs.add_parser("schema", help="输出规则集的 JSON Schema").set_defaults(func=cmd_schema)
    t = rbs.add_parser("test", help="运行全部黄金案例")
    t.add_argument("--matcher", choices=["durable", "reference"], default="durable")
    t.add_argument("-v", "--verbose", action="store_true", help="逐个列出每个案例（案例名称及其结果）")
    t.set_defaults(func=cmd_test)
    commands.register_all(sub, rbs)
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
        where = f"（{exc.field}）" if exc.field else ""
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
