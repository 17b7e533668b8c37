"""The row of a decided case that the consistency analytics aggregate (table ``decided_cases``).

A real row is derived from a chained assessment and its decision (:func:`decided_row`) and written
by the chain's writer in the transaction that appends the decision, so the table never misses a
decision nor holds one the chain does not. It is derived data, not a record: :func:`rebuild`
derives every real row again from the chain (migration 0009 fills the table with it) and
:func:`check` names every real row that differs from what the chain gives
(``discretion analytics rebuild|check``).

What a row holds (docs/consistency.md):

- the decided amount's **position** in the statutory range, ``(amount − legal_min) / (legal_max −
  legal_min)`` in basis points (an integer, rounded to the nearest; below 0 for an amount under the
  statutory minimum, as 减轻处罚 gives), None when the result has no statutory range (不予处罚,
  time-barred, a fine without an upper limit); and its **bin**, the whole percentage point below it
  (the statutory maximum itself in the top bin, 99), kept within −50 … 150;
- the **side** of the recommended band the amount lies on (−1 below, 0 inside, 1 above; a case
  without a fine recommended has the band [0, 0], as :func:`~api.storage.records.check_decision`
  reads it), and whether the case was **waived** (decided at 0 yuan and not time-barred);
- the case's **features** for the like-case distance (:func:`features`): the level and score of
  each benchmark factor the applied regime placed, the circumstances given, the statutory range.

Synthetic rows (:func:`synthetic_rows`) are drawn from synthetic cases assessed by the engine;
they carry ``synthetic = true`` and a reference ``SYN-<seed>-<n>``, and no record stands behind them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from discretion.rulebooks.loaded import RulebookSet

from ..clock import BEIJING
from .rows import as_utc, band_of
from .schema import assessments, decided_cases, decisions

SCALE = 10_000  # positions in basis points of the statutory range
BIN_MIN, BIN_MAX = -50, 150  # the bins kept apart (whole percentage points); beyond them, the end bins
TOP_BIN = 99  # the statutory maximum (position 10,000) counts in the bin [99 %, 100 %]
CHUNK = 2_000  # rows per INSERT batch (rebuild, synthetic rows)

# The columns of an assessment row the derivation reads.
ASSESSMENT_COLUMNS = ("id", "created_by", "violation", "outcome", "band_min", "band_max", "recommended", "edition",
                      "request", "result")


def position_of(amount: int, legal_min: int | None, legal_max: int | None) -> int | None:
    """``amount``'s position in the statutory range in basis points, rounded to the nearest (halves
    up); None without a range of positive width."""
    if legal_min is None or legal_max is None or legal_max <= legal_min:
        return None
    span = legal_max - legal_min
    return (2 * (amount - legal_min) * SCALE + span) // (2 * span)


def bin_of(position: int | None) -> int | None:
    """The whole percentage point a position lies in (the maximum in the top bin), within the kept bins."""
    if position is None:
        return None
    b = TOP_BIN if position == SCALE else position // 100
    return max(BIN_MIN, min(BIN_MAX, b))


def side_of(amount: int, band: list[int]) -> int:
    """−1 below the recommended band, 0 inside it (ends included), 1 above it."""
    return -1 if amount < band[0] else 1 if amount > band[1] else 0


def reason_key(reason: str | None, side: int) -> int | None:
    """The reason's key when the amount lies outside the band: the first 8 bytes of its SHA-256, as a
    signed 64-bit integer (the reasons are counted by key; two texts sharing one are not expected
    in 2^64); None inside the band or without a reason."""
    if side == 0 or reason is None:
        return None
    return int.from_bytes(hashlib.sha256(reason.encode("utf-8")).digest()[:8], "big", signed=True)


def _regime(result: Mapping[str, Any]) -> str:
    law = result.get("law") or {}
    if law.get("regime"):
        return str(law["regime"])
    regimes = [s.get("regime") for s in result.get("trail", ()) if s.get("regime")]
    return str(regimes[0]) if regimes else ""


def features(result: Mapping[str, Any], request: Mapping[str, Any]) -> str:
    """The case's features for the like-case distance, as one canonical text:
    ``f=<factor>:<level>:<score>,…|c=<circumstance>,…|r=<legal_min>-<legal_max>`` (factors and
    circumstances sorted; the factors those the applied regime placed, with the edition's score of
    the level, 0 … 1; ``r=-`` without a statutory range)."""
    regime = _regime(result)
    factors = sorted(
        f"{d['factor']}:{d['level']}:{d['score']}"
        for s in result.get("trail", ())
        if s.get("step") == "factor" and s.get("regime") in (None, regime)
        and isinstance(d := s.get("data") or {}, dict) and "factor" in d and "score" in d
    )
    circumstances = sorted({str(c) for c in request.get("circumstances") or ()})
    fine = result.get("fine")
    span = "-" if not fine else f"{fine['legal_min']}-{'' if fine.get('legal_max') is None else fine['legal_max']}"
    return f"f={','.join(factors)}|c={','.join(circumstances)}|r={span}"


def beijing_day(t: dt.datetime) -> dt.date:
    return as_utc(t).astimezone(BEIJING).date()


def decided_row(assessment: Mapping[str, Any], decision: Mapping[str, Any]) -> dict[str, Any]:
    """The analytics row of an assessment row (the :data:`ASSESSMENT_COLUMNS` at least) and its decision row."""
    result = orjson.loads(assessment["result"])
    request = orjson.loads(assessment["request"])
    fine = result.get("fine") or None
    legal_min = fine["legal_min"] if fine else None
    legal_max = fine.get("legal_max") if fine else None
    amount = int(decision["amount"])
    day = beijing_day(decision["created_at"])
    position = position_of(amount, legal_min, legal_max)
    outcome = str(assessment["outcome"])
    side = side_of(amount, band_of(assessment))
    return {
        "ref": assessment["id"],
        "synthetic": False,
        "decided_on": day,
        "month": day.year * 100 + day.month,
        "violation": assessment["violation"],
        "regime": _regime(result),
        "jurisdiction": str(request.get("jurisdiction") or (result.get("rulebook") or {}).get("id") or ""),
        "edition": assessment["edition"],
        "handler": assessment["created_by"],
        "party": str(request.get("party") or "unit"),
        "outcome": outcome,
        "legal_min": legal_min,
        "legal_max": legal_max,
        "band_min": assessment["band_min"],
        "band_max": assessment["band_max"],
        "recommended": assessment["recommended"],
        "amount": amount,
        "position": position,
        "bin": bin_of(position),
        "side": side,
        "waived": amount == 0 and outcome != "time_barred",
        "reason": decision["reason"],
        "reason_key": reason_key(decision["reason"], side),
        "features": features(result, request),
    }


def _chain_rows(conn: Connection, after_seq: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """The real rows as the chain gives them, of the decisions after ``after_seq`` in chain order
    (at most ``limit``), each with the decision's ``seq`` under ``_seq``."""
    a, d = assessments, decisions
    q = (select(*(a.c[c] for c in ASSESSMENT_COLUMNS), d.c.amount, d.c.reason, d.c.created_at.label("decided_at"), d.c.seq)
         .select_from(d.join(a, a.c.id == d.c.assessment_id)).where(d.c.seq > after_seq).order_by(d.c.seq))
    if limit is not None:
        q = q.limit(limit)
    out = []
    for r in conn.execute(q):
        m = r._mapping
        row = decided_row(m, {"amount": m["amount"], "reason": m["reason"], "created_at": m["decided_at"]})
        row["_seq"] = int(m["seq"])
        out.append(row)
    return out


