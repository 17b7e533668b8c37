"""POST /v1/admin/reload: reload the rulebooks of the running service (administrators only).

The router also carries the lifespan of :mod:`api.reload` (SIGHUP handling and, under
``discretion serve``, the poller that makes every worker follow a reload), so registering this
router is all the wiring a reload needs.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .. import reload
from ..deps import Principal, require
from ..errors import body
from ..schemas import ERROR_RESPONSES, ErrorOut

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES, lifespan=reload.lifespan)


@router.post(
    "/reload",
    summary="重新加载规则集（仅管理员）",
    description=(
        "重新读取、校验并编译服务所配置的规则集目录。新规则集有效时原子地替换正在使用的规则集，"
        "并通知其他工作进程（约 1 秒内跟进）；无效时继续使用原规则集，答复 422 rulebook_invalid 并逐条列出 文件:行 的问题。"
        "对服务主进程发送 SIGHUP 效果相同（结果写入日志，并见 GET /healthz?detail=true）。"
    ),
    responses={
        200: {"description": "已重新加载（status=reloaded）或规则集未变化（status=unchanged）"},
        403: {"model": ErrorOut, "description": "非管理员"},
        422: {"model": ErrorOut, "description": "新规则集无效，继续使用原规则集；errors 逐条给出 文件:行"},
    },
)
async def reload_rulebooks(request: Request, who: Annotated[Principal, Depends(require("admin"))]) -> Any:
    attempt = await reload.reloader(request.app).reload(trigger=f"POST /v1/admin/reload（{who.name}）")
    if not attempt.ok:
        items = [reload.issue_dict(i) for i in attempt.issues] or [
            {"code": "rulebook_invalid", "message": attempt.message, "field": None}
        ]
        first = items[0]["field"] if attempt.issues else None
        return JSONResponse(body("rulebook_invalid", attempt.message, first, items), status_code=422)
    s = request.app.state.discretion
    return {
        "status": "reloaded" if attempt.changed else "unchanged",
        "message": attempt.message,
        "pid": os.getpid(),
        "generation": s.generation,
        "rulebook_set": s.rulebook_set,
        "violations": len(s.rulebooks.violations),
        "editions": reload.editions(s.rulebooks),
    }
