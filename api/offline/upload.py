"""An offline result uploaded with ``POST /v1/assessments`` and its ``offline`` object.

The terminal computed the result with the rulebook set its bundle carries; the service re-evaluates
the same input with the set named by ``bundle_hash`` (the current one, or its stored snapshot: 409
``offline_rulebooks_unknown`` when it has neither) and records the assessment only when its result
has the sha256 the terminal reported, keeping ``made_at``. Otherwise nothing is stored: 422
``offline_result_differs``, one entry per field that differs (from the terminal's ``result``, when
it sent it). An upload must name its decision date (the terminal's result used one) and carry an
Idempotency-Key, made by the terminal when it computed the result and sent again on every retry:
the result's hash cannot serve as the key, since two cases with the same facts on the same day
(two restaurants, say) have the same result and are still two records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from discretion.engine.assessment import Engine
from discretion.errors import ConflictError, InputError

from ..schemas import AssessmentIn
from ..storage.records import Records, diff

SKEW = dt.timedelta(minutes=5)  # a terminal's clock may run this much ahead of the service's
SHOWN = 200  # characters of a differing value in an error message


@dataclass
class ResultDiffers(InputError):
    """The service's result is not the terminal's: 422, one entry per differing field in ``errors``."""

    code: str = "offline_result_differs"
    errors: list[dict[str, Any]] = field(default_factory=list)


def check_upload(body: AssessmentIn, key: str | None, now: dt.datetime) -> None:
    """What an upload must carry besides its input: a decision date, a time of computation that is
    not in the future (with a time zone), and an Idempotency-Key."""
    offline = body.offline
    assert offline is not None
    if offline.made_at.tzinfo is None:
        raise InputError(message="made_at 须带时区（如 2026-12-04T09:30:00+08:00）", code="invalid_input", field="offline.made_at")
    if offline.made_at > now + SKEW:
        raise InputError(message="离线计算时间 made_at 晚于服务端当前时间，请检查终端时钟", code="offline_made_at_in_future",
                         field="offline.made_at")
    if body.decision_date is None:
        raise InputError(message="上传离线计算须给出决定日期（离线计算所用的决定日期）", code="decision_date_required",
                         field="decision_date")
    if key is None:
        raise InputError(message="上传离线计算须带 Idempotency-Key（终端计算时生成，重试时原样发送），以免重复入档",
                         code="idempotency_key_required", field="Idempotency-Key")


def engine_of(records: Records, bundle_hash: str) -> Engine:
    """The engine of the rulebook set the bundle was built from (409 ``offline_rulebooks_unknown``
    when the service holds neither that set nor its snapshot)."""
    try:
        return records.engine_for(bundle_hash)[0]
    except ConflictError as exc:
        code = "offline_rulebooks_unknown" if exc.code == "snapshot_missing" else exc.code
        message = (f"服务端没有离线包所用的规则集（{bundle_hash[:16]}…），无法复核，未入档；请更新离线包后重新计算"
                   if exc.code == "snapshot_missing" else exc.message)
        raise ConflictError(message=message, code=code, field="offline.bundle_hash") from None


def offline_record(body: AssessmentIn) -> dict[str, str]:
    """What the record keeps of the upload's ``offline`` object (the result is the record's own)."""
    o = body.offline
    assert o is not None
    made = o.made_at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {"made_at": made, "bundle_hash": o.bundle_hash, "result_sha256": o.result_sha256}


def compare(body: AssessmentIn, result_json: bytes) -> None:
    """Refuse (422 ``offline_result_differs``) when the service's result is not the one the terminal reported."""
    o = body.offline
    assert o is not None
    if hashlib.sha256(result_json).hexdigest() == o.result_sha256:
        return
    errors = []
    if o.result is not None:
        for d in diff(o.result, json.loads(result_json)):
            errors.append({"code": "offline_result_differs", "field": f"offline.result.{d['path']}",
                           "message": f"离线结果为 {_shown(d['stored'])}，服务端重新计算为 {_shown(d['now'])}"})
    if not errors:
        errors.append({"code": "offline_result_differs", "field": "offline.result_sha256",
                       "message": "离线结果的 sha256 与服务端重新计算的结果不同"})
    fields = "、".join(e["field"] for e in errors[:3]) + (f" 等 {len(errors)} 处" if len(errors) > 3 else "")
    raise ResultDiffers(message=f"离线计算结果与服务端用同一规则集重新计算的结果不一致（{fields}），未入档", field=errors[0]["field"],
                        errors=errors)


def _shown(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
