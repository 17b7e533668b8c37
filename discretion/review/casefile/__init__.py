"""Case files: cases read from CSV, XLSX or JSONL with their row numbers; tables written back.

A case file holds one case per row, in the contract's assessment input shape (the API's
``POST /v1/assessments`` body, :class:`~discretion.engine.case.Case`) plus two optional columns that are
not part of the case:

- ``ref``: the case's own reference (案件编号), carried into every result row;
- ``source``: where the case comes from; ``synthetic`` marks a generated case (:mod:`discretion.review.synth`).

**JSONL** (``.jsonl``, ``.ndjson``): one JSON object per line, the assessment input with ``facts``
as an object and ``circumstances`` as a list, and optionally ``ref`` and ``source``. The row number
is the line number; blank lines are skipped.

**CSV** (``.csv``, UTF-8 with or without BOM; GB18030 as Excel on Chinese Windows saves it) and
**XLSX** (``.xlsx``, the first sheet): a header row naming the columns, then one case per row.
The row number is the spreadsheet's (the header is row 1, the first case row 2); empty rows are
skipped. Columns, in any order (only ``violation`` is required; the assessment needs
``violation_date`` too):

====================== =====================================================================
``ref``                案件编号 (optional, not part of the case)
``source``             来源; ``synthetic`` for generated cases (optional, not part of the case)
``violation``          违法行为代码, e.g. ``water_over_standard``
``jurisdiction``       辖区, ``yunnan`` (default) or ``yunnan/kunming``
``party``              ``unit`` (default) or ``individual``
``violation_date``     违法行为发生日期 ``YYYY-MM-DD`` (also ``YYYY/M/D``; a date cell in XLSX)
``violation_end_date`` 连续或继续状态的终了日期 (optional)
``discovered_date``    发现日期 (optional)
``decision_date``      决定日期 (optional; the assessment's default is today)
``edition``            请求的裁量基准版本 (optional; a replay overrides it)
``circumstances``      情节 ids separated by ``;`` (also ``；``, ``,``, ``，`` or spaces)
``fact.<name>``        one column per fact, e.g. ``fact.exceedance_ratio``; an empty cell = not given
====================== =====================================================================

Fact cells are typed by their text: ``true``/``false``/``是``/``否`` are yes/no, whole numbers are
integers, other numbers are decimals (never floats: ``0.6`` is ``Decimal("0.6")``), anything else is
text (an enum choice or a ``YYYY-MM-DD`` date). XLSX cells keep their type (a number cell with a
fraction becomes a decimal of its shortest text). An unknown column is a file error (nothing is
read); a bad row is a :class:`RowError` with its row number and the column, and the other rows are
still read.

The modules: ``reading`` (the columns, decoding rows, reading files) and ``writing`` (cases and
result tables written back). Imports: ``discretion.engine.case`` and ``discretion.errors``; the
modules here import their siblings directly, never this package.
"""

from .reading import (
    CASE_FIELDS,
    COLUMNS,
    FACT_PREFIX,
    FORMATS,
    LIST_FIELD,
    MAX_CELL,
    META_FIELDS,
    CaseFile,
    Decoder,
    Entry,
    RowError,
    check_header,
    column_of,
    format_of,
    parse_value,
    read,
    read_bytes,
    read_stream,
)
from .writing import (
    Columns,
    case_columns,
    case_record,
    case_row,
    formula_safe,
    from_cases,
    write_cases,
    write_cases_jsonl,
    write_table,
)

__all__ = [
    "CASE_FIELDS",
    "COLUMNS",
    "FACT_PREFIX",
    "FORMATS",
    "LIST_FIELD",
    "MAX_CELL",
    "META_FIELDS",
    "CaseFile",
    "Columns",
    "Decoder",
    "Entry",
    "RowError",
    "case_columns",
    "case_record",
    "case_row",
    "check_header",
    "column_of",
    "format_of",
    "formula_safe",
    "from_cases",
    "parse_value",
    "read",
    "read_bytes",
    "read_stream",
    "write_cases",
    "write_cases_jsonl",
    "write_table",
]
