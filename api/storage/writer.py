"""The chain's writer: one thread per process that appends the records waiting in one transaction
(group commit), the base of :class:`api.storage.store.Store`.

Writers in several processes serialise on the chain: SQLite takes a file lock next to the database
(an immediate wake-up for the next writer) and ``BEGIN IMMEDIATE``; PostgreSQL takes
``pg_advisory_xact_lock``. Each batch reads the chain head in its transaction, so nothing about the
chain is cached in a process.

The append path is kept cheap (``benchmarks/store_cpu.py`` measures it): the event loop only
queues a row and awaits an asyncio future (settled with one wake-up of the loop per batch); the
writer encodes each record once before taking the chain lock (request and result text, the
canonical content around its two chain fields, the values to insert), and under the lock splices in
``prev_id`` and ``seq``, hashes, and writes with plain SQL on the driver's cursor of a connection
it keeps between batches.

Every wait is bounded (:class:`~api.settings.DatabaseTimeouts`): a record not begun within the
request bound is not written (its caller gets 503 ``storage_unavailable``, and the caller's own wait
ends then too: :func:`api.storage.failures.settled`); a failed batch is tried again only while the
failure came quickly (a dropped connection), never after a timeout; a storage failure reaches every
caller of the batch as :class:`~api.storage.failures.StorageUnavailable` and is remembered
(:attr:`ChainWriter.failure`, reported by ``/healthz``) until a batch is written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Unpack

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from discretion.errors import ConflictError, DiscretionError, NotFoundError

from .chain import KINDS, chained_hash, content_parts
from .database import CHAIN_LOCK, lock_path, timeouts_of
from .failures import StorageUnavailable, is_failure, message, reason, unavailable
from .decided import ASSESSMENT_COLUMNS, decided_row
from .rows import AssessmentFields, assessment_row, decision_row, dumps
from .schema import assessments, decided_cases, decisions, idempotency_keys


@dataclass(slots=True)
class _Item:
    """A queued record: its row (what the future resolves to) and, once the writer has prepared it,
    the canonical content around the chain fields (:func:`content_parts`) and the values to insert."""

    kind: str
    row: dict[str, Any]
    future: Any  # concurrent.futures.Future, or an asyncio.Future of ``loop``
    loop: asyncio.AbstractEventLoop | None
    parts: tuple[bytes, memoryview, bytes] | None  # set by ChainWriter._prepare in the writer
    values: tuple[Any, ...]
    idempotency: tuple[str, str, str] | None = None  # (caller, key, body hash) of an Idempotency-Key
    apply: Callable[[Connection], None] | None = None  # an access event's own change (ChainWriter.submit_access)
    deadline: float = 0.0  # time.monotonic() after which the record is not begun (its caller has given up)


class Replayed(Exception):
    """An assessment's Idempotency-Key was used before by the same caller for the same body: the
    assessment made then (``assessment_id``) is the answer; nothing new was written."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__(assessment_id)
        self.assessment_id = assessment_id


_STOP = object()
log = logging.getLogger("discretion.storage")

# The insert's columns: the chain fields first (as both tables declare them), then the record's own.
CHAIN_COLUMNS = ("id", "seq", "prev_id", "prev_hash", "hash")
VALUE_COLUMNS = {kind: tuple(c.name for c in table.c if c.name not in CHAIN_COLUMNS) for kind, table in KINDS.items()}
assert all([c.name for c in t.c][:5] == list(CHAIN_COLUMNS) for t in KINDS.values())
_CREATED_AT = {kind: cols.index("created_at") for kind, cols in VALUE_COLUMNS.items()}


def key_reused() -> ConflictError:
    return ConflictError(message="该 Idempotency-Key 已用于另一份请求内容；重试须发送相同的内容，新的请求须用新的键",
                         code="idempotency_key_reused", field="Idempotency-Key")


def _stored_key(conn: Connection, caller: str, key: str) -> tuple[str, str] | None:
    """The (body hash, assessment id) stored for a caller's Idempotency-Key, or None."""
    got = conn.execute(select(idempotency_keys.c.body_hash, idempotency_keys.c.assessment_id).where(
        idempotency_keys.c.caller == caller, idempotency_keys.c.key == key)).first()
    return None if got is None else (got[0], got[1])


