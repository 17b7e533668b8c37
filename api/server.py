"""``discretion serve``: uvicorn (uvloop, httptools) on embedded defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from discretion.errors import DiscretionError, RulebookError


def _migrate(url: str) -> None:
    """Bring the database's schema up to date (Alembic), before any worker opens it; a database the
    service could not write is refused here (``database_read_only``), not in every worker."""
    from api.storage import make_engine
    from api.storage.database import check_writable
    from api.storage.migrations import upgrade

    engine = make_engine(url)
    try:
        check_writable(engine, files_only=True)
        upgrade(engine)
        check_writable(engine)
    finally:
        engine.dispose()


def _start_migration(url: str) -> int | None:
    """Migrate in a forked child while this process loads the rulebooks (two cores: the service is
    ready sooner). Returns the child's pid, or None when it migrated here (no fork)."""
    if not hasattr(os, "fork"):
        _migrate(url)
        return None
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 0  # the child: migrate, report a failure as the parent would, leave without cleanup
    try:
        _migrate(url)
    except DiscretionError as exc:
        print(f"启动失败：{exc.message}", file=sys.stderr)
        code = 3
    except BaseException as exc:  # noqa: BLE001 - the parent reports that the migration failed
        print(f"启动失败：数据库迁移出错：{exc!r}", file=sys.stderr)
        code = 4
    finally:
        sys.stderr.flush()
        os._exit(code)


def _finish_migration(pid: int | None) -> bool:
    """Wait for the forked migration; False when it failed (the child printed why)."""
    if pid is None:
        return True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def serve(host: str, port: int, workers: int, rulebooks: Path | None) -> int:
    import uvicorn

    if rulebooks is not None:
        os.environ["DISCRETION_RULEBOOKS"] = str(rulebooks)
    from api import reload

    reload.prepare_shared_file()  # the reload generation every worker follows (SIGHUP, POST /v1/admin/reload)
    from api.auth import is_loopback
    from api.settings import database_location, load_settings

    settings = load_settings()
    if not settings.auth:
        if not is_loopback(host):
            print(f"拒绝启动：未启用身份认证时只能在本机回环地址（127.0.0.1、::1、localhost）上提供服务，而不是 {host}。"
                  "请设置 DISCRETION_AUTH=1（或 --auth），并用 discretion users add / discretion tokens create 创建账户和令牌。",
                  file=sys.stderr)
            return 2
        print("注意：未启用身份认证，仅供本机使用；所有操作记为本机操作员。", file=sys.stderr)
    print(f"数据库：{database_location(settings.database_url)}", file=sys.stderr)
    from api.keyfile import session_secret

    try:  # made (or checked) once here, before any worker: an exposed or broken key file stops start-up
        session_secret(settings.secret_path)
    except DiscretionError as exc:
        print(f"启动失败：{exc.message}", file=sys.stderr)
        return 1
    # Load and compile in this process first, so a broken set stops start-up with file:line.
    # With one worker this process serves the app it built; with several, each worker builds its own.
    try:
        if workers > 1:
            from api.main import preload

            # once, before the workers start (each checks again, locked), alongside the preload
            migration = _start_migration(settings.database_url)
            try:
                rs = preload(settings)  # the forked workers take these over (reload.run_workers)
            finally:
                migrated = _finish_migration(migration)  # waited for even when the rulebooks are broken
            if not migrated:
                return 1
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
    except DiscretionError as exc:  # the database: unreachable, or not ours to migrate
        print(f"启动失败：{exc.message}", file=sys.stderr)
        return 1
    print(f"discretion：{len(rs.violations)} 类违法行为，{len(rs.editions)} 个裁量基准版本；http://{host}:{port}/", file=sys.stderr)
    from api.limits import HTTP_PROTOCOL  # httptools with a bounded, timed request head (docs/limits.md)

    options: dict[str, Any] = dict(host=host, port=port, loop="uvloop", http=HTTP_PROTOCOL, log_level="warning", access_log=False)
    if workers > 1:  # uvicorn's supervisor, with SIGHUP = reload the rulebooks (not: restart the workers)
        reload.run_workers(uvicorn.Config(target, factory=True, workers=workers, **options))
    else:
        uvicorn.run(target, **options)
    return 0
