"""``discretion serve``: uvicorn (uvloop, httptools) on embedded defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from discretion import rulebook
from discretion.errors import RulebookError


def serve(host: str, port: int, workers: int, rulebooks: Path | None) -> int:
    import uvicorn

    if rulebooks is not None:
        os.environ["DISCRETION_RULEBOOKS"] = str(rulebooks)
    # Load and compile in this process first, so a broken set stops start-up with file:line.
    # With one worker this process serves the app it built; with several, each worker builds its own.
    try:
        if workers > 1:
            rs = rulebook.load(rulebooks)
            target: Any = "api.main:create_app"
        else:
            from api.main import create_app

            target = create_app()
            rs = target.state.discretion.rulebooks
    except RulebookError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        print(f"启动失败：{exc.message}", file=sys.stderr)
        return 1
    print(f"discretion：{len(rs.violations)} 类违法行为，{len(rs.editions)} 个裁量基准版本；http://{host}:{port}/", file=sys.stderr)
    uvicorn.run(
        target,
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
    return 0
