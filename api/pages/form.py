"""The handler's pages before a result: the search of violation types (``/``) and the case form
(``/assess/{code}``), which stores an assessment and goes on to its result page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from discretion.engine.case import Case
from discretion.engine.catalog import (
    GROUP_LABELS,
    circumstance_groups,
    form_facts,
    grouped,
    one_question,
    provision_citations,
    violations_on,
)
from discretion.engine.inputs import date_problems, fact_checks, fact_problem, future_problems
from discretion.engine.trail import REGIME_LABELS
from discretion.engine.identity import masked
from discretion.errors import ConflictError, DiscretionError, InputError, NotFoundError
from discretion.rulebooks.editions import in_force
from discretion.rulebooks.loaded import LoadedEdition

from ..clock import today
from ..casedata import MAX_ID_CODE, MAX_NUMBER, MAX_PARTY_NAME, MAX_PLACE, CaseIn, check, message_of, stored
from ..deps import Principal, State, check_owner, principal, state
from ..limits import unwritable
from ..storage import new_id
from ..storage.failures import StorageUnavailable
from ..storage.records import check_supersedes
from ..storage.rows import case_of, iso_z, stored_request
from .rendering import JURISDICTIONS, REGIMES, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(
    request: Request,
    s: Annotated[State, Depends(state)],
    q: Annotated[str | None, Query(max_length=100)] = None,
    on: Annotated[dt.date | None, Query()] = None,
) -> HTMLResponse:
    day = on or today()
    items = violations_on(s.engine.compiled, day, q)
    elsewhere = _elsewhere(s, day, q) if q and not items else None
    return render(request, "index.html", items=items, groups=grouped(items), q=q or "", on=day.isoformat(), elsewhere=elsewhere)


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
        le: LoadedEdition | None = in_force(s.rulebooks.editions, jurisdiction, decision)[0]
    except InputError:
        le = None
    key = le.key if le is not None else None
    v = s.rulebooks.violations[code].model
    return {
        "code": code,
        "violation": v,
        "facts": one_question(form_facts(s.engine.compiled, code, key)),
        "groups": [(g, GROUP_LABELS[g], items) for g, items in circumstance_groups(s.engine.compiled, code, le).items()],
        "regimes": REGIMES,
        "basis": provision_citations(v),
        "checks": fact_checks(s.engine.compiled.get(code, key)),  # the engine's own check of each fact
        "case_inputs": _case_inputs(),
        "edition_titles": {k: le.model.title for k, le in s.rulebooks.editions.items()},
    }


@router.get("/assess/{code}", response_class=HTMLResponse)
async def form(request: Request, code: str, s: Annotated[State, Depends(state)]) -> HTMLResponse:
    day = today()
    ctx = _form_context(s, code, day, "yunnan")
    values = {"decision_date": day.isoformat(), "jurisdiction": "yunnan", "party": "unit"}
    return render(request, "form.html", values=values, errors={}, chosen=set(), **ctx)


@router.get("/result/{rid}/edit", response_class=HTMLResponse)
async def edit(request: Request, rid: str, s: Annotated[State, Depends(state)],
               who: Annotated[Principal, Depends(principal)]) -> HTMLResponse:
    """修改后重新计算: the form of the record's violation type filled with everything the stored record
    was given (dates, party, jurisdiction, the edition asked for, facts, circumstances, the case),
    posting with ``supersedes`` = this record. Only whoever made the record may change it, and only
    its latest version (api.storage.records.check_supersedes)."""
    row = await s.store.call(s.store.get_row, rid)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {rid} 的计算结果", field="id")
    check_owner(who, row["created_by"])
    try:
        check_supersedes(row, rid, who)
    except ConflictError:  # already changed: the newer record is the one to change
        return RedirectResponse(f"/result/{row['superseded_by']}/edit", status_code=303)  # type: ignore[return-value]
    stored = stored_request(row)
    jurisdiction = str(stored.get("jurisdiction") or "yunnan")
    ctx = _form_context(s, row["violation"], today(), jurisdiction if jurisdiction in JURISDICTIONS else "yunnan")
    values, chosen, dropped = stored_values(stored, case_of(row), ctx["facts"])
    values["supersedes"] = rid
    return render(request, "form.html", values=values, errors={}, chosen=chosen, dropped=dropped,
                  replacing=_replacing(row), **ctx)


def _replacing(row: Any) -> dict[str, Any]:
    """What the form says of the record it is changing (修改后重新计算)."""
    case = case_of(row) or {}
    return {"id": row["id"], "created_at": iso_z(row["created_at"]), "number": case.get("number"), "title": row["title"],
            "decided": row.get("decision") is not None}


def stored_values(stored: dict[str, Any], case: dict[str, Any] | None,
                  facts: list[dict[str, Any]]) -> tuple[dict[str, str], set[str], list[str]]:
    """The form's values from a stored request and case (the inverse of :func:`_parse_form`), the
    circumstances to tick, and the labels of the stored facts this form does not ask (listed on it:
    they are not sent again). A personal identity number is filled in masked (pages never show one
    in full); :func:`submit` puts the stored number back when it comes back unchanged."""
    values: dict[str, str] = {k: str(stored.get(k) or "") for k in ("violation_date", "violation_end_date", "discovered_date",
                                                                    "decision_date")}
    values["party"] = str(stored.get("party") or "unit")
    values["jurisdiction"] = str(stored.get("jurisdiction") or "yunnan")
    values["edition"] = str(stored.get("edition") or "")
    case = case or {}
    party = case.get("party") or {}
    values["case.number"] = case.get("number") or ""
    values["case.address"] = case.get("address") or ""
    values["case.location"] = case.get("location") or ""
    values["case.party.name"] = party.get("name") or ""
    values["case.party.id_code"] = masked(party["id_code"], party["kind"]) if party.get("id_code") else ""
    given = dict(stored.get("facts") or {})
    asked = set()
    for f in facts:
        name = f["name"]
        if "refines" in f:  # answered in its law fact's select
            continue
        asked.add(name)
        value = given.get(name)
        if value is None:
            continue
        if f["type"] == "bool":
            values[f"fact.{name}"] = "1" if value else "0"
        elif "refined_by" in f and given.get(f["refined_by"]) is not None:
            both = f"{value}:{given[f['refined_by']]}"
            asked.add(f["refined_by"])
            values[f"fact.{name}"] = both if both in {v for v, _ in f["options"]} else str(value)
        else:
            values[f"fact.{name}"] = format(value, "f") if isinstance(value, Decimal) else str(value)
    labels = {f["name"]: f["label"] for f in facts}
    dropped = [labels.get(name, name) for name, value in given.items() if name not in asked and value is not None]
    return values, set(stored.get("circumstances") or ()), dropped


def _case_inputs() -> list[tuple[str, str, str, int]]:
    """The case's inputs on the form: (name, label, hint, maximum length)."""
    return [
        ("case.number", "案号", "如 昆环罚〔2026〕12号；可在“最近案件”中按案号检索", MAX_NUMBER),
        ("case.party.name", "当事人名称或姓名", "单位填写营业执照上的名称；个人填写姓名", MAX_PARTY_NAME),
        ("case.party.id_code", "统一社会信用代码或公民身份号码", "18 位，按校验码核验；单位填写统一社会信用代码，个人填写公民身份号码", MAX_ID_CODE),
        ("case.address", "当事人地址", "住所或经营场所", MAX_PLACE),
        ("case.location", "违法地点", "", MAX_PLACE),
    ]


