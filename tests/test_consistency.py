"""同案同罚 (api/consistency.py, GET /v1/analytics/consistency, /review/consistency, /consistency): the
figures of seeded decided cases, worked by hand; the filters; what each role sees (a handler never
another handler's name or figures, by the API as by the page); the like cases; formula-safe exports;
the charts. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from dbfixtures import BACKENDS, Databases
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from xml.etree import ElementTree

from api.main import create_app
from api.settings import Settings
from api.storage.decided import insert_rows, reason_key
from discretion.errors import DiscretionError
from discretion.review import analytics_chart, chart
from tests.test_web import IDENTIFIER, handler_text

W, A = "water_over_standard", "air_over_standard"
F1 = "f=area:1:0,exceedance:3:0.5|c=confessed|r=100000-1000000"
F2 = "f=area:2:0.25,exceedance:3:0.5|c=confessed|r=100000-1000000"  # 0.25 from F1 (area)
F3 = "f=area:1:0,exceedance:3:0.5|c=|r=100000-1000000"  # 1 from F1 (confessed)
REF = {n: f"{n:024x}" for n in range(1, 9)}


def row(n: int, handler: str, violation: str, amount: int, day: str, *, position: int | None, side: int,
        reason: str | None = None, features: str = F1, regime: str = "pre2026", party: str = "unit",
        jurisdiction: str = "yunnan", edition: str = "yunnan@2023", synthetic: bool = False) -> dict[str, Any]:
    """A decided case in the range 100,000–1,000,000 with the band 100,000–280,000 (position and bin as given)."""
    d = dt.date.fromisoformat(day)
    waived = position is None
    return {"ref": f"SYN-9-{n}" if synthetic else REF[n], "synthetic": synthetic, "decided_on": d, "month": d.year * 100 + d.month,
            "violation": violation, "regime": regime, "jurisdiction": jurisdiction, "edition": edition, "handler": handler,
            "party": party, "outcome": "no_penalty" if waived else "penalty", "legal_min": None if waived else 100_000,
            "legal_max": None if waived else 1_000_000, "band_min": None if waived else 100_000,
            "band_max": None if waived else 280_000, "recommended": None if waived else 136_000, "amount": amount,
            "position": position, "bin": None if position is None else position // 100 if position >= 0 else -((-position + 99) // 100),
            "side": side, "waived": waived, "reason": reason, "reason_key": reason_key(reason, side), "features": features}


# Positions by hand: (amount − 100,000) / 900,000 in basis points.
SEED = [
    row(1, "li", W, 136_000, "2026-09-10", position=400, side=0),  # 4.00 %, bin 4
    row(2, "li", W, 190_000, "2026-09-20", position=1_000, side=0, features=F2),  # 10.00 %, bin 10
    row(3, "li", W, 300_000, "2026-10-05", position=2_222, side=1, reason="=违法情节严重", features=F3),  # 22.22 %, bin 22
    row(4, "zhang", W, 100_000, "2026-10-15", position=0, side=0, jurisdiction="yunnan/kunming", edition="yunnan/kunming@2021"),
    row(5, "zhang", W, 90_000, "2026-11-02", position=-111, side=-1, reason="经集体讨论从轻", regime="code2026"),  # bin −2
    row(6, "zhang", A, 0, "2026-11-03", position=None, side=0),  # 不予处罚
    row(7, "zhang", W, 150_000, "2026-11-04", position=556, side=0, party="individual"),  # a person: never like #1
    row(8, "合成承办人01", W, 1_000_000, "2026-11-05", position=10_000, side=1, reason="合成", synthetic=True),
]


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, databases: Databases) -> Iterator[dict[str, Any]]:
    """The service with auth on a fresh database of each backend, the seeded cases, and a token per account."""
    app = create_app(Settings(database_url=databases.new(request.param), auth=True))
    store = app.state.discretion.store
    with store.engine.begin() as conn:
        insert_rows(conn, SEED)
    access = app.state.access.store
    tokens = {name: access.create_token(name, role, "tests")[1]
              for name, role in (("li", "handler"), ("zhang", "handler"), ("shen", "reviewer"), ("guan", "admin"))}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield {"client": client, "tokens": tokens, "app": app}


def get(env: dict[str, Any], who: str, path: str, **params: Any) -> Any:
    return env["client"].get(path, params=params, headers={"Authorization": f"Bearer {env['tokens'][who]}"})


def test_the_bureau_and_each_type_have_the_figures_worked_by_hand(env: dict[str, Any]) -> None:
    """Real cases only (the synthetic one left out): 7 decided, 1 below and 1 above the band (2/7 =
    28.6 %), 1 waived (14.3 %); positions −1.11, 0, 4, 5.56, 10, 22.22 % in bins −2, 0, 4, 5, 10, 22:
    the median is bin 4's end (3 of 6 cases), 5.0 %. Water: 6 cases, 33.3 % outside; air: 1, waived."""
    r = get(env, "shen", "/v1/analytics/consistency").json()
    b = r["bureau"]
    assert (b["cases"], b["with_position"], b["below"], b["inside"], b["above"], b["waived"]) == (7, 6, 1, 5, 1, 1)
    assert (b["outside_rate_pct"], b["waiver_rate_pct"], b["position_pct"]["median"]) == (28.6, 14.3, 5.0)
    by = {v["violation"]: v for v in r["violations"]}
    assert [v["violation"] for v in r["violations"]] == [W, A]  # most cases first
    assert (by[W]["cases"], by[W]["outside_rate_pct"], by[W]["position_pct"]["median"]) == (6, 33.3, 5.0)
    assert (by[A]["cases"], by[A]["waiver_rate_pct"], by[A]["with_position"], by[A]["position_pct"]["median"]) == (1, 100.0, 0, None)
    assert by[W]["reasons"] == [{"reason": "=违法情节严重", "cases": 1}, {"reason": "经集体讨论从轻", "cases": 1}]
    assert r["view"] == "bureau" and r["focus"] is None and r["filters"]["data"] == "real"


