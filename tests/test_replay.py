"""Impact replay: discretion.review.replay (changes and their causes, summary), discretion.review.chart,
``discretion replay`` (exit codes, bad rows) and the reviewer page ``/review/replay``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.cli import main
from api.clock import today
from api.deps import Principal
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.errors import InputError
from discretion.review import casefile, chart, replay, synth
from discretion.review.casefile import Entry
from discretion.review.replay import CaseResult, Replayer, Side
from discretion.rulebooks.loaded import RulebookSet

WATER_FACTS = {
    "exceedance_ratio": Decimal("0.6"),
    "pollutant_class": "characteristic",
    "discharge_area": "residential",
    "duration_days": 12,
    "violations_in_two_years": 1,
}
# 2023: P = 0.35 (golden case of 2023.cases.yaml) − 10 points = 0.25 → 100000 + 900000 × 0.25 = 325000;
# the draft gives 有效采取生态环境修复措施 15 points: 0.20 → 280000.
RESTORED = Case(
    violation="water_over_standard",
    facts=WATER_FACTS,
    circumstances=["ecological_restoration"],
    violation_date=dt.date(2025, 3, 1),
    decision_date=dt.date(2025, 6, 1),
)
# eia_category "report_production" is level 4 of 5 in 2023 and level 3 of 1/3/5 in the draft
EIA = Case(
    violation="eia_unapproved_construction",
    facts={
        "total_investment": 30_000_000,
        "eia_document": "report",
        "eia_category": "report_production",
        "build_location": "non_compliant",
        "build_stage": "main_works",
        "violations_in_two_years": 1,
    },
    circumstances=["ecological_restoration"],
    violation_date=dt.date(2025, 4, 1),
    decision_date=dt.date(2025, 10, 15),
)
# first offence, 0.05 times over, corrected the same day, slight harm: the 2021 list wants no harm
# at all, the 2023 list (ex-exceedance-first) also takes slight harm
FIRST = Case(
    violation="water_over_standard",
    facts={"exceedance_ratio": Decimal("0.05"), "corrected_within_days": 0},
    circumstances=["first_offense", "slight_harm"],
    violation_date=dt.date(2023, 3, 1),
    decision_date=dt.date(2023, 6, 1),
)
# social_impact is a fact of the 2023 edition's common factors, unknown to the 2021 edition
SOCIAL = Case(
    violation="water_over_standard",
    facts={"social_impact": "none"},
    violation_date=dt.date(2025, 3, 1),
    decision_date=dt.date(2025, 6, 1),
)
DRAFT = ("yunnan@2023", "yunnan@2026-draft")


def one(engine: Engine, case: Case, frm: str = DRAFT[0], to: str = DRAFT[1]) -> CaseResult:
    return Replayer(engine, frm, to).one(Entry(row=7, case=case, ref="R-7"))


# --- one case: what changed and why --------------------------------------------------------------


def test_an_adjustment_with_more_points_lowers_the_amount_and_is_named_as_the_cause(engine: Engine) -> None:
    r = one(engine, RESTORED)
    assert (r.status, r.change) == ("ok", "amount_down")
    assert (r.before.recommended, r.after.recommended, r.delta) == (325000, 280000, -45000)  # type: ignore[union-attr]
    (cause,) = r.causes
    assert cause.step == "adjustment" and cause.rules == ("mit-ecological-restoration",)
    assert "10 → 15个百分点" in cause.text


def test_a_changed_factor_level_is_named_with_both_rule_ids_before_the_adjustment(engine: Engine) -> None:
    r = one(engine, EIA)
    assert r.change == "amount_down" and r.delta is not None and r.delta < 0
    assert [c.step for c in r.causes] == ["factor", "adjustment"]
    assert r.causes[0].rules == ("factor/eia_category/4", "factor/eia_category/3")
    assert "第4级 → 第3级" in r.causes[0].text
    row = r.row_dict()
    assert row["cause_rules"] == "factor/eia_category/4→factor/eia_category/3; mit-ecological-restoration"
    assert row["ref"] == "R-7" and row["row"] == 7


def test_a_new_exemption_entry_waives_the_case_and_is_the_only_cause(engine: Engine) -> None:
    r = one(engine, FIRST, "yunnan@2021", "yunnan@2023")
    assert r.change == "newly_waived"
    assert (r.before.outcome, r.after.outcome) == ("penalty", "no_penalty")  # type: ignore[union-attr]
    assert [(c.step, c.rules) for c in r.causes] == [("exemption", ("ex-exceedance-first",))]
    back = one(engine, FIRST, "yunnan@2023", "yunnan@2021")
    assert back.change == "newly_fined" and "不再不予处罚" in back.causes[0].text


def test_a_case_only_one_edition_can_assess_is_an_error_change_with_its_field(engine: Engine) -> None:
    r = one(engine, SOCIAL, "yunnan@2021", "yunnan@2023")
    assert (r.status, r.change) == ("error_from", "error")
    assert r.before is None and r.after is not None and r.after.outcome == "penalty"
    assert r.error is not None and (r.error.code, r.error.field, r.error.row) == ("unknown_fact", "facts.social_impact", 7)
    assert r.changed


def test_a_case_neither_edition_can_assess_is_an_invalid_row(engine: Engine) -> None:
    bad = Case(violation="no_such_violation", violation_date=dt.date(2025, 3, 1), decision_date=dt.date(2025, 6, 1))
    r = one(engine, bad)
    assert (r.status, r.change, r.error.code, r.error.field) == ("invalid", "invalid", "unknown_violation", "violation")  # type: ignore[union-attr]
    assert not r.changed


def test_the_same_edition_on_both_sides_changes_nothing(engine: Engine) -> None:
    for case in (RESTORED, EIA, FIRST):
        r = one(engine, case, "yunnan@2023", "yunnan@2023")
        assert r.change == "unchanged" and r.causes == () and r.delta in (0, None)


def test_the_edition_is_forced_and_a_case_outside_its_jurisdiction_is_assessed_in_it(engine: Engine) -> None:
    """A 2025 Yunnan case under Kunming's 2021 edition (its window for this type ends at 0.9):
    the case's own edition and jurisdiction give way to the editions being compared."""
    case = RESTORED.model_copy(update={"edition": "yunnan@2026-draft"})
    r = one(engine, case, "yunnan/kunming@2021", "yunnan@2021")
    assert r.status == "ok" and r.change == "amount_up"
    assert [c.step for c in r.causes] == ["position"]


