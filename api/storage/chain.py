"""The hash chain: the canonical content of a record, its hash, and the check of the whole chain.

``hash = sha256(prev_hash || canonical bytes of its content)``, the content being the sorted-key
JSON of every hashed column (:func:`content_bytes`): those of :data:`CONTENT` always, those of
:data:`OPTIONAL` when they are set. :func:`verify` walks the chain in seq order and
names every altered, inserted and deleted record (``discretion audit verify``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

from .schema import access_events, assessments, chain_head, decisions, rulebook_snapshots
from .snapshots import set_hash, unpack_files

GENESIS = "0" * 64  # prev_hash of the first record

KINDS = {"assessment": assessments, "decision": decisions, "access": access_events}
KIND_LABELS = {"assessment": "计算记录", "decision": "决定记录", "access": "权限变更记录"}
CONTENT = {
    "assessment": (
        "id", "seq", "prev_id", "created_at", "created_by", "created_role", "violation", "title", "outcome",
        "recommended", "band_min", "band_max", "edition", "sha256", "rulebook_set", "engine_version", "request", "result",
    ),
    "decision": (
        "id", "seq", "prev_id", "assessment_id", "created_at", "created_by", "created_role", "amount", "reason", "within_band",
    ),
    "access": ("id", "seq", "prev_id", "created_at", "created_by", "created_role", "action", "role", "target", "detail"),
}

# Columns hashed only when set (not null): added after records were made without them, so an older
# record's content, and its hash, stay exactly what they were (migration 0006: the case's identity;
# 0007: the record a recomputation supersedes; 0008: the offline object of a result computed by a terminal and uploaded).
OPTIONAL = {"assessment": ("case_json", "case_number", "case_party", "supersedes", "offline"), "decision": (), "access": ()}


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
    for k in OPTIONAL[kind]:
        if row.get(k) is not None:
            d[k] = row[k]
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
# the optional columns go before prev_id or after seq (never between: the middle is encoded whole)
_OPTIONAL_SPLIT = {kind: (tuple(k for k in keys if k < "prev_id"), tuple(k for k in keys if k > "seq")) for kind, keys in OPTIONAL.items()}
assert all(len(b) + len(a) == len(OPTIONAL[kind]) for kind, (b, a) in _OPTIONAL_SPLIT.items())
_PREV_ID, _SEQ = b'"prev_id":', b',"seq":'


def content_parts(kind: str, row: Mapping[str, Any]) -> tuple[bytes, memoryview, bytes]:
    """The canonical content of a record around its chain fields:
    ``content_bytes(kind, row) == head + orjson(prev_id) + b"," + middle + b',"seq":' + str(seq) + tail``
    (the ~10 KB middle, with the request and result, is not copied again)."""
    before_keys, between_keys, after_keys = _SPLIT[kind]
    optional_before, optional_after = _OPTIONAL_SPLIT[kind]
    before = {k: row[k] for k in before_keys}
    for k in optional_before:
        if row.get(k) is not None:
            before[k] = row[k]
    before["created_at"] = utc_text(row["created_at"])
    before["kind"] = kind
    after = {k: row[k] for k in after_keys}
    for k in optional_after:
        if row.get(k) is not None:
            after[k] = row[k]
    if "within_band" in CONTENT[kind]:
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
    access: int = 0  # access events (tokens and users created, revoked, disabled)
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def _label(kind: str, rid: str, seq: int) -> str:
    return f"{KIND_LABELS[kind]} {rid}（序号 {seq}）"


def _stream(conn: Connection, kind: str) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    t = KINDS[kind]
    result = conn.execution_options(stream_results=True, yield_per=500).execute(select(t).order_by(t.c.seq, t.c.id))
    for r in result:
        m = dict(r._mapping)
        yield int(m["seq"]), kind, m["id"], m


def _kinds(conn: Connection) -> list[str]:
    """The kinds of record whose table the database has (a database not yet migrated to 0005 has
    no access events: ``audit verify`` reads a database as it is, without migrating it)."""
    tables = set(inspect(conn).get_table_names())
    return [kind for kind, t in KINDS.items() if t.name in tables]


def verify(engine: Engine, expect_head: tuple[int, str] | None = None) -> VerifyReport:
    """Walk the chain in seq order and name every altered, inserted and deleted record.

    ``expect_head``: a head kept outside the database earlier, (seq, hash). The record at that seq
    must still be in the chain with that hash (each hash covers every record before it): otherwise
    the records after it were deleted and the head moved back, or the chain was rebuilt."""
    rep = VerifyReport()
    kept_hash: str | None = None  # the hash of the record now at the kept head's seq
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
            merged = heapq.merge(*(_stream(conn, kind) for kind in _kinds(conn)), key=lambda x: (x[0], x[2]))
            prev: tuple[int, str, str, str] | None = None  # seq, id, hash, kind of the last good record
            expected = 1
            group: list[tuple[int, str, str, dict[str, Any]]] = []

            def settle(group: list[tuple[int, str, str, dict[str, Any]]]) -> None:
                nonlocal prev, expected, kept_hash
                seq = group[0][0]
                p_id, p_hash = (prev[1], prev[2]) if prev else ("", GENESIS)
                checked = []
                for _, kind, rid, row in group:
                    rep.records += 1
                    rep.assessments += kind == "assessment"
                    rep.decisions += kind == "decision"
                    rep.access += kind == "access"
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
                if expect_head is not None and seq == expect_head[0]:
                    kept_hash = row["hash"]

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
            if expect_head is not None:
                k_seq, k_hash = expect_head
                if k_seq > head_seq:
                    add(Problem("deleted", f"删除：保存的链头为序号 {k_seq}，现在的链头只到序号 {head_seq}："
                                           f"其后的记录已被删除，链头被改回", k_seq))
                elif k_seq > 0 and kept_hash != k_hash:
                    now = "不存在" if kept_hash is None else f"的哈希为 {kept_hash[:12]}…"
                    add(Problem("altered", f"篡改：保存的链头（序号 {k_seq}，哈希 {k_hash[:12]}…）与链中序号 {k_seq} 的记录不符"
                                           f"（现在{now}）：该记录或其之前的记录被改写，哈希链被重新计算", k_seq))
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


@dataclass
class Head:
    """The chain's head: its last record's seq, hash, id and time (seq 0: no record yet)."""

    seq: int
    hash: str
    record_id: str
    at: dt.datetime | None


def head(engine: Engine) -> Head:
    """The head as the chain_head row names it, with the time of that record."""
    with engine.connect() as conn:
        row = conn.execute(select(chain_head.c.seq, chain_head.c.record_id, chain_head.c.hash).where(chain_head.c.id == 1)).first()
        if row is None:
            return Head(0, GENESIS, "", None)
        at = None
        for kind in _kinds(conn):
            t = KINDS[kind]
            at = conn.execute(select(t.c.created_at).where(t.c.id == row[1])).scalar()
            if at is not None:
                break
    return Head(int(row[0]), row[2], row[1], at)