def already_superseded(old: str, newer: str) -> ConflictError:
    """409 ``already_superseded``: a record is superseded at most once; the error names the newer one."""
    return ConflictError(message=f"计算记录 {old} 已被记录 {newer} 取代（修改后重新计算）；一条记录只能被取代一次，"
                                 f"请在最新的记录上修改", code="already_superseded", field="supersedes")


def superseded_error(old: str, newer: str) -> ConflictError:
    """409 ``superseded``: a decision on a record that a recomputation has replaced."""
    return ConflictError(message=f"计算记录 {old} 已被记录 {newer} 取代（修改后重新计算），不能再记录决定；"
                                 f"请在最新的记录上记录决定", code="superseded", field="id")


def supersedes_not_found(old: str) -> NotFoundError:
    """404 ``superseded_not_found``: ``supersedes`` names no stored record."""
    return NotFoundError(message=f"没有编号为 {old} 的计算记录，无法取代", code="superseded_not_found", field="supersedes")


def _resolve(done: list[tuple[Any, dict[str, Any], BaseException | None]]) -> None:
    """Settle a batch's asyncio futures (in their loop; one wake-up per batch and loop)."""
    for fut, row, exc in done:
        if fut.done():  # the caller went away (cancelled)
            continue
        if exc is None:
            fut.set_result(row)
        else:
            fut.set_exception(exc)


def _derived(assessment: Any, decision: dict[str, Any]) -> list[dict[str, Any]]:
    """The analytics row of a decision being chained (api/storage/decided.py), or none when it cannot
    be derived: the decision is the record and is kept; the gap is logged, and ``discretion
    analytics check`` names it (``analytics rebuild`` fills it once mended)."""
    try:
        return [decided_row(assessment, decision)]
    except Exception:  # noqa: BLE001 - a stored result the derivation cannot read: never lose the decision for it
        log.exception("决定记录 %s 的统计行无法生成（计算记录 %s）", decision["id"], decision["assessment_id"])
        return []


