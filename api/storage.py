"""Records with SQLAlchemy 2 (SQLite by default, PostgreSQL via DATABASE_URL), chained by hash.

Every record (an assessment, an officer's decision) is appended to one sequence: it gets the next
``seq``, the ``prev_id`` and ``prev_hash`` of the record before it, and
``hash = sha256(prev_hash || canonical bytes of its content)``. Altering, inserting or deleting a
row breaks the chain where it happened (:meth:`Store.verify`, ``discretion audit verify``).
There is no update or delete path for records.

Writes go through one writer thread per process that commits whatever is waiting in one
transaction (group commit). Writers in several processes serialise on the chain: SQLite takes a
file lock next to the database (an immediate wake-up for the next writer) and ``BEGIN IMMEDIATE``;
PostgreSQL takes ``pg_advisory_xact_lock``. Each batch reads the chain head in its transaction, so
nothing about the chain is cached in a process. The schema is made by the Alembic migrations in
``api/migrations`` (run on start-up and by ``discretion db upgrade``).

The append path is kept cheap (``benchmarks/store_cpu.py`` measures it): the event loop only
queues a row and awaits an asyncio future (settled with one wake-up of the loop per batch); the
writer encodes each record once before taking the chain lock (request and result text, the
canonical content around its two chain fields, the values to insert), and under the lock splices in
``prev_id`` and ``seq``, hashes, and writes with plain SQL on the driver's cursor of a connection
it keeps between batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import heapq
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict, Unpack

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    event,
    literal,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from discretion import __version__
from discretion.errors import ConflictError, DiscretionError, NotFoundError

metadata = MetaData()

GENESIS = "0" * 64  # prev_hash of the first record
CHAIN_LOCK = 0x64697363_72657421  # pg_advisory_xact_lock key of the chain ("discret!")
MIGRATION_LOCK = CHAIN_LOCK + 1

assessments = Table(
    "assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("prev_id", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
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
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("prev_id", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("assessment_id", String(32), ForeignKey("assessments.id"), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_role", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("reason", Text, nullable=True),
    Column("within_band", Boolean, nullable=False),
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

# The access layer's tables (api/auth.py).
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
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

service_keys = Table(
    "service_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(255), nullable=False),
)


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


def _assessment_row(rid: str, *, request: RequestIn, result_json: bytes, violation: str, title: str, outcome: str,
                    fine: Mapping[str, Any] | None, edition: str, sha256: str, rulebook_set: str, who: Any) -> dict[str, Any]:
    band = fine["band"] if fine else None
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
        "request": request,  # encoded, like the result, by the writer (Store._prepare)
        "result": result_json,
    }


def _decision_row(assessment_id: str, amount: int, reason: str | None, within_band: bool, who: Any) -> dict[str, Any]:
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


def is_id(text: str) -> bool:
    """Whether ``text`` has the form of a record id (so nothing else reaches the database)."""
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text)


# --- canonical content and the chain -----------------------------------------------------------

KINDS = {"assessment": assessments, "decision": decisions}
KIND_LABELS = {"assessment": "计算记录", "decision": "决定记录"}
CONTENT = {
    "assessment": (
        "id", "seq", "prev_id", "created_at", "created_by", "created_role", "violation", "title", "outcome",
        "recommended", "band_min", "band_max", "edition", "sha256", "rulebook_set", "engine_version", "request", "result",
    ),
    "decision": (
        "id", "seq", "prev_id", "assessment_id", "created_at", "created_by", "created_role", "amount", "reason", "within_band",
    ),
}


def utc_text(t: dt.datetime) -> str:
    """A stored time as canonical text: UTC, microseconds, ``Z`` (SQLite gives naive UTC back)."""
    if t.tzinfo is not None:
        t = (t if t.tzinfo is dt.UTC else t.astimezone(dt.UTC)).replace(tzinfo=None)
    if t.year >= 1000:  # the same text as strftime below, at a third of its cost
        return t.isoformat(timespec="microseconds") + "Z"
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_bytes(kind: str, row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a record's content: sorted-key JSON of every hashed column."""
    d = {k: row[k] for k in CONTENT[kind]}
    d["kind"] = kind
    d["created_at"] = utc_text(row["created_at"])
    if "within_band" in d:
        d["within_band"] = bool(d["within_band"])
    return orjson.dumps(d, option=orjson.OPT_SORT_KEYS)


