"""Reading case files: the columns, a row's values, decoding a raw record into an :class:`Entry`
(or a :class:`RowError`), and reading JSONL, CSV and XLSX files whole into a :class:`CaseFile`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from ...engine.case import Case
from ...errors import InputError

FORMATS = ("jsonl", "csv", "xlsx")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}
META_FIELDS = ("ref", "source")
CASE_FIELDS = (
    "violation",
    "jurisdiction",
    "party",
    "violation_date",
    "violation_end_date",
    "discovered_date",
    "decision_date",
    "edition",
)
LIST_FIELD = "circumstances"
FACT_PREFIX = "fact."
COLUMNS = META_FIELDS + CASE_FIELDS + (LIST_FIELD,)
MAX_CELL = 4000  # characters in one cell or JSON line worth reading; longer is a bad row

_SPLIT = re.compile(r"[;；,，\s]+")
_INT = re.compile(r"[+-]?\d+")
_DEC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SLASH_DATE = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")

# Chinese messages for the pydantic errors a case row can raise (the API maps the same kinds).
_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "date_from_datetime_parsing": "日期格式错误，须为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不得带时间",
    "date_parsing": "日期格式错误，须为 YYYY-MM-DD",
    "date_type": "日期格式错误，须为 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "string_too_long": "字符串过长",
    "string_too_short": "不得为空",
    "too_long": "项目过多",
    "dict_type": "须为对象",
    "list_type": "须为列表",
    "string_type": "须为字符串",
    "model_type": "须为 JSON 对象",
    "finite_number": "须为有限数字",
}


@dataclass
class RowError(InputError):
    """One row of a case file that cannot be read or assessed; the other rows go on."""

    code: str = "invalid_row"
    row: int = 0

    def __str__(self) -> str:
        where = f"（{self.field}）" if self.field else ""
        return f"第 {self.row} 行{where}：{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "code": self.code, "message": self.message, "field": self.field}


@dataclass(frozen=True, slots=True)
class Entry:
    """One case read from a file, with its row number and the columns that are not the case."""

    row: int
    case: Case
    ref: str | None = None
    source: str | None = None


def format_of(name: str | Path) -> str:
    """The format of a case file by its name (``.jsonl``/``.ndjson``, ``.csv``, ``.xlsx``)."""
    fmt = _SUFFIXES.get(Path(str(name)).suffix.lower())
    if fmt is None:
        raise InputError(
            message=f"不支持的文件类型：{Path(str(name)).name}（可用 .jsonl、.csv、.xlsx）",
            code="unsupported_format",
            field="file",
        )
    return fmt


# --- values ---------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A fact written as text: yes/no, an integer, a decimal, or the text itself."""
    s = text.strip()
    low = s.lower()
    if low in ("true", "yes", "是"):
        return True
    if low in ("false", "no", "否"):
        return False
    if _INT.fullmatch(s):
        return int(s)
    if _DEC.fullmatch(s):
        try:
            return Decimal(s)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return s
    return s


def _cell(value: Any, fact: bool) -> Any:
    """An XLSX or CSV cell as a case value (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        if len(s) > MAX_CELL:
            raise ValueError("单元格内容过长")
        return parse_value(s) if fact else s
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("须为有限数字")
        return int(value) if value.is_integer() and abs(value) < 2**53 else Decimal(repr(value))
    return value


def _date_text(value: Any) -> Any:
    if isinstance(value, str):
        m = _SLASH_DATE.fullmatch(value)
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return value


def _loc_field(loc: Sequence[Any], tabular: bool) -> str:
    """A pydantic location as the file's own field: ``fact.x`` (CSV/XLSX column) or ``facts.x`` (JSON)."""
    parts = list(loc)
    if tabular:
        if parts and parts[0] == "facts" and len(parts) > 1:
            return FACT_PREFIX + str(parts[1])
        return str(parts[0]) if parts else "row"
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "row"


def column_of(field: str | None, tabular: bool) -> str | None:
    """An assessment error's field (``facts.x``, ``circumstances[2]``) as the file's column."""
    if field is None or not tabular:
        return field
    if field.startswith("facts."):
        return FACT_PREFIX + field[len("facts.") :]
    if field.startswith(LIST_FIELD + "["):
        return LIST_FIELD
    return field


