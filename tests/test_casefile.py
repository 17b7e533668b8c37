"""discretion.review.casefile: case files in JSONL, CSV and XLSX, with row numbers for bad rows."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from discretion.engine.case import Case
from discretion.errors import InputError
from discretion.review import casefile
from discretion.review.casefile import Entry, RowError

WATER = Case(
    violation="water_over_standard",
    facts={"exceedance_ratio": Decimal("0.6"), "duration_days": 12, "pollutant_class": "toxic", "serious": True},
    circumstances=["confessed", "eliminated_harm"],
    violation_date=dt.date(2025, 3, 1),
    violation_end_date=dt.date(2025, 3, 12),
    decision_date=dt.date(2025, 6, 1),
)
EIA = Case(
    violation="eia_unapproved_construction",
    jurisdiction="yunnan/kunming",
    party="individual",
    facts={"total_investment": Decimal("30000000.50"), "eia_document": "report"},
    violation_date=dt.date(2026, 9, 1),
    discovered_date=dt.date(2026, 9, 20),
    decision_date=dt.date(2026, 12, 1),
    edition="yunnan@2026-draft",
)
ITEMS = [("A-1", None, WATER), (None, "synthetic", EIA)]


def entries(cf: casefile.CaseFile) -> list[Entry | RowError]:
    return list(cf.entries())


def read_text(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> casefile.CaseFile:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return casefile.read(path)


@pytest.mark.parametrize("fmt", casefile.FORMATS)
def test_cases_written_read_back_equal_with_their_ref_and_source(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"cases.{fmt}"
    assert casefile.write_cases(path, ITEMS) == 2
    got = entries(casefile.read(path))
    assert [(e.ref, e.source, e.case) for e in got] == ITEMS  # type: ignore[union-attr]
    assert isinstance(got[0].case.facts["exceedance_ratio"], Decimal)  # type: ignore[union-attr]
    assert got[1].case.facts["total_investment"] == Decimal("30000000.50")  # type: ignore[union-attr]


def test_jsonl_rows_are_line_numbers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    good = json.dumps({"violation": "water_over_standard", "violation_date": "2025-03-01"})
    cf = read_text(tmp_path, "c.jsonl", f"{good}\n\n{{not json\n[1, 2]\n{good}\n")
    got = entries(cf)
    assert [e.row for e in got] == [1, 3, 4, 5]
    assert isinstance(got[0], Entry) and isinstance(got[3], Entry)
    assert isinstance(got[1], RowError) and got[1].code == "malformed_json"
    assert isinstance(got[2], RowError) and "JSON 对象" in got[2].message


def test_a_bad_jsonl_field_names_its_json_path(tmp_path: Path) -> None:
    line = {"violation": "water_over_standard", "violation_date": "2025-02-30", "circumstances": ["x" * 81]}
    (err,) = entries(read_text(tmp_path, "c.jsonl", json.dumps(line) + "\n"))
    assert isinstance(err, RowError) and err.row == 1
    assert err.field in ("violation_date", "circumstances")
    assert "另有 1 处错误" in err.message


def test_csv_columns_are_typed_by_text_and_circumstances_split(tmp_path: Path) -> None:
    text = (
        "violation,violation_date,decision_date,circumstances,fact.exceedance_ratio,fact.duration_days,fact.serious,fact.pollutant_class\n"
        "water_over_standard,2025/3/1,2025-06-01,confessed；eliminated_harm; first_offense,0.6,12,是,toxic\n"
    )
    (e,) = entries(read_text(tmp_path, "c.csv", text))
    assert isinstance(e, Entry) and e.row == 2
    assert e.case.violation_date == dt.date(2025, 3, 1)
    assert e.case.circumstances == ["confessed", "eliminated_harm", "first_offense"]
    assert e.case.facts == {"exceedance_ratio": Decimal("0.6"), "duration_days": 12, "serious": True, "pollutant_class": "toxic"}


def test_a_bad_csv_row_has_its_spreadsheet_row_number_and_column_and_the_rest_are_read(tmp_path: Path) -> None:
    text = (
        "ref,violation,violation_date,party\n"
        "a,water_over_standard,2025-03-01,unit\n"
        ",,,\n"
        "b,water_over_standard,2025-13-01,unit\n"
        "c,water_over_standard,2025-03-01,company\n"
        "d,water_over_standard,2025-03-01,unit,extra\n"
        "e,water_over_standard,2025-03-01,unit\n"
    )
    got = entries(read_text(tmp_path, "c.csv", text))
    bad = [(e.row, e.field) for e in got if isinstance(e, RowError)]
    assert bad == [(4, "violation_date"), (5, "party"), (6, None)]
    assert [e.ref for e in got if isinstance(e, Entry)] == ["a", "e"]
    assert "第 4 行（violation_date）" in str(got[1])


def test_csv_saved_by_excel_in_gb18030_is_read(tmp_path: Path) -> None:
    text = "ref,violation,violation_date\n案件一,water_over_standard,2025-03-01\n"
    (e,) = entries(read_text(tmp_path, "c.csv", text, encoding="gb18030"))
    assert isinstance(e, Entry) and e.ref == "案件一"


@pytest.mark.parametrize(
    ("header", "field"),
    [("violation,violaton_date", "violaton_date"), ("violation,fact.", "fact."), ("violation,party,party", "party"), ("violation_date", "violation")],
)
def test_a_bad_header_refuses_the_whole_file_naming_the_column(tmp_path: Path, header: str, field: str) -> None:
    with pytest.raises(InputError) as info:
        read_text(tmp_path, "c.csv", header + "\nwater_over_standard,2025-03-01\n")
    assert info.value.code == "invalid_header" and info.value.field == field


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_cells_keep_their_types_and_fractions_become_decimals(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "c.xlsx", [
        ["violation", "violation_date", "decision_date", "fact.exceedance_ratio", "fact.duration_days", "fact.serious", "circumstances"],
        ["water_over_standard", dt.datetime(2025, 3, 1), dt.date(2025, 6, 1), 0.6, 12.0, True, "confessed"],
        [None, None, None, None, None, None, None],
        ["water_over_standard", "not a date", None, 0.1, 1, False, None],
    ])
    first, second = entries(casefile.read(path))
    assert isinstance(first, Entry) and first.row == 2
    assert first.case.facts == {"exceedance_ratio": Decimal("0.6"), "duration_days": 12, "serious": True}
    assert first.case.violation_date == dt.date(2025, 3, 1)
    assert isinstance(second, RowError) and (second.row, second.field) == (4, "violation_date")


def test_a_file_with_too_many_rows_is_refused(tmp_path: Path) -> None:
    text = "violation,violation_date\n" + "water_over_standard,2025-03-01\n" * 4
    with pytest.raises(InputError) as info:
        casefile.read_bytes(text.encode(), "c.csv", max_rows=3)
    assert info.value.code == "too_many_rows"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [("c.txt", b"x", "unsupported_format"), ("c.jsonl", b"\n\n", "no_cases"), ("c.csv", b"", "no_cases"),
     ("c.xlsx", b"not a zip", "invalid_file"), ("c.csv", b"\xff\xfe\xfa\xfb\x81\x30", "invalid_encoding")],
)
def test_unreadable_files_are_input_errors_on_the_file(name: str, data: bytes, code: str) -> None:
    with pytest.raises(InputError) as info:
        casefile.read_bytes(data, name)
    assert (info.value.code, info.value.field) == (code, "file")


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        casefile.read(tmp_path / "none.jsonl")
    assert info.value.code == "unreadable_file"


@pytest.mark.parametrize(("text", "value"), [("true", True), ("否", False), ("12", 12), ("-3", -3), ("0.50", Decimal("0.50")), ("1e5", Decimal("1e5")), ("report", "report"), ("2025-01-01", "2025-01-01")])
def test_fact_text_is_typed_without_floats(text: str, value: Any) -> None:
    got = casefile.parse_value(text)
    assert got == value and type(got) is type(value)


def test_assessment_fields_map_to_the_files_own_columns() -> None:
    assert casefile.column_of("facts.exceedance_ratio", tabular=True) == "fact.exceedance_ratio"
    assert casefile.column_of("circumstances[2]", tabular=True) == "circumstances"
    assert casefile.column_of("facts.exceedance_ratio", tabular=False) == "facts.exceedance_ratio"


def test_tables_are_csv_with_bom_and_ids_or_xlsx_with_chinese_labels_and_extra_sheets(tmp_path: Path) -> None:
    cols = [("row", "行号"), ("delta", "罚款变化（元）")]
    rows = [{"row": 2, "delta": -4500}, {"row": 3, "delta": None}]
    buf = io.BytesIO()
    casefile.write_table(buf, cols, rows, fmt="csv")
    assert buf.getvalue().decode("utf-8").splitlines() == ["\ufeffrow,delta", "2,-4500", "3,"]
    path = tmp_path / "t.xlsx"
    casefile.write_table(path, cols, rows, sheet="逐案结果", extra=[("汇总", [("n", "案件数")], [{"n": 2}])])
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["逐案结果", "汇总"]
    assert list(wb["逐案结果"].iter_rows(values_only=True))[:2] == [("行号", "罚款变化（元）"), (2, -4500)]
    wb.close()


def test_from_cases_numbers_rows_from_one(tmp_path: Path) -> None:
    cf = casefile.from_cases(ITEMS)
    assert [(e.row, e.case) for e in entries(cf)] == [(1, WATER), (2, EIA)]  # type: ignore[union-attr]