def link_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + content).hexdigest()


# The canonical content is sorted-key JSON, so the two fields the chain decides when a record is
# appended (``prev_id`` and ``seq``) fall between fixed neighbours: everything else is encoded once,
# before the chain lock (:func:`content_parts`), and under the lock only those two are spliced in.
_SPECIAL = ("seq", "prev_id", "kind", "created_at", "within_band")  # the chain's, and those content_bytes derives
_SPLIT = {
    kind: (tuple(k for k in keys if k < "prev_id" and k not in _SPECIAL), tuple(k for k in keys if "prev_id" < k < "seq"),
           tuple(k for k in keys if k > "seq" and k not in _SPECIAL))
    for kind, keys in CONTENT.items()
}
assert all(parts[1] and not set(parts[1]) & set(_SPECIAL) for parts in _SPLIT.values())  # kind, created_at < prev_id < seq < within_band
_PREV_ID, _SEQ = b'"prev_id":', b',"seq":'


def content_parts(kind: str, row: Mapping[str, Any]) -> tuple[bytes, memoryview, bytes]:
    """The canonical content of a record around its chain fields:
    ``content_bytes(kind, row) == head + orjson(prev_id) + b"," + middle + b',"seq":' + str(seq) + tail``
    (the ~10 KB middle, with the request and result, is not copied again)."""
    before_keys, between_keys, after_keys = _SPLIT[kind]
    before = {k: row[k] for k in before_keys}
    before["created_at"] = utc_text(row["created_at"])
    before["kind"] = kind
    after = {k: row[k] for k in after_keys}
    if "within_band" in row:
        after["within_band"] = bool(row["within_band"])
    sort = orjson.OPT_SORT_KEYS
    return (
        b"{" + orjson.dumps(before, option=sort)[1:-1] + b"," + _PREV_ID,
        memoryview(orjson.dumps({k: row[k] for k in between_keys}, option=sort))[1:-1],
        b"," + orjson.dumps(after, option=sort)[1:] if after else b"}",
    )


def chained_hash(prev_hash: str, parts: tuple[bytes, memoryview, bytes], prev_id: str, seq: int) -> str:
    """``link_hash(prev_hash, content)`` from :func:`content_parts`, fed to sha256 in pieces under
    2 KB: hashlib would release the GIL for a larger piece, and taking it back from the busy event
    loop costs the writer more than the hashing (two context switches)."""
    head, middle, tail = parts
    h = hashlib.sha256(prev_hash.encode("ascii") + head + orjson.dumps(prev_id) + b",")
    for i in range(0, len(middle), 2047):
        h.update(middle[i:i + 2047])
    h.update(_SEQ + b"%d" % seq + tail)
    return h.hexdigest()


def _json_default(v: Any) -> Any:
    if isinstance(v, Decimal):  # the exact decimal text, as a JSON number
        return orjson.Fragment(str(v))
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def dumps(v: Any) -> bytes:
    """JSON for stored requests: decimals as exact JSON numbers (read back with ``parse_float=Decimal``)."""
    return orjson.dumps(v, default=_json_default)


# --- snapshots of rulebook sources ----------------------------------------------------------------


