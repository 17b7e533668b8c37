"""同案同罚: the consistency report of the decided cases and the like cases of one, shared by
``GET /v1/analytics/consistency`` (api/routes/analytics.py) and the page ``/review/consistency``
(api/pages/consistency.py); their charts and export files are in api/consistency_files.py.

The filters are checked here (422 with the field: an unknown violation type, group, jurisdiction or
edition, a period that ends before it starts); the counts come from the database's aggregation
(api/storage/analytics.py, run in threads through ``Store.call``), the figures from
discretion/review/analytics.py. What a caller sees is decided here, for the API and the page alike:
a **handler** gets their own figures beside the bureau's and nothing that names another handler
(asking for another handler is 403); reviewers and admins get every handler. docs/consistency.md
explains the figures, the thresholds and the distance.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from fastapi import Query

from discretion.errors import ForbiddenError, InputError, NotFoundError
from discretion.review import analytics as stats
from discretion.rulebooks.loaded import RulebookSet

from .deps import LOCAL, SUPERVISORS, Principal, State, check_owner
from .pages.rendering import JURISDICTIONS
from .storage import analytics as sql
from .storage.decided import SCALE

LAW_PREFIX = "中华人民共和国"
TOP_REASONS = 3  # reasons shown per violation type (the export lists them all)
LIKE_CASES = 10  # like cases shown for one decided case
CUBE_PARTS = 2  # the cube is counted in this many parts at once, on separate connections (both cores)
MAX_LIKE = 50
Printable = r"^[^\x00-\x1f\x7f]+$"
REGIME_LABELS = {"pre2026": "单行法", "code2026": "《生态环境法典》"}
PARTY_LABELS = {"unit": "单位", "individual": "个人"}
SIDE_LABELS = {-1: "低于建议档次", 0: "档次内", 1: "高于建议档次"}
DATA_LABELS = {"real": "真实案件", "synthetic": "合成数据（非真实案件）", "all": "真实案件与合成数据"}


def law_groups(rs: RulebookSet) -> dict[str, tuple[str, ...]]:
    """The violation groups: each law a type's provisions cite under the single laws (before
    2026-08-15, when each type had its own law), named without 中华人民共和国; a type whose
    provisions cite several laws is in each of their groups."""
    groups: dict[str, set[str]] = {}
    for code, lv in rs.violations.items():
        rules = lv.model.regimes.get("pre2026")
        for p in rules.provisions if rules else ():
            groups.setdefault(p.basis.ref.law.removeprefix(LAW_PREFIX), set()).add(code)
    return {name: tuple(sorted(codes)) for name, codes in sorted(groups.items())}


def jurisdictions(rs: RulebookSet) -> list[str]:
    """The jurisdictions the loaded editions are for (yunnan, yunnan/kunming …)."""
    return sorted({le.model.id for le in rs.editions.values()})


@dataclass(frozen=True)
class Filters:
    """The report's filters as asked (see :func:`filters`)."""

    since: dt.date | None = None
    until: dt.date | None = None
    violation: str | None = None
    group: str | None = None
    jurisdiction: str | None = None
    handler: str | None = None
    edition: str | None = None
    data: sql.Data = "real"

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links to exports and charts), unset ones left out."""
        names = {"since": "from", "until": "to"}
        return {names.get(k, k): (v.isoformat() if isinstance(v, dt.date) else str(v))
                for k, v in asdict(self).items() if v is not None and not (k == "data" and v == "real")}


def filters(
    date_from: Annotated[dt.date | None, Query(alias="from", description="起始日期（决定日，北京时间，含当日）")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to", description="截止日期（决定日，北京时间，含当日）")] = None,
    violation: Annotated[str | None, Query(max_length=80, pattern=Printable, description="违法行为代码")] = None,
    group: Annotated[str | None, Query(max_length=40, pattern=Printable,
                                       description="违法行为组：2026年8月15日前所依据的单行法（不含“中华人民共和国”），如 水污染防治法")] = None,
    jurisdiction: Annotated[str | None, Query(max_length=80, pattern=Printable, description="辖区，如 yunnan、yunnan/kunming")] = None,
    handler: Annotated[str | None, Query(max_length=64, pattern=Printable,
                                         description="承办人（用户名）：其数字与全局并列；承办人只能查询本人")] = None,
    edition: Annotated[str | None, Query(max_length=80, pattern=Printable, description="裁量基准版本，如 yunnan@2023")] = None,
    data: Annotated[sql.Data, Query(description="real 真实案件（默认）；synthetic 合成数据；all 两者")] = "real",
) -> Filters:
    """The report's filters from the query string (a dependency of the route and the page)."""
    return Filters(date_from, date_to, violation or None, group or None, jurisdiction or None, handler or None,
                   edition or None, data)


