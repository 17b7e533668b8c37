"""A document's number (文号) from the pattern in the settings, and its file name for a download
(RFC 6266 with RFC 5987's ``filename*`` for the Chinese name, and an ASCII fallback)."""

from __future__ import annotations

import re
from urllib.parse import quote

# The pattern's {doc}: the word a document's number carries (告 for a notice: 昆环罚告〔2026〕12号).
DOC_WORDS = {"notice": "告", "decision": "", "waiver": "", "reasoning": ""}
_DIGITS = re.compile(r"[0-9]+")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')  # not allowed in a Windows file name


def doc_number(pattern: str, *, agency_short: str, year: int, case_number: str | None, kind: str) -> str | None:
    """The number (文号) the pattern gives, or None when it names a field this case lacks (no case
    number, no digits in it, no short name of the agency): the line is then left out, to be
    written by hand, rather than printed half empty. ``{serial}`` is the last run of digits of the
    case number (12 in 昆环罚〔2026〕12号)."""
    serials = _DIGITS.findall(case_number or "")
    fields = {"agency_short": agency_short, "year": str(year), "case_number": case_number or "",
              "serial": serials[-1] if serials else "", "doc": DOC_WORDS[kind]}
    used = {m.group(1) for m in re.finditer(r"\{([a-z_]+)\}", pattern)}
    if any(not fields[name] for name in used if name != "doc"):
        return None
    text = pattern.format(**fields).strip()
    return text or None


def file_name(title: str, case_number: str | None) -> str:
    """行政处罚决定书（昆环罚〔2026〕12号）.docx: the document's name with the case number."""
    name = f"{title}（{case_number}）" if case_number else title
    return _UNSAFE.sub("_", name) + ".docx"


def disposition(name: str, fallback: str) -> str:
    """A Content-Disposition for ``name`` (UTF-8, percent-encoded) with an ASCII ``fallback``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
