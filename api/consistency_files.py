"""The consistency report (api/consistency.py) as charts and as tables to download, for the API and
the page alike: three SVG charts (discretion/review/analytics_chart.py) and four tables (by
violation type, by handler, the reasons given outside the band, the timeline) as CSV (one table,
Chinese headers) or XLSX (every table, one sheet each, after a sheet of the filters and the method).
Every text cell is written formula-safe (discretion.review.casefile.formula_safe): a reason or a
name starting with = + - @, a tab or a carriage return stays text in the spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from discretion.review import analytics as stats
from discretion.review import analytics_chart as charts
from discretion.review import casefile

from .deps import LOCAL

Chart = Literal["types", "handlers", "timeline"]
Table = Literal["violations", "handlers", "reasons", "timeline"]
CHARTS: tuple[Chart, ...] = ("types", "handlers", "timeline")
TABLES: dict[str, str] = {"violations": "按违法行为", "handlers": "按承办人", "reasons": "档次外理由", "timeline": "时间线"}
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MIN_BOX = 5  # cases with a position before a box is drawn
LOCAL_LABEL = "本机操作员"


def person(name: str | None) -> str:
    """A handler's name as people read it (the operator of a service without auth is 本机操作员)."""
    return LOCAL_LABEL if name == LOCAL.name else (name or "")


def _short(title: str, n: int = 16) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"


def _box(label: str, figures: dict[str, Any] | None, key: str, kind: str = "") -> charts.Box:
    """A box of the report's figures; ``kind``: "marked" (a flag, red) or "mine" (the focused handler, blue)."""
    f = figures or {}
    return charts.Box.of(label, f.get(key) or {}, int(f.get("with_position", 0)), marked=kind == "marked", mine=kind == "mine")


def chart(report: dict[str, Any], which: Chart) -> str:
    """One chart of the report as SVG markup."""
    mine = report["view"] == "handler"
    if which == "types":
        rows = []
        for v in report["violations"]:
            if v["with_position"] < MIN_BOX:
                continue
            rows.append(_box(_short(v["title"]) + ("·全局" if v.get("mine") else ""), v, "position_pct"))
            m = v.get("mine")
            if m and m["with_position"] >= MIN_BOX:
                rows.append(_box(_short(v["title"]) + ("·本人" if mine else "·" + person(report["filters"]["handler"])), m,
                                 "position_pct", "mine"))
        return charts.boxes(rows, "决定数额在法定幅度中的位置（按违法行为类型）",
                            "法定幅度中的位置（%；0 为法定最低额，100 为法定最高额）", reference=_box("全局", report["bureau"], "position_pct"),
                            lines=(0, 100))
    if which == "handlers":
        focus = report["filters"]["handler"]
        rows = [_box(("本人" if mine else person(h["name"])), h, "departure_pct",
                     "marked" if any(f["code"].startswith("position") for f in h["flags"]) else "mine" if h["name"] == focus else "")
                for h in report["handlers"] if h["with_position"] >= MIN_BOX]
        t = stats.MEDIAN_THRESHOLD
        return charts.boxes(rows, "相对全局同类案件中位位置的偏离（按承办人）",
                            "偏离（百分点；正为高于同类案件的中位位置）",
                            reference=_box("全局", report["bureau"], "departure_pct"), lines=(-t, 0, t),
                            salt="discretion-consistency-handlers")
    months = [charts.Month(m["month"], m["cases"], m["below"], m["above"],
                           None if not m.get("mine") or not m["mine"]["cases"] else Decimal(str(m["mine"]["outside_rate_pct"])))
              for m in report["timeline"]]
    return charts.timeline(months, "档次外决定的时间线（按月）")


# --- tables ---------------------------------------------------------------------------------------

Q = (("p5", "第5百分位"), ("p25", "第25百分位"), ("median", "中位数"), ("p75", "第75百分位"), ("p95", "第95百分位"))


def _figure_columns(prefix: str = "", label: str = "") -> list[tuple[str, str]]:
    return [(f"{prefix}cases", f"{label}决定件数"), (f"{prefix}with_position", f"{label}有法定幅度的件数"),
            *((f"{prefix}position_{k}", f"{label}位置{v}（%）") for k, v in Q),
            (f"{prefix}below", f"{label}低于档次"), (f"{prefix}inside", f"{label}档次内"), (f"{prefix}above", f"{label}高于档次"),
            (f"{prefix}outside_rate_pct", f"{label}档次外比例（%）"), (f"{prefix}waived", f"{label}不予处罚件数"),
            (f"{prefix}waiver_rate_pct", f"{label}不予处罚比例（%）")]


