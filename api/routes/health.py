from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="存活检查")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/_echo", include_in_schema=False)
async def echo(payload: dict) -> dict:  # type: ignore[type-arg]
    """A trivial endpoint: the baseline of the load benchmark."""
    return payload
