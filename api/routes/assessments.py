"""Assessments and their records: POST /v1/assessments, the list, one record, the officer's
decision and the reproduction. Records are append-only: no PUT, PATCH or DELETE exists here."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from discretion.engine.case import Case
from discretion.errors import ForbiddenError, InputError, NotFoundError

from ..clock import BEIJING, refuse_future, today
from ..casedata import MAX_SEARCH, SEARCH_PATTERN, settle, stored
from ..deps import (
    Principal,
    State,
    caller,
    check_owner,
    current,
    principal,
    refuse_duplicate_keys,
    require,
    state,
    unique_keys,
)
from ..limits import unwritable
from ..offline import upload
from ..schemas import (
    ASSESSMENT_EXAMPLE,
    DECISION_EXAMPLE,
    ERROR_RESPONSES,
    AssessmentIn,
    AssessmentList,
    AssessmentOut,
    AssessmentRecordOut,
    DecisionIn,
    DecisionOut,
    ErrorOut,
    ReproductionOut,
    json_example,
    param_example,
)
from ..storage import new_id
from ..storage.records import Records, check_decision, check_supersedes
from ..storage.rows import decision_out, dumps
from ..storage.writer import Replayed, key_reused

router = APIRouter(prefix="/v1/assessments", tags=["assessments"], responses=ERROR_RESPONSES)


MAX_INT = 10**15
MAX_TEXT = 200


def _fact_value(name: str, v: Any) -> Any:
    path = f"facts.{name}"
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        if abs(v) > MAX_INT:
            raise InputError(message="数值过大", code="invalid_fact", field=path)
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise InputError(message="须为有限数字（不接受 NaN、Infinity）", code="invalid_fact", field=path)
        if abs(v) > MAX_INT:
            raise InputError(message="数值过大", code="invalid_fact", field=path)
        return v
    if isinstance(v, str):
        if len(v) > MAX_TEXT:
            raise InputError(message=f"文字过长（最多 {MAX_TEXT} 个字符）", code="invalid_fact", field=path)
        if (problem := unwritable(v)) is not None:
            raise InputError(message=problem, code="invalid_character", field=path)
        return v
    raise InputError(message="事实的值须为数字、字符串、true/false 或 null", code="invalid_fact", field=path)


# What a request says besides the case to assess: kept with the record, never assessed.
NOT_ASSESSED = frozenset({"case", "supersedes", "offline"})


def to_case(body: AssessmentIn) -> Case:
    data = body.model_dump(exclude=NOT_ASSESSED)  # the case's identity (and supersedes, an upload's offline object) are kept with the record, never assessed
    data["facts"] = {k: _fact_value(k, v) for k, v in body.facts.items()}
    data["decision_date"] = data["decision_date"] or today()
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in msg)
        code = "date_out_of_range" if msg.startswith("日期超出") else "invalid_input"
        raise InputError(message=msg if chinese else "输入无效", code=code, field=loc) from None
    return refuse_future(case)  # an act or discovery after today: 422 date_in_future


_BODY_SCHEMA = AssessmentIn.model_json_schema()
_MORE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "未认证（启用身份认证时）"},
    403: {"model": ErrorOut, "description": "当前角色无权执行此操作"},
}
# Filters reach the database as bound parameters; control characters (NUL) are refused first.
Printable = r"^[^\x00-\x1f\x7f]+$"


def _records(s: State) -> Records:
    assert s.records is not None, "create_app sets the records"
    return s.records


@router.post(
    "",
    status_code=201,
    summary="计算一个案件的处罚",
    description="按违法行为日期与决定日期选定适用的法律和裁量基准，计算法定幅度、建议罚款、措施与提示，附每一步的法律依据（trail）"
                "和可直接用于案卷的说理文字（reasoning）。结果连同请求、规则集哈希与计算人一并存档（哈希链），存档提交后才答复 201；"
                "返回的 id 用于查询、记录决定和重现。修改后重新计算：给出 supersedes（原记录编号），新记录在哈希链上注明所取代的记录，两条记录都保留。",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA,
                                                                                   "example": ASSESSMENT_EXAMPLE}}},
                   "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                   "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                                   "description": "幂等键（1–200 个可见 ASCII 字符，按调用者区分）：超时后用同一键和相同内容重试，"
                                                  "答复 200 和第一次保存的结果（响应头 Idempotent-Replayed: true），不会重复存档；"
                                                  "同一键配不同内容答复 409 idempotency_key_reused"}]},
    responses={201: {"model": AssessmentOut, "description": "计算结果（已保存），含 id"},
               200: {"model": AssessmentOut, "description": "以同一 Idempotency-Key 重试：第一次保存的结果"},
               409: {"model": ErrorOut, "description": "Idempotency-Key 已用于另一份请求内容（idempotency_key_reused）；"
                                                       "supersedes 所指的记录已被取代（already_superseded，message 给出取代它的记录）"},
               **_MORE_ERRORS,
               403: {"model": ErrorOut, "description": "当前角色无权执行此操作；supersedes 所指的记录不是调用者本人计算的（supersede_forbidden）"},
               404: {"model": ErrorOut, "description": "supersedes 所指的记录不存在（superseded_not_found）"}},
)
async def create(request: Request) -> Response:
    """Assess one case and store it with who asked; answers 201 only after the record is committed.

    The body is validated straight from its bytes (pydantic-core's JSON parser), and the result is
    encoded once, for the store and the answer alike. The state and the caller are read directly,
    not through dependencies (the busiest route: FastAPI's dependency solving costs ~3 % of it)."""
    s, who = current(request), caller(request)
    body = with_case(parse_body(await request.body(), request.headers.get("content-type")))
    key = request.headers.get("idempotency-key")
    if body.offline is not None:  # a terminal's offline result: re-evaluated, recorded only if identical
        upload.check_upload(body, key, dt.datetime.now(dt.UTC))
    idempotency = None
    if key is not None and s.settings.storage:
        idempotency = (who.name, _idempotency_key(key), body_hash(body))
        earlier = await s.store.call(s.store.idempotent, who.name, idempotency[1])
        if earlier is not None:  # a retry: the first answer, without assessing again
            if earlier[0] != idempotency[2]:
                raise key_reused()
            return await _replayed(s, earlier[1])
    if body.supersedes is not None:
        await check_superseding(s, who, body.supersedes)
    case = to_case(body)
    engine, rulebook_set, offline = s.engine, None, None
    if body.offline is not None:
        if body.offline.bundle_hash != _records(s).set_hash:  # a set served before: rebuilt from its snapshot (slow once)
            engine = await asyncio.to_thread(upload.engine_of, _records(s), body.offline.bundle_hash)
            rulebook_set = body.offline.bundle_hash
        offline = upload.offline_record(body)
    a = engine.assess(case)
    if body.offline is not None:
        upload.compare(body, a.to_json())
    rid = new_id()
    payload = a.to_json(id=rid)
    if s.settings.storage:
        decided = case.decision_date.isoformat()  # the day it was decided, not "today" again

        def request_() -> dict[str, Any]:  # the request as stored, built in the store's writer thread
            return {**body.model_dump(mode="json", exclude=NOT_ASSESSED), "decision_date": decided}

        try:
            await s.store.wait(_records(s).add(rid, request_, a, payload, who, idempotency, case=stored(body.case),
                                               supersedes=body.supersedes, offline=offline, rulebook_set=rulebook_set))
        except Replayed as first:  # the same key and body arrived meanwhile (a concurrent retry)
            return await _replayed(s, first.assessment_id)
    return Response(payload, status_code=201, media_type="application/json")


async def check_superseding(s: State, who: Principal, old: str) -> None:
    """The record ``supersedes`` names may be superseded by the caller (api.storage.records.check_supersedes:
    404, 403 or 409); a service without records cannot link one (422 ``records_disabled``)."""
    if not s.settings.storage:
        raise InputError(message="本服务不保存计算记录，不能修改后重新计算", code="records_disabled", field="supersedes")
    check_supersedes(await s.store.call(s.store.get_row, old), old, who)


MAX_KEY = 200


def _idempotency_key(key: str) -> str:
    """An Idempotency-Key: 1–200 visible ASCII characters (422 ``invalid_input`` otherwise)."""
    if not 1 <= len(key) <= MAX_KEY or not all("!" <= c <= "~" for c in key):
        raise InputError(message=f"Idempotency-Key 须为 1 至 {MAX_KEY} 个可见 ASCII 字符", field="Idempotency-Key")
    return key


def body_hash(body: AssessmentIn) -> str:
    """The request's content, as parsed (key order and spacing do not matter), hashed."""
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _replayed(s: State, rid: str) -> Response:
    """The first answer to an Idempotency-Key again: 200 (not 201: nothing new was stored)."""
    first = await s.store.call(s.store.get, rid)
    assert first is not None, "a key is written with its assessment"
    return Response(orjson.dumps(first), status_code=200, media_type="application/json",
                    headers={"Idempotent-Replayed": "true"})


def with_case(body: AssessmentIn) -> AssessmentIn:
    """The request with its case checked (api.casedata.settle: 422 ``invalid_id_code``,
    ``id_code_kind_mismatch``, ``party_mismatch``) and ``party`` taken from the case's party when
    the request does not give it."""
    if body.case is None:
        return body
    given = body.party if "party" in body.model_fields_set else None
    case, party = settle(body.case, given)
    return body.model_copy(update={"case": case, "party": party or body.party})


def parse_body(raw: bytes, content_type: str | None) -> AssessmentIn:
    if content_type and "json" not in content_type.split(";")[0].lower():
        raise InputError(message="请求体须为 JSON（Content-Type: application/json）", code="invalid_input", field="body")
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (some Windows clients send one): RFC 8259 lets us ignore it
        raw = raw[3:]
    try:
        body = AssessmentIn.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    refuse_duplicate_keys(raw)
    return body


FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)  # the computable range of every date


def _day_start(d: dt.date, field: str) -> dt.datetime:
    """The start of a day in China, in UTC; a day outside 1900–2199 is 422 ``date_out_of_range``."""
    if not FIRST_DAY <= d <= LAST_DAY:
        raise InputError(message="日期超出可计算的范围（1900-01-01 至 2199-12-31）", code="date_out_of_range", field=field)
    return dt.datetime.combine(d, dt.time(0), tzinfo=BEIJING).astimezone(dt.UTC)


@router.get("", summary="查询计算记录（最新的在前，分页）", response_model=AssessmentList, responses=_MORE_ERRORS,
            description="计算记录及其决定，最新的在前；按 next_cursor 翻页，翻页期间新增记录不影响已翻过的页。"
                        "修改后重新计算的记录只列出最新的一版，此前各版在 history 中（新的在前）；筛选条件按所列的最新一版判断；"
                        "include_superseded=true 时列出全部记录（含已被取代的）。"
                        "承办人只能列出自己的记录（以他人为 handler 查询答复 403），审核人和管理员可列出全部。")
async def list_assessments(
    request: Request,
    s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(principal)],
    violation: Annotated[str | None, Query(max_length=80, pattern=Printable, description="违法行为代码",
                                           openapi_examples=param_example("water_over_standard", "超标排放水污染物"))] = None,
    outcome: Annotated[Literal["penalty", "no_penalty", "time_barred"] | None, Query(description="处理结果")] = None,
    handler: Annotated[str | None, Query(max_length=64, pattern=Printable, description="计算人（用户名）")] = None,
    date_from: Annotated[dt.date | None, Query(alias="from", description="起始日期（北京时间，含当日）")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to", description="截止日期（北京时间，含当日）")] = None,
    outside_band: Annotated[bool | None, Query(description="true：只列决定数额在建议档次之外的；false：之内的")] = None,
    decided: Annotated[bool | None, Query(description="true：只列已有决定的；false：尚无决定的")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=MAX_SEARCH, pattern=SEARCH_PATTERN,
                                   description=f"案号或当事人名称中含有的文字（1–{MAX_SEARCH} 个字符，字母不分大小写）",
                                   openapi_examples=param_example("昆环罚", "案号含“昆环罚”"))] = None,
    include_superseded: Annotated[bool, Query(description="true：也列出已被修改后重新计算取代的记录（默认只列最新的一版）")] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数（至多 200）")] = 50,
    cursor: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]+$", description="上一页返回的 next_cursor")] = None,
) -> dict[str, Any]:
    """Assessments with their decisions, newest first. Paging by cursor is stable while records are added.

    A handler lists only the assessments they made; reviewers and admins (supervisors) list all."""
    if who.role == "handler":
        if handler is not None and handler != who.name:
            raise ForbiddenError(message="承办人只能查询本人的计算记录", field="handler")
        handler = who.name
    items, more = await s.store.call(
        s.store.list,
        violation=violation,
        outcome=outcome,
        handler=handler,
        since=_day_start(date_from, "from") if date_from else None,
        until=_day_start(date_to, "to") + dt.timedelta(days=1) if date_to else None,
        outside_band=outside_band,
        decided=decided,
        search=q,
        include_superseded=include_superseded,
        before_seq=int(cursor) if cursor else None,
        limit=limit,
    )
    nxt = None
    if more is not None:
        u = request.url.include_query_params(cursor=str(more))
        nxt = f"{u.path}?{u.query}"
    return {"items": items, "next_cursor": None if more is None else str(more), "next": nxt}