def set_hash(files: Mapping[str, bytes]) -> str:
    """The content address of a set of rulebook source files (paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).hexdigest().encode("ascii") + b"\n")
    return h.hexdigest()


def pack_files(files: Mapping[str, bytes]) -> bytes:
    return zlib.compress(orjson.dumps({p: files[p].decode("utf-8") for p in sorted(files)}), 6)


def unpack_files(blob: bytes) -> dict[str, bytes]:
    return {p: t.encode("utf-8") for p, t in orjson.loads(zlib.decompress(blob)).items()}


# --- verification -----------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # altered | inserted | deleted | broken_link | snapshot
    message: str  # Chinese, naming record ids and seq
    seq: int | None = None
    record_id: str | None = None


@dataclass
class VerifyReport:
    records: int = 0
    assessments: int = 0
    decisions: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def _label(kind: str, rid: str, seq: int) -> str:
    return f"{KIND_LABELS[kind]} {rid}（序号 {seq}）"


# --- the store --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A queued record: its row (what the future resolves to) and, once the writer has prepared it,
    the canonical content around the chain fields (:func:`content_parts`) and the values to insert."""

    kind: str
    row: dict[str, Any]
    future: Any  # concurrent.futures.Future, or an asyncio.Future of ``loop``
    loop: asyncio.AbstractEventLoop | None
    parts: tuple[bytes, memoryview, bytes] | None  # set by Store._prepare in the writer
    values: tuple[Any, ...]


_STOP = object()

# The insert's columns: the chain fields first (as both tables declare them), then the record's own.
CHAIN_COLUMNS = ("id", "seq", "prev_id", "prev_hash", "hash")
VALUE_COLUMNS = {kind: tuple(c.name for c in table.c if c.name not in CHAIN_COLUMNS) for kind, table in KINDS.items()}
assert all([c.name for c in t.c][:5] == list(CHAIN_COLUMNS) for t in KINDS.values())
_CREATED_AT = {kind: cols.index("created_at") for kind, cols in VALUE_COLUMNS.items()}


def _resolve(done: list[tuple[Any, dict[str, Any], BaseException | None]]) -> None:
    """Settle a batch's asyncio futures (in their loop; one wake-up per batch and loop)."""
    for fut, row, exc in done:
        if fut.done():  # the caller went away (cancelled)
            continue
        if exc is None:
            fut.set_result(row)
        else:
            fut.set_exception(exc)


def make_engine(url: str) -> Engine:
    """An engine with the pragmas and transaction handling the chain needs."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _: Any) -> None:
            conn.isolation_level = None  # the driver's own BEGIN off: we emit it (below)
            cur = conn.cursor()
            # A new database gets 8 KiB pages (a record of ~12 KB fills fewer pages: fewer WAL frames
            # and checkpoint writes); an existing one keeps its page size (this is then a no-op).
            cur.execute("PRAGMA page_size=8192")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a commit is on disk before anyone is told
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("discretion_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def lock_path(engine: Engine) -> Path | None:
    """The lock file beside a SQLite database (None for other databases and in-memory SQLite)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    if not db or db == ":memory:":
        return None
    return Path(db).with_name(Path(db).name + ".lock")


