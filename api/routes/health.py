"""GET /healthz: the service answers, and its records' database can be written (else 503)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from discretion.errors import AuthError, ForbiddenError

from ..deps import ANONYMOUS, caller, current
from ..errors import UNAVAILABLE_HEADERS, body
from ..schemas import ErrorOut, HealthFailingOut, HealthOut
from ..storage.database import write_problem
from ..storage.failures import StorageUnavailable, message

router = APIRouter(tags=["health"])

# A write that failed this recently, with none written since, keeps the database "failing" (a full
# disk shows only when writing; the check's rolled-back write needs no room).
FAILURE_MEMORY_S = 30.0


async def database_problem(request: Request) -> str | None:
    """Why the database is failing (Chinese), or None: the last writes failed, or the check (it
    answers, and accepts a write: api/storage/database.write_problem) fails or does not answer in
    time. One check at a time per process: callers meanwhile share its outcome."""
    store = current(request).store
    failure = store.failure
    if failure is not None and time.monotonic() - failure[0] < FAILURE_MEMORY_S:
        return message(f"最近一次写入失败：{failure[1]}")
    app = request.app
    task: asyncio.Task[str | None] | None = getattr(app.state, "database_check", None)
    if task is None or task.done():
        task = asyncio.ensure_future(_check(store))
        app.state.database_check = task
    return await asyncio.shield(task)


async def _check(store: Any) -> str | None:
    try:
        problem = await store.call(write_problem, store.engine)
    except StorageUnavailable as exc:
        return exc.message
    return None if problem is None else message(problem)


def failing(problem: str) -> JSONResponse:
    """503: the error shape naming the failing check, with the checks."""
    return JSONResponse({"status": "unavailable", "checks": {"database": "failing"},
                         **body("storage_unavailable", problem, "database")}, status_code=503, headers=UNAVAILABLE_HEADERS)


@router.get("/healthz", summary="存活检查", response_model=None, responses={200: {"model": HealthOut, "description": "服务正常（detail=true 时另有进程与规则集信息）"},
                                   401: {"model": ErrorOut, "description": "detail=true 未认证（启用身份认证时）"},
                                   403: {"model": ErrorOut, "description": "detail=true 仅限管理员"},
                                   503: {"model": HealthFailingOut, "description": "记录数据库不可用（无法连接、超时、只读或磁盘已满；field 为 database）"}})
async def healthz(
    request: Request,
    detail: Annotated[
        bool, Query(description="（仅限管理员）为 true 时另给出本进程号、所加载规则集的哈希与重新加载代次、最近一次重新加载的结果")
    ] = False,
) -> Any:
    if detail:  # the process, its rulebook set and reloads: for admins (any caller without auth)
        who = caller(request)
        if who.role != "admin":
            if who is ANONYMOUS:
                raise AuthError(message="detail=true 须以管理员身份调用（Authorization: Bearer …）", field="detail")
            raise ForbiddenError(message="detail=true 仅限管理员", field="detail")
    problem = await database_problem(request)
    if problem is not None:
        return failing(problem)
    if detail:
        from ..reload import describe

        return {"status": "ok", **describe(request.app)}
    return {"status": "ok"}


@router.head("/healthz", include_in_schema=False)
async def healthz_head(request: Request) -> Response:
    """HEAD for monitors that only look at the status."""
    if await database_problem(request) is not None:
        return Response(status_code=503, headers=UNAVAILABLE_HEADERS)
    return Response(status_code=200, media_type="application/json")


# POST /_echo: only when DISCRETION_ECHO=1 (the load benchmarks' baseline; api/main.py includes it then).
echo_router = APIRouter(include_in_schema=False)


@echo_router.post("/_echo")
async def echo(payload: dict) -> dict:  # type: ignore[type-arg]
    """A trivial endpoint: the baseline of the load benchmark."""
    return payload
