"""``discretion replay CASES --from A --to B``: impact replay of a case file under two editions.

Exit codes: 0 when the replay ran, even if some rows were bad (each bad row is reported on
stderr with its row number and column, skipped, counted in the summary and listed in the results
file); 2 with ``--strict`` when any row was bad, and 2 when no row at all could be assessed or the
file cannot be read; 1 for broken rulebooks (as every command).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any, TextIO

from discretion.errors import DiscretionError, InputError
from discretion.review import casefile
from discretion.review import replay as rp
from discretion.rulebooks import tree

MAX_SHOWN_ERRORS = 20


def register(sub: Any, rulebooks: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="影响回放：在两个裁量基准版本下重算案件并比较",
        description="在两个裁量基准版本下重算案件文件中的每个案件，逐案报告结果、建议罚款、档次的变化及其原因规则，"
        "并按违法行为类型汇总。案件文件格式见 docs/rulebooks.md 的 Replay 一节。",
    )
    p.add_argument("cases", help="案件文件：.jsonl、.csv 或 .xlsx（API 的 assessment 输入格式）")
    p.add_argument("--from", dest="from_edition", required=True, metavar="版本", help="原版本，如 yunnan@2023")
    p.add_argument("--to", dest="to_edition", required=True, metavar="版本", help="新版本，如 yunnan@2026-draft（可以是草案）")
    p.add_argument("--out", help="逐案结果文件：.csv、.xlsx 或 .jsonl")
    p.add_argument("--chart", help="图表文件：.svg 或 .png")
    p.add_argument("--workers", type=int, default=None, help="进程数（默认为可用的 CPU 核数）")
    p.add_argument("--format", choices=["text", "json"], default="text", help="汇总的输出格式")
    p.add_argument("--progress", action="store_true", help="即使标准错误不是终端也显示进度")
    p.add_argument("--strict", action="store_true", help="有无法读取或计算的行时以退出码 2 结束")
    p.add_argument("--matcher", choices=["durable", "reference"], default="durable",
                   help="规则匹配：durable（与服务相同，默认）或 reference（纯 Python 参照实现，结果相同，CPU 约少 17%%）")
    p.set_defaults(func=cmd_replay)


class ProgressLine:
    """A one-line progress bar on a terminal (rewritten in place), with rate and time left."""

    def __init__(self, stream: TextIO, every: float = 0.2) -> None:
        self.stream = stream
        self.every = every
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.t0, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        width = 24
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r回放 [{bar}] {done:,}/{total:,} 行（{100 * done // max(total, 1)}%），{rate:,.0f} 行/秒，约剩 {left:.0f} 秒 "
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def _edition_line(info: dict[str, Any]) -> str:
    status = "已发布" if info["status"] == "published" else f"未发布（{info['status']}），结果仅供审查参考"
    return f"{info['key']}《{info['title']}》，{status}"


def summary_text(s: rp.Summary) -> str:
    """The summary as Chinese text with a table by violation type."""
    lines = [
        "影响回放",
        f"  原版本：{_edition_line(s.from_edition)}",
        f"  新版本：{_edition_line(s.to_edition)}",
        f"案件 {s.rows:,} 行：已计算 {s.assessed:,} 行，有变化 {s.total.changed:,} 行"
        + (f"（{100 * s.total.changed / s.assessed:.1f}%）" if s.assessed else "")
        + f"；新增不予处罚 {s.total.newly_waived:,}，新增罚款 {s.total.newly_fined:,}；无法读取或计算 {s.invalid:,} 行（已跳过）",
        f"用时 {s.seconds:.1f} 秒，{s.rate:,.0f} 行/秒，{s.workers} 个进程",
        "",
    ]
    head = ["违法行为代码", "案件", "有变化", "上调", "下调", "档次", "新增不罚", "新增罚款", "仅一版可算", "变化中位数", "最大变化", "主要原因"]
    rows = []
    for st in [*s.ordered(), s.total]:
        top = st.top_cause()
        rows.append(
            [
                st.code if st.code != "*" else "合计",
                f"{st.cases:,}",
                f"{st.changed:,}",
                f"{st.up:,}",
                f"{st.down:,}",
                f"{st.band:,}",
                f"{st.newly_waived:,}",
                f"{st.newly_fined:,}",
                f"{st.errors:,}",
                rp.yuan_change(st.median),
                rp.yuan_change(st.max_change),
                f"{top[0]}（{top[1]:,}件）" if top else "",
            ]
        )
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    for r in [head, *rows]:
        cells = [_pad(r[0], widths[0])] + [_pad(c, w, right=True) for c, w in zip(r[1:-1], widths[1:])] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append("变化中位数、最大变化：建议罚款有变化的案件中，新版本减原版本的中位数（偶数个时取较小者）与绝对值最大者；"
                 "主要原因：各案第一位原因中最常见的一项。")
    return "\n".join(lines)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse bad output names before the run, not after it."""
    if args.out:
        casefile.format_of(args.out)
    if args.chart and Path(args.chart).suffix.lower() not in (".svg", ".png"):
        raise InputError(message=f"图表文件须为 .svg 或 .png：{args.chart}", code="unsupported_format", field="chart")
    if args.workers is not None and args.workers < 1:
        raise InputError(message="--workers 须为正整数", field="workers")


