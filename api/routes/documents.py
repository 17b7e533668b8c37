"""The case file's documents of a stored assessment: GET /v1/assessments/{id}/documents/{kind}.docx
(行政处罚事先告知书, 行政处罚决定书 or 不予行政处罚决定书, 裁量说理; see api/documents)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from ..deps import Principal, State, principal, state
from ..documents import MEDIA_TYPE, DocumentKind, serve
from ..schemas import ERROR_RESPONSES, ErrorOut, param_example

router = APIRouter(prefix="/v1/assessments", tags=["assessments"], responses=ERROR_RESPONSES)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "Word 文档（GB/T 9704-2012 公文格式）；Content-Disposition 给出中文文件名（RFC 5987 filename*）和 ASCII 文件名"},
    401: {"model": ErrorOut, "description": "未认证（启用身份认证时）"},
    403: {"model": ErrorOut, "description": "承办人只能下载本人的计算记录的文书"},
    409: {"model": ErrorOut, "description": "记录不能生成该文书：decision_required（决定书须先记录决定）、"
                                            "notice_not_applicable（不予处罚的案件无事先告知书）、decision_not_documentable"},
}


@router.get(
    "/{assessment_id}/documents/{kind}.docx",
    summary="生成案卷文书（.docx）",
    description="由所存记录生成：notice《行政处罚事先告知书》（拟作出的处罚、事实、理由、依据，陈述申辩权利，达到听证标准时的听证权利）；"
                "decision《行政处罚决定书》（行政处罚法第五十九条所列事项；不予处罚的案件为《不予行政处罚决定书》；须先记录决定）；"
                "reasoning 裁量说理。均附计算过程表，金额另以中文大写表示。访问规则与读取记录相同。",
    response_class=Response,
    responses=_RESPONSES,
)
async def get_document(assessment_id: Annotated[str, Path(max_length=64, description="计算编号")], kind: Annotated[DocumentKind, Path(openapi_examples=param_example("reasoning", "裁量说理（任何记录都可生成）"))],
                       s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)]) -> Response:
    return await serve(s, who, assessment_id, kind)