class ChainWriter:
    """Appends records to the chain from a writer thread of its own (see the module's docstring).

    :meth:`submit_assessment` and :meth:`submit_decision` queue a record; the future resolves once
    it is durably committed (to its stored row, with seq and hash), or to the error.
    :meth:`add_assessment` and :meth:`add_decision` are the same for a caller in the event loop (the
    service): they return an asyncio future, which the writer settles with one wake-up of the loop
    per batch."""

    BATCH_MAX = 256
    GATHER_S = 0.002  # after the first waiting row, gather others at most this long: fewer, larger commits
    GATHER_STEP_S = 0.0005  # … and stop when none arrived for this long
    RETRIES = 5
    RETRY_WINDOW_S = 1.0  # a failure later than this after the batch began (a timeout) is not tried again

    def __init__(self, engine: Engine) -> None:
        """Start the writer on ``engine`` (a SQLite or PostgreSQL database at the newest schema)."""
        self.engine: Engine = engine
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        self._postgresql = dialect.name == "postgresql"
        # The append path runs plain SQL on the driver's cursor (no statement compilation, no
        # per-value type processing): ChainWriter._prepare makes the values the driver takes.
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
        self.timeouts = timeouts_of(engine)
        # the last storage failure (time.monotonic(), Chinese reason) not followed by a written batch
        self.failure: tuple[float, str] | None = None
        self._lock_path = lock_path(self.engine)
        self._lock_fd: int | None = None
        if self._lock_path is not None:
            try:
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                self.engine.dispose()
                raise DiscretionError(code="database_read_only",
                                      message=f"无法打开数据库的锁文件 {self._lock_path}：{exc.strerror or exc}") from None
        self._conn: Connection | None = None  # the writer's connection, kept between batches
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="discretion-store-writer", daemon=True)
        self._writer.start()

    def _stop_writer(self) -> None:
        """Stop the writer (after what is queued) and release its connection and lock file."""
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(timeout=30)
        self._drop_connection()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # --- writing ---------------------------------------------------------------------------

    def submit_assessment(self, rid: str, **fields: Unpack[AssessmentFields]) -> Future[dict[str, Any]]:
        """Queue an assessment record whose result is already JSON (with its id inside). The request
        (a mapping, or a function returning it) and the result bytes must not change once queued."""
        fut: Future[dict[str, Any]] = Future()
        self._enqueue("assessment", assessment_row(rid, **fields), fut, None)
        return fut

    def add_assessment(self, rid: str, idempotency: tuple[str, str, str] | None = None,
                       **fields: Unpack[AssessmentFields]) -> asyncio.Future[dict[str, Any]]:
        """:meth:`submit_assessment` for a caller in the running event loop: queues the record at once
        and returns an asyncio future to await (no thread-safe future, no wrapping).

        With ``idempotency`` (caller, key, body hash) the key is stored with the record in its
        transaction; a key the caller used before resolves the future to :class:`Replayed` (same
        body hash) or ConflictError ``idempotency_key_reused`` (another body), writing nothing."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._enqueue("assessment", assessment_row(rid, **fields), fut, loop, idempotency)
        return fut

    def idempotent(self, caller: str, key: str) -> tuple[str, str] | None:
        """The (body hash, assessment id) stored for a caller's Idempotency-Key, or None."""
        with self.engine.connect() as conn:
            return _stored_key(conn, caller, key)

    def submit_decision(
        self, assessment_id: str, *, amount: int, reason: str | None, within_band: bool, who: Any
    ) -> Future[dict[str, Any]]:
        """Queue a decision on a stored assessment; resolves to ConflictError if it already has one."""
        fut: Future[dict[str, Any]] = Future()
        self._enqueue("decision", decision_row(assessment_id, amount, reason, within_band, who), fut, None)
        return fut

    def add_decision(
        self, assessment_id: str, *, amount: int, reason: str | None, within_band: bool, who: Any
    ) -> asyncio.Future[dict[str, Any]]:
        """:meth:`submit_decision` for a caller in the running event loop: an asyncio future to await."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._enqueue("decision", decision_row(assessment_id, amount, reason, within_band, who), fut, loop)
        return fut

    def submit_access(self, row: dict[str, Any], apply: Callable[[Connection], None]) -> Future[dict[str, Any]]:
        """Queue an access event (:func:`~api.storage.rows.access_row`) with the change it records:
        ``apply`` makes the change (a token or user row) in the same transaction, under the chain
        lock, just before the event is chained, so the change is never stored without its event nor
        the event without its change. ``apply`` may refuse with a DiscretionError before writing
        anything: that event alone is refused. Resolves to the stored event row."""
        fut: Future[dict[str, Any]] = Future()
        self._enqueue("access", row, fut, None, apply=apply)
        return fut

    def _enqueue(self, kind: str, row: dict[str, Any], fut: Any, loop: asyncio.AbstractEventLoop | None,
                 idempotency: tuple[str, str, str] | None = None, apply: Callable[[Connection], None] | None = None) -> None:
        self._queue.put(_Item(kind, row, fut, loop, None, (), idempotency, apply, time.monotonic() + self.timeouts.request_s))

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

    def _in_time(self, batch: list[_Item]) -> list[_Item]:
        """The records whose callers still wait; the others fail unwritten (503), never written later."""
        now = time.monotonic()
        late = [item for item in batch if item.deadline <= now]
        if late:
            self._settle([(item, StorageUnavailable(message=message(
                f"{self.timeouts.request_s:g} 秒内未能写入，本次未保存"))) for item in late])
            return [item for item in batch if item.deadline > now]
        return batch

    def _write(self, batch: list[_Item]) -> None:
        batch = self._prepare(self._in_time(batch))
        began = time.monotonic()
        for attempt in range(self.RETRIES):
            if not batch:
                return
            try:
                written, refused = self._append(batch)
                break
            except Exception as exc:  # noqa: BLE001 - the whole batch failed: its callers get the error, the writer lives on
                self._drop_connection(invalidate=isinstance(exc, OperationalError))
                quick = time.monotonic() - began < self.RETRY_WINDOW_S
                if isinstance(exc, OperationalError) and quick and attempt < self.RETRIES - 1:
                    time.sleep(0.05 * (attempt + 1))  # locked a moment, or the connection dropped: try again
                    batch = self._in_time(batch)
                    continue
                if is_failure(exc):
                    self.failure = (time.monotonic(), reason(exc))
                    log.error("无法写入记录（%d 条）：%s：%s", len(batch), self.failure[1], str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                    exc = unavailable(exc)
                self._settle([(item, exc) for item in batch])
                return
        self.failure = None
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
                replaced = [i.row["supersedes"] for i in batch if i.kind == "assessment" and i.row.get("supersedes")]
                decided: set[str] = set()
                known: set[str] = set()
                superseded: dict[str, str] = {}  # an assessment → the one that supersedes it (stored, or in this batch)
                found: dict[str, Any] = {}  # the assessments decided in this batch: the analytics row is derived from them
                if wanted:
                    decided = set(conn.execute(select(decisions.c.assessment_id)
                                               .where(decisions.c.assessment_id.in_(wanted))).scalars())
                    found = {r.id: r._mapping for r in conn.execute(
                        select(*(assessments.c[c] for c in ASSESSMENT_COLUMNS)).where(assessments.c.id.in_(wanted)))}
                if wanted or replaced:
                    named = [*wanted, *replaced]
                    known = set(conn.execute(select(assessments.c.id).where(assessments.c.id.in_(named))).scalars())
                    superseded = {old: new for old, new in conn.execute(
                        select(assessments.c.supersedes, assessments.c.id).where(assessments.c.supersedes.in_(named)))}
                derived: list[dict[str, Any]] = []
                rows: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in KINDS}
                keys: dict[tuple[str, str], tuple[str, str]] = {}  # (caller, key) → (body hash, id), this batch
                for item in batch:
                    row = item.row
                    if item.idempotency is not None:
                        caller, key, body_hash = item.idempotency
                        seen = keys.get((caller, key))
                        if seen is None:
                            seen = _stored_key(conn, caller, key)
                        if seen is not None:
                            refused.append((item, Replayed(seen[1]) if seen[0] == body_hash else key_reused()))
                            continue
                        keys[(caller, key)] = (body_hash, row["id"])
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
                        if aid in superseded:
                            refused.append((item, superseded_error(aid, superseded[aid])))
                            continue
                        decided.add(aid)
                    elif item.kind == "assessment" and (old := row.get("supersedes")):
                        if old in superseded:  # a concurrent recomputation of the same record was first
                            refused.append((item, already_superseded(old, superseded[old])))
                            continue
                        if old not in known:
                            refused.append((item, supersedes_not_found(old)))
                            continue
                        superseded[old] = row["id"]
                    if item.apply is not None:
                        try:
                            item.apply(conn)
                        except DiscretionError as exc:  # refused before it wrote anything
                            refused.append((item, exc))
                            continue
                    seq += 1
                    assert item.parts is not None, "prepared by _prepare"
                    digest = chained_hash(prev_hash, item.parts, prev_id, seq)
                    row["seq"], row["prev_id"], row["prev_hash"], row["hash"] = seq, prev_id, prev_hash, digest
                    rows[item.kind].append((row["id"], seq, prev_id, prev_hash, digest, *item.values))
                    prev_id, prev_hash = row["id"], digest
                    written.append(item)
                    if item.kind == "decision":
                        derived += _derived(found[row["assessment_id"]], row)
                for kind, params in rows.items():
                    if params:  # one single-row statement per record: a multi-row INSERT would need a statement journal
                        cur.executemany(self._sql_insert[kind], params)
                if written:
                    cur.execute(self._sql_move, (seq, prev_id, prev_hash))
                if derived:
                    conn.execute(decided_cases.insert(), derived)
                if keys:
                    now = written[-1].row["created_at"]
                    conn.execute(idempotency_keys.insert(), [
                        {"caller": c, "key": k, "body_hash": h, "assessment_id": aid, "created_at": now}
                        for (c, k), (h, aid) in keys.items()])
            except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it (IntegrityError, OperationalError …)
                raise DBAPIError.instance(None, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
            finally:
                cur.close()
        return written, refused