AssessmentId = Annotated[str, Path(max_length=64, description="计算编号")]


def _not_found(assessment_id: str) -> NotFoundError:
    return NotFoundError(message=f"没有编号为 {assessment_id} 的计算结果", field="id")


@router.get(
    "/{assessment_id}",
    summary="读取一次计算结果及其记录和决定",
    response_class=Response,
    responses={200: {"model": AssessmentRecordOut, "description": "保存的计算结果（与 POST 的回答相同），加上 record 和 decision"},
               **_MORE_ERRORS},
)
async def read(assessment_id: AssessmentId, s: Annotated[State, Depends(state)],
               who: Annotated[Principal, Depends(principal)]) -> Response:
    got = await s.store.call(s.store.get_record, assessment_id)
    if got is None:
        raise _not_found(assessment_id)
    check_owner(who, got["record"]["created_by"]["name"])
    return Response(dumps(got), media_type="application/json")  # the request's decimals as their exact text


@router.post(
    "/{assessment_id}/decision",
    status_code=201,
    summary="记录承办人的决定（数额和理由）",
    description="记录最终决定的罚款数额；数额在建议档次之外时必须说明理由（否则 422 reason_required）。"
                "决定是哈希链上的一条独立记录，每个计算结果只能有一个决定（再次提交答复 409 decision_exists）。",
    response_model=DecisionOut,
    responses={409: {"model": ErrorOut, "description": "该计算已有决定（decision_exists，记录只可追加）；"
                                                       "或已被修改后重新计算的记录取代（superseded）"}, **_MORE_ERRORS},
    openapi_extra=json_example(DECISION_EXAMPLE),
)
async def decide(
    assessment_id: AssessmentId,
    body: DecisionIn,
    s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(require("handler", "admin"))],
    _: Annotated[None, Depends(unique_keys)],
) -> dict[str, Any]:
    """The amount decided, and a reason, required when the amount lies outside the recommended band.
    A decision is its own record on the hash chain; an assessment has at most one."""
    row = await s.store.call(s.store.get_row, assessment_id)
    if row is None:
        raise _not_found(assessment_id)
    check_owner(who, row["created_by"])
    within, reason = check_decision(row, body.amount, body.reason)
    dec = await s.store.wait(s.store.add_decision(assessment_id, amount=body.amount, reason=reason, within_band=within, who=who))
    return decision_out(dec, row)


@router.get(
    "/{assessment_id}/reproduce",
    summary="用所存的规则集重新计算，报告差异",
    description="用记录所存的请求和当时的规则集（按哈希识别：当前规则集，或由所存快照重建）重新计算，"
                "列出与所存结果不同的字段路径；快照缺失时答复 409 snapshot_missing。",
    response_model=ReproductionOut,
    responses={409: {"model": ErrorOut, "description": "所用规则集的快照缺失或无法加载"}, **_MORE_ERRORS},
)
async def reproduce(assessment_id: AssessmentId, s: Annotated[State, Depends(state)],
                    who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
    """Re-evaluates the stored request with the rulebook set it was made with (identified by hash:
    the current set, or one rebuilt from its stored snapshot) and lists every field that differs."""
    row = await s.store.call(s.store.get_row, assessment_id)
    if row is None:
        raise _not_found(assessment_id)
    check_owner(who, row["created_by"])
    return await asyncio.to_thread(_records(s).reproduce, row)  # may rebuild a set from its snapshot: not bounded
