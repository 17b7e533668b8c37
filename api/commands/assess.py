"""``discretion assess``: the penalty of one case, as text or as the API's JSON."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from discretion.engine.case import Case
from discretion.engine.money import yuan_text
from discretion.errors import DiscretionError, InputError

from ..casedata import CaseIn, lines, message_of, settle, stored
from ..clock import refuse_future, today
from ..limits import UNWRITABLE_MESSAGE
from ._common import date_arg, load_engine, print_json


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes", "是"):
        return True
    if low in ("false", "no", "否"):
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        d = Decimal(text)
        if d.is_finite():
            return d
    except InvalidOperation:
        pass
    return text


def _identity(raw: Any) -> CaseIn | None:
    """The input's optional ``case`` object (the case's identity), taken out of ``raw`` and checked
    as the API checks it (api.casedata); ``raw["party"]`` is taken from it when not given."""
    if not isinstance(raw, dict) or raw.get("case") is None:
        if isinstance(raw, dict):
            raw.pop("case", None)
        return None
    try:
        case = CaseIn.model_validate(raw.pop("case"))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(["case", *(str(x) for x in err["loc"])])
        code = "invalid_character" if str(err["msg"]).removeprefix("Value error, ").startswith(UNWRITABLE_MESSAGE) else "invalid_input"
        raise InputError(message=message_of(err), code=code, field=where) from None
    case, party = settle(case, raw.get("party"))
    if party is not None:
        raw["party"] = party
    return case


def _case_from_args(args: argparse.Namespace) -> tuple[Case, CaseIn | None]:
    if args.input:
        raw = json.loads(Path(args.input).read_text(encoding="utf-8"), parse_float=Decimal)
        identity = _identity(raw)
        if isinstance(raw, dict) and raw.get("decision_date") is None:
            raw["decision_date"] = today()  # not the library's default: the day in China
        return refuse_future(Case.model_validate(raw)), identity
    if not args.violation or not args.violation_date:
        raise DiscretionError(message="须给出 --violation 和 --violation-date，或者 --input 文件", code="invalid_input")
    facts: dict[str, Any] = {}
    for item in args.fact or []:
        if "=" not in item:
            raise DiscretionError(message=f"事实须写成 名称=值：{item}", code="invalid_input", field="fact")
        k, v = item.split("=", 1)
        facts[k.strip()] = _value(v.strip())
    data: dict[str, Any] = {
        "violation": args.violation,
        "jurisdiction": args.jurisdiction,
        "party": args.party,
        "facts": facts,
        "circumstances": args.circumstance or [],
        "violation_date": args.violation_date,
        "violation_end_date": args.end_date,
        "discovered_date": args.discovered_date,
        "decision_date": args.decision_date or today(),
        "edition": args.edition,
    }
    return refuse_future(Case.model_validate(data)), None


def cmd_assess(args: argparse.Namespace) -> int:
    engine = load_engine(args)
    case, identity = _case_from_args(args)
    a = engine.assess(case)
    if args.format == "json":  # the result, and the case's identity as a record keeps it
        print_json(a.to_dict() if identity is None else {**a.to_dict(), "case": stored(identity)})
        return 0
    d = a.to_dict()
    outcome = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限，不再处罚"}[a.outcome]
    for label, text in lines(stored(identity), mask=True):  # a personal identity number masked, as on the pages
        print(f"{label}：{text}")
    print(f"违法行为：{a.title}（{case.violation}）")
    print(f"处理结果：{outcome}")
    print(f"适用法律：{d['law']['regime_title']}；依据：{'、'.join(b['citation'] for b in d['law']['basis']) or '—'}")
    if d["fine"]:
        f = d["fine"]
        mx = "不设上限" if f["legal_max"] is None else yuan_text(f["legal_max"])
        print(f"法定幅度：{yuan_text(f['legal_min'])} 至 {mx}")
        print(f"裁量档次：{yuan_text(f['band'][0])} 至 {yuan_text(f['band'][1])}")
        print(f"建议罚款：{yuan_text(f['recommended'])}")
    for ind in d["individual_fines"]:
        rec = "—" if ind["recommended"] is None else yuan_text(ind["recommended"])
        print(f"对个人罚款：{ind['role']}，建议 {rec}")
    if d["measures"]:
        print("措施：" + "；".join(m["text"] for m in d["measures"]))
    if d["flags"]:
        print("提示：" + "；".join(fl["label"] for fl in d["flags"]))
    for x in d["factors_defaulted"]:
        print(f"按默认等级计算的因子：{x['label']}，{x['reason']}")
    for x in d["circumstances_not_applied"]:
        print(f"未予适用的情节：{x['label']}（{x['reason']}）")
    for x in d["facts_not_applied"]:
        print(f"未予适用的事实：{x['label']}（{x['reason']}）")
    print(f"裁量基准：{d['rulebook']['title']}（{d['rulebook']['key']}，sha256 {d['rulebook']['sha256'][:12]}…）")
    print()
    print("计算过程：")
    for i, s in enumerate(a.trail, 1):
        basis = f"（{'、'.join(s.basis)}）" if s.basis else ""
        print(f"  {i}. {s.text}{basis}")
    print()
    print("说理：")
    print(a.reasoning)
    return 0


def register(sub: Any) -> None:
    a = sub.add_parser("assess", help="计算一个案件的处罚")
    a.add_argument("--input", help="案件 JSON 文件（API 的 assessment 输入格式，可含 case：案号、当事人、地址、违法地点）")
    a.add_argument("--violation", help="违法行为代码，见 discretion violations")
    a.add_argument("--fact", action="append", metavar="名称=值", help="事实，可多次给出")
    a.add_argument("--circumstance", action="append", metavar="情节", help="情节，可多次给出")
    a.add_argument("--violation-date", type=date_arg)
    a.add_argument("--end-date", type=date_arg, help="连续或继续状态的违法行为终了日期")
    a.add_argument("--discovered-date", type=date_arg)
    a.add_argument("--decision-date", type=date_arg, help="默认为今天")
    a.add_argument("--jurisdiction", default="yunnan")
    a.add_argument("--party", choices=["unit", "individual"], default="unit")
    a.add_argument("--edition", help="指定裁量基准版本（如 yunnan@2026-draft，用于审查草案）")
    a.add_argument("--format", choices=["text", "json"], default="text")
    a.add_argument("--matcher", choices=["durable", "reference"], default="durable")
    a.set_defaults(func=cmd_assess)