def labeller(rs: RulebookSet) -> Callable[[str, str], str]:
    """A filter's value in Chinese (a violation type's title, a jurisdiction's name …), for files and pages."""
    def label(name: str, value: str) -> str:
        if name == "violation":
            lv = rs.violations.get(value)
            return lv.model.title if lv else value
        if name == "jurisdiction":
            return JURISDICTIONS.get(value, value)
        if name == "edition":
            le = rs.editions.get(value)
            return le.model.title if le else value
        if name == "data":
            return DATA_LABELS.get(value, value)
        if name == "handler":
            return "本机操作员" if value == LOCAL.name else value
        return value

    return label


def scope_of(rs: RulebookSet, f: Filters) -> sql.Scope:
    """The SQL scope of the filters, checked against the loaded rulebooks (422 naming the field)."""
    if f.since is not None and f.until is not None and f.until < f.since:
        raise InputError(message="截止日期早于起始日期", code="invalid_period", field="to")
    codes: tuple[str, ...] | None = None
    if f.violation is not None:
        if f.violation not in rs.violations:
            raise InputError(message=f"未知的违法行为代码：{f.violation}", code="unknown_violation", field="violation")
        codes = (f.violation,)
    if f.group is not None:
        groups = law_groups(rs)
        if f.group not in groups:
            raise InputError(message=f"未知的违法行为组：{f.group}（可选：{'、'.join(groups)}）", code="unknown_group", field="group")
        codes = tuple(c for c in groups[f.group] if codes is None or c in codes)
    if f.jurisdiction is not None and f.jurisdiction not in jurisdictions(rs):
        raise InputError(message=f"未知的辖区：{f.jurisdiction}", code="unknown_jurisdiction", field="jurisdiction")
    if f.edition is not None and f.edition not in rs.editions:
        raise InputError(message=f"未知的裁量基准版本：{f.edition}", code="unknown_edition", field="edition")
    return sql.Scope(f.data, f.since, f.until, codes, f.jurisdiction, f.edition)


def focus_of(who: Principal, handler: str | None) -> str | None:
    """Whose figures stand beside the bureau's: a handler's own always (asking for another's is 403
    ``forbidden``), a supervisor's choice (None: nobody's)."""
    if who.role in SUPERVISORS:
        return handler
    if handler is not None and handler != who.name:
        raise ForbiddenError(message="承办人只能查看本人的数字与全局的对比，不能查看其他承办人", field="handler")
    return who.name