def _flat(f: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    if not f:
        return {}
    out = {f"{prefix}{k}": v for k, v in f.items() if not isinstance(v, (dict, list))}
    out.update({f"{prefix}position_{k}": v for k, v in (f.get("position_pct") or {}).items()})
    return out


def tables(report: dict[str, Any]) -> dict[str, tuple[casefile.Columns, list[dict[str, Any]]]]:
    """The report's tables: name → (columns (id, Chinese label), rows). ``reasons`` lists every
    reason the report holds (ask the report with ``top=None`` for all of them)."""
    focus = report["filters"]["handler"]
    own = "本人" if report["view"] == "handler" else (person(focus) if focus else "")
    vcols = [("title", "违法行为"), ("violation", "违法行为代码"), *_figure_columns(label="全局")]
    if focus:
        vcols += _figure_columns("mine_", own)
    vrows = [{**_flat(v), **_flat(v.get("mine"), "mine_"), "title": v["title"], "violation": v["violation"]}
             for v in report["violations"]]
    hcols = [("name", "承办人"), *_figure_columns(),
             *((f"departure_{k}", f"偏离{v}（百分点）") for k, v in Q),
             ("expected_outside_rate_pct", "全局同类型结构的档次外比例（%）"), ("outside_gap_pct", "档次外比例之差（百分点）"),
             ("expected_waiver_rate_pct", "全局同类型结构的不予处罚比例（%）"), ("flags", "提示")]
    hrows = [{**_flat(h), **{f"departure_{k}": v for k, v in h["departure_pct"].items()},
              "name": "本人" if report["view"] == "handler" else person(h["name"]),
              "flags": "；".join(x["label"] for x in h["flags"])} for h in report["handlers"]]
    rcols = [("title", "违法行为"), ("violation", "违法行为代码"), ("reason", "理由"), ("cases", "件数")]
    rrows = [{"title": v["title"], "violation": v["violation"], "reason": r["reason"], "cases": r["cases"]}
             for v in report["violations"] for r in v["reasons"]]
    tcols = [("month", "月份"), ("cases", "决定件数"), ("below", "低于档次"), ("above", "高于档次"), ("outside_rate_pct", "档次外比例（%）")]
    if focus:
        tcols += [("mine_cases", f"{own}决定件数"), ("mine_outside_rate_pct", f"{own}档次外比例（%）")]
    trows = [{**{k: v for k, v in m.items() if k != "mine"}, **{f"mine_{k}": v for k, v in (m.get("mine") or {}).items()}}
             for m in report["timeline"]]
    return {"violations": (vcols, vrows), "handlers": (hcols, hrows), "reasons": (rcols, rrows), "timeline": (tcols, trows)}


def about(report: dict[str, Any], labels: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """The first sheet of the workbook: the filters (``labels(name, value)`` names a value in
    Chinese) and how the figures are computed."""
    f = report["filters"]
    names = {"from": "起始日期", "to": "截止日期", "violation": "违法行为", "group": "违法行为组", "jurisdiction": "辖区",
             "handler": "承办人", "edition": "裁量基准版本", "data": "数据"}
    rows = [{"item": names[k], "value": labels(k, v) if v is not None else "全部"} for k, v in f.items() if k in names]
    m = report["method"]
    rows += [{"item": "位置", "value": m["position"]}, {"item": "偏离", "value": m["departure"]},
             {"item": "预期比例", "value": m["expected"]}, {"item": "提示", "value": m["flag"]}]
    return rows


def export(report: dict[str, Any], fmt: str, table: str | None, labels: Callable[[str, str], str]) -> bytes:
    """The report's tables as a file: CSV (``table``, one of :data:`TABLES`) or XLSX (every table)."""
    all_tables = tables(report)
    buf = io.BytesIO()
    if fmt == "csv":
        cols, rows = all_tables[table or "violations"]
        casefile.write_table(buf, cols, rows, fmt="csv", csv_labels=True)
    else:
        sheets = [(TABLES[name], cols, rows) for name, (cols, rows) in all_tables.items()]
        casefile.write_table(buf, [("item", "项目"), ("value", "内容")], about(report, labels), fmt="xlsx", sheet="说明",
                             note="同案同罚：裁量一致性统计", extra=sheets)
    return buf.getvalue()
