"""The case file's documents as .docx, generated from a stored record in the layout of
党政机关公文 (GB/T 9704-2012): 《行政处罚事先告知书》, 《行政处罚决定书》 (or 《不予行政处罚决定书》)
and the 裁量说理, each with the calculation trail as an annex table.

- ``layout``: the GB/T 9704 page, fonts and paragraphs;
- ``statute``: the sentences of the law the documents print (rights, payment, review and suit), each
  beside the article it is written from;
- ``content``: what each document says, from the record (and which penalty: see its docstring);
- ``numbers``: document numbers from ``DISCRETION_DOC_NUMBER_PATTERN``, file names and the
  Content-Disposition header.

Served by ``GET /v1/assessments/{id}/documents/{notice|decision|reasoning}.docx``
(api/routes/documents.py) and the result page's links (api/pages/results.py) through
:func:`serve`, with the access rules of reading the record. Imports: the library, ``api.deps``,
``api.casedata``, ``api.entered``, ``api.storage.rows``, ``api.pages.rendering`` (labels) and python-docx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from fastapi.responses import Response

from discretion.errors import NotFoundError
from discretion.rulebooks.compiler import Compiled
from discretion.rulebooks.loaded import RulebookSet

from ..deps import Principal, State, check_owner
from ..entered import lookup
from ..settings import Settings
from .content import BUILDERS, KINDS, Issuer, Labels, source, title_of
from .numbers import disposition, file_name

__all__ = ["KINDS", "MEDIA_TYPE", "Document", "DocumentKind", "render", "serve"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DocumentKind = Literal["notice", "decision", "reasoning"]


@dataclass(frozen=True)
class Document:
    body: bytes
    name: str  # 行政处罚决定书（昆环罚〔2026〕12号）.docx
    fallback: str  # decision-<id>.docx

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Disposition": disposition(self.name, self.fallback)}


def issuer(settings: Settings) -> Issuer:
    return Issuer(agency_name=settings.agency_name, agency_short=settings.agency_short,
                  number_pattern=settings.doc_number_pattern, review_body=settings.review_body, court=settings.court)


def labels(rs: RulebookSet, compiled: Compiled) -> Labels:
    """The labels of facts and circumstances (api.entered.lookup: a fact under the edition the record
    was made with; a name no longer known is shown as it is) and the hearing thresholds, from the
    loaded rulebooks."""
    look = lookup(rs, compiled)

    def hearing_at(edition: str, kind: str) -> int | None:
        e = rs.editions.get(edition)
        th = e.effective.thresholds if e is not None else None
        if th is None:
            return None
        return int(th.hearing_unit if kind == "unit" else th.hearing_individual)

    return Labels(look=look, hearing_at=hearing_at)


def render(kind: str, row: Mapping[str, Any], settings: Settings, rs: RulebookSet, compiled: Compiled) -> Document:
    """Document ``kind`` (notice | decision | reasoning) of a stored row (Store.get_row, with its
    decision). Raises ConflictError (409) when the record cannot carry that document."""
    src = source(row)
    body = BUILDERS[kind](src, issuer(settings), labels(rs, compiled)).bytes()
    return Document(body, file_name(title_of(kind, src), src.number), f"{kind}-{src.id}.docx")


async def serve(s: State, who: Principal, assessment_id: str, kind: str) -> Response:
    """Document ``kind`` of a stored assessment as a download, for whoever may read the record (a
    handler only their own: api.deps.check_owner, as GET /v1/assessments/{id})."""
    row = await asyncio.to_thread(s.store.get_row, assessment_id)
    if row is None:
        raise NotFoundError(message=f"没有编号为 {assessment_id} 的计算结果", field="id")
    check_owner(who, row["created_by"])
    doc = await asyncio.to_thread(render, kind, row, s.settings, s.rulebooks, s.engine.compiled)
    return Response(doc.body, media_type=MEDIA_TYPE, headers=doc.headers)
