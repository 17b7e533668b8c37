"""``discretion analytics synth|purge|rebuild|check``: the consistency analytics' table of decided
cases (``decided_cases``, api/storage/decided.py).

- ``synth --n N --seed S``: N synthetic decided cases (marked ``synthetic``, references
  ``SYN-<seed>-<n>``), drawn from synthetic cases the engine assesses (real statutory ranges, bands
  and features) and decided by 40 synthetic handlers with their habits; for demos, tests and the
  benchmark. Never on the chain; the analytics leave them out unless asked (``data=synthetic``).
- ``purge``: delete every synthetic row.
- ``rebuild``: derive every real row again from the chain (after mending a gap ``check`` found).
- ``check``: compare every real row with what the chain gives; exit 1 on a difference.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from ._common import DATABASE_URL_HELP

MAX_N = 5_000_000
POOL = 5_000  # synthetic cases assessed to draw the decided cases from


def register(sub: Any, rulebooks: Any) -> None:
    p = sub.add_parser("analytics", help="裁量一致性统计（同案同罚）：合成数据、重建与核对统计表")
    subs = p.add_subparsers(dest="analytics_command", required=True)
    s = subs.add_parser("synth", help="写入合成的已决定案件（非真实案件，标注 synthetic），用于演示、测试和基准测试",
                        description="由引擎计算合成案例（真实的法定幅度、建议档次和裁量因子），再按 40 名合成承办人的决定习惯"
                                    "（多数相近，少数偏低、偏高或常在档次外）生成决定数额及理由，写入统计表。合成数据不进入哈希链，"
                                    "统计默认不计入（data=synthetic 或 all 时计入）。同一种子生成相同的数据。")
    s.add_argument("--n", type=int, default=10_000, help="件数（默认 10,000）")
    s.add_argument("--seed", type=int, default=20260815, help="随机种子（默认 20260815）")
    s.add_argument("--pool", type=int, default=None, help=f"先计算的合成案例数（默认 --n 与 {POOL:,} 中较小者）")
    s.add_argument("--database-url", help=DATABASE_URL_HELP)
    s.set_defaults(func=cmd_synth)
    d = subs.add_parser("purge", help="删除全部合成数据（真实案件的统计行不受影响）")
    d.add_argument("--database-url", help=DATABASE_URL_HELP)
    d.set_defaults(func=cmd_purge)
    r = subs.add_parser("rebuild", help="由哈希链上的计算记录和决定记录重新生成真实案件的统计行")
    r.add_argument("--database-url", help=DATABASE_URL_HELP)
    r.set_defaults(func=cmd_rebuild)
    c = subs.add_parser("check", help="核对真实案件的统计行与哈希链上的记录是否一致（不一致时退出码为 1）")
    c.add_argument("--database-url", help=DATABASE_URL_HELP)
    c.set_defaults(func=cmd_check)


def _engine(args: argparse.Namespace) -> Any:
    """The records' database, migrated to the newest schema."""
    from ..settings import database_url
    from ..storage import make_engine
    from ..storage.migrations import upgrade

    engine = make_engine(database_url(args.database_url))
    upgrade(engine)
    return engine


@contextlib.contextmanager
def _chain_locked(engine: Any) -> Iterator[Any]:
    """A transaction holding the chain's lock (the writer's: no decision is chained meanwhile)."""
    from sqlalchemy import text

    from ..storage.database import CHAIN_LOCK, file_lock, lock_path

    with file_lock(lock_path(engine)), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
        yield conn


def cmd_synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sqlalchemy import func, select

    from discretion.errors import ConflictError, InputError

    from ..clock import today
    from discretion.rulebooks import tree

    from ..storage.decided import insert_rows, synthetic_rows, synthetic_templates
    from ..storage.schema import decided_cases

    if not 1 <= args.n <= MAX_N:
        raise InputError(message=f"--n 须在 1 至 {MAX_N:,} 之间", field="n")
    pool = args.pool or min(args.n, POOL)
    if not 1 <= pool <= 100_000:
        raise InputError(message="--pool 须在 1 至 100,000 之间", field="pool")
    started = time.monotonic()
    engine = _engine(args)
    try:
        prefix = f"SYN-{args.seed}-"
        with engine.connect() as conn:
            there = conn.execute(select(func.count()).select_from(decided_cases)
                                 .where(decided_cases.c.ref.startswith(prefix, autoescape=True))).scalar_one()
        if there:
            raise ConflictError(message=f"种子 {args.seed} 的合成数据已有 {there:,} 件；请先 discretion analytics purge，或换一个种子",
                                code="synthetic_exists", field="seed")
        drawn = synthetic_templates(tree.load(Path(args.rulebooks) if args.rulebooks else None), pool, args.seed, today())

        def progress(n: int) -> None:
            if n % 100_000 == 0:
                print(f"已写入 {n:,} 件……", file=sys.stderr, flush=True)

        with engine.begin() as conn:
            n = insert_rows(conn, synthetic_rows(drawn, args.n, args.seed, today()), progress)
            conn.exec_driver_sql("ANALYZE decided_cases")  # the planner's statistics, after a bulk insert
    finally:
        engine.dispose()
    print(f"已写入 {n:,} 件合成的已决定案件（非真实案件，种子 {args.seed}，由 {len(drawn):,} 个合成案例生成，"
          f"用时 {time.monotonic() - started:.0f} 秒）；统计默认不计入，查看请加 data=synthetic")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from sqlalchemy import delete

    from ..storage.schema import decided_cases

    engine = _engine(args)
    try:
        with engine.begin() as conn:
            n = conn.execute(delete(decided_cases).where(decided_cases.c.synthetic.is_(True))).rowcount
    finally:
        engine.dispose()
    print(f"已删除 {n:,} 件合成数据")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from ..storage.decided import rebuild

    engine = _engine(args)
    try:
        with _chain_locked(engine) as conn:
            n = rebuild(conn)
    finally:
        engine.dispose()
    print(f"已由哈希链重新生成 {n:,} 件已决定案件的统计行")
    return 0


PROBLEMS = {"missing": "统计表中缺少", "extra": "统计表中多出（链上没有其决定）", "altered": "统计行与链上记录不符"}


def cmd_check(args: argparse.Namespace) -> int:
    from ..storage.decided import check

    engine = _engine(args)
    try:
        n, differences = check(engine)
    finally:
        engine.dispose()
    if not differences:
        print(f"统计表与哈希链一致：{n:,} 件已决定案件")
        return 0
    for d in differences[:200]:
        cols = f"（{'、'.join(d.columns)}）" if d.columns else ""
        print(f"{PROBLEMS[d.problem]}：{d.ref}{cols}")
    print(f"统计表与哈希链不一致：{len(differences):,} 处（链上 {n:,} 件已决定案件）；可运行 discretion analytics rebuild 重新生成")
    return 1
