"""GET /v1/analytics/consistency: 同案同罚, the consistency of the decided cases (api/consistency.py,
as the page /review/consistency shows it), its export files and charts, and the like cases of one
decided case. Every role may ask; a handler gets their own figures beside the bureau's and never
another handler's (api/consistency.py decides, for the API and the page alike)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from .. import consistency, consistency_files
from ..deps import Principal, State, principal, state
from ..schemas import ERROR_RESPONSES, ConsistencyOut, ErrorOut, LikeCasesOut

router = APIRouter(prefix="/v1/analytics/consistency", tags=["analytics"], responses=ERROR_RESPONSES)
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "未认证（启用身份认证时）"},
    403: {"model": ErrorOut, "description": "承办人只能查看本人的数字与全局的对比（handler 为他人时）"},
}
Filters = Annotated[consistency.Filters, Depends(consistency.filters)]


@router.get("", summary="裁量一致性统计（同案同罚）", response_model=ConsistencyOut, responses=_FORBIDDEN,
            description="已记录决定的案件：按违法行为类型的决定件数、决定数额在法定幅度中的位置（分位数）、相对建议档次的低于/档次内/高于件数、"
                        "档次外比例及所附理由、不予处罚比例；按承办人的同样数字与全局并列，档次外比例或中位位置明显偏离的给出提示；"
                        "按月的档次外决定。由数据库聚合计算。合成数据默认不计入（data=synthetic 或 all 时计入）。"
                        "承办人只能看到本人与全局的数字，不含其他承办人。计算方法见 method 与 docs/consistency.md。")
async def report(f: Filters, s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
    return await consistency.report(s, who, f)


@router.get("/export.{fmt}", summary="导出裁量一致性统计表（CSV 或 XLSX）", response_class=Response,
            description="与 GET /v1/analytics/consistency 相同的筛选条件和权限；档次外理由列出全部（不只最常见的几条）；"
                        "以 = + - @、制表符或回车开头的文字单元格前加撇号，不会被电子表格当作公式。", responses={
    200: {"description": "CSV（一张表，中文表头，UTF-8 带 BOM）或 XLSX（说明、按违法行为、按承办人、档次外理由、时间线各一张工作表）",
          "content": {m: {} for m in consistency_files.MEDIA.values()}}, **_FORBIDDEN})
async def export(
    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv 或 xlsx")],
    f: Filters,
    s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(principal)],
    table: Annotated[Literal["violations", "handlers", "reasons", "timeline"], Query(
        description="CSV 导出哪张表：violations 按违法行为（默认）、handlers 按承办人、reasons 档次外理由、timeline 时间线")] = "violations",
) -> Response:
    # every reason is listed (not only the most frequent); text cells are formula-safe
    r = await consistency.report(s, who, f, top=None)
    body = consistency_files.export(r, fmt, table, consistency.labeller(s.rulebooks))
    name = f"consistency-{table}.csv" if fmt == "csv" else "consistency.xlsx"
    return Response(body, media_type=consistency_files.MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/charts/{name}.svg", summary="裁量一致性图表（SVG）", response_class=Response, responses={
    200: {"description": "服务器端绘制的 SVG 图表（中文标注）", "content": {"image/svg+xml": {}}}, **_FORBIDDEN})
async def chart(
    name: Annotated[Literal["types", "handlers", "timeline"], Path(
        description="types 按违法行为类型的位置箱线图；handlers 按承办人的偏离箱线图；timeline 档次外决定的时间线")],
    f: Filters,
    s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(principal)],
) -> Response:
    r = await consistency.report(s, who, f)
    return Response(consistency_files.chart(r, name).encode("utf-8"), media_type="image/svg+xml")


@router.get("/like/{ref}", summary="相似案件对照（同案同罚）", response_model=LikeCasesOut, responses={
    404: {"model": ErrorOut, "description": "该编号没有已记录的决定"}, **_FORBIDDEN},
            description="一件已决定案件的相似案件及其决定数额：同一违法行为类型、同一适用法律、同类当事人，"
                        "按裁量因子等级、情节和法定幅度的距离由近到远（方法见 method）。ref 为计算编号（合成数据为 SYN-种子-序号）。"
                        "承办人只能查询本人的案件，结果中他人的案件不显示承办人和编号。")
async def like(
    ref: Annotated[str, Path(max_length=40, pattern=r"^[0-9a-zA-Z-]+$", description="计算编号，或合成数据的编号")],
    s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(principal)],
    k: Annotated[int, Query(ge=1, le=consistency.MAX_LIKE, description="相似案件数（默认 10，至多 50）")] = consistency.LIKE_CASES,
) -> dict[str, Any]:
    return await consistency.like_cases(s, who, ref, k)
