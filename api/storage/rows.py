"""What a record holds: new ids, the row of an assessment or a decision about to be appended, the
JSON of a stored request, and a stored row as the API answers with it."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

import orjson

from discretion import __version__
from discretion.engine.identity import masked


class _RandomHex:
    """Random hex digits from the OS, read 4 KB at a time. ``os.urandom`` per id would release the
    GIL in the request path (getrandom), handing it to the store's writer and waiting to get it back;
    a refill does that once per 680 ids. A forked child starts with an empty pool (no shared ids)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hex = ""
        self._at = 0
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._hex, self._at = "", 0

    def take(self, n: int) -> str:
        with self._lock:
            if self._at + n > len(self._hex):
                self._hex, self._at = os.urandom(4080).hex(), 0
            at = self._at
            self._at = at + n
            return self._hex[at:at + n]


_random_hex = _RandomHex()


def new_id() -> str:
    """A time-ordered id: 12 hex digits of milliseconds, then 12 random hex digits (from the OS)."""
    return f"{time.time_ns() // 1_000_000:012x}{_random_hex.take(12)}"


# An assessment's input as stored: a mapping, or a function returning one (called in the writer
# thread, off the request path). Either must not change once the record is queued.
RequestIn = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


class AssessmentFields(TypedDict):
    """What an assessment record holds besides its id and the chain (Store.submit_assessment)."""

    request: RequestIn
    result_json: bytes
    violation: str
    title: str
    outcome: str
    fine: Mapping[str, Any] | None
    edition: str
    sha256: str
    rulebook_set: str
    who: Any
    case: NotRequired[Mapping[str, Any] | None]  # the case's identity (api.casedata.stored), when given
    supersedes: NotRequired[str | None]  # the record this one replaces (修改后重新计算), when it does
    offline: NotRequired[Mapping[str, Any] | None]  # a terminal's offline result: made_at, bundle_hash, result_sha256


def assessment_row(rid: str, *, request: RequestIn, result_json: bytes, violation: str, title: str, outcome: str,
                    fine: Mapping[str, Any] | None, edition: str, sha256: str, rulebook_set: str, who: Any,
                    case: Mapping[str, Any] | None = None, supersedes: str | None = None, offline: Mapping[str, Any] | None = None) -> dict[str, Any]:
    band = fine["band"] if fine else None
    party = case.get("party") if case else None
    return {
        "id": rid,
        "created_at": dt.datetime.now(dt.UTC),
        "created_by": who.name,
        "created_role": who.role,
        "violation": violation,
        "title": title[:255],
        "outcome": outcome,
        "recommended": fine["recommended"] if fine else None,
        "band_min": band[0] if band else None,
        "band_max": band[1] if band else None,
        "edition": edition,
        "sha256": sha256,
        "rulebook_set": rulebook_set,
        "engine_version": __version__,
        "request": request,  # encoded, like the result, by the writer (ChainWriter._prepare)
        "result": result_json,
        "case_json": None if case is None else orjson.dumps(case, option=orjson.OPT_SORT_KEYS).decode(),
        "case_number": None if case is None else case.get("number"),
        "case_party": None if party is None else party["name"],
        "supersedes": supersedes,
        "offline": None if offline is None else orjson.dumps(offline, option=orjson.OPT_SORT_KEYS).decode(),
    }


def decision_row(assessment_id: str, amount: int, reason: str | None, within_band: bool, who: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "assessment_id": assessment_id,
        "created_at": dt.datetime.now(dt.UTC),
        "created_by": who.name,
        "created_role": who.role,
        "amount": amount,
        "reason": reason,
        "within_band": within_band,
    }


def access_row(action: str, target: str, role: str, by_name: str, by_role: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An access event: ``action`` (token_created, token_revoked, user_added, user_disabled) on
    ``target`` (a token id or user name) of ``role``, done by ``by_name`` in ``by_role``; ``detail``
    (owner, label, operating-system user, host …) is kept as sorted-key JSON. Never a token or password."""
    return {
        "id": new_id(),
        "created_at": dt.datetime.now(dt.UTC),
        "created_by": by_name[:64],
        "created_role": by_role[:16],
        "action": action,
        "target": target,
        "role": role,
        "detail": orjson.dumps(dict(detail), option=orjson.OPT_SORT_KEYS).decode(),
    }


def is_id(text: str) -> bool:
    """Whether ``text`` has the form of a record id (so nothing else reaches the database)."""
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text)


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):  # the exact decimal text, as a JSON number
        return orjson.Fragment(str(v))
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def dumps(v: Any) -> bytes:
    """JSON for stored requests: decimals as exact JSON numbers (read back with ``parse_float=Decimal``)."""
    return orjson.dumps(v, default=_json_default)


# --- stored rows as the API shows them -----------------------------------------------------------


def as_utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def iso_z(t: dt.datetime) -> str:
    """A stored time for the API: ISO 8601 in UTC with ``Z`` (as pydantic writes it)."""
    return as_utc(t).isoformat().replace("+00:00", "Z")


def band_of(row: Mapping[str, Any]) -> list[int]:
    """The recommended band of an assessment row ([0, 0] when no fine was recommended)."""
    if row.get("band_min") is None:
        return [0, 0]
    return [int(row["band_min"]), int(row["band_max"])]


def record_meta(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
        "created_at": iso_z(row["created_at"]),
        "created_by": {"name": row["created_by"], "role": row["created_role"]},
        "engine_version": row["engine_version"],
        "rulebook_set": row["rulebook_set"],
        "edition": row["edition"],
        "sha256": row["sha256"],
        **({"offline": orjson.loads(row["offline"])} if row.get("offline") else {}),
    }


def stored_request(row: Mapping[str, Any]) -> dict[str, Any]:
    """The input a stored assessment was made from (as assessed: no case, no supersedes), numbers
    with a fraction as Decimal (their exact text; written back by :func:`dumps`)."""
    return json.loads(row["request"], parse_float=Decimal)  # type: ignore[no-any-return]


def case_of(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The case a stored assessment row keeps (as given, the identity code normalised), or None."""
    text = row.get("case_json")
    return None if text is None else orjson.loads(text)  # type: ignore[no-any-return]


def case_summary(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The case as lists show it: its number and party, a personal identity number masked."""
    case = case_of(row)
    if case is None:
        return None
    party = case.get("party")
    if party is not None and party.get("id_code"):
        party = {**party, "id_code": masked(party["id_code"], party["kind"])}
    return {"number": case.get("number"), "party": party}


def decision_out(d: Mapping[str, Any], assessment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": d["id"],
        "assessment_id": d["assessment_id"],
        "amount": d["amount"],
        "reason": d["reason"],
        "within_band": bool(d["within_band"]),
        "band": band_of(assessment),
        "recommended": assessment.get("recommended"),
        "decided_by": {"name": d["created_by"], "role": d["created_role"]},
        "decided_at": iso_z(d["created_at"]),
        "seq": d["seq"],
        "hash": d["hash"],
    }
