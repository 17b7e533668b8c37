from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from discretion.errors import AuthError, ForbiddenError

from ..deps import ANONYMOUS, caller
from ..schemas import ErrorOut, HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="存活检查", response_model=None, responses={200: {"model": HealthOut, "description": "服务正常（detail=true 时另有进程与规则集信息）"},
                                   401: {"model": ErrorOut, "description": "detail=true 未认证（启用身份认证时）"},
                                   403: {"model": ErrorOut, "description": "detail=true 仅限管理员"}})
async def healthz(
    request: Request,
    detail: Annotated[
        bool, Query(description="（仅限管理员）为 true 时另给出本进程号、所加载规则集的哈希与重新加载代次、最近一次重新加载的结果")
    ] = False,
) -> dict[str, Any]:
    if detail:  # the process, its rulebook set and reloads: for admins (any caller without auth)
        from ..reload import describe

        who = caller(request)
        if who.role != "admin":
            if who is ANONYMOUS:
                raise AuthError(message="detail=true 须以管理员身份调用（Authorization: Bearer …）", field="detail")
            raise ForbiddenError(message="detail=true 仅限管理员", field="detail")

        return {"status": "ok", **describe(request.app)}
    return {"status": "ok"}


@router.head("/healthz", include_in_schema=False)
async def healthz_head() -> dict[str, str]:
    """HEAD for monitors that only look at the status."""
    return {"status": "ok"}


# POST /_echo: only when DISCRETION_ECHO=1 (the load benchmarks' baseline; api/main.py includes it then).
echo_router = APIRouter(include_in_schema=False)


@echo_router.post("/_echo")
async def echo(payload: dict) -> dict:  # type: ignore[type-arg]
    """A trivial endpoint: the baseline of the load benchmark."""
    return payload