SUPERSEDED_FORM = "该记录已经修改后重新计算过，不能再次修改；请打开最新的记录，在其上修改"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The case's identity (optional): each input is named by its path in the API's ``case`` object.
CASE_FIELDS = tuple(f"case.{k}" for k in ("number", "party.name", "party.id_code", "address", "location"))
_FIELDS = ("violation_date", "violation_end_date", "discovered_date", "decision_date", "party", "jurisdiction", "edition",
           *CASE_FIELDS)


def _parse_case(form: Any, party: str, errors: dict[str, str]) -> CaseIn | None:
    """The case's identity from the form, checked as the API checks ``case`` (api.casedata); its
    problems go to ``errors`` under the inputs' names. None when no field is filled in."""
    raw = {k: str(form.get(k) or "").strip() for k in CASE_FIELDS}
    if not any(raw.values()) or any(k in errors for k in CASE_FIELDS):
        return None
    data: dict[str, Any] = {"number": raw["case.number"] or None, "address": raw["case.address"] or None,
                            "location": raw["case.location"] or None}
    if raw["case.party.name"]:
        data["party"] = {"name": raw["case.party.name"], "kind": party, "id_code": raw["case.party.id_code"] or None}
    elif raw["case.party.id_code"]:
        errors["case.party.name"] = "填写证照号码的，请同时填写当事人名称"
        return None
    try:
        return check(CaseIn.model_validate(data), party)
    except ValidationError as exc:
        for err in exc.errors():
            errors.setdefault("case." + ".".join(str(x) for x in err["loc"]), message_of(err))
    except DiscretionError as exc:
        errors[exc.field or "form"] = exc.message
    return None


