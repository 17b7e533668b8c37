"""Impact replay: what a new benchmark edition would do to real cases.

Every case of a case file (:mod:`discretion.review.casefile`) is assessed twice, under edition ``A``
("from") and edition ``B`` ("to"), with everything else equal; the two results are compared
(outcome, recommended amount, band, procedural flags) and, where they differ, the two trails are
compared to name the rules that caused the difference: a changed factor level or weight, an
adjustment's points, an exemption entry, the position formula, 减轻, rounding, or the lighter-law
choice. A summary counts the changes per violation type.

How a case is replayed:

- the edition is forced on both sides (a case's own ``edition`` is overridden; drafts are allowed);
  the law regime still follows the case's dates, and the lighter-law comparison runs as usual;
- a case from a jurisdiction the edition does not cover is assessed as if in the edition's
  jurisdiction (the edition is what is being reviewed);
- a row that cannot be read, or that neither edition can assess, is a :class:`RowError` with its
  row number and column: reported and skipped, counted as ``invalid``;
- a case only one edition can assess is a change of its own kind (``error``).

Evaluation runs in worker processes when ``workers > 1`` (each with its own engine: the rules
engine keeps C-level state per process), in chunks, so that a caller can show progress.

The modules: ``results`` (one row's result as data and the per-case results file), ``compare``
(:class:`Replayer`: one case under both editions, the kind of change), ``explain`` (the rules that
caused a change), ``summary`` (counts per violation type), ``running`` (:func:`replay` and
:func:`run`: all rows, in worker processes).

Imports: ``discretion.engine``, ``discretion.rulebooks``, ``discretion.errors`` and
``discretion.review.casefile``; the modules here import their siblings directly, never this package.
"""

from .compare import Replayer, check_editions, classify
from .explain import causes
from .results import (
    CHANGE_LABELS,
    FLAG_SHORT,
    OUTCOME_LABELS,
    RESULT_COLUMNS,
    STATUS_LABELS,
    CaseResult,
    Cause,
    Side,
    labelled,
    result_rows,
    side_of,
)
from .running import DEFAULT_CHUNK, Progress, default_start_method, default_workers, replay, run, workers_used
from .summary import SUMMARY_COLUMNS, Stats, Summary, yuan_change

__all__ = [
    "CHANGE_LABELS",
    "DEFAULT_CHUNK",
    "FLAG_SHORT",
    "OUTCOME_LABELS",
    "RESULT_COLUMNS",
    "STATUS_LABELS",
    "SUMMARY_COLUMNS",
    "CaseResult",
    "Cause",
    "Progress",
    "Replayer",
    "Side",
    "Stats",
    "Summary",
    "causes",
    "check_editions",
    "classify",
    "default_start_method",
    "default_workers",
    "labelled",
    "replay",
    "result_rows",
    "run",
    "side_of",
    "workers_used",
    "yuan_change",
]