def test_each_handler_is_set_beside_the_bureau_for_their_mix_of_types(env: dict[str, Any]) -> None:
    """li: 3 water cases, 1 above: 33.3 % against the water rate 2/6 = 33.3 %; departures from water's
    median (5.0, rounded 5): −1, 5, 17, median 5.5. zhang: 3 water (1 below) and the waived air case:
    expected (3·2/6 + 1·0)/4 = 25.0 %, observed 25.0 %; expected waivers (3·0 + 1·1)/4 = 25.0 %;
    departures −7, −5, 0 (bins −2, 0, 5): median half-way into bin −5, −4.5. Too few cases to flag anyone."""
    r = get(env, "shen", "/v1/analytics/consistency").json()
    h = {x["name"]: x for x in r["handlers"]}
    assert set(h) == {"li", "zhang"}
    assert (h["li"]["cases"], h["li"]["outside_rate_pct"], h["li"]["expected_outside_rate_pct"]) == (3, 33.3, 33.3)
    assert h["li"]["departure_pct"]["median"] == 5.5
    assert (h["zhang"]["expected_outside_rate_pct"], h["zhang"]["outside_rate_pct"], h["zhang"]["expected_waiver_rate_pct"]) == (25.0, 25.0, 25.0)
    assert h["zhang"]["departure_pct"]["median"] == -4.5
    assert r["flagged"] == 0 and not h["li"]["enough_cases"]


def test_the_timeline_counts_each_month_by_side_of_the_band(env: dict[str, Any]) -> None:
    """September: 2 cases inside; October: 2, one above; November: 3, one below."""
    r = get(env, "guan", "/v1/analytics/consistency").json()
    assert [(m["month"], m["cases"], m["below"], m["above"]) for m in r["timeline"]] == [
        ("2026-09", 2, 0, 0), ("2026-10", 2, 0, 1), ("2026-11", 3, 1, 0)]
    assert r["timeline"][1]["outside_rate_pct"] == 50.0 and r["timeline"][0]["mine"] is None


