"""``discretion cases synth --n N --seed S [--today DAY] [--out FILE]``: synthetic cases for demos, tests and benchmarks.

The cases are realistic but not real (see :mod:`discretion.review.synth`): every row carries
``source = synthetic`` and a reference ``SYN-<seed>-<n>``; an XLSX file also says so in its
properties. Without ``--out`` the cases go to standard output as JSONL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from discretion.engine.assessment import Engine
from discretion.errors import DiscretionError, InputError
from discretion.review import casefile, synth
from discretion.rulebooks import tree

from ..clock import today
from ._common import date_arg

MAX_N = 1_000_000


def register(sub: Any, rulebooks: Any) -> None:
    p = sub.add_parser("cases", help="案件文件：生成合成案例")
    cs = p.add_subparsers(dest="cases_command", required=True)
    s = cs.add_parser(
        "synth",
        help="生成合成案例（非真实案件），用于演示、测试和基准测试",
        description="按常见违法行为的比例、事实分布和情节频率生成可以计算的合成案例，违法行为日期分布在"
        "2026-08-15（《生态环境法典》施行）前后。每行标注 source=synthetic。同一种子和 --today 生成相同的案例。",
    )
    s.add_argument("--n", type=int, default=1000, help="案例数（默认 1000）")
    s.add_argument("--seed", type=int, default=synth.SEED, help=f"随机种子（默认 {synth.SEED}）")
    s.add_argument("--out", help="输出文件：.jsonl、.csv 或 .xlsx（默认以 JSONL 写到标准输出）")
    s.add_argument("--today", type=date_arg, default=None,
                   help="案例日期的截止日 YYYY-MM-DD（默认为北京时间今天；不得晚于今天）：固定它，同一种子在哪天都生成相同的案例")
    s.set_defaults(func=cmd_synth)


def cmd_synth(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= MAX_N:
        raise InputError(message=f"--n 须在 1 至 {MAX_N:,} 之间", field="n")
    last = args.today or today()
    if last > today():
        raise InputError(message=f"--today 不得晚于今天（{today().isoformat()}）：合成案例的违法行为不能发生在将来", field="today")
    fmt = casefile.format_of(args.out) if args.out else "jsonl"
    rs = tree.load(Path(args.rulebooks) if args.rulebooks else None)
    engine = Engine(rs, "reference")  # validity only: the plain evaluator needs no engine registration
    cases = synth.generate_valid(engine, args.n, args.seed, today=last)  # no act after that day (Beijing time)
    items = list(synth.entries(cases, args.seed))
    if not args.out:
        casefile.write_cases_jsonl(sys.stdout.buffer, items)
        sys.stdout.flush()
        return 0
    note = f"合成案例（非真实案件），discretion cases synth --n {args.n} --seed {args.seed} 生成"
    try:
        casefile.write_cases(args.out, items, fmt=fmt, note=note)
    except OSError as exc:
        raise DiscretionError(message=f"无法写入 {args.out}：{exc.strerror or exc}", code="unwritable_file", field="out") from None
    d = synth.describe(cases)
    print(
        f"已生成 {len(cases):,} 个合成案例（种子 {args.seed}）：{args.out}；{d['violation_types']} 类违法行为，"
        f"违法行为终了于 2026-08-15 前 {len(cases) - d['act_on_or_after_2026_08_15']:,} 件、之后 {d['act_on_or_after_2026_08_15']:,} 件，"
        f"其中 {d['lighter_law_comparisons']:,} 件需比较新旧法律"
    )
    return 0
