"""GET /v1/violations and /v1/violations/{code}: the catalogue a form or the mobile app renders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from discretion.engine.catalog import violation_entry, violations_on
from discretion.errors import NotFoundError
from discretion.rulebooks.models import Group

from ..clock import today
from ..deps import State, state
from ..schemas import ERROR_RESPONSES, ViolationDetailOut, ViolationList, param_example

router = APIRouter(prefix="/v1/violations", tags=["violations"], responses=ERROR_RESPONSES)

OnDate = Annotated[dt.date | None, Query(description="日期 YYYY-MM-DD（违法行为日期），默认为今天",
                                         openapi_examples=param_example("2025-03-01", "2025年3月1日的行为（适用单行法）"))]
Jurisdiction = Annotated[str, Query(max_length=80, openapi_examples=param_example("yunnan", "云南省"))]
_TYPES = {"money": "number", "count": "integer", "number": "number", "bool": "boolean", "enum": "string", "date": "string"}


@router.get("", summary="某日适用的违法行为", response_model=None, responses={200: {"model": ViolationList, "description": "违法行为目录"}})
async def list_violations(
    s: Annotated[State, Depends(state)],
    on: OnDate = None,
    q: Annotated[str | None, Query(max_length=100, description="关键词或条文，如“水污染防治法 83”",
                                   openapi_examples=param_example("水污染防治法 83", "按条文检索"))] = None,
    jurisdiction: Jurisdiction = "yunnan",
    group: Annotated[Group | None, Query(description="只列出该分组（《生态环境法典》第五编第二章的节），如 permit",
                                         openapi_examples=param_example("permit", "排污许可（如超标排放）"))] = None,
) -> dict[str, Any]:
    items = violations_on(s.engine.compiled, on or today(), q, jurisdiction)
    return {"items": [i for i in items if i["group"] == group] if group else items}


def _number(text: str) -> int | float:
    """A bound as a JSON number: an integer when it is whole (``minimum: 1``, not ``1.0``)."""
    d = Decimal(text)
    return int(d) if d == d.to_integral_value() else float(d)


def facts_schema(entry: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a violation's facts object, so a client can render and check a form."""
    props: dict[str, Any] = {}
    for f in entry["facts"]:
        p: dict[str, Any] = {"type": _TYPES[f["type"]], "title": f["label"]}
        if f.get("unit"):
            p["description"] = f"单位：{f['unit']}" + (f"；{f['hint']}" if f.get("hint") else "")
        elif f.get("hint"):
            p["description"] = f["hint"]
        if f["type"] == "enum":
            p["enum"] = [c["value"] for c in f["choices"]]
            p["x-enum-labels"] = {c["value"]: c["label"] for c in f["choices"]}
        if f["type"] == "date":
            p["format"] = "date"
        if f["type"] in ("money", "count", "number"):
            p["minimum"] = _number(f["min"]) if "min" in f else 0
            if "max" in f:
                p["maximum"] = _number(f["max"])
        if f["type"] == "money":
            p["multipleOf"] = 0.01
        if "refines" in f:
            p["x-refines"] = f["refines"]["fact"]
        props[f["name"]] = p
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": props,
        "required": [f["name"] for f in entry["facts"] if f["required"]],
        "additionalProperties": False,
    }
    # one fact, asked once: an edition fact that refines a law fact takes only the values that
    # law fact's value allows (none: not to be given)
    rules = [
        {"if": {"properties": {law: {"const": value}}, "required": [law]},
         "then": {"properties": {f["name"]: {"enum": allowed}}} if allowed else {"not": {"required": [f["name"]]}}}
        for f in entry["facts"] if "refines" in f
        for law in [f["refines"]["fact"]]
        for value, allowed in f["refines"]["choices"].items()
    ]
    if rules:
        out["allOf"] = rules
    return out


@router.get("/{code}", summary="一类违法行为及其事实的 JSON Schema", response_model=None,
            responses={200: {"model": ViolationDetailOut, "description": "违法行为及其事实的 JSON Schema"}})
async def get_violation(
    code: Annotated[str, Path(openapi_examples=param_example("water_over_standard", "超标排放水污染物"))],
    s: Annotated[State, Depends(state)],
    on: OnDate = None,
    jurisdiction: Jurisdiction = "yunnan",
    decision_date: Annotated[dt.date | None, Query(
        description="案件的决定日期（可选）：给出时按该日施行的裁量基准列出事实；违法行为日期与决定日期分属单行法与生态环境法典时，"
                    "两者都要计算（从旧兼从轻），facts 与 facts_schema 的 required 为两者所需之和，regimes 列出两者",
        openapi_examples=param_example("2025-09-01", "2025年9月1日作出决定"))] = None,
) -> dict[str, Any]:
    if code not in s.rulebooks.violations:
        raise NotFoundError(message=f"未知的违法行为代码：{code}", field="code")
    entry = violation_entry(s.engine.compiled, code, on or today(), jurisdiction, decision_date)
    entry["facts_schema"] = facts_schema(entry)
    return entry