def test_a_defect_on_one_row_is_reported_on_that_row_not_raised(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Replayer(engine, *DRAFT)
    real = r._side

    def flaky(case: Case, k: int) -> Any:
        if k == 1:
            raise ZeroDivisionError("division by zero")
        return real(case, k)

    monkeypatch.setattr(r, "_side", flaky)
    got = r.one(Entry(row=3, case=RESTORED))
    assert (got.status, got.change) == ("error_to", "error")
    assert got.error is not None and got.error.code == "internal_error" and "ZeroDivisionError" in got.error.message


@pytest.mark.parametrize(("total", "workers", "used"), [(400, 2, 1), (1000, 2, 1), (1001, 2, 2), (1200, 1, 1), (1200, 8, 3), (100_000, 2, 2)])
def test_worker_processes_are_used_only_for_more_than_two_chunks(total: int, workers: int, used: int) -> None:
    assert replay.workers_used(total, workers, 500) == used


def test_unknown_editions_are_refused_naming_the_side(engine: Engine) -> None:
    with pytest.raises(InputError) as info:
        Replayer(engine, "yunnan@2023", "yunnan@2099")
    assert (info.value.code, info.value.field) == ("unknown_edition", "to")


def side(outcome: str = "penalty", rec: int | None = 100000, band: tuple[int, int] | None = (100000, 280000), flags: tuple[str, ...] = ()) -> Side:
    return Side(outcome, "pre2026", 100000 if rec else None, 1000000 if rec else None, band, rec, flags)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (side(), side(), "unchanged"),
        (side(), side(rec=120000), "amount_up"),
        (side(rec=120000), side(), "amount_down"),
        (side(), side(band=(100000, 200000)), "band"),
        (side(flags=("legal_review",)), side(), "flags"),
        (side(), side("no_penalty", None, None), "newly_waived"),
        (side("no_penalty", None, None), side(), "newly_fined"),
        (side("time_barred", None, None), side("no_penalty", None, None), "outcome"),
    ],
)
def test_changes_are_classified_by_outcome_then_amount_then_band_then_flags(before: Side, after: Side, kind: str) -> None:
    assert replay.classify(before, after) == kind