def _parse_form(form: Any, facts: list[dict[str, Any]], checks: dict[str, Any], day: dt.date) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    for key, value in form.multi_items():  # nothing a record may not hold (api.limits.UNWRITABLE), in any field
        if isinstance(value, str) and (problem := unwritable(value)) is not None:
            where = "facts." + key[5:] if key.startswith("fact.") else "circumstances" if key == "circumstance" else key
            errors.setdefault(where if where.startswith(("facts.", "circumstances")) or where in _FIELDS else "form", problem)
    data: dict[str, Any] = {"facts": {}, "circumstances": list(form.getlist("circumstance"))}
    for key in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
        raw = (form.get(key) or "").strip()
        if not raw:
            data[key] = None
            continue
        try:
            if not ISO_DATE.fullmatch(raw):  # date.fromisoformat also takes 20260901 and 2026-W36-1
                raise ValueError(raw)
            data[key] = dt.date.fromisoformat(raw)
        except ValueError:
            errors[key] = "日期格式应为 年-月-日，如 2026-09-01"
    data["party"] = form.get("party") or "unit"
    data["jurisdiction"] = form.get("jurisdiction") or "yunnan"
    data["edition"] = (form.get("edition") or "").strip() or None  # kept from a stored record that asked for one
    if data["party"] in ("unit", "individual"):
        data["case"] = _parse_case(form, data["party"], errors)
    for f in facts:
        name = f["name"]
        if "refines" in f:  # asked in the select of the law's fact it refines (catalog.one_question)
            continue
        raw = (form.get(f"fact.{name}") or "").strip()
        if f["type"] == "bool":  # the box ticked ("1"); "0": 否 kept from a stored record (修改后重新计算)
            sent = [str(v).strip() for v in form.getlist(f"fact.{name}")]
            if any(v and v != "0" for v in sent):
                data["facts"][name] = True
            elif "0" in sent:
                data["facts"][name] = False
            continue
        if not raw:
            continue
        if f["type"] == "enum":
            if "refined_by" in f and ":" in raw:  # “law:edition”, one answer to both
                if raw not in {value for value, _ in f["options"]}:
                    errors[f"facts.{name}"] = "取值无效，请从列表中选择"
                    continue
                raw, data["facts"][f["refined_by"]] = raw.split(":", 1)
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
        for field, message in [*future_problems(got("violation_date"), got("violation_end_date"), got("discovered_date"), day),
                               *date_problems(got("violation_date"), got("violation_end_date"), got("decision_date"), got("discovered_date"))]:
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
    day = today()
    ctx = _form_context(s, code, day, jurisdiction)
    # 修改后重新计算: the record this submission supersedes, checked first (its personal identity number,
    # shown masked on the form, comes back as the stored one)
    old, replacing, parsed = str(form.get("supersedes") or "").strip() or None, None, form
    if old is not None:
        row = await s.store.call(s.store.get_row, old)
        if row is not None:
            check_owner(who, row["created_by"])
        try:
            replacing = _replacing(check_supersedes(row, old, who))
            parsed = _with_stored_id_code(form, case_of(row))
        except ConflictError:  # changed meanwhile (another tab, another submission): say which is newer
            ctx["newer"] = row["superseded_by"] if row is not None else None
    data, errors = _parse_form(parsed, ctx["facts"], ctx["checks"], day)
    values = {k: (form.get(k) or "") for k in _FIELDS}  # as sent: a masked number stays masked
    values["supersedes"] = old or ""
    values.update({f"fact.{f['name']}": _sent(form, f) for f in ctx["facts"]})
    chosen = set(data["circumstances"])
    if ctx.get("newer"):
        errors["form"] = SUPERSEDED_FORM
    if not errors:
        data["violation"] = code
        data["decision_date"] = data["decision_date"] or day
        identity = data.pop("case", None)
        try:
            case = Case.model_validate(data)
            a = s.engine.assess(case)
            rid = new_id()
            assert s.records is not None
            # the request is dumped in the store's writer; the case's identity is kept beside it
            await s.store.wait(s.records.add(rid, case.model_dump, a, a.to_json(id=rid), who, case=stored(identity),
                                             supersedes=old))
            return RedirectResponse(f"/result/{rid}", status_code=303)
        except StorageUnavailable:
            raise  # 503, a page of its own (api/errors.py): not an error of the form
        except ConflictError as exc:
            if exc.code != "already_superseded":
                raise
            errors["form"] = SUPERSEDED_FORM  # another submission superseded it first (the writer's check)
            got = await s.store.call(s.store.get_row, old) if old else None
            ctx["newer"] = got["superseded_by"] if got else None
        except DiscretionError as exc:
            # contradictory inputs: the message beside each of them (a refining fact is asked with its law fact)
            asked_with = {f"facts.{f['refined_by']}": f"facts.{f['name']}" for f in ctx["facts"] if "refined_by" in f}
            for where in getattr(exc, "fields", ()) or (exc.field or "form",):
                errors.setdefault(asked_with.get(where, where), exc.message)
        except ValidationError as exc:  # a bound of the Case model: the message goes next to its field
            for err in exc.errors():
                where = ".".join(str(x) for x in err["loc"]) or "form"
                msg = str(err["msg"]).removeprefix("Value error, ")
                errors.setdefault(where, msg if any("\u4e00" <= ch <= "\u9fff" for ch in msg) else "输入无效")
    status = 409 if ctx.get("newer") else 422
    return render(request, "form.html", status=status, values=values, errors=errors, chosen=chosen, replacing=replacing,
                  **ctx)