def _all_chain_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every real row as the chain gives it, read :data:`CHUNK` decisions at a time."""
    after = 0
    while rows := _chain_rows(conn, after, CHUNK):
        after = rows[-1]["_seq"]
        for row in rows:
            del row["_seq"]
            yield row


def insert_rows(conn: Connection, rows: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
    """Insert rows in batches of :data:`CHUNK`; returns how many."""
    n = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            conn.execute(decided_cases.insert(), batch)
            n += len(batch)
            batch = []
            if progress is not None:
                progress(n)
    if batch:
        conn.execute(decided_cases.insert(), batch)
        n += len(batch)
    return n


def rebuild(conn: Connection) -> int:
    """Derive every real row again from the chain (the synthetic rows are left as they are); returns
    how many. Runs in the caller's transaction, :data:`CHUNK` decisions at a time."""
    conn.execute(delete(decided_cases).where(decided_cases.c.synthetic.is_(False)))
    n, after = 0, 0
    while rows := _chain_rows(conn, after, CHUNK):
        after = rows[-1]["_seq"]
        for row in rows:
            del row["_seq"]
        n += insert_rows(conn, rows)
    return n


COMPARED = tuple(c.name for c in decided_cases.c if c.name != "id")


@dataclass
class Difference:
    ref: str
    problem: str  # missing | extra | altered
    columns: tuple[str, ...] = ()