def _write(path: str, what: str, write: Any) -> None:
    try:
        write()
    except OSError as exc:
        raise DiscretionError(message=f"无法写入{what} {path}：{exc.strerror or exc}", code="unwritable_file", field=what) from None


def cmd_replay(args: argparse.Namespace) -> int:
    _check_outputs(args)
    rs = tree.load(Path(args.rulebooks) if args.rulebooks else None)
    rp.check_editions(rs, args.from_edition, args.to_edition)
    cases = casefile.read(args.cases)
    show = args.progress or sys.stderr.isatty()
    workers = args.workers or rp.default_workers()
    results, summary = rp.run(
        rs,
        cases,
        args.from_edition,
        args.to_edition,
        workers=workers,
        matcher=args.matcher,
        progress=ProgressLine(sys.stderr) if show else None,
    )
    if args.format == "json":
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(summary_text(summary))
    bad = [r.error for r in results if r.status == "invalid" and r.error is not None]
    for err in bad[:MAX_SHOWN_ERRORS]:
        print(f"警告：{err}", file=sys.stderr)
    if len(bad) > MAX_SHOWN_ERRORS:
        print(f"警告：另有 {len(bad) - MAX_SHOWN_ERRORS} 行无法读取或计算" + ("（见结果文件）" if args.out else ""), file=sys.stderr)
    if bad:
        print(f"警告：共 {len(bad)} 行无法读取或计算，已跳过", file=sys.stderr)
    if args.out:
        fmt = casefile.format_of(args.out)

        def write_out() -> None:
            rows = (rp.labelled(r.row_dict()) if fmt == "xlsx" else r.row_dict() for r in results)
            extra = [("汇总", rp.SUMMARY_COLUMNS, summary.table())] if fmt == "xlsx" else []
            casefile.write_table(args.out, rp.RESULT_COLUMNS, rows, fmt=fmt, sheet="逐案结果", extra=extra)

        _write(args.out, "结果文件", write_out)
        print(f"逐案结果：{args.out}（{len(results):,} 行）", file=sys.stderr if args.format == "json" else sys.stdout)
    if args.chart:
        from discretion.review import chart

        _write(args.chart, "图表", lambda: chart.save(summary, args.chart))
        print(f"图表：{args.chart}", file=sys.stderr if args.format == "json" else sys.stdout)
    if summary.assessed == 0:
        print("错误：no_cases：没有一行可以计算", file=sys.stderr)
        return 2
    if args.strict and bad:
        return 2
    return 0


__all__ = ["ProgressLine", "cmd_replay", "register", "summary_text"]
