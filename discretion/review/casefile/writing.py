"""Writing: cases back to JSONL, CSV or XLSX (the inverse of reading), cases in memory as a case
file, and tables of result rows (CSV, XLSX with Chinese headers, JSONL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ...engine.case import Case
from ...errors import InputError
from .reading import CASE_FIELDS, COLUMNS, FACT_PREFIX, LIST_FIELD, CaseFile, Decoder, _nonempty, format_of


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):
        f = float(v)
        if Decimal(repr(f)) != v:  # a JSON number must read back as the same decimal
            raise InputError(message=f"数值 {v} 无法精确写入 JSON", code="invalid_input")
        return f
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def case_record(case: Case, ref: str | None = None, source: str | None = None) -> dict[str, Any]:
    """A case as a JSONL object: ``ref`` and ``source`` first, then the assessment input."""
    out: dict[str, Any] = {}
    if ref is not None:
        out["ref"] = ref
    if source is not None:
        out["source"] = source
    out.update(case.model_dump(exclude_none=True))
    return out


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return f"{v:f}"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def case_columns(cases: Iterable[Case]) -> list[str]:
    """The CSV/XLSX columns for these cases: the fixed ones, then ``fact.<name>`` for every fact given."""
    names: dict[str, None] = {}
    for c in cases:
        for k in c.facts:
            names.setdefault(k, None)
    return list(COLUMNS) + [FACT_PREFIX + n for n in sorted(names)]


def case_row(case: Case, ref: str | None = None, source: str | None = None) -> dict[str, Any]:
    """A case as one CSV/XLSX row (column → value), the inverse of reading a row."""
    row: dict[str, Any] = {"ref": ref, "source": source}
    for k in CASE_FIELDS:
        row[k] = getattr(case, k)
    row[LIST_FIELD] = ";".join(case.circumstances)
    for k, v in case.facts.items():
        row[FACT_PREFIX + k] = v
    return row


def from_cases(items: Iterable[tuple[str | None, str | None, Case]]) -> CaseFile:
    """Cases in memory (``(ref, source, case)``) as a JSONL case file, rows numbered from 1."""
    records = [
        (n, orjson.dumps(case_record(case, ref, source), default=_json_default))
        for n, (ref, source, case) in enumerate(items, 1)
    ]
    return CaseFile("jsonl", Decoder("jsonl"), _nonempty(records))


def write_cases(path: str | Path, items: Sequence[tuple[str | None, str | None, Case]], fmt: str | None = None, note: str | None = None) -> int:
    """Write cases (``(ref, source, case)``) to a JSONL, CSV or XLSX file; returns the number written.

    ``note`` (e.g. that the cases are synthetic) goes into the XLSX workbook's properties."""
    fmt = fmt or format_of(path)
    if fmt == "jsonl":
        with Path(path).open("wb") as fh:
            write_cases_jsonl(fh, items)
        return len(items)
    columns = case_columns(c for _, _, c in items)
    rows = (case_row(c, r, s) for r, s, c in items)
    write_table(path, [(c, c) for c in columns], rows, fmt=fmt, sheet="cases", note=note)
    return len(items)


def write_cases_jsonl(fh: BinaryIO, items: Iterable[tuple[str | None, str | None, Case]]) -> None:
    for ref, source, case in items:
        fh.write(orjson.dumps(case_record(case, ref, source), default=_json_default))
        fh.write(b"\n")


Columns = Sequence[tuple[str, str]]  # (id, Chinese label)


def write_table(
    path: str | Path | BinaryIO,
    columns: Columns,
    rows: Iterable[dict[str, Any]],
    fmt: str | None = None,
    sheet: str = "结果",
    note: str | None = None,
    extra: Sequence[tuple[str, Columns, Iterable[dict[str, Any]]]] = (),
    csv_labels: bool = False,
) -> None:
    """Write rows to CSV (UTF-8 with BOM, so that Excel shows Chinese; header = column ids, or the
    Chinese labels with ``csv_labels``), XLSX (header = Chinese labels; ``extra`` sheets after the
    first) or JSONL (one object per row). A text cell that a spreadsheet would read as a formula is
    written as text (:func:`formula_safe`), in CSV and XLSX alike."""
    if fmt is None:
        if not isinstance(path, (str, Path)):
            raise ValueError("fmt is required when writing to a stream")
        fmt = format_of(path)
    if isinstance(path, (str, Path)):
        with Path(path).open("wb") as fh:
            _write_table(fh, columns, rows, fmt, sheet, note, extra, csv_labels)
    else:
        _write_table(path, columns, rows, fmt, sheet, note, extra, csv_labels)


def _write_table(
    fh: BinaryIO,
    columns: Columns,
    rows: Iterable[dict[str, Any]],
    fmt: str,
    sheet: str,
    note: str | None,
    extra: Sequence[tuple[str, Columns, Iterable[dict[str, Any]]]],
    csv_labels: bool = False,
) -> None:
    ids = [c for c, _ in columns]
    if fmt == "jsonl":
        for r in rows:
            fh.write(orjson.dumps({k: r.get(k) for k in ids}, default=_json_default))
            fh.write(b"\n")
        return
    if fmt == "csv":
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="", write_through=True)
        w = csv.writer(text)
        w.writerow([formula_safe(label) for _, label in columns] if csv_labels else ids)
        for r in rows:
            w.writerow([_text(formula_safe(r.get(k))) for k in ids])
        text.flush()
        text.detach()
        return
    if fmt == "xlsx":
        from openpyxl import Workbook  # type: ignore[import-untyped]

        wb = Workbook(write_only=True)
        if note:
            wb.properties.title = note
            wb.properties.description = note
        for title, cols, body in ((sheet, columns, rows), *extra):
            ws = wb.create_sheet(title=title)
            ws.append([formula_safe(label) for _, label in cols])
            keys = [c for c, _ in cols]
            for r in body:
                ws.append([formula_safe(_xlsx(r.get(k))) for k in keys])
        wb.save(fh)
        return
    raise ValueError(f"unknown format {fmt}")


# A text cell that a spreadsheet would read as a formula (or as the start of one) when the file is
# opened: written with a leading apostrophe, so it shows as the text it is and never runs. Numbers,
# dates and booleans are not text and are written as they are.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(v: Any) -> Any:
    """``v``, or a text ``v`` that starts like a formula (``= + - @``, tab, carriage return) with a
    leading apostrophe, so that it shows as the text it is and never runs."""
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v


def _xlsx(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return ";".join(_text(x) for x in v)
    return v
