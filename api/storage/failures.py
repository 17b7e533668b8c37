"""Storage failures: when the records' database counts as unavailable, the one error the service
answers for it (503 ``storage_unavailable``, see api/errors.py), and waits on storage that are
bounded however the database misbehaves.

Unavailable means the database cannot do its part right now, whatever the request: it cannot be
reached (refused, timed out), it hangs (a statement or lock timeout, no free connection), or it
cannot write (a read-only file, directory or role; a full disk; an I/O error). Anything else a
database raises (a constraint, a programming error) stays a fault of this program (500).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from discretion.errors import DiscretionError

T = TypeVar("T")

# OSErrors of the files beside a SQLite database (its lock file, its folder)
_OS_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}
# PostgreSQL SQLSTATEs that say "not now" rather than "wrong": connection (08), insufficient
# resources (53, e.g. disk full), operator intervention (57: statement timeout, shutdown), system
# error (58), lock not available, a read-only transaction (a standby, default_transaction_read_only)
# and a role without the privilege to write.
_PG_CLASSES = ("08", "53", "57", "58")
_PG_STATES = {"55P03", "25006", "42501"}


@dataclass
class StorageUnavailable(DiscretionError):
    """The records' database is unavailable (maps to HTTP 503); the message says why, in Chinese."""

    code: str = "storage_unavailable"
    field: str | None = "database"


def _sqlstate(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def is_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unavailable (see the module's docstring)."""
    if isinstance(exc, StorageUnavailable | OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        state = _sqlstate(exc)
        return exc.connection_invalidated or state[:2] in _PG_CLASSES or state in _PG_STATES
    if isinstance(exc, OSError):
        return exc.errno in _OS_ERRNOS
    return False


def reason(exc: BaseException) -> str:
    """What went wrong, in Chinese and in a few words (the driver's own text goes to the log only)."""
    if isinstance(exc, StorageUnavailable):
        return exc.message
    if isinstance(exc, PoolTimeout):
        return "等待可用的数据库连接超时"
    state = _sqlstate(exc)
    text = str(getattr(exc, "orig", None) or exc).lower()
    number = exc.errno if isinstance(exc, OSError) else None
    if state in ("25006", "42501") or "readonly" in text or "read-only" in text or number in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "数据库只读或没有写权限"
    if state[:3] == "531" or "disk is full" in text or number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "磁盘已满"
    if "disk i/o error" in text or number == errno.EIO:
        return "磁盘读写出错，可能已满或只读"
    if state == "55P03" or "lock timeout" in text or "database is locked" in text:
        return "等待数据库锁超时"
    if state == "57014" or "statement timeout" in text:
        return "数据库语句超时"
    if "timeout" in text or "timed out" in text:
        return "连接数据库超时"
    if state[:2] == "08" or "connect" in text or "unable to open" in text:
        return "无法连接数据库"
    return "数据库出错"


def unavailable(exc: BaseException) -> StorageUnavailable:
    """The 503 answer for a storage failure."""
    if isinstance(exc, StorageUnavailable):
        return exc
    return StorageUnavailable(message=message(reason(exc)))


def message(why: str) -> str:
    return f"记录数据库暂时不可用（{why}），请稍后重试"


def timed_out(seconds: float) -> StorageUnavailable:
    return StorageUnavailable(message=message(f"{seconds:g} 秒内未答复"))


async def bounded(seconds: float, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` (a call on the database) in a thread, waited for at most ``seconds``: its storage
    failure, or the time running out, is :class:`StorageUnavailable`. A call that hangs past the
    bound (a server that stopped answering on an open connection) keeps its thread, not the request."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    return await settled(task, seconds)


async def settled(fut: asyncio.Future[T], seconds: float) -> T:
    """The result of ``fut`` (a write queued with the chain's writer, or a call in a thread), waited
    for at most ``seconds``; on time running out the future is cancelled (the writer then skips the
    record, if it has not begun writing it) and the caller gets :class:`StorageUnavailable`."""
    done, _ = await asyncio.wait({fut}, timeout=seconds)
    if not done:
        fut.cancel()
        raise timed_out(seconds)
    try:
        return fut.result()
    except Exception as exc:
        if is_failure(exc):
            raise unavailable(exc) from exc
        raise
