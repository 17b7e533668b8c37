"""The tables of the records' database. They are made and changed by the Alembic migrations
(``api/storage/migrations``), never by ``metadata.create_all``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()


def chain_columns() -> list[Column[Any]]:
    """The chain's columns, first in every chained table (the writer inserts them first): the
    record's id, its place in the one sequence, and its link to the record before it."""
    return [
        Column("id", String(32), primary_key=True),
        Column("seq", BigInteger, nullable=False, unique=True),
        Column("prev_id", String(32), nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    ]


assessments = Table(
    "assessments",
    metadata,
    *chain_columns(),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("created_by", String(64), nullable=False, index=True),
    Column("created_role", String(16), nullable=False),
    Column("violation", String(80), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("recommended", BigInteger, nullable=True),
    Column("band_min", BigInteger, nullable=True),
    Column("band_max", BigInteger, nullable=True),
    Column("edition", String(80), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rulebook_set", String(64), nullable=False),
    Column("engine_version", String(32), nullable=False),
    Column("request", Text, nullable=False),
    Column("result", Text, nullable=False),
    # The case's identity (api/casedata.py), when given (migration 0006): the whole of it as JSON,
    # and the case number and party name again for the list's search. In the chain hash when set.
    Column("case_json", Text, nullable=True),
    Column("case_number", String(64), nullable=True),
    Column("case_party", String(100), nullable=True),
    # The record this one replaces after a change and recomputation (修改后重新计算, migration 0007):
    # hashed when set; at most one record replaces a given one (the unique index, and the writer's
    # check under the chain lock, which names the newer record).
    Column("supersedes", String(32), nullable=True),
    Index("ux_assessments_supersedes", "supersedes", unique=True),
    # an assessment made offline by a terminal and uploaded (migration 0008): made_at, bundle_hash, result_sha256 as JSON
    Column("offline", Text, nullable=True),
)

decisions = Table(
    "decisions",
    metadata,
    *chain_columns(),
    Column("assessment_id", String(32), ForeignKey("assessments.id"), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_role", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("reason", Text, nullable=True),
    Column("within_band", Boolean, nullable=False),
)

# One row per decided case, what the consistency analytics (同案同罚, api/consistency.py) aggregate in
# SQL (migration 0009). Derived, not chained: a real row is written with its decision, in the writer's
# transaction, from the chained assessment and decision (api/storage/decided.py), and can be rebuilt
# from them and checked against them (``discretion analytics rebuild|check``). Synthetic rows
# (``discretion analytics synth``) have no record behind them, are marked ``synthetic`` and are left
# out of the analytics unless asked for. Positions are integers (basis points of the statutory range).
decided_cases = Table(
    "decided_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(40), nullable=False, unique=True),  # the assessment's id, or SYN-<seed>-<n>
    Column("synthetic", Boolean, nullable=False),
    Column("decided_on", Date, nullable=False),  # the day of the decision, Beijing time
    Column("month", Integer, nullable=False),  # the same as YYYYMM, for the timeline
    Column("violation", String(80), nullable=False),
    Column("regime", String(16), nullable=False),  # the regime applied (pre2026, code2026)
    Column("jurisdiction", String(80), nullable=False),  # the case's jurisdiction as asked (yunnan/kunming)
    Column("edition", String(80), nullable=False),
    Column("handler", String(64), nullable=False),  # who made the assessment (承办人)
    Column("party", String(16), nullable=False),  # unit or individual
    Column("outcome", String(20), nullable=False),
    Column("legal_min", BigInteger, nullable=True),
    Column("legal_max", BigInteger, nullable=True),
    Column("band_min", BigInteger, nullable=True),
    Column("band_max", BigInteger, nullable=True),
    Column("recommended", BigInteger, nullable=True),
    Column("amount", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=True),  # (amount − legal_min) / (legal_max − legal_min), in 1/10000
    Column("bin", SmallInteger, nullable=True),  # the position's whole percentage point, within −50 … 150
    Column("side", SmallInteger, nullable=False),  # −1 below the recommended band, 0 inside, 1 above
    Column("waived", Boolean, nullable=False),  # decided 0 yuan (not time-barred): 不予处罚
    Column("reason", Text, nullable=True),
    # a 64-bit hash of the reason of a decision outside the band (null inside it): the reasons are
    # counted from an index, the text read for the most frequent only (a long text fits no index)
    Column("reason_key", BigInteger, nullable=True),
    Column("features", Text, nullable=False),  # factor levels, circumstances, statutory range (decided.features)
    Index("ix_decided_cases_cube", "synthetic", "violation", "handler", "bin", "side", "waived", "decided_on",
          "jurisdiction", "edition", "month"),
    Index("ix_decided_cases_month", "synthetic", "month", "side", "violation", "handler", "decided_on",
          "jurisdiction", "edition"),
    Index("ix_decided_cases_reasons", "synthetic", "violation", "reason_key", "decided_on", "handler", "jurisdiction",
          "edition", sqlite_where=text("reason_key IS NOT NULL"), postgresql_where=text("reason_key IS NOT NULL")),
    Index("ix_decided_cases_like", "synthetic", "violation", "regime", "party", "features", "decided_on"),
)

# Changes of who may do what (an API token created or revoked, a user added or disabled), on the
# same chain as the records: who did it (the acting admin's token owner, or the operating-system
# user who ran the command), what (action), to which token or user (target) and its role; never a
# token or a password. Written by api/auth.py through the chain's writer (migration 0005).
access_events = Table(
    "access_events",
    metadata,
    *chain_columns(),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("detail", Text, nullable=False),  # sorted-key JSON: owner, label, os_user, host …
)

# The last record of the chain (one row, id 1): a deleted tail is found by comparing with it.
chain_head = Table(
    "chain_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("record_id", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Content-addressed copies of the rulebook source files an assessment was made with.
rulebook_snapshots = Table(
    "rulebook_snapshots",
    metadata,
    Column("set_hash", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("files", LargeBinary, nullable=False),  # zlib(JSON {relative path: text})
)

# POST /v1/assessments with an Idempotency-Key: the caller's key → the assessment it made, written
# in the same transaction as that assessment (api/storage/writer.py). Not part of the chain.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("caller", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("assessment_id", String(32), ForeignKey("assessments.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The access layer's tables (api/auth.py).
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    # moved on by logout: session cookies of an older generation are refused (migration 0002)
    Column("session_generation", Integer, nullable=False, server_default="0"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("label", String(80), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Keys the service keeps in the database. Not the session secret: that is in a key file
# (api/keyfile.py; migration 0004 removed the row it had here).
service_keys = Table(
    "service_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(255), nullable=False),
)

# Failed logins, counted per name tried and per client address (api/throttle.py, migration 0004):
# each attempt is two rows, one of each kind, sharing its ``attempt`` id; rows older than the
# window are deleted by the next attempt.
login_failures = Table(
    "login_failures",
    metadata,
    Column("attempt", String(16), primary_key=True),
    Column("kind", String(8), primary_key=True),  # "name" or "address"
    Column("subject", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),  # milliseconds since the epoch
    Index("ix_login_failures_subject", "kind", "subject", "at_ms"),
    Index("ix_login_failures_at_ms", "at_ms"),
)
