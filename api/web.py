"""The web form for case handlers: server-rendered Chinese pages (Jinja2), no JavaScript framework."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import ValidationError

from discretion.engine.case import Case
from discretion.engine.catalog import (
    GROUP_LABELS,
    circumstance_entries,
    edition_circumstance_basis,
    form_facts,
    violations_on,
)
from discretion.engine.citation import cite
from discretion.engine.inputs import date_problems, fact_checks, fact_problem
from discretion.engine.money import wan
from discretion.engine.trail import REGIME_LABELS
from discretion.errors import DiscretionError, InputError, NotFoundError
from discretion.rulebooks.editions import in_force

from .deps import Principal, State, principal, require, state
from .records import check_decision
from .storage import new_id

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
TEMPLATES.env.filters["wan"] = lambda v: "" if v is None else wan(v)
TEMPLATES.env.filters["yuan"] = lambda v: "—" if v is None else f"{v:,}"


def _csrf_field(request: Request) -> Markup:
    """The hidden CSRF field every form posting to this service carries (see api.auth)."""
    token = getattr(request.state, "csrf_token", "")
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')


TEMPLATES.env.globals["csrf_field"] = _csrf_field

router = APIRouter(include_in_schema=False)

JURISDICTIONS = {"yunnan": "云南省", "yunnan/kunming": "云南省昆明市"}
OUTCOMES = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限，不再给予行政处罚"}
REGIMES = {"pre2026": "单行法（2026年8月15日前）", "code2026": "《生态环境法典》（2026年8月15日起）"}


def _render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("jurisdictions", JURISDICTIONS)
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)


@router.get("/", response_class=HTMLResponse)
async def index(
    request: Request,
    s: Annotated[State, Depends(state)],
    q: Annotated[str | None, Query(max_length=100)] = None,
    on: Annotated[dt.date | None, Query()] = None,
) -> HTMLResponse:
    day = on or dt.date.today()
    items = violations_on(s.engine.compiled, day, q)
    elsewhere = _elsewhere(s, day, q) if q and not items else None
    return _render(request, "index.html", items=items, q=q or "", on=day.isoformat(), elsewhere=elsewhere)


def _elsewhere(s: State, day: dt.date, q: str) -> dict[str, Any] | None:
    """Nothing found under the law in force on ``day``: does the search find something under the
    other regime (e.g. an article of a separate law, repealed on 2026-08-15, searched for a later
    day)? Then the page says on which day to look, with a link."""
    for regime in s.rulebooks.law.regimes:
        if regime.effective_from <= day and (regime.effective_to is None or day <= regime.effective_to):
            continue
        other = regime.effective_to if regime.effective_to is not None and regime.effective_to < day else regime.effective_from
        found = violations_on(s.engine.compiled, other, q)
        if found:
            return {"on": other.isoformat(), "count": len(found), "regime": REGIME_LABELS.get(regime.id, regime.id)}
    return None


def _form_context(s: State, code: str, decision: dt.date, jurisdiction: str) -> dict[str, Any]:
    if code not in s.rulebooks.violations:
        raise NotFoundError(message=f"未知的违法行为代码：{code}", field="code")
    try:
        le, _ = in_force(s.rulebooks.editions, jurisdiction, decision)
        key: str | None = le.key
    except InputError:
        key = None
    # circumstances with their basis under each regime (a form may be for an act before or after 2026-08-15),
    # and, where the law gives none of its own, the benchmark edition's (its adjustments and 免罚 list)
    by_regime = {r: {c["id"]: c for c in circumstance_entries(s.engine.compiled, code, r)} for r in REGIMES}
    benchmark = edition_circumstance_basis(le, code) if key is not None else {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for cid, c in by_regime["code2026"].items():
        c = dict(c)
        old = by_regime["pre2026"][cid]["basis"]
        c["basis"] = list(dict.fromkeys(old + c["basis"] + benchmark.get(cid, [])))
        groups.setdefault(c["group"], []).append(c)
    v = s.rulebooks.violations[code].model
    basis = {r: list(dict.fromkeys(cite(p.basis.ref) for p in rules.provisions)) for r, rules in v.regimes.items()}
    return {
        "code": code,
        "violation": v,
        "facts": form_facts(s.engine.compiled, code, key),
        "groups": [(g, GROUP_LABELS[g], groups[g]) for g in ("exemption", "mitigating", "aggravating", "other") if g in groups],
        "regimes": REGIMES,
        "basis": basis,
        "checks": fact_checks(s.engine.compiled.get(code, key)),  # the engine's own check of each fact
    }


@router.get("/assess/{code}", response_class=HTMLResponse)
async def form(request: Request, code: str, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    today = dt.date.today()
    ctx = _form_context(s, code, today, "yunnan")
    values = {"decision_date": today.isoformat(), "jurisdiction": "yunnan", "party": "unit"}
    return _render(request, "form.html", values=values, errors={}, chosen=set(), **ctx)


def _parse_form(form: Any, facts: list[dict[str, Any]], checks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"facts": {}, "circumstances": list(form.getlist("circumstance"))}
    for key in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
        raw = (form.get(key) or "").strip()
        if not raw:
            data[key] = None
            continue
        try:
            data[key] = dt.date.fromisoformat(raw)
        except ValueError:
            errors[key] = "日期格式应为 年-月-日，如 2026-09-01"
    data["party"] = form.get("party") or "unit"
    data["jurisdiction"] = form.get("jurisdiction") or "yunnan"
    for f in facts:
        name = f["name"]
        raw = (form.get(f"fact.{name}") or "").strip()
        if f["type"] == "bool":
            if raw:
                data["facts"][name] = True
            continue
        if not raw:
            continue
        if f["type"] == "enum":
            data["facts"][name] = raw
        elif f["type"] == "count":
            try:
                data["facts"][name] = int(raw)
            except ValueError:
                errors[f"facts.{name}"] = "请填写整数"
        elif f["type"] in ("money", "number"):
            try:
                d = Decimal(raw.replace(",", "").replace("，", ""))
                if not d.is_finite():
                    raise InvalidOperation
                data["facts"][name] = int(d) if d == d.to_integral_value() else d
            except InvalidOperation:
                errors[f"facts.{name}"] = "请填写数字（金额以元为单位，不写“万”）"
        else:
            data["facts"][name] = raw
        value = data["facts"].get(name)
        if value is not None and f"facts.{name}" not in errors and name in checks:
            problem = fact_problem(checks[name], value)  # every field's problem at once, not only the first
            if problem:
                errors[f"facts.{name}"] = problem
    if not data.get("violation_date") and "violation_date" not in errors:
        errors["violation_date"] = "请填写违法行为发生日期"
    if data.get("violation_date"):  # every misplaced date at once (the engine stops at the first)
        got = data.get
        for field, message in date_problems(got("violation_date"), got("violation_end_date"), got("decision_date"), got("discovered_date")):
            errors.setdefault(field, message)
    return data, errors


@router.post("/assess/{code}", response_class=HTMLResponse)
async def submit(
    request: Request, code: str, s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)]
) -> Response:
    form = await request.form()
    jurisdiction = str(form.get("jurisdiction") or "yunnan")
    if jurisdiction not in JURISDICTIONS:
        jurisdiction = "yunnan"
    today = dt.date.today()
    ctx = _form_context(s, code, today, jurisdiction)
    data, errors = _parse_form(form, ctx["facts"], ctx["checks"])
    values = {k: (form.get(k) or "") for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date", "party", "jurisdiction")}
    values.update({f"fact.{f['name']}": form.get(f"fact.{f['name']}") or "" for f in ctx["facts"]})
    chosen = set(data["circumstances"])
    if not errors:
        data["violation"] = code
        data["decision_date"] = data["decision_date"] or today
        try:
            case = Case.model_validate(data)
            a = s.engine.assess(case)
            rid = new_id()
            assert s.records is not None
            await s.records.add(rid, case.model_dump, a, a.to_json(id=rid), who)  # dumped in the store's writer
            return RedirectResponse(f"/result/{rid}", status_code=303)
        except DiscretionError as exc:
            errors[exc.field or "form"] = exc.message
        except ValidationError as exc:  # a bound of the Case model: the message goes next to its field
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"]) or "form"
                msg = str(err["msg"]).removeprefix("Value error, ")
                errors.setdefault(where, msg if any("\u4e00" <= ch <= "\u9fff" for ch in msg) else "输入无效")
    return _render(request, "form.html", status=422, values=values, errors=errors, chosen=chosen, **ctx)


def _stored(s: State, rid: str) -> dict[str, Any]:
    got = s.store.get_record(rid)  # the result with its record and the officer's decision
    if got is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    return got


ROLE_LABELS = {"handler": "承办人", "reviewer": "审核人", "admin": "管理员"}
BEIJING = dt.timezone(dt.timedelta(hours=8))


def beijing(stamp: str) -> str:
    """A stored UTC time as Beijing time, to the minute: 2026-09-01 14:05."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