# --- the summary ----------------------------------------------------------------------------------


def result(code: str, before: Side | None, after: Side | None, status: str = "ok") -> CaseResult:
    r = CaseResult(1, None, None, code, "yunnan", "2025-01-01", "2025-06-01", status, "unchanged", before, after)
    if before and after:
        r.change = replay.classify(before, after)
    elif status != "ok":
        r.change = "error"
    return r


def test_the_summary_counts_changes_per_type_with_median_and_largest_change(rulebooks: RulebookSet) -> None:
    s = replay.Summary.for_editions(rulebooks, *DRAFT)
    for d in (-45000, 9000, 20000, -100):
        s.add(result("water_over_standard", side(rec=200000), side(rec=200000 + d)))
    s.add(result("water_over_standard", side(), side()))
    s.add(result("water_over_standard", side(), side("no_penalty", None, None)))
    s.add(result("air_over_standard", None, side(), status="error_from"))
    bad = CaseResult(9, None, None, None, None, None, None, "invalid", "invalid", error=casefile.RowError(message="x", row=9))
    s.add(bad)
    w = s.by_violation["water_over_standard"]
    assert (w.cases, w.changed, w.up, w.down, w.newly_waived) == (6, 5, 2, 2, 1)
    assert w.median == -100  # the lower middle of -45000, -100, 9000, 20000
    assert w.max_change == -45000
    assert (s.rows, s.invalid, s.assessed, s.total.changed, s.total.errors) == (8, 1, 7, 6, 1)
    assert [e.row for e in s.row_errors] == [9]
    d = s.to_dict()
    assert d["by_violation"][0]["violation"] == "water_over_standard" and d["total"]["cases"] == 7
    assert s.table()[-1]["title"] == "合计"


def test_yuan_changes_are_signed_and_short() -> None:
    assert [replay.yuan_change(x) for x in (None, 0, 4500, -45000, 1385900)] == ["—", "0元", "+4,500元", "−4.5万元", "+138.59万元"]


# --- running: serial, parallel, progress ---------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(rulebooks: RulebookSet, reference_engine: Engine) -> casefile.CaseFile:
    cases = synth.generate(rulebooks, reference_engine.compiled, 1200, seed=5, today=today())
    return casefile.from_cases(synth.entries(cases, 5))


def test_two_worker_processes_give_the_same_results_in_row_order_as_one(
    rulebooks: RulebookSet, engine: Engine, synthetic: casefile.CaseFile
) -> None:
    seen: list[tuple[int, int]] = []
    serial, s1 = replay.run(rulebooks, synthetic, *DRAFT, workers=1, engine=engine, chunk=300)
    parallel, s2 = replay.run(rulebooks, synthetic, *DRAFT, workers=2, chunk=300, progress=lambda d, t: seen.append((d, t)))
    assert [r.row_dict() for r in parallel] == [r.row_dict() for r in serial]
    assert [r.row for r in parallel] == list(range(1, 1201))
    assert s2.workers == 2 and s1.workers == 1
    assert s1.total.changed == s2.total.changed > 50  # the draft changes some of them
    assert seen == [(300, 1200), (600, 1200), (900, 1200), (1200, 1200)]