def _row_error(row: int, exc: ValidationError, tabular: bool) -> RowError:
    err = exc.errors()[0]
    kind = err.get("type", "")
    msg = _MESSAGES.get(kind)
    if msg is None:
        raw = str(err.get("msg", ""))
        msg = raw.removeprefix("Value error, ") if raw.startswith("Value error, ") else f"取值无效（{raw}）"
    more = len(exc.errors()) - 1
    if more:
        msg += f"（另有 {more} 处错误）"
    return RowError(message=msg, code="invalid_input", field=_loc_field(err.get("loc", ()), tabular), row=row)


# --- decoding rows --------------------------------------------------------------------------------


class Decoder:
    """Turns one raw record of a file (a JSON line, a CSV row, an XLSX row) into an :class:`Entry`.

    Plain data, so it can be sent to worker processes with the raw records."""

    def __init__(self, fmt: str, header: tuple[str | None, ...] = ()) -> None:
        self.format = fmt
        self.header = header
        self.tabular = fmt != "jsonl"

    def __call__(self, row: int, raw: Any) -> Entry:
        try:
            data = self._json(row, raw) if self.format == "jsonl" else self._tabular(row, raw)
        except RowError:
            raise
        except ValueError as exc:
            raise RowError(message=str(exc), code="invalid_input", field=None, row=row) from None
        meta = {k: data.pop(k, None) for k in META_FIELDS}
        for k, v in list(meta.items()):
            if v is not None and not isinstance(v, str):
                if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                    v = meta[k] = str(v)
                else:
                    raise RowError(message="须为字符串", code="invalid_input", field=k, row=row)
            if v is not None and len(v) > 200:
                raise RowError(message="字符串过长", code="invalid_input", field=k, row=row)
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            raise _row_error(row, exc, self.tabular) from None
        return Entry(row=row, case=case, ref=meta["ref"], source=meta["source"])

    def peek(self, raw: Any) -> dict[str, str | None]:
        """``ref``, ``source`` and ``violation`` of a raw record where they can be read (for
        reporting a bad row); never raises."""
        out: dict[str, str | None] = {"ref": None, "source": None, "violation": None}
        try:
            items: Iterable[tuple[Any, Any]]
            if self.format == "jsonl":
                data = orjson.loads(raw)
                items = data.items() if isinstance(data, dict) else ()
            else:
                items = zip(self.header, raw)
            for k, v in items:
                if k in out and isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
                    out[k] = str(v).strip()[:200]
        except (ValueError, TypeError):  # a record too broken to read anything from (orjson's error is a ValueError)
            return out
        return out

    def _json(self, row: int, raw: bytes) -> dict[str, Any]:
        if len(raw) > 64 * MAX_CELL:
            raise RowError(message="该行过长", code="invalid_input", field=None, row=row)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RowError(message="该行不是合法的 JSON", code="malformed_json", field=None, row=row) from None
        if not isinstance(data, dict):
            raise RowError(message="该行须为 JSON 对象（一个案件）", code="invalid_input", field=None, row=row)
        return data

    def _tabular(self, row: int, raw: Sequence[Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        header = self.header
        if len(raw) > len(header) and any(_cell(v, False) is not None for v in raw[len(header) :]):
            raise RowError(message=f"该行的值多于表头的 {len(header)} 列", code="invalid_input", field=None, row=row)
        for col, value in zip(header, raw):
            if col is None:
                if _cell(value, False) is not None:
                    raise RowError(message="该列没有列名，不能读取其中的值", code="invalid_input", field=None, row=row)
                continue
            is_fact = col.startswith(FACT_PREFIX)
            try:
                v = _cell(value, is_fact)
            except ValueError as exc:
                raise RowError(message=str(exc), code="invalid_input", field=col, row=row) from None
            if v is None:
                continue
            if is_fact:
                facts[col[len(FACT_PREFIX) :]] = v
            elif col == LIST_FIELD:
                data[col] = [c for c in _SPLIT.split(str(v)) if c]
            elif col.endswith("_date"):
                data[col] = _date_text(v)
            else:
                data[col] = v if isinstance(v, str) else str(v)
        if facts:
            data["facts"] = facts
        return data


def check_header(cells: Sequence[Any]) -> tuple[str | None, ...]:
    """The header row of a CSV or XLSX case file, checked: known columns and ``fact.<name>`` only."""
    header: list[str | None] = []
    seen: set[str] = set()
    for i, raw in enumerate(cells):
        name = None if raw is None else str(raw).strip().lstrip("\ufeff")
        if not name:
            header.append(None)
            continue
        if name.startswith(FACT_PREFIX):
            if not _NAME.fullmatch(name[len(FACT_PREFIX) :]):
                raise InputError(message=f"第 1 行第 {i + 1} 列：事实列名无效“{name}”", code="invalid_header", field=name)
        elif name not in COLUMNS:
            raise InputError(
                message=f"第 1 行第 {i + 1} 列：未知的列“{name}”（可用：{'、'.join(COLUMNS)}；事实写作 fact.名称）",
                code="invalid_header",
                field=name,
            )
        if name in seen:
            raise InputError(message=f"第 1 行：列“{name}”重复", code="invalid_header", field=name)
        seen.add(name)
        header.append(name)
    if "violation" not in seen:
        raise InputError(message="第 1 行：缺少列“violation”（违法行为代码）", code="invalid_header", field="violation")
    return tuple(header)


@dataclass
class CaseFile:
    """The raw rows of a case file, read whole, and the decoder for them."""

    format: str
    decoder: Decoder
    records: list[tuple[int, Any]]  # (row number, raw record)

    def __len__(self) -> int:
        return len(self.records)

    def entries(self) -> Iterator[Entry | RowError]:
        """Each row decoded, in order: an :class:`Entry`, or the :class:`RowError` of a bad row."""
        decode = self.decoder
        for row, raw in self.records:
            try:
                yield decode(row, raw)
            except RowError as exc:
                yield exc


def read(path: str | Path, max_rows: int | None = None) -> CaseFile:
    """Read a case file (format by its suffix). File errors raise :class:`InputError` (``field="file"``);
    bad rows are decoded later, one by one (:meth:`CaseFile.entries`)."""
    path = Path(path)
    fmt = format_of(path)
    try:
        with path.open("rb") as fh:
            return read_stream(fh, fmt, max_rows)
    except OSError as exc:
        raise InputError(message=f"无法读取文件 {path}：{exc.strerror or exc}", code="unreadable_file", field="file") from None


def read_bytes(data: bytes, name: str, max_rows: int | None = None) -> CaseFile:
    """Read an uploaded case file from memory (format by the file name)."""
    return read_stream(io.BytesIO(data), format_of(name), max_rows)


def read_stream(fh: BinaryIO, fmt: str, max_rows: int | None = None) -> CaseFile:
    if fmt == "jsonl":
        records: list[tuple[int, Any]] = []
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if n == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line:
                continue
            records.append((n, line))
            _limit(records, max_rows)
        return CaseFile(fmt, Decoder(fmt), _nonempty(records))
    if fmt == "csv":
        return _read_csv(fh.read(), max_rows)
    if fmt == "xlsx":
        return _read_xlsx(fh, max_rows)
    raise InputError(message=f"不支持的格式：{fmt}", code="unsupported_format", field="file")  # pragma: no cover


def _limit(records: list[Any], max_rows: int | None) -> None:
    if max_rows is not None and len(records) > max_rows:
        raise InputError(message=f"案件过多：最多 {max_rows} 行", code="too_many_rows", field="file")


def _nonempty(records: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    if not records:
        raise InputError(message="文件中没有案件", code="no_cases", field="file")
    return records


def _read_csv(data: bytes, max_rows: int | None) -> CaseFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in the ANSI code page
        except UnicodeDecodeError:
            raise InputError(message="CSV 文件须为 UTF-8 或 GB18030 编码", code="invalid_encoding", field="file") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if first is None:
            raise InputError(message="文件中没有表头和案件", code="no_cases", field="file")
        header = check_header(first)
        records: list[tuple[int, Any]] = []
        for n, cells in enumerate(reader, 2):
            if not any(c.strip() for c in cells):
                continue
            records.append((n, cells))
            _limit(records, max_rows)
    except csv.Error as exc:
        raise InputError(message=f"CSV 格式错误：{exc}", code="invalid_file", field="file") from None
    return CaseFile("csv", Decoder("csv", header), _nonempty(records))


def _read_xlsx(fh: BinaryIO, max_rows: int | None) -> CaseFile:
    import zipfile

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(message=f"无法读取 XLSX 文件：{exc}", code="invalid_file", field="file") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise InputError(message="工作表中没有表头和案件", code="no_cases", field="file")
        header = check_header(first)
        records: list[tuple[int, Any]] = []
        for n, cells in enumerate(rows, 2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            records.append((n, tuple(cells)))
            _limit(records, max_rows)
    finally:
        wb.close()
    return CaseFile("xlsx", Decoder("xlsx", header), _nonempty(records))