@pytest.mark.parametrize(("params", "cases"), [
    ({"from": "2026-10-01"}, 5), ({"to": "2026-09-30"}, 2), ({"from": "2026-10-05", "to": "2026-10-05"}, 1),
    ({"violation": A}, 1), ({"group": "水污染防治法"}, 6), ({"group": "大气污染防治法", "violation": W}, 0),
    ({"jurisdiction": "yunnan/kunming"}, 1), ({"edition": "yunnan/kunming@2021"}, 1),
    ({"data": "synthetic"}, 1), ({"data": "all"}, 8),
])
def test_the_filters_select_the_cases(env: dict[str, Any], params: dict[str, str], cases: int) -> None:
    """Period (Beijing days, both ends included), violation type, group (the law of the type's
    provisions before 2026-08-15), jurisdiction, edition, and the synthetic data only when asked."""
    assert get(env, "shen", "/v1/analytics/consistency", **params).json()["bureau"]["cases"] == cases


@pytest.mark.parametrize(("params", "code", "field"), [
    ({"violation": "no_such_type"}, "unknown_violation", "violation"), ({"group": "某法"}, "unknown_group", "group"),
    ({"jurisdiction": "yunnan/dali"}, "unknown_jurisdiction", "jurisdiction"), ({"edition": "yunnan@1999"}, "unknown_edition", "edition"),
    ({"from": "2026-10-02", "to": "2026-10-01"}, "invalid_period", "to"), ({"data": "fake"}, "invalid_input", "data"),
    ({"from": "2026-13-01"}, "invalid_input", "from"),
])
def test_a_wrong_filter_is_a_422_naming_it(env: dict[str, Any], params: dict[str, str], code: str, field: str) -> None:
    """Each wrong filter answers 422 with a stable code and the field, never a 500 or silently nothing."""
    r = get(env, "shen", "/v1/analytics/consistency", **params)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and field in (r.json()["field"] or ""), r.json()


# --- what each role sees ---------------------------------------------------------------------------


def test_a_handler_sees_their_own_figures_beside_the_bureaus_and_no_other_handler(env: dict[str, Any]) -> None:
    """li's report: the bureau's figures (all 7 cases), li's own beside them (3), one handler row (li),
    li's reasons only, and no trace of zhang anywhere in the answer."""
    r = get(env, "li", "/v1/analytics/consistency")
    assert r.status_code == 200
    body = r.json()
    assert body["view"] == "handler" and body["filters"]["handler"] == "li"
    assert body["bureau"]["cases"] == 7 and body["focus"]["cases"] == 3
    assert [h["name"] for h in body["handlers"]] == ["li"]
    water = next(v for v in body["violations"] if v["violation"] == W)
    assert water["mine"]["cases"] == 3 and water["reasons"] == [{"reason": "=违法情节严重", "cases": 1}]
    assert "zhang" not in r.text and "经集体讨论从轻" not in r.text
    assert [m["mine"]["cases"] for m in body["timeline"]] == [2, 1, 0]


def test_a_handler_asking_for_another_handler_is_refused(env: dict[str, Any]) -> None:
    """handler=zhang as li: 403 on the report, the exports, the charts and the page."""
    for path in ("/v1/analytics/consistency", "/v1/analytics/consistency/export.csv", "/v1/analytics/consistency/charts/handlers.svg",
                 "/consistency"):
        r = get(env, "li", path, handler="zhang")
        assert r.status_code == 403, (path, r.text[:200])


def test_a_handlers_files_and_charts_name_nobody_else(env: dict[str, Any]) -> None:
    """li's CSV tables, workbook and charts: no zhang, no reason of zhang's; the handler table is
    li's row, called 本人."""
    texts = [get(env, "li", "/v1/analytics/consistency/export.csv", table=t).content.decode("utf-8-sig")
             for t in ("violations", "handlers", "reasons", "timeline")]
    wb = load_workbook(io.BytesIO(get(env, "li", "/v1/analytics/consistency/export.xlsx").content))
    texts += [str(c.value) for ws in wb for r in ws.iter_rows() for c in r if c.value is not None]
    texts += [get(env, "li", f"/v1/analytics/consistency/charts/{n}.svg").text for n in ("types", "handlers", "timeline")]
    whole = "\n".join(texts)
    assert "zhang" not in whole and "经集体讨论从轻" not in whole
    handlers = list(csv.reader(io.StringIO(texts[1])))
    assert [r[0] for r in handlers[1:]] == ["本人"]


