"""``discretion serve``: the JSON API and the web pages (uvicorn; see :mod:`api.server`)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from ._common import rulebooks_root


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


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from ..server import serve

    if args.auth:
        os.environ["DISCRETION_AUTH"] = "1"
    return serve(args.host, args.port, args.workers, rulebooks_root(args))


def register(sub: Any) -> None:
    s = sub.add_parser("serve", help="启动服务")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_within(1, 65535, "端口"), default=8000)
    s.add_argument("--workers", type=_within(1, 64, "工作进程数"), default=1, help="工作进程数（1–64）")
    s.add_argument("--auth", action="store_true", help="要求 API 令牌和网页登录（在非本机地址上提供服务时必须）")
    s.set_defaults(func=cmd_serve)
