"""``discretion serve``: uvicorn (uvloop, httptools) on embedded defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from discretion import rulebook
from discretion.errors import RulebookError


def serve(host: str, port: int, workers: int, rulebooks: Path | None) -> int:
    import uvicorn

    # Check the rulebooks once in the parent so a broken set stops start-up with file:line.
    try:
        rs = rulebook.load(rulebooks)
    except RulebookError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        print(f"启动失败：{exc.message}", file=sys.stderr)
        return 1
    if rulebooks is not None:
        os.environ["DISCRETION_RULEBOOKS"] = str(rulebooks)
    print(f"discretion：{len(rs.violations)} 类违法行为，{len(rs.editions)} 个裁量基准版本；http://{host}:{port}/", file=sys.stderr)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0
