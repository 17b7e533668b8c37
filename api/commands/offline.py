"""``discretion offline build --out DIR`` and ``discretion offline check DIR [--cases N]``: the offline
terminal's bundle (api/offline/), and the proof that it answers, byte for byte, as the service's engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import rulebooks_root


def register(sub: Any, rulebooks: Any) -> None:
    p = sub.add_parser("offline", help="离线终端：构建离线包、检验离线计算与服务端一致")
    cs = p.add_subparsers(dest="offline_command", required=True)
    b = cs.add_parser(
        "build", help="构建离线包（静态文件：Pyodide、wheel、编译成 JSON 的规则集、离线页面和离线缓存）",
        description="用 npm 和 pip 下载固定版本并核对校验值（offline/package-lock.json、offline/requirements.txt），"
                    "构建可在无网络时计算的静态文件包。下载内容缓存在 --cache 目录。")
    b.add_argument("--out", required=True, help="输出目录（不存在，或为之前构建的离线包：整体替换）")
    b.add_argument("--cache", help="下载缓存目录（默认为用户缓存目录下的 discretion/offline，或 DISCRETION_OFFLINE_CACHE）")
    b.set_defaults(func=cmd_build)
    c = cs.add_parser(
        "check", help="在 Node 中用离线包计算合成案例和黄金案例，与服务端引擎逐字节比较（有差异时退出码为 1）",
        description="生成 N 个合成案例（全部违法行为类型、新旧法律、从旧兼从轻、免罚情形），加上规则集中的黄金案例，"
                    "分别由离线包（Node 中的 Pyodide，无网络）和服务端引擎计算，逐字节比较结果。")
    c.add_argument("dir", help="离线包目录（discretion offline build 的输出）")
    c.add_argument("--cases", type=int, default=1000, help="合成案例数（默认 1000）")
    c.add_argument("--seed", type=int, default=18, help="合成案例的随机种子（默认 18）")
    c.set_defaults(func=cmd_check)


def cmd_build(args: argparse.Namespace) -> int:
    from ..offline.build import build

    built = build(Path(args.out), root=rulebooks_root(args), cache=Path(args.cache) if args.cache else None,
                  log=lambda line: print(line, file=sys.stderr))
    print(f"离线包：{built.out}（{len(built.files)} 个文件，{built.bytes / 1e6:.1f} MB，gzip 压缩后传输 {built.gzip_bytes / 1e6:.1f} MB，"
          f"用时 {built.seconds:.1f} 秒）")
    print(f"规则集哈希（bundle_hash）：{built.bundle_hash}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ..offline.check import check, report

    result = check(Path(args.dir), cases=args.cases, seed=args.seed, root=rulebooks_root(args),
                   log=lambda line: print(line, file=sys.stderr))
    print(report(result))
    return 0 if result.identical == result.total else 1