def check(engine: Engine) -> tuple[int, list[Difference]]:
    """Compare every real row with what the chain gives: (rows compared, differences)."""
    with engine.connect() as conn:
        want = {r["ref"]: r for r in _all_chain_rows(conn)}
        have = {r.ref: dict(r._mapping) for r in conn.execute(
            select(*(decided_cases.c[c] for c in COMPARED)).where(decided_cases.c.synthetic.is_(False)))}
    out = []
    for ref, row in want.items():
        got = have.get(ref)
        if got is None:
            out.append(Difference(ref, "missing"))
            continue
        cols = tuple(c for c in COMPARED if _norm(got[c]) != _norm(row[c]))
        if cols:
            out.append(Difference(ref, "altered", cols))
    out += [Difference(ref, "extra") for ref in have if ref not in want]
    return len(want), out


def _norm(v: Any) -> Any:
    return int(v) if isinstance(v, bool) else v


# --- synthetic rows --------------------------------------------------------------------------------

SYNTHETIC_HANDLERS = 40
# Reasons given for a decision outside the band (the synthetic ones, written as officers write them).
BELOW_REASONS = (
    "当事人主动消除违法行为危害后果，经集体讨论酌情从轻处罚",
    "企业生产经营困难，已完成整改，经集体讨论在建议档次以下处罚",
    "违法情节较轻，当事人积极配合调查并如实陈述",
    "当事人系初次违法且整改迅速，经法制审核后从轻处罚",
    "依法减轻处罚，经负责人集体讨论决定",
)
ABOVE_REASONS = (
    "违法行为持续时间长，造成周边群众多次投诉",
    "当事人拒不配合调查，经集体讨论从重处罚",
    "同一当事人两年内多次实施同类违法行为",
    "违法行为位于饮用水水源保护区附近，社会影响较大",
    "经集体讨论，按建议档次以上处罚以起警示作用",
)
WAIVE_REASON = "首次违法、危害后果轻微并及时改正，经集体讨论不予处罚"


@dataclass(frozen=True)
class Habit:
    """How a synthetic handler decides: the chance to go below or above the band, to waive a fine,
    to take the recommended amount, and where in the band they choose otherwise (1: evenly; above 1:
    toward the top; below 1: toward the bottom)."""

    below: float
    above: float
    waive: float
    recommended: float
    tilt: float


def habits(n: int = SYNTHETIC_HANDLERS) -> list[Habit]:
    """The synthetic handlers' habits: most decide alike; a few depart (lenient, strict, high in the
    band, low in the band), so that the analytics have departures to find."""
    usual = Habit(below=0.05, above=0.04, waive=0.01, recommended=0.5, tilt=1.0)
    special = {0: Habit(0.30, 0.02, 0.05, 0.3, 0.6), 1: Habit(0.02, 0.28, 0.0, 0.3, 1.6),
               2: Habit(0.02, 0.05, 0.0, 0.0, 50.0), 3: Habit(0.10, 0.02, 0.02, 0.05, 0.1)}
    return [special.get(i, usual) for i in range(n)]


def synthetic_handler(i: int) -> str:
    return f"合成承办人{i + 1:02d}"


def _round100(v: int) -> int:
    return (v + 50) // 100 * 100