@contextlib.contextmanager
def file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (flock); a no-op without a path."""
    if path is None:
        yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class Store:
    """Records: assessments and decisions on one hash chain, snapshots, and the access tables.

    :meth:`submit_assessment` and :meth:`submit_decision` queue a record; the future resolves once
    it is durably committed (to its stored row, with seq and hash), or to the error.
    :meth:`add_assessment` and :meth:`add_decision` are the same for a caller in the event loop (the
    service): they return an asyncio future, which the writer settles with one wake-up of the loop
    per batch."""

    BATCH_MAX = 256
    GATHER_S = 0.002  # after the first waiting row, gather others at most this long: fewer, larger commits
    GATHER_STEP_S = 0.0005  # … and stop when none arrived for this long
    RETRIES = 5

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if migrate:
            from .migrations import upgrade

            upgrade(self.engine)
        dialect = self.engine.dialect
        self._sqlite = dialect.name == "sqlite"
        self._postgresql = dialect.name == "postgresql"
        # The append path runs plain SQL on the driver's cursor (no statement compilation, no
        # per-value type processing): Store._prepare makes the values the driver takes.
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        if mark is None or not (self._sqlite or self._postgresql):
            self.engine.dispose()
            raise DiscretionError(code="database_unsupported",
                                  message=f"不支持的数据库（{dialect.name}，{dialect.driver}）：记录只能存于 SQLite 或 PostgreSQL")
        self._sql_head = "SELECT seq, record_id, hash FROM chain_head WHERE id = 1"
        self._sql_move = f"UPDATE chain_head SET seq = {mark}, record_id = {mark}, hash = {mark} WHERE id = 1"
        self._sql_lock = f"SELECT pg_advisory_xact_lock({mark})"
        self._sql_insert = {
            kind: f"INSERT INTO {KINDS[kind].name} ({', '.join(CHAIN_COLUMNS + cols)}) "
                  f"VALUES ({', '.join([mark] * (len(CHAIN_COLUMNS) + len(cols)))})"
            for kind, cols in VALUE_COLUMNS.items()
        }
        self._lock_path = lock_path(self.engine)
        self._lock_fd: int | None = None
        if self._lock_path is not None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._conn: Connection | None = None  # the writer's connection, kept between batches
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="discretion-store-writer", daemon=True)
        self._writer.start()

    def close(self) -> None:
        """Stop the writer (after what is queued) and release the connections."""
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(timeout=30)
        self._drop_connection()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.engine.dispose()

    # --- writing ---------------------------------------------------------------------------

    def submit_assessment(self, rid: str, **fields: Unpack[AssessmentFields]) -> Future[dict[str, Any]]:
        """Queue an assessment record whose result is already JSON (with its id inside). The request
        (a mapping, or a function returning it) and the result bytes must not change once queued."""
        fut: Future[dict[str, Any]] = Future()
        self._enqueue("assessment", _assessment_row(rid, **fields), fut, None)
        return fut

    def add_assessment(self, rid: str, **fields: Unpack[AssessmentFields]) -> asyncio.Future[dict[str, Any]]:
        """:meth:`submit_assessment` for a caller in the running event loop: queues the record at once
        and returns an asyncio future to await (no thread-safe future, no wrapping)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._enqueue("assessment", _assessment_row(rid, **fields), fut, loop)
        return fut

    def submit_decision(
        self, assessment_id: str, *, amount: int, reason: str | None, within_band: bool, who: Any
    ) -> Future[dict[str, Any]]:
        """Queue a decision on a stored assessment; resolves to ConflictError if it already has one."""
        fut: Future[dict[str, Any]] = Future()
        self._enqueue("decision", _decision_row(assessment_id, amount, reason, within_band, who), fut, None)
        return fut

    def add_decision(
        self, assessment_id: str, *, amount: int, reason: str | None, within_band: bool, who: Any
    ) -> asyncio.Future[dict[str, Any]]:
        """:meth:`submit_decision` for a caller in the running event loop: an asyncio future to await."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._enqueue("decision", _decision_row(assessment_id, amount, reason, within_band, who), fut, loop)
        return fut

    def _enqueue(self, kind: str, row: dict[str, Any], fut: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        self._queue.put(_Item(kind, row, fut, loop, None, ()))

    def _prepare(self, batch: list[_Item]) -> list[_Item]:
        """Encode, once per record and before the chain lock, what does not depend on the chain: the
        request and result as text, the canonical content around its chain fields and the values to insert.
        (Here rather than in the request path: the writer's core has this code and data warm.)
        A record that cannot be encoded fails alone."""
        ready = []
        for item in batch:
            row = item.row
            try:
                if item.kind == "assessment":
                    request = row["request"]
                    row["request"] = dumps(request() if callable(request) else request).decode()
                    row["result"] = row["result"].decode()
                values = [row[c] for c in VALUE_COLUMNS[item.kind]]
                if self._sqlite:  # the text SQLAlchemy's SQLite DateTime stores (naive UTC, microseconds)
                    values[_CREATED_AT[item.kind]] = row["created_at"].isoformat(" ", "microseconds")[:26]
                item.parts, item.values = content_parts(item.kind, row), tuple(values)
            except Exception as exc:  # noqa: BLE001 - this record's caller gets the error
                self._settle([(item, exc)])
                continue
            ready.append(item)
        return ready

    def _write_loop(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                self._gather()
                batch = [first]
                stop = False
                while len(batch) < self.BATCH_MAX:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._write(batch)
                if stop:
                    return
        finally:
            self._drop_connection()

    def _gather(self) -> None:
        """Let the records in flight arrive (group commit): poll the queue every GATHER_STEP_S while
        it grows, for at most GATHER_S. Polling (not a wake-up per record) keeps the writer off the
        GIL while the event loop is busy; stopping when nothing came saves the rest of the window
        once the loop has queued what it had."""
        end = time.monotonic() + self.GATHER_S
        size = self._queue.qsize()
        while size < self.BATCH_MAX - 1:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.GATHER_STEP_S, left))
            now = self._queue.qsize()
            if now == size:
                return
            size = now

    def _write(self, batch: list[_Item]) -> None:
        batch = self._prepare(batch)
        if not batch:
            return
        for attempt in range(self.RETRIES):
            try:
                written, refused = self._append(batch)
                break
            except OperationalError as exc:  # locked, or the connection dropped: try again
                self._drop_connection(invalidate=True)
                if attempt == self.RETRIES - 1:
                    self._settle([(item, exc) for item in batch])
                    return
                time.sleep(0.05 * (attempt + 1))
            except Exception as exc:  # noqa: BLE001 - the whole batch failed: its callers get the error, the writer lives on
                self._drop_connection()
                self._settle([(item, exc) for item in batch])
                return
        self._settle([(item, None) for item in written] + refused)

    @staticmethod
    def _settle(outcomes: list[tuple[_Item, BaseException | None]]) -> None:
        """Resolve the callers' futures: concurrent ones here, asyncio ones in their loop (one call per loop)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, dict[str, Any], BaseException | None]]] = {}
        for item, exc in outcomes:
            if item.loop is not None:
                by_loop.setdefault(item.loop, []).append((item.future, item.row, exc))
                continue
            with contextlib.suppress(InvalidStateError):  # cancelled by its caller meanwhile: nobody waits for it
                if exc is None:
                    item.future.set_result(item.row)
                else:
                    item.future.set_exception(exc)
        for loop, done in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits for these
                loop.call_soon_threadsafe(_resolve, done)

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(discretion_immediate=True)
        return self._conn

    def _drop_connection(self, invalidate: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                if invalidate:  # possibly broken: not back into the pool
                    conn.invalidate()
                conn.close()

    @contextlib.contextmanager
    def _chain_lock(self) -> Iterator[None]:
        if self._lock_fd is None:
            yield
            return
        import fcntl

        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _append(self, batch: list[_Item]) -> tuple[list[_Item], list[tuple[_Item, BaseException | None]]]:
        """Append a batch to the chain in one transaction, serialised with every other writer."""
        written: list[_Item] = []
        refused: list[tuple[_Item, BaseException | None]] = []
        conn = self._connection()
        with self._chain_lock(), conn.begin():  # SQLite: BEGIN IMMEDIATE (the "begin" event of make_engine)
            cur = conn.connection.cursor()
            try:
                if self._postgresql:
                    cur.execute(self._sql_lock, (CHAIN_LOCK,))
                cur.execute(self._sql_head)
                head = cur.fetchone()
                if head is None:  # deleted: nothing can be appended safely (audit verify reports it)
                    raise DiscretionError(code="chain_head_missing",
                                          message="链头记录（chain_head）缺失，无法追加记录；请运行 discretion audit verify")
                seq, prev_id, prev_hash = int(head[0]), head[1], head[2]
                wanted = [i.row["assessment_id"] for i in batch if i.kind == "decision"]
                decided: set[str] = set()
                known: set[str] = set()
                if wanted:
                    decided = set(conn.execute(select(decisions.c.assessment_id)
                                               .where(decisions.c.assessment_id.in_(wanted))).scalars())
                    known = set(conn.execute(select(assessments.c.id).where(assessments.c.id.in_(wanted))).scalars())
                rows: dict[str, list[tuple[Any, ...]]] = {"assessment": [], "decision": []}
                for item in batch:
                    row = item.row
                    if item.kind == "decision":
                        aid = row["assessment_id"]
                        if aid in decided:
                            refused.append((item, ConflictError(
                                message=f"计算记录 {aid} 已有决定；记录只可追加，不能修改或重复决定",
                                code="decision_exists", field="id")))
                            continue
                        if aid not in known:
                            refused.append((item, NotFoundError(message=f"没有编号为 {aid} 的计算结果", field="id")))
                            continue
                        decided.add(aid)
                    seq += 1
                    assert item.parts is not None, "prepared by _prepare"
                    digest = chained_hash(prev_hash, item.parts, prev_id, seq)
                    row["seq"], row["prev_id"], row["prev_hash"], row["hash"] = seq, prev_id, prev_hash, digest
                    rows[item.kind].append((row["id"], seq, prev_id, prev_hash, digest, *item.values))
                    prev_id, prev_hash = row["id"], digest
                    written.append(item)
                for kind, params in rows.items():
                    if params:  # one single-row statement per record: a multi-row INSERT would need a statement journal
                        cur.executemany(self._sql_insert[kind], params)
                if written:
                    cur.execute(self._sql_move, (seq, prev_id, prev_hash))
            except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it (IntegrityError, OperationalError …)
                raise DBAPIError.instance(None, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
            finally:
                cur.close()
        return written, refused

    # --- snapshots ---------------------------------------------------------------------------

    def put_snapshot(self, files: Mapping[str, bytes]) -> str:
        """Keep a copy of a rulebook source set (once per distinct set); returns its hash."""
        key = set_hash(files)
        with self.engine.connect() as conn:
            if conn.execute(select(literal(1)).where(rulebook_snapshots.c.set_hash == key)).first():
                return key
        blob = pack_files(files)
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
            with conn.begin():
                conn.execute(upsert(rulebook_snapshots).values(
                    set_hash=key, created_at=dt.datetime.now(dt.UTC), files=blob).on_conflict_do_nothing())
        return key

    def get_snapshot(self, key: str) -> dict[str, bytes] | None:
        with self.engine.connect() as conn:
            blob = conn.execute(select(rulebook_snapshots.c.files).where(rulebook_snapshots.c.set_hash == key)).scalar()
        return None if blob is None else unpack_files(blob)

    # --- reading -----------------------------------------------------------------------------

    def get(self, rid: str) -> dict[str, Any] | None:
        """The stored result of an assessment (what POST answered)."""
        if not is_id(rid):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments.c.result).where(assessments.c.id == rid)).first()
        return None if row is None else orjson.loads(row[0])

    def get_row(self, rid: str) -> dict[str, Any] | None:
        """An assessment's stored row (every column) and its decision row (or None) under ``decision``."""
        if not is_id(rid):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(assessments).where(assessments.c.id == rid)).first()
            if row is None:
                return None
            dec = conn.execute(select(decisions).where(decisions.c.assessment_id == rid)).first()
        out = dict(row._mapping)
        out["decision"] = None if dec is None else dict(dec._mapping)
        return out

    def get_record(self, rid: str) -> dict[str, Any] | None:
        """The stored result with its record (who, when, edition, engine, chain) and decision."""
        got = self.get_row(rid)
        if got is None:
            return None
        out: dict[str, Any] = orjson.loads(got["result"])
        out["record"] = record_meta(got)
        out["decision"] = None if got["decision"] is None else decision_out(got["decision"], got)
        return out

    def list(
        self,
        *,
        violation: str | None = None,
        outcome: str | None = None,
        handler: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        outside_band: bool | None = None,
        decided: bool | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Assessments newest first with their decisions; returns (items, seq to continue before)."""
        a, d = assessments, decisions
        cols = [a.c.id, a.c.seq, a.c.hash, a.c.created_at, a.c.created_by, a.c.created_role, a.c.violation, a.c.title,
                a.c.outcome, a.c.recommended, a.c.band_min, a.c.band_max, a.c.edition, a.c.sha256]
        dcols = [d.c.id.label("d_id"), d.c.seq.label("d_seq"), d.c.hash.label("d_hash"), d.c.created_at.label("d_created_at"),
                 d.c.created_by.label("d_created_by"), d.c.created_role.label("d_created_role"), d.c.amount.label("d_amount"),
                 d.c.reason.label("d_reason"), d.c.within_band.label("d_within_band")]
        q = select(*cols, *dcols).select_from(a.outerjoin(d, d.c.assessment_id == a.c.id))
        conds = []
        if violation is not None:
            conds.append(a.c.violation == violation)
        if outcome is not None:
            conds.append(a.c.outcome == outcome)
        if handler is not None:
            conds.append(a.c.created_by == handler)
        if since is not None:
            conds.append(a.c.created_at >= since)
        if until is not None:
            conds.append(a.c.created_at < until)
        if outside_band is not None:
            conds.append(d.c.within_band.is_(not outside_band))
        if decided is True:
            conds.append(d.c.id.is_not(None))
        elif decided is False:
            conds.append(d.c.id.is_(None))
        if before_seq is not None:
            conds.append(a.c.seq < before_seq)
        if conds:
            q = q.where(and_(*conds))
        q = q.order_by(a.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for r in rows:
            decision = None
            if r["d_id"] is not None:
                drow = {k[2:]: v for k, v in r.items() if k.startswith("d_")}
                drow["assessment_id"] = r["id"]
                decision = decision_out(drow, r)
            items.append({
                "id": r["id"],
                "seq": r["seq"],
                "created_at": iso_z(r["created_at"]),
                "created_by": {"name": r["created_by"], "role": r["created_role"]},
                "violation": r["violation"],
                "title": r["title"],
                "outcome": r["outcome"],
                "recommended": r["recommended"],
                "band": None if r["band_min"] is None else [r["band_min"], r["band_max"]],
                "edition": r["edition"],
                "decision": decision,
            })
        return items, (rows[-1]["seq"] if more and rows else None)

    # --- verification --------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        return verify(self.engine)


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
    }


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


# --- verification of the whole chain ---------------------------------------------------------


def _stream(conn: Connection, kind: str) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    t = KINDS[kind]
    result = conn.execution_options(stream_results=True, yield_per=500).execute(select(t).order_by(t.c.seq, t.c.id))
    for r in result:
        m = dict(r._mapping)
        yield int(m["seq"]), kind, m["id"], m


def verify(engine: Engine) -> VerifyReport:
    """Walk the chain in seq order and name every altered, inserted and deleted record."""
    rep = VerifyReport()
    add = rep.problems.append
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():  # one snapshot of every table, while writers go on
            head = conn.execute(select(chain_head.c.seq, chain_head.c.record_id, chain_head.c.hash)
                                .where(chain_head.c.id == 1)).first()
            head_seq, head_id, head_hash = (int(head[0]), head[1], head[2]) if head else (0, "", GENESIS)
            if head is None:
                add(Problem("deleted", "删除：链头记录（chain_head）已被删除，无法判断链尾是否完整"))
            rep.head_seq, rep.head_hash = head_seq, head_hash
            last_allowed = head_seq if head is not None else 2**63
            merged = heapq.merge(_stream(conn, "assessment"), _stream(conn, "decision"), key=lambda x: (x[0], x[2]))
            prev: tuple[int, str, str, str] | None = None  # seq, id, hash, kind of the last good record
            expected = 1
            group: list[tuple[int, str, str, dict[str, Any]]] = []

            def settle(group: list[tuple[int, str, str, dict[str, Any]]]) -> None:
                nonlocal prev, expected
                seq = group[0][0]
                p_id, p_hash = (prev[1], prev[2]) if prev else ("", GENESIS)
                checked = []
                for _, kind, rid, row in group:
                    rep.records += 1
                    rep.assessments += kind == "assessment"
                    rep.decisions += kind == "decision"
                    ok = link_hash(row["prev_hash"], content_bytes(kind, row)) == row["hash"]
                    if not ok:
                        add(Problem("altered", f"篡改：{_label(kind, rid, seq)}的内容与其哈希不符（记录被改动过）", seq, rid))
                    checked.append((kind, rid, row, ok))
                # several records claim one seq: the one linked to its predecessor is the original
                chosen = checked[0]
                if len(checked) > 1:
                    linked = [c for c in checked if c[3] and c[2]["prev_hash"] == p_hash and c[2]["prev_id"] == p_id]
                    chosen = linked[0] if linked else checked[0]
                    for c in checked:
                        if c is not chosen:
                            add(Problem("inserted", f"插入：{_label(c[0], c[1], seq)}与 {chosen[1]} 序号重复，不在原链中", seq, c[1]))
                kind, rid, row, ok = chosen
                if seq > last_allowed:  # beyond the last record the chain head names: added afterwards
                    add(Problem("inserted", f"插入：{_label(kind, rid, seq)}在链头（序号 {head_seq}）之后，不在原链中", seq, rid))
                    return
                if seq > expected:
                    missing = f"序号 {expected}" if seq - 1 == expected else f"序号 {expected} 至 {seq - 1}"
                    named = ""
                    if row["prev_id"] and row["prev_id"] != p_id:  # the successor names the last one deleted
                        named = f"；序号 {seq - 1} 的记录是 {row['prev_id']}（据其后的{_label(kind, rid, seq)}记载）"
                    add(Problem("deleted", f"删除：{missing} 的记录缺失（已被删除）{named}", seq - 1, row["prev_id"] or None))
                elif row["prev_hash"] != p_hash or row["prev_id"] != p_id:
                    if ok and row["prev_id"] == p_id and prev is not None:
                        add(Problem("altered", f"篡改：{_label(prev[3], p_id, prev[0])}被改动并重新计算了哈希，"
                                               f"与下一条{_label(kind, rid, seq)}保存的链接不符", prev[0], p_id))
                    else:
                        before = f"{_label(prev[3], p_id, prev[0])}" if prev else "链首"
                        add(Problem("broken_link", f"链接断开：{_label(kind, rid, seq)}记载的前一条记录为 "
                                                   f"{row['prev_id'] or '链首'}，但链中前一条是 {before}（插入或改写）", seq, rid))
                prev = (seq, rid, row["hash"], kind)
                expected = seq + 1

            for item in merged:
                if group and item[0] != group[0][0]:
                    settle(group)
                    group = []
                group.append(item)
            if group:
                settle(group)
            last_seq = prev[0] if prev else 0
            if head is not None:
                if head_seq > last_seq:
                    missing = f"序号 {last_seq + 1}" if head_seq == last_seq + 1 else f"序号 {last_seq + 1} 至 {head_seq}"
                    add(Problem("deleted", f"删除：链尾 {missing} 的记录缺失（最后一条应为 {head_id}）", head_seq, head_id))
                elif head_seq == last_seq and prev is not None and (prev[2] != head_hash or prev[1] != head_id):
                    add(Problem("altered", f"篡改：最后一条{_label(prev[3], prev[1], prev[0])}与链头记载的"
                                           f"（{head_id}，哈希 {head_hash[:12]}…）不符", prev[0], prev[1]))
            # decisions whose assessment is gone name the deleted assessment
            orphans = conn.execute(
                select(decisions.c.id, decisions.c.seq, decisions.c.assessment_id)
                .select_from(decisions.outerjoin(assessments, assessments.c.id == decisions.c.assessment_id))
                .where(assessments.c.id.is_(None))
            ).all()
            for did, dseq, aid in orphans:
                add(Problem("deleted", f"删除：{_label('decision', did, int(dseq))}所指的计算记录 {aid} 不存在（已被删除）", None, aid))
            # snapshots are content-addressed: each must hash to its key, and each set used must exist
            for key, blob in conn.execute(select(rulebook_snapshots.c.set_hash, rulebook_snapshots.c.files)):
                try:
                    good = set_hash(unpack_files(blob)) == key
                except (zlib.error, ValueError, UnicodeError):
                    good = False
                if not good:
                    add(Problem("snapshot", f"篡改：规则集快照 {key[:16]}… 的内容与其哈希不符"))
            missing_sets = conn.execute(
                select(assessments.c.rulebook_set).distinct()
                .where(assessments.c.rulebook_set.not_in(select(rulebook_snapshots.c.set_hash)))
            ).scalars().all()
            for key in missing_sets:
                add(Problem("snapshot", f"删除：计算记录所用的规则集快照 {key[:16]}… 不存在"))
    return rep