TEMPLATES.env.filters["beijing"] = beijing


def decision_lines(d: dict[str, Any]) -> list[str]:
    """The officer's decision as sentences for the reasoning document."""
    amount = f"罚款人民币{d['amount']:,}元（{wan(d['amount'])}万元）" if d["amount"] else "不予罚款（0元）"
    band = f"建议裁量档次（{d['band'][0]:,}元至{d['band'][1]:,}元）"
    where = f"在{band}内" if d["within_band"] else f"不在{band}内"
    lines = [f"决定：{amount}，{where}。"]
    if d["reason"]:
        lines.append(f"理由：{d['reason']}")
    who = f"{d['decided_by']['name']}（{ROLE_LABELS.get(d['decided_by']['role'], d['decided_by']['role'])}）"
    lines.append(f"决定人：{who}；决定时间：{beijing(d['decided_at'])}（北京时间）；决定编号：{d['id']}")
    return lines


def _result_context(s: State, rid: str) -> dict[str, Any]:
    r = _stored(s, rid)
    return {"r": r, "outcomes": OUTCOMES, "regimes": REGIMES, "roles": ROLE_LABELS}


@router.get("/result/{rid}", response_class=HTMLResponse)
async def result(request: Request, rid: str, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    return _render(request, "result.html", **_result_context(s, rid))


@router.post("/result/{rid}/decision", response_class=HTMLResponse)
async def result_decide(
    request: Request, rid: str, s: Annotated[State, Depends(state)],
    who: Annotated[Principal, Depends(require("handler", "admin"))],
) -> Response:
    """The officer's decision from the result page (the same rules as POST /v1/assessments/{id}/decision)."""
    form = await request.form()
    raw = str(form.get("amount") or "").strip().replace(",", "").replace("，", "")
    reason = str(form.get("reason") or "")
    row = await asyncio.to_thread(s.store.get_row, rid)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    errors: dict[str, str] = {}
    try:
        if not raw.isdigit() or len(raw) > 13:
            raise InputError(message="请填写整数元（不写“万”），不小于 0", field="amount")
        if len(reason) > 2000 or any(ord(c) < 32 and c not in "\t\r\n" for c in reason):
            raise InputError(message="理由最多 2000 字，且不能含控制字符", field="reason")
        within, why = check_decision(row, int(raw), reason)
        await s.store.add_decision(rid, amount=int(raw), reason=why, within_band=within, who=who)
        return RedirectResponse(f"/result/{rid}", status_code=303)
    except DiscretionError as exc:
        errors[exc.field or "form"] = exc.message
    ctx = _result_context(s, rid)
    return _render(request, "result.html", status=422, decision_errors=errors,
                   decision_values={"amount": raw, "reason": reason}, **ctx)


@router.get("/cases", response_class=HTMLResponse)
async def cases(request: Request, s: Annotated[State, Depends(state)], who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    """最近案件: the current user's recent assessments, with their decisions."""
    items, _ = await asyncio.to_thread(lambda: s.store.list(handler=who.name, limit=50))
    return _render(request, "cases.html", items=items, me=who, outcomes=OUTCOMES, roles=ROLE_LABELS)


@router.get("/result/{rid}/print", response_class=HTMLResponse)
async def result_print(request: Request, rid: str, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    return _render(request, "print.html", **_result_context(s, rid))


@router.get("/result/{rid}/reasoning.docx")
async def result_docx(rid: str, s: Annotated[State, Depends(state)]) -> Response:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    r = _stored(s, rid)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(12)
    doc.add_heading("行政处罚裁量说理", level=1)
    doc.add_paragraph(f"违法行为：{r['violation']['title']}")
    doc.add_paragraph(f"处理结果：{OUTCOMES[r['outcome']]}")
    if r["fine"]:
        doc.add_paragraph(f"建议罚款：人民币{r['fine']['recommended']:,}元（{wan(r['fine']['recommended'])}万元）")
    doc.add_paragraph(r["reasoning"])
    if r.get("decision"):
        doc.add_heading("承办人决定", level=2)
        for line in decision_lines(r["decision"]):
            doc.add_paragraph(line)
    doc.add_paragraph(f"裁量基准：{r['rulebook']['title']}（{r['rulebook']['key']}，内容哈希 {r['rulebook']['sha256']}）")
    doc.add_paragraph(f"计算编号：{r['id']}")
    buf = io.BytesIO()
    doc.save(buf)
    return Response(
        buf.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="reasoning-{rid}.docx"'},
    )