def test_supervisors_see_every_handler_and_may_focus_on_one(env: dict[str, Any]) -> None:
    """A reviewer focusing on zhang gets zhang's figures beside the bureau's and zhang's reasons only."""
    r = get(env, "shen", "/v1/analytics/consistency", handler="zhang").json()
    assert r["focus"]["name"] == "zhang" and r["focus"]["cases"] == 4
    water = next(v for v in r["violations"] if v["violation"] == W)
    assert water["mine"]["cases"] == 3 and water["reasons"] == [{"reason": "经集体讨论从轻", "cases": 1}]
    assert {h["name"] for h in r["handlers"]} == {"li", "zhang"}


def test_the_review_page_is_for_supervisors_and_the_own_page_for_handlers(env: dict[str, Any]) -> None:
    """/review/consistency: 403 to a handler, 200 to a reviewer with both handlers; /consistency: a
    handler's own page (本人, nobody else), a reviewer sent on to /review/consistency."""
    assert get(env, "li", "/review/consistency").status_code == 403
    review = get(env, "shen", "/review/consistency")
    assert review.status_code == 200 and ">zhang</a>" in review.text and ">li</a>" in review.text
    own = get(env, "li", "/consistency")
    assert own.status_code == 200 and "本人与全局" in own.text and "zhang" not in own.text
    moved = env["client"].get("/consistency?from=2026-10-01", headers={"Authorization": f"Bearer {env['tokens']['shen']}"},
                              follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/review/consistency?from=2026-10-01"


def test_the_pages_show_chinese_names_and_no_identifiers_outside_technical_details(env: dict[str, Any]) -> None:
    """The review page, a handler's page and a like-case page show titles and names in Chinese; codes
    and edition keys only in 技术信息; the charts are inline SVG with no inline style (the
    Content-Security-Policy would drop it and paint them black)."""
    for who, path in (("shen", "/review/consistency"), ("li", "/consistency"), ("shen", f"/consistency/like/{REF[1]}"),
                      ("shen", "/review/consistency?data=all")):
        page = get(env, who, path).text
        assert IDENTIFIER.findall(handler_text(page)) == [], path
        assert 'style="' not in page and "<style" not in page.split("</head>", 1)[1], path
    page = get(env, "shen", "/review/consistency").text
    assert page.count("<svg") == 3 and "超过水污染物排放标准" in page


# --- like cases ------------------------------------------------------------------------------------


def test_the_like_cases_are_the_nearest_of_the_same_type_regime_and_party(env: dict[str, Any]) -> None:
    """For case 1 (water, single laws, a unit): case 4 has the same features (0), case 2 differs in
    one factor by a level of score 0.25, case 3 lacks the circumstance (1); case 5 (the Code), case 6
    (air), case 7 (a person) and the synthetic case 8 are never like it."""
    r = get(env, "shen", f"/v1/analytics/consistency/like/{REF[1]}").json()
    assert [(x["ref"], x["difference"]["distance"]) for x in r["like"]] == [(REF[4], 0.0), (REF[2], 0.25), (REF[3], 1.0)]
    assert r["like"][1]["difference"]["factors"] == [{"factor": "area", "label": "排放去向/区域", "level_here": 1, "level_there": 2}]
    assert r["like"][2]["difference"]["only_here"] == [{"id": "confessed", "label": "主动供述行政机关尚未掌握的违法行为"}]
    assert r["record"]["position_pct"] == 4.0 and r["positions_pct"] == {"min": 0.0, "median": 10.0, "max": 22.2}
    assert [x["ref"] for x in get(env, "shen", f"/v1/analytics/consistency/like/{REF[1]}", k=1).json()["like"]] == [REF[4]]


def test_a_handler_sees_like_cases_of_their_own_case_without_the_others_names(env: dict[str, Any]) -> None:
    """li on case 1: zhang's case 4 is shown with its amount but neither its handler nor its number;
    li's own cases keep theirs. li on zhang's case 4: 403. An unknown number: 404."""
    r = get(env, "li", f"/v1/analytics/consistency/like/{REF[1]}")
    assert r.status_code == 200 and "zhang" not in r.text and REF[4] not in r.text
    first = r.json()["like"][0]
    assert (first["handler"], first["ref"], first["amount"]) == (None, None, 100_000)
    assert r.json()["like"][1]["handler"] == "li"
    assert get(env, "li", f"/v1/analytics/consistency/like/{REF[4]}").status_code == 403
    assert get(env, "li", "/consistency/like/" + REF[4]).status_code == 403
    missing = get(env, "shen", "/v1/analytics/consistency/like/" + "e" * 24)
    assert missing.status_code == 404 and missing.json()["field"] == "id"
    page = get(env, "li", f"/consistency/like/{REF[1]}").text
    assert "他人" in page and "zhang" not in page


# --- files and charts ------------------------------------------------------------------------------


def test_exports_keep_a_formula_like_reason_as_text(env: dict[str, Any]) -> None:
    """The reason “=违法情节严重” is written “'=违法情节严重” in the CSV and as a text cell in the workbook,
    whose sheets are the filters and method, then the four tables with Chinese headers."""
    text = get(env, "shen", "/review/consistency/export.csv", table="reasons").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["违法行为", "违法行为代码", "理由", "件数"]
    assert ["超过水污染物排放标准或者重点水污染物排放总量控制指标排放水污染物", W, "'=违法情节严重", "1"] in rows
    r = get(env, "shen", "/v1/analytics/consistency/export.xlsx")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["说明", "按违法行为", "按承办人", "档次外理由", "时间线"]
    cells = [c for row in wb["档次外理由"].iter_rows(min_row=2) for c in row if c.value == "'=违法情节严重"]
    assert len(cells) == 1 and cells[0].data_type == "s"
    assert not any(c.data_type == "f" for ws in wb for row in ws.iter_rows() for c in row)


def test_the_charts_are_svg_drawn_in_the_cjk_font(env: dict[str, Any]) -> None:
    """Each chart is an SVG document whose text is drawn with the CJK font's glyphs, without inline styles."""
    font = chart.cjk_font().replace(" ", "")
    for name in ("types", "handlers", "timeline"):
        r = get(env, "shen", f"/v1/analytics/consistency/charts/{name}.svg")
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
        ElementTree.fromstring(r.content)
        assert font in r.text and 'style="' not in r.text


def test_without_a_cjk_font_a_chart_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CJK font installed: the chart is refused with chart_font_missing, naming the package to install."""
    from matplotlib import font_manager

    monkeypatch.setattr(chart, "CJK_FONTS", ("No Such CJK Font",))
    monkeypatch.setattr(font_manager, "_load_fontmanager", lambda *, try_read_cache=True: font_manager.fontManager)
    with pytest.raises(DiscretionError) as exc:
        analytics_chart.boxes([], "标题", "位置")
    assert exc.value.code == "chart_font_missing" and "fonts-wqy-zenhei" in exc.value.message


def test_the_report_matches_its_documented_response_model(env: dict[str, Any]) -> None:
    """The report and the like cases validate strictly against the models the OpenAPI document shows."""
    from api.schemas import ConsistencyOut, LikeCasesOut

    ConsistencyOut.model_validate_json(get(env, "li", "/v1/analytics/consistency").content)
    ConsistencyOut.model_validate_json(get(env, "shen", "/v1/analytics/consistency", handler="li").content)
    LikeCasesOut.model_validate_json(get(env, "shen", f"/v1/analytics/consistency/like/{REF[1]}").content)
    doc = env["client"].get("/openapi.json").json()
    assert "/v1/analytics/consistency" in doc["paths"] and "/v1/analytics/consistency/like/{ref}" in doc["paths"]
    assert json.dumps(doc, ensure_ascii=False).count("ConsistencyOut") >= 1


def test_the_cube_is_counted_in_parts_that_together_hold_every_type() -> None:
    """Two parts cut at the middle known code; a code the rulebooks do not know still falls in one."""
    from api.storage.analytics import parts

    assert parts(["d", "b", "a", "c"], 2) == [(None, "c"), ("c", None)]
    assert parts(["a"], 2) == [(None, None)] and parts([], 3) == [(None, None)]
    ranges = parts(["air", "eia", "noise", "water"], 3)
    for code in ("000", "air", "zzz", "m"):
        assert sum((lo is None or lo <= code) and (hi is None or code < hi) for lo, hi in ranges) == 1