def synthetic_rows(templates: list[dict[str, Any]], n: int, seed: int, today: dt.date) -> Iterator[dict[str, Any]]:
    """``n`` synthetic decided rows, drawn with ``random.Random(seed)`` from ``templates`` (the rows
    of synthetic cases assessed by the engine, with their decision dates, before any amount is
    decided: :func:`template_of`). Each row takes a template, a handler (some busier than others),
    an amount chosen by the handler's :class:`Habit` (a reason from the lists above when outside the
    band) and a day 0–20 days after the case's decision date, not after ``today``."""
    rng = random.Random(seed)
    kinds = habits()
    weights = [1.0 + (i % 5) for i in range(len(kinds))]
    handlers = rng.choices(range(len(kinds)), weights=weights, k=n)
    for i in range(n):
        t = templates[rng.randrange(len(templates))]
        h = handlers[i]
        habit = kinds[h]
        amount, reason = _decide(rng, t, habit)
        day = min(today, t["decision_date"] + dt.timedelta(days=rng.randint(0, 20)))
        position = position_of(amount, t["legal_min"], t["legal_max"])
        band = [0, 0] if t["band_min"] is None else [t["band_min"], t["band_max"]]
        side = side_of(amount, band)
        yield {
            "ref": f"SYN-{seed}-{i + 1}", "synthetic": True, "decided_on": day, "month": day.year * 100 + day.month,
            "violation": t["violation"], "regime": t["regime"], "jurisdiction": t["jurisdiction"], "edition": t["edition"],
            "handler": synthetic_handler(h), "party": t["party"], "outcome": t["outcome"], "legal_min": t["legal_min"],
            "legal_max": t["legal_max"], "band_min": t["band_min"], "band_max": t["band_max"],
            "recommended": t["recommended"], "amount": amount, "position": position, "bin": bin_of(position),
            "side": side, "waived": amount == 0 and t["outcome"] != "time_barred",
            "reason": reason, "reason_key": reason_key(reason, side), "features": t["features"],
        }


def _decide(rng: random.Random, t: Mapping[str, Any], habit: Habit) -> tuple[int, str | None]:
    if t["band_min"] is None:  # no fine recommended (不予处罚): decided at 0
        return 0, None
    lo, hi, legal_min = int(t["band_min"]), int(t["band_max"]), int(t["legal_min"])
    legal_max = t["legal_max"]
    u = rng.random()
    if u < habit.waive:
        return 0, WAIVE_REASON
    u -= habit.waive
    if u < habit.below and lo >= 200:
        floor = legal_min if legal_min < lo else lo // 2  # under the statutory minimum only at the band's foot (减轻)
        amount = _round100(floor + int((lo - floor) * rng.random()))
        if amount < lo:
            return amount, rng.choice(BELOW_REASONS)
    u -= habit.below
    top = int(legal_max) if legal_max is not None else hi * 2
    if u < habit.above and hi < top:
        amount = min(top, _round100(hi + 100 + int((min(top, hi + (hi - lo) + 100) - hi) * rng.random())))
        if amount > hi:
            return amount, rng.choice(ABOVE_REASONS)
    if rng.random() < habit.recommended and t["recommended"] is not None:
        return int(t["recommended"]), None
    amount = lo + int((hi - lo) * rng.random() ** (1 / habit.tilt))
    return max(lo, min(hi, _round100(amount))), None


def template_of(result: Mapping[str, Any], request: Mapping[str, Any], decision_date: dt.date) -> dict[str, Any]:
    """What a synthetic row takes from a synthetic case's assessment (its result and request as the
    API would store them)."""
    fine = result.get("fine") or None
    band = fine["band"] if fine else None
    return {
        "violation": result["violation"]["code"], "regime": _regime(result),
        "jurisdiction": str(request.get("jurisdiction") or result["rulebook"]["id"]), "edition": result["rulebook"]["key"],
        "party": str(request.get("party") or "unit"), "outcome": result["outcome"],
        "legal_min": fine["legal_min"] if fine else None, "legal_max": fine.get("legal_max") if fine else None,
        "band_min": band[0] if band else None, "band_max": band[1] if band else None,
        "recommended": fine["recommended"] if fine else None, "features": features(result, request),
        "decision_date": decision_date,
    }


def synthetic_templates(rulebooks: RulebookSet, pool: int, seed: int, today: dt.date) -> list[dict[str, Any]]:
    """The templates synthetic rows are drawn from: ``pool`` synthetic cases (discretion.review.synth,
    ``seed``) assessed by the engine, those decided before ``today`` (the generator puts every case
    it would decide later on ``today`` itself: kept, they would pile up on one day)."""
    from discretion.engine.assessment import Engine as Assessor
    from discretion.review import synth

    assessor = Assessor(rulebooks, "reference")
    out = []
    for case in synth.generate_valid(assessor, pool, seed, today=today):
        if case.decision_date < today:
            result = orjson.loads(assessor.assess(case).to_json(id="0" * 24))
            out.append(template_of(result, case.model_dump(mode="json"), case.decision_date))
    return out