def plain(v: Any) -> Any:
    """Decimals as JSON numbers (percentages, rounded already), through dicts and lists."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def method() -> dict[str, Any]:
    """How the figures are computed (docs/consistency.md)."""
    return {
        "position": "决定数额在法定幅度中的位置：(决定数额 − 法定最低额) ÷ (法定最高额 − 法定最低额)，以百分数计；"
                    "分位数按 1 个百分点的分组在数据库中计数后线性插值，误差不超过 1 个百分点",
        "departure": "偏离：每件案件的位置减去全局同一违法行为类型的中位位置（取整），承办人取其中位数",
        "expected": "预期比例：全局各违法行为类型的比例按该承办人各类型的件数加权",
        "flag": f"至少 {stats.MIN_CASES} 件时提示：档次外比例与预期相差超过 {stats.RATE_THRESHOLD} 个百分点，"
                f"或偏离的中位数超过 ±{stats.MEDIAN_THRESHOLD} 个百分点；提示表示值得查看，不表示决定有误",
        "min_cases": stats.MIN_CASES,
        "rate_threshold_pct": stats.RATE_THRESHOLD,
        "median_threshold_pct": stats.MEDIAN_THRESHOLD,
        "bin_pct": 1,
    }


def _month(m: int) -> str:
    return f"{m // 100:04d}-{m % 100:02d}"


def _timeline(rows: list[tuple[int, int, int]], mine: list[tuple[int, int, int]] | None) -> list[dict[str, Any]]:
    months: dict[int, dict[str, Any]] = {}
    for source, key in ((rows, "all"), (mine or [], "mine")):
        for m, side, n in source:
            item = months.setdefault(m, {"all": [0, 0, 0], "mine": [0, 0, 0]})
            item[key][side + 1] += n
    out = []
    for m in sorted(months):
        a, b = months[m]["all"], months[m]["mine"]
        entry: dict[str, Any] = {"month": _month(m), "cases": sum(a), "below": a[0], "above": a[2],
                                 "outside_rate_pct": stats.pct(stats.share(a[0] + a[2], sum(a)))}
        entry["mine"] = None if mine is None else {"cases": sum(b), "below": b[0], "above": b[2],
                                                   "outside_rate_pct": stats.pct(stats.share(b[0] + b[2], sum(b)))}
        out.append(entry)
    return out


def build(rs: RulebookSet, f: Filters, who: Principal, focus: str | None, summary: stats.Summary,
          reasons: list[tuple[str, str, int]], timeline: list[tuple[int, int, int]],
          mine_timeline: list[tuple[int, int, int]] | None) -> dict[str, Any]:
    """The report from the aggregates (plain data: the API answers it, the page shows it)."""
    handler_view = who.role not in SUPERVISORS
    titles = {code: lv.model.title for code, lv in rs.violations.items()}
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for code, text, n in reasons:
        by_reason.setdefault(code, []).append({"reason": text, "cases": n})
    violations = []
    for code, tally in sorted(summary.by_type.items(), key=lambda kv: (-kv[1].cases, kv[0])):
        item = {"violation": code, "title": titles.get(code, code), **tally.figures(), "reasons": by_reason.get(code, [])}
        cell = None if focus is None else summary.cells.get((code, focus))
        item["mine"] = None if cell is None else cell.figures()
        violations.append(item)
    if handler_view:
        names = [who.name]
    else:
        names = sorted(summary.by_handler)
    compared = {h: summary.compare(h).figures() for h in {*names, *([focus] if focus else [])}}
    handlers = sorted((compared[h] for h in names), key=lambda h: (not h["flags"], -h["cases"], h["name"]))
    bureau = {**summary.bureau.figures(),
              "departure_pct": {k: stats.pct(stats.quantile(summary.bureau_departures(), q)) for k, q in stats.QUANTILES.items()}}
    return plain({
        "view": "handler" if handler_view else "bureau",
        "filters": {"from": f.since.isoformat() if f.since else None, "to": f.until.isoformat() if f.until else None,
                    "violation": f.violation, "group": f.group, "jurisdiction": f.jurisdiction, "handler": focus,
                    "edition": f.edition, "data": f.data},
        "method": method(),
        "bureau": bureau,
        "focus": None if focus is None else compared[focus],
        "violations": violations,
        "handlers": handlers,
        "flagged": sum(1 for h in handlers if h["flags"]),
        "timeline": _timeline(timeline, mine_timeline),
    })


async def report(s: State, who: Principal, f: Filters, top: int | None = TOP_REASONS) -> dict[str, Any]:
    """The consistency report for ``who`` (see the module's docstring); ``top``: reasons per type (None: all)."""
    scope = scope_of(s.rulebooks, f)
    focus = focus_of(who, f.handler)
    engine = s.store.engine
    cubes = sql.parts(scope.violations or list(s.rulebooks.violations), CUBE_PARTS)
    jobs = [s.store.call(sql.timeline, engine, scope), s.store.call(sql.reasons, engine, scope, focus, top),  # a focus: that handler's reasons only
            s.store.call(sql.timeline, engine, scope, focus) if focus is not None else asyncio.sleep(0, None),
            *(s.store.call(sql.cube, engine, scope, part) for part in cubes)]
    timeline, reasons, mine, *counted = await asyncio.gather(*jobs)
    summary = stats.summarise(row for rows in counted for row in rows)
    return build(s.rulebooks, f, who, focus, summary, reasons, timeline, mine)


# --- like cases -----------------------------------------------------------------------------------


def _factor_labels(rs: RulebookSet, edition: str, violation: str) -> dict[str, tuple[str, dict[int, str]]]:
    le = rs.editions.get(edition)
    if le is None:
        return {}
    eff = le.effective
    vb = eff.violations.get(violation)
    factors = [*(vb.factors if vb else ()), *eff.common_factors]
    return {f.id: (f.label, {lv.level: lv.label for lv in f.levels}) for f in factors}


def describe(rs: RulebookSet, row: Mapping[str, Any], visible: bool) -> dict[str, Any]:
    """A decided case as the like-case view shows it; ``visible``: whether the caller may see who
    decided it and open its record (a handler: their own cases only)."""
    feats = stats.parse_features(row["features"])
    labels = _factor_labels(rs, row["edition"], row["violation"])
    factors = []
    for fid, (level, score) in sorted(feats.factors.items()):
        label, levels = labels.get(fid, (fid, {}))
        factors.append({"factor": fid, "label": label, "level": level, "level_label": levels.get(level), "score": float(score)})
    circumstances = [{"id": c, "label": rs.circumstances[c].label if c in rs.circumstances else c}
                     for c in sorted(feats.circumstances)]
    lv = rs.violations.get(row["violation"])
    position = row["position"]
    return {
        "ref": row["ref"] if visible else None,
        "synthetic": bool(row["synthetic"]),
        "handler": row["handler"] if visible else None,
        "violation": row["violation"],
        "title": lv.model.title if lv else row["violation"],
        "regime": row["regime"],
        "party": row["party"],
        "jurisdiction": row["jurisdiction"],
        "edition": row["edition"],
        "outcome": row["outcome"],
        "decided_on": row["decided_on"].isoformat(),
        "legal_range": [row["legal_min"], row["legal_max"]],
        "band": None if row["band_min"] is None else [row["band_min"], row["band_max"]],
        "recommended": row["recommended"],
        "amount": row["amount"],
        "position_pct": None if position is None else float(stats.pct(Fraction(100 * position, SCALE))),  # type: ignore[arg-type]
        "side": row["side"],
        "waived": bool(row["waived"]),
        "reason": row["reason"],
        "factors": factors,
        "circumstances": circumstances,
    }


def _difference(rs: RulebookSet, chosen: Mapping[str, Any], d: stats.Distance) -> dict[str, Any]:
    labels = _factor_labels(rs, chosen["edition"], chosen["violation"])
    label = {c: rs.circumstances[c].label if c in rs.circumstances else c for c in d.only_here | d.only_there}
    return {
        "distance": float(stats.pct(d.total, 2)),  # type: ignore[arg-type]
        "factors": [{"factor": f, "label": labels.get(f, (f, {}))[0], "level_here": a, "level_there": b}
                    for f, (a, b) in d.factors.items()],
        "only_here": [{"id": c, "label": label[c]} for c in sorted(d.only_here)],
        "only_there": [{"id": c, "label": label[c]} for c in sorted(d.only_there)],
        "legal_range_differs": d.range_differs,
    }


async def like_cases(s: State, who: Principal, ref: str, k: int = LIKE_CASES) -> dict[str, Any]:
    """The ``k`` decided cases most like the decided case ``ref`` (an assessment id, or a synthetic
    reference): same violation type, regime and kind of party, of the same data (real or
    synthetic), nearest by :func:`discretion.review.analytics.distance`, the most recent first
    among equals. 404 when ``ref`` has no decision; a handler may ask about their own cases only."""
    engine = s.store.engine
    row = await s.store.call(sql.record, engine, ref)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {ref} 的已决定案件（尚未记录决定，或编号有误）", field="id")
    check_owner(who, row["handler"])
    chosen = stats.parse_features(row["features"])
    near = stats.nearest(chosen, await s.store.call(sql.profiles, engine, row), k)
    rows = await s.store.call(sql.with_profile, engine, row, [text for text, _, _ in near], k)
    dist = {text: d for text, d, _ in near}
    rows.sort(key=lambda r: (dist[r["features"]].total, r["features"], -r["decided_on"].toordinal(), -r["id"]))
    rs = s.rulebooks
    supervisor = who.role in SUPERVISORS
    like = []
    for r in rows[:k]:
        like.append({**describe(rs, r, supervisor or r["handler"] == who.name),
                     "difference": _difference(rs, row, dist[r["features"]])})
    positions = [x["position_pct"] for x in like if x["position_pct"] is not None]
    return {
        "record": describe(rs, row, True),
        "like": like,
        "positions_pct": None if not positions else {"min": min(positions), "max": max(positions),
                                                    "median": round(statistics.median(positions), 1)},
        "method": "相似案件：同一违法行为类型、同一适用法律、同类当事人（单位或个人）、同为真实案件（或同为合成数据）的已决定案件，"
                  "按距离由近到远：两案都有的每个裁量因子，其等级分值之差（0 至 1）计入；只有一案具有的每个情节计 1；"
                  "法定幅度不同计 1。距离相同的，决定在后的在前。",
    }