def test_spawned_workers_load_the_rulebooks_themselves_and_agree(rulebooks: RulebookSet, engine: Engine, synthetic: casefile.CaseFile) -> None:
    part = casefile.CaseFile(synthetic.format, synthetic.decoder, synthetic.records[:600])
    serial, _ = replay.run(rulebooks, part, *DRAFT, engine=engine)
    spawned, s = replay.run(rulebooks, part, *DRAFT, workers=2, chunk=200, start_method="spawn")
    assert s.workers == 2
    assert [r.row_dict() for r in spawned] == [r.row_dict() for r in serial]


def test_bad_rows_are_skipped_and_counted_not_fatal(rulebooks: RulebookSet, engine: Engine) -> None:
    lines = [
        json.dumps({"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-06-01"}),
        "{broken",
        json.dumps({"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-01-01"}),
    ]
    cf = casefile.read_bytes("\n".join(lines).encode(), "c.jsonl")
    results, s = replay.run(rulebooks, cf, *DRAFT, engine=engine)
    assert [(r.row, r.status) for r in results] == [(1, "ok"), (2, "invalid"), (3, "invalid")]
    assert (s.invalid, s.assessed) == (2, 1)
    assert [(e.row, e.code, e.field) for e in s.row_errors] == [(2, "malformed_json", None), (3, "invalid_date", "decision_date")]


# --- the chart ------------------------------------------------------------------------------------


def test_the_chart_renders_as_svg_and_png_and_is_deterministic(rulebooks: RulebookSet, engine: Engine, synthetic: casefile.CaseFile) -> None:
    _, s = replay.run(rulebooks, synthetic, *DRAFT, engine=engine)
    svg = chart.render(s, "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert chart.render(s, "svg") == svg
    assert chart.render(s, "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.inline_svg(s).startswith("<svg")


def test_the_chart_of_a_replay_without_changes_still_renders(rulebooks: RulebookSet) -> None:
    s = replay.Summary.for_editions(rulebooks, *DRAFT)
    assert b"<svg" in chart.render(s, "svg")


# --- the command line -----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


CSV_ROWS = (
    "ref,violation,violation_date,decision_date,circumstances,fact.exceedance_ratio,fact.corrected_within_days,fact.social_impact\n"
    "first,water_over_standard,2023-03-01,2023-06-01,first_offense;slight_harm,0.05,0,\n"
    "late,water_over_standard,2023-13-01,2023-06-01,,,,\n"
    "social,water_over_standard,2025-03-01,2025-06-01,,,,none\n"
    "typo,water_over_standard,2025-03-01,2025-06-01,,0.5x,,\n"
)


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text(CSV_ROWS, encoding="utf-8")
    return path


def test_cli_reports_bad_rows_with_row_numbers_skips_them_and_exits_zero(
    capsys: pytest.CaptureFixture[str], cases_csv: Path, tmp_path: Path
) -> None:
    out_csv, png = tmp_path / "res.csv", tmp_path / "chart.png"
    code, out, err = run(capsys, "replay", str(cases_csv), "--from", "yunnan@2021", "--to", "yunnan@2023",
                         "--out", str(out_csv), "--chart", str(png), "--workers", "1")
    assert code == 0
    assert "第 3 行（violation_date）" in err and "第 5 行（fact.exceedance_ratio）" in err
    assert "共 2 行无法读取或计算，已跳过" in err
    assert "回放 [" not in err  # no progress line when stderr is not a terminal
    assert "新增不予处罚 1" in out and "无法读取或计算 2 行" in out
    assert "water_over_standard" in out and "合计" in out
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert [(r["row"], r["ref"], r["status"], r["change"]) for r in rows] == [
        ("2", "first", "ok", "newly_waived"),
        ("3", "late", "invalid", "invalid"),
        ("4", "social", "error_from", "error"),
        ("5", "typo", "invalid", "invalid"),
    ]
    assert rows[0]["cause_rules"] == "ex-exceedance-first"
    assert rows[2]["error_field"] == "fact.social_impact"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_progress_line_is_shown_when_asked(capsys: pytest.CaptureFixture[str], cases_csv: Path) -> None:
    code, _, err = run(capsys, "replay", str(cases_csv), "--from", "yunnan@2021", "--to", "yunnan@2023", "--progress")
    assert code == 0 and "回放 [########################] 4/4 行（100%）" in err


def test_cli_strict_exits_two_when_any_row_was_bad(capsys: pytest.CaptureFixture[str], cases_csv: Path) -> None:
    code, _, err = run(capsys, "replay", str(cases_csv), "--from", "yunnan@2021", "--to", "yunnan@2023", "--strict", "--workers", "1")
    assert code == 2 and "第 3 行" in err


def test_cli_exits_two_when_no_row_can_be_assessed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"violation": 1}\n{"x": 2}\n', encoding="utf-8")
    code, _, err = run(capsys, "replay", str(path), "--from", "yunnan@2023", "--to", "yunnan@2026-draft")
    assert code == 2 and "第 1 行" in err and "第 2 行" in err and "没有一行可以计算" in err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--to", "yunnan@2099"], "（to）"), (["--to", "yunnan@2023", "--out", "r.txt"], "r.txt"),
     (["--to", "yunnan@2023", "--chart", "c.pdf"], "（chart）"), (["--to", "yunnan@2023", "--workers", "0"], "workers")],
)
def test_cli_refuses_bad_options_before_replaying(capsys: pytest.CaptureFixture[str], cases_csv: Path, extra: list[str], needle: str) -> None:
    code, out, err = run(capsys, "replay", str(cases_csv), "--from", "yunnan@2021", *extra)
    assert code == 2 and needle in err and out == ""


