from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="存活检查", response_model=None, responses={200: {"model": HealthOut, "description": "服务正常（detail=true 时另有进程与规则集信息）"}})
async def healthz(
    request: Request,
    detail: Annotated[
        bool, Query(description="为 true 时另给出本进程号、所加载规则集的哈希与重新加载代次、最近一次重新加载的结果")
    ] = False,
) -> dict[str, Any]:
    if detail:
        from ..reload import describe

        return {"status": "ok", **describe(request.app)}
    return {"status": "ok"}


@router.head("/healthz", include_in_schema=False)
async def healthz_head() -> dict[str, str]:
    """HEAD for monitors that only look at the status."""
    return {"status": "ok"}


@router.post("/_echo", include_in_schema=False)
async def echo(payload: dict) -> dict:  # type: ignore[type-arg]
    """A trivial endpoint: the baseline of the load benchmark."""
    return payload
