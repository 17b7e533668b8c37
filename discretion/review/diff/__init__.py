"""Semantic diff of two benchmark editions, for the legal review (法制审核) before publication.

Data first (:class:`EditionDiff`, frozen dataclasses that ``to_dict`` turns into JSON), text second
(:func:`render_text`, a Chinese report).

- **Which editions.** ``A`` and ``B`` are edition keys (``yunnan@2023``), looked up in a loaded
  rulebook set, or paths to edition YAML files, read with the whole rulebook tree that holds the
  file (the nearest folder above it with ``law/law.yaml``), so a draft in a copy of the tree is
  compared with its own law layer. A file outside any tree is refused.
- **Which law.** Each side is read under the regime in force on its ``effective_from``
  (the 2023 edition under the separate laws, the Code draft under the Code), unless one regime is
  asked for both sides. Statutory ranges and the quoted provisions come from that side's law layer.
- **What is compared.** Edition-wide: edition data, fact definitions, formula, common factors and
  levels, 从轻/从重 adjustments (with the statutory basis where the edition gives none), 减轻,
  rounding, procedural thresholds. Per violation type: statutory fines (unit, individuals,
  escalations), individual factors and levels, position window, exemption entries covering it.
  Provenance notes (``modelled``, ``source``) are not compared.
- **Matching.** Items are matched by id (factors, adjustments, exemption entries, provisions), levels
  by their level number, facts by name: an item whose id is kept but whose title or condition
  changed is one "changed" entry, never a deletion plus an addition.

The modules: ``result`` (the data: :class:`EditionDiff` and its parts, the labels), ``compute``
(:func:`compare`, :func:`resolve`, :func:`diff`), ``text`` (:func:`render_text`).

Imports: ``discretion.engine`` (citations, money), ``discretion.rulebooks`` and ``discretion.errors``;
the modules here import their siblings directly, never this package.
"""

from .compute import compare, diff, fine_text, resolve
from .result import AREA_LABELS, FIELD_LABELS, KIND_LABELS, Change, EditionDiff, Quote, Side, ViolationDiff
from .text import render_text

__all__ = [
    "AREA_LABELS",
    "FIELD_LABELS",
    "KIND_LABELS",
    "Change",
    "EditionDiff",
    "Quote",
    "Side",
    "ViolationDiff",
    "compare",
    "diff",
    "fine_text",
    "render_text",
    "resolve",
]