def test_cli_json_summary_and_xlsx_results_in_chinese(capsys: pytest.CaptureFixture[str], cases_csv: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "res.xlsx"
    code, out, _ = run(capsys, "replay", str(cases_csv), "--from", "yunnan@2021", "--to", "yunnan@2023", "--format", "json", "--out", str(xlsx))
    assert code == 0
    d = json.loads(out)
    assert (d["rows"], d["invalid"], d["total"]["newly_waived"]) == (4, 2, 1)
    assert [e["row"] for e in d["row_errors"]] == [3, 5]
    wb = load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["逐案结果", "汇总"]
    rows = list(wb["逐案结果"].iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "案件编号", "来源") and rows[1][8] == "新增不予处罚"
    wb.close()


# --- the reviewer page ----------------------------------------------------------------------------


def csrf(c: TestClient) -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', c.get("/review/replay").text)[0]


def post(c: TestClient, files: Any = None, **form: str) -> Any:
    data = {"csrf_token": csrf(c), "from": DRAFT[0], "to": DRAFT[1], **form}
    return c.post("/review/replay", data=data, files=files)


def test_the_page_offers_both_editions_including_drafts_and_both_sources(client: TestClient) -> None:
    page = client.get("/review/replay")
    assert page.status_code == 200
    t = page.text
    assert 'enctype="multipart/form-data"' in t and 'name="csrf_token"' in t
    assert re.search(r'value="yunnan@2026-draft" selected>[^<]+（草案）</option>', t)  # its title and status in Chinese
    assert 'value="yunnan@2026-draft" selected' in t and 'value="yunnan@2023" selected' in t
    assert 'name="file"' in t and 'name="n"' in t


def test_synthetic_cases_show_the_summary_the_chart_and_downloads(client: TestClient) -> None:
    r = post(client, source="synth", n="150", seed="4")
    assert r.status_code == 200, r.text[:300]
    assert "合计" in r.text and "150 个合成案例" in r.text and "<svg" in r.text
    links = re.findall(r'href="(/review/replay/[^"]+\.(?:csv|xlsx))"', r.text)
    assert len(links) == 2
    got = client.get(links[0])
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert len(rows) == 150 and {x["source"] for x in rows} == {"synthetic"}
    assert client.get(links[1]).content.startswith(b"PK")


def test_an_uploaded_file_with_a_bad_row_shows_its_row_number(client: TestClient) -> None:
    data = CSV_ROWS.encode("utf-8")
    r = post(client, files={"file": ("cases.csv", data, "text/csv")}, source="upload")
    assert r.status_code == 200
    assert "第 3 行（violation_date）" in r.text and "第 5 行（fact.exceedance_ratio）" in r.text


@pytest.mark.parametrize(
    ("form", "files", "needle"),
    [({"to": "yunnan@2099", "source": "synth"}, None, "未知的裁量基准版本"),
     ({"source": "synth", "n": "50000"}, None, "合成案例数须在"),
     ({"source": "upload"}, {"file": ("cases.pdf", b"%PDF", "application/pdf")}, "不支持的文件类型"),
     ({"source": "upload"}, None, "请选择要上传的案件文件")],
)
def test_bad_choices_rerender_the_form_with_a_message(client: TestClient, form: dict[str, str], files: Any, needle: str) -> None:
    r = post(client, files=files, **form)
    assert r.status_code == 422 and needle in r.text and 'name="from"' in r.text


def test_the_upload_path_alone_accepts_a_larger_body_still_bounded(client: TestClient) -> None:
    ok = b'{"violation": "water_over_standard", "violation_date": "2025-03-01"}\n' * 1500  # ≈ 100 KiB
    assert post(client, files={"file": ("c.jsonl", ok, "application/octet-stream")}, source="upload").status_code == 200
    r = client.post("/v1/assessments", content=b" " * len(ok), headers={"content-type": "application/json"})
    assert r.status_code == 422
    big = b" " * (5 * 1024 * 1024)
    r = post(client, files={"file": ("c.jsonl", big, "application/octet-stream")}, source="upload")
    assert r.status_code == 422 and r.json()["code"] == "body_too_large"


def test_an_unknown_download_is_404(client: TestClient) -> None:
    assert client.get("/review/replay/" + "A" * 32 + ".csv").status_code == 404
    assert client.get("/review/replay/../../etc/passwd.csv").status_code == 404


def as_role(app: FastAPI, role: str) -> Any:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = Principal(name="张三", role=role, via="token")
        await app(scope, receive, send)

    return wrapped


def test_the_page_is_for_reviewers_and_admins_only(app: FastAPI, client: TestClient) -> None:
    handler = TestClient(as_role(app, "handler"), raise_server_exceptions=False)
    r = handler.get("/review/replay")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    token = re.findall(r'name="csrf_token" value="([^"]+)"', handler.get("/assess/water_over_standard").text)[0]  # passes the CSRF check
    r = handler.post("/review/replay", data={"csrf_token": token, "from": DRAFT[0], "to": DRAFT[1], "source": "synth", "n": "5"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    reviewer = TestClient(as_role(app, "reviewer"), raise_server_exceptions=False)
    assert reviewer.get("/review/replay").status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_replay_results_never_carry_a_formula_from_a_case_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    """A ref (or any text) starting with = + - @ comes out of the results as text with a leading apostrophe, never a formula."""
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]
    cases = tmp_path / "cases.csv"
    body = "ref,violation,violation_date,decision_date,fact.exceedance_ratio\n"
    body += "".join(f'"{r.replace(chr(34), chr(34) * 2)}",water_over_standard,2025-03-01,2025-06-01,0.5\n' for r in hostile)
    cases.write_text(body, encoding="utf-8")
    out = tmp_path / f"res.{fmt}"
    code, _, _ = run(capsys, "replay", str(cases), "--from", "yunnan@2023", "--to", "yunnan@2026-draft",
                     "--out", str(out), "--workers", "1")
    assert code == 0
    if fmt == "csv":
        refs = [r["ref"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))]
    else:
        from openpyxl import load_workbook

        ws = load_workbook(out).worksheets[0]
        header = [c.value for c in ws[1]]
        column = next(i for i, h in enumerate(header) if h in ("ref", "编号", "案件编号") or "编号" in str(h))
        cells = [row[column] for row in ws.iter_rows(min_row=2)]
        assert all(c.data_type != "f" for row in ws.iter_rows(min_row=2) for c in row)
        refs = [c.value for c in cells]
    assert refs == ["'" + r for r in hostile]