def _sent(form: Any, f: dict[str, Any]) -> str:
    """A fact's input as sent, to show again: a bool's "1" (ticked) over a kept "0" (否)."""
    sent = [str(v).strip() for v in form.getlist(f"fact.{f['name']}")]
    if f["type"] == "bool":
        return "1" if any(v and v != "0" for v in sent) else "0" if "0" in sent else ""
    return str(sent[0]) if sent else ""


class _Form:
    """A submitted form with some of its values replaced (the rest as sent)."""

    def __init__(self, form: Any, replaced: dict[str, str]) -> None:
        self._form, self._replaced = form, replaced

    def get(self, key: str, default: Any = None) -> Any:
        return self._replaced[key] if key in self._replaced else self._form.get(key, default)

    def getlist(self, key: str) -> list[Any]:
        return [self._replaced[key]] if key in self._replaced else list(self._form.getlist(key))

    def multi_items(self) -> list[tuple[str, Any]]:
        return [(k, self._replaced.get(k, v)) for k, v in self._form.multi_items()]


def _with_stored_id_code(form: Any, case: dict[str, Any] | None) -> Any:
    """The form with the superseded record's personal identity number put back where the edit form
    showed it masked and it came back unchanged (the number itself never reaches the page)."""
    party = (case or {}).get("party") or {}
    code = party.get("id_code")
    sent = str(form.get("case.party.id_code") or "").strip()
    if code and sent and sent != code and sent == masked(code, party["kind"]):
        return _Form(form, {"case.party.id_code": code})
    return form
