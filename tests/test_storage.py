"""The store on SQLite and PostgreSQL: migrations, the one hash chain, group commit, several writers,
append-only decisions, exact stored requests and content-addressed rulebook snapshots."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, event, inspect, select, text
from sqlalchemy.exc import IntegrityError

from api import migrations
from api.cli import main
from api.deps import Principal
from api.storage import (
    GENESIS,
    Store,
    assessments,
    chain_head,
    content_bytes,
    decisions,
    link_hash,
    make_engine,
    metadata,
    new_id,
    rulebook_snapshots,
    set_hash,
)
from discretion.errors import ConflictError, DiscretionError, NotFoundError

ROOT = Path(__file__).resolve().parent.parent
WANG = Principal(name="wang", role="handler", via="token")
SOURCES = {"law/law.yaml": b"edition: test\n"}  # a stand-in rulebook set the records name
SET = set_hash(SOURCES)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.put_snapshot(SOURCES)
    try:
        yield s
    finally:
        s.close()


def submit(store: Store, rid: str | None = None, who: Principal = WANG, band: tuple[int, int] | None = (100000, 280000),
           request: dict[str, Any] | None = None) -> Future[dict[str, Any]]:
    rid = rid or new_id()
    fine = None if band is None else {"legal_min": 100000, "legal_max": 1000000, "band": list(band), "recommended": band[0] + 36000}
    return store.submit_assessment(
        rid,
        request=request or {"violation": "water_over_standard", "facts": {"exceedance_ratio": Decimal("0.5")}},
        result_json=orjson.dumps({"id": rid, "outcome": "penalty" if band else "no_penalty", "fine": fine}),
        violation="water_over_standard",
        title="超过水污染物排放标准排放水污染物",
        outcome="penalty" if band else "no_penalty",
        fine=fine,
        edition="yunnan@2023",
        sha256="a" * 64,
        rulebook_set=SET,
        who=who,
    )


def chain(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """Every record of both kinds, in seq order."""
    with store.engine.connect() as conn:
        rows = [("assessment", dict(r._mapping)) for r in conn.execute(select(assessments))]
        rows += [("decision", dict(r._mapping)) for r in conn.execute(select(decisions))]
    return sorted(rows, key=lambda kr: kr[1]["seq"])


# --- migrations -----------------------------------------------------------------------------------


def test_migration_creates_every_table_exactly_as_the_models_declare(store: Store) -> None:
    """After the initial revision, Alembic's autogenerate finds nothing to change, and the access
    layer's tables have the columns it relies on."""
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
        insp = inspect(conn)
        assert set(insp.get_table_names()) >= {
            "assessments", "decisions", "chain_head", "rulebook_snapshots", "users", "api_tokens", "service_keys", "alembic_version"}
        expected = {
            "users": [("name", String, 64, False), ("role", String, 16, False), ("password_hash", String, 255, False),
                      ("created_at", DateTime, None, False), ("disabled_at", DateTime, None, True)],
            "api_tokens": [("id", String, 32, False), ("label", String, 80, False), ("owner", String, 64, False),
                           ("role", String, 16, False), ("token_hash", String, 64, False), ("created_at", DateTime, None, False),
                           ("revoked_at", DateTime, None, True)],
            "service_keys": [("name", String, 40, False), ("value", String, 255, False)],
        }
        for table, cols in expected.items():
            got = {c["name"]: c for c in insp.get_columns(table)}
            assert list(got) == [c[0] for c in cols], table
            for name, kind, length, nullable in cols:
                assert isinstance(got[name]["type"], kind), (table, name, got[name]["type"])
                assert getattr(got[name]["type"], "length", None) == length, (table, name)
                assert bool(got[name]["nullable"]) == nullable, (table, name)
        assert insp.get_pk_constraint("users")["constrained_columns"] == ["name"]
        assert insp.get_pk_constraint("api_tokens")["constrained_columns"] == ["id"]
        assert insp.get_pk_constraint("service_keys")["constrained_columns"] == ["name"]
        uniques = [u["column_names"] for u in insp.get_unique_constraints("api_tokens")]
        uniques += [i["column_names"] for i in insp.get_indexes("api_tokens") if i["unique"]]
        assert ["token_hash"] in uniques
        head = conn.execute(select(chain_head)).all()
    assert [tuple(r) for r in head] == [(1, 0, "", GENESIS)]


def test_upgrade_again_is_a_no_op_and_the_cli_reports_the_head(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`discretion db upgrade` migrates a fresh database; again, nothing changes; `db current` says it is the newest."""
    assert main(["db", "current", "--database-url", db_url]) == 1  # not migrated yet
    assert main(["db", "upgrade", "--database-url", db_url]) == 0
    assert f"迁移版本 {migrations.head()}" in capsys.readouterr().out
    engine = make_engine(db_url)
    try:
        assert migrations.upgrade(engine) == migrations.head() == migrations.current(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM chain_head")).scalar() == 1
    finally:
        engine.dispose()
    assert main(["db", "current", "--database-url", db_url]) == 0
    assert "已是最新" in capsys.readouterr().out


def test_workers_starting_at_once_migrate_once(db_url: str) -> None:
    """Four start-ups racing on a fresh database (each with its own engine, as workers have): all
    succeed, one schema, one version row, one chain head."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        engine = make_engine(db_url)
        try:
            barrier.wait()
            migrations.upgrade(engine)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM chain_head")).scalar() == 1
    finally:
        engine.dispose()


def test_a_database_with_unmigrated_record_tables_is_refused(db_url: str) -> None:
    """A database with the old, unchained assessments table (no Alembic version) is refused with a
    clear code rather than mixed into a chain."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE assessments (id VARCHAR(32) PRIMARY KEY, result TEXT)"))
        with pytest.raises(DiscretionError) as exc:
            migrations.upgrade(engine)
    finally:
        engine.dispose()
    assert exc.value.code == "database_unversioned"
    assert "assessments" in exc.value.message


# --- the chain ----------------------------------------------------------------------------------


def test_assessments_and_decisions_form_one_chain(store: Store) -> None:
    """Records of both kinds take consecutive seqs; each names its predecessor's id and hash, and
    its hash is sha256(prev_hash || canonical content); the head names the last."""
    a1 = submit(store).result(10)
    a2 = submit(store).result(10)
    d1 = store.submit_decision(a1["id"], amount=136000, reason=None, within_band=True, who=WANG).result(10)
    a3 = submit(store).result(10)
    records = chain(store)
    assert [r["id"] for _, r in records] == [a1["id"], a2["id"], d1["id"], a3["id"]]
    assert [r["seq"] for _, r in records] == [1, 2, 3, 4]
    prev_id, prev_hash = "", GENESIS
    for kind, r in records:
        assert (r["prev_id"], r["prev_hash"]) == (prev_id, prev_hash)
        assert r["hash"] == link_hash(prev_hash, content_bytes(kind, r))
        prev_id, prev_hash = r["id"], r["hash"]
    with store.engine.connect() as conn:
        head = conn.execute(select(chain_head.c.seq, chain_head.c.record_id, chain_head.c.hash)).one()
    assert tuple(head) == (4, a3["id"], prev_hash)
    rep = store.verify()
    assert rep.sound and (rep.records, rep.assessments, rep.decisions) == (4, 3, 1)


def test_a_record_is_committed_when_its_future_resolves(store: Store, db_url: str) -> None:
    """The future resolves after the commit: another connection (another process) reads the row at once."""
    rid = submit(store).result(10)["id"]
    other = make_engine(db_url)
    try:
        with other.connect() as conn:
            assert conn.execute(select(assessments.c.id).where(assessments.c.id == rid)).scalar() == rid
    finally:
        other.dispose()


def test_a_burst_is_committed_in_few_transactions(store: Store) -> None:
    """Group commit: 200 records queued at once are written in far fewer than 200 transactions."""
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    futures = [submit(store) for _ in range(200)]
    seqs = sorted(f.result(30)["seq"] for f in futures)
    assert seqs == list(range(1, 201))
    assert 1 <= len(commits) <= 20, len(commits)
    assert store.verify().sound


WRITER = """
import sys
from types import SimpleNamespace
import orjson
from api.storage import Store, new_id
url, n, name, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
store = Store(url)
futures = []
for i in range(n):
    rid = new_id()
    futures.append(store.submit_assessment(
        rid, request={"i": i}, result_json=orjson.dumps({"id": rid}), violation="water_over_standard", title="t",
        outcome="penalty", fine=None, edition="yunnan@2023", sha256="a" * 64, rulebook_set=key,
        who=SimpleNamespace(name=name, role="handler")))
for f in futures:
    f.result(60)
store.close()
"""


def test_writers_in_several_processes_keep_one_chain(db_url: str) -> None:
    """Two processes (like two uvicorn workers) and this one append at the same time: every record
    gets its own seq, 1..n without a gap, and the chain verifies."""
    store = Store(db_url)
    store.put_snapshot(SOURCES)
    try:
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, "300", f"p{i}", SET], cwd=ROOT) for i in range(2)]
        mine = [submit(store) for _ in range(100)]
        for f in mine:
            f.result(60)
        for p in procs:
            assert p.wait(120) == 0
        records = chain(store)
        assert [r["seq"] for _, r in records] == list(range(1, 701))
        by = {name: sum(1 for _, r in records if r["created_by"] == name) for name in ("wang", "p0", "p1")}
        assert by == {"wang": 100, "p0": 300, "p1": 300}
        rep = store.verify()
        assert rep.sound, [p.message for p in rep.problems]
    finally:
        store.close()


def test_a_second_decision_is_refused_even_in_the_same_batch(store: Store) -> None:
    """Two decisions on one assessment queued together: one is written, the other fails with
    decision_exists; records queued with them are written; the refused one takes no seq."""
    a = submit(store).result(10)
    first = store.submit_decision(a["id"], amount=136000, reason=None, within_band=True, who=WANG)
    other = submit(store)
    second = store.submit_decision(a["id"], amount=90000, reason="再议", within_band=False, who=WANG)
    assert first.result(10)["amount"] == 136000
    assert other.result(10)["id"]
    with pytest.raises(ConflictError) as exc:
        second.result(10)
    assert exc.value.code == "decision_exists"
    assert [r["seq"] for _, r in chain(store)] == [1, 2, 3]
    assert store.verify().sound


def test_a_decision_on_an_unknown_assessment_fails_alone(store: Store) -> None:
    """A decision naming no stored assessment fails with not_found; the batch around it is written."""
    bad = store.submit_decision("0" * 24, amount=1, reason="x", within_band=False, who=WANG)
    good = submit(store)
    with pytest.raises(NotFoundError):
        bad.result(10)
    assert good.result(10)["seq"] == 1


def test_a_failed_batch_leaves_the_chain_intact_and_the_writer_running(store: Store) -> None:
    """A batch that cannot be written (a duplicate id) fails for its callers only: nothing of it is
    kept, the next records continue the chain, and it verifies."""
    a = submit(store).result(10)
    dup = submit(store, rid=a["id"])
    with pytest.raises(IntegrityError):
        dup.result(10)
    b = submit(store).result(10)
    assert b["seq"] == 2 and b["prev_id"] == a["id"]
    assert store.verify().sound


def test_stored_requests_keep_decimals_exactly(store: Store) -> None:
    """A decimal fact is stored as a JSON number with its exact digits (read back as Decimal), not a float."""
    exact = Decimal("0.123456789012345678901")
    rid = submit(store, request={"violation": "water_over_standard", "facts": {"exceedance_ratio": exact},
                                 "violation_date": "2025-03-01"}).result(10)["id"]
    raw = store.get_row(rid)["request"]  # type: ignore[index]
    assert '"exceedance_ratio":0.123456789012345678901' in raw
    assert json.loads(raw, parse_float=Decimal)["facts"]["exceedance_ratio"] == exact


def test_rulebook_snapshots_are_content_addressed_and_kept_once(store: Store) -> None:
    """The same files give the same key and one row; other content another key; the files come back exactly."""
    files = {"law/law.yaml": "edition: 1\n标题: 法\n".encode(), "yunnan/2023.yaml": b"id: yunnan\n"}
    key = store.put_snapshot(files)
    assert store.put_snapshot(dict(reversed(list(files.items())))) == key
    assert store.get_snapshot(key) == files
    other = store.put_snapshot({**files, "yunnan/2023.yaml": b"id: yunnan \n"})
    assert other != key
    with store.engine.connect() as conn:
        assert conn.execute(select(rulebook_snapshots.c.set_hash)).scalars().all().count(key) == 1
    assert store.get_snapshot("f" * 64) is None


def test_record_times_survive_the_database_round_trip(store: Store) -> None:
    """The hash covers the creation time to the microsecond, in UTC, on both backends: the stored
    row recomputes to its hash (SQLite gives naive times back, PostgreSQL aware ones)."""
    rec = submit(store).result(10)
    row = store.get_row(rec["id"])
    assert row is not None
    assert row["hash"] == rec["hash"] == link_hash(row["prev_hash"], content_bytes("assessment", row))
    assert row["created_at"].replace(tzinfo=None) == rec["created_at"].replace(tzinfo=None)


def test_store_column_types_fit_the_values_written(store: Store) -> None:
    """Money columns are 64-bit integers, within_band a boolean, seq a 64-bit integer (not floats)."""
    assert isinstance(assessments.c.recommended.type, BigInteger)
    assert isinstance(decisions.c.amount.type, BigInteger)
    assert isinstance(decisions.c.within_band.type, Boolean)
    assert isinstance(chain_head.c.id.type, Integer)
    a = submit(store, band=(10**12 - 1, 10**12)).result(10)
    d = store.submit_decision(a["id"], amount=10**12, reason=None, within_band=True, who=WANG).result(10)
    row = store.get_row(a["id"])
    assert row is not None
    assert row["band_max"] == 10**12 and row["decision"]["amount"] == d["amount"] == 10**12
    assert row["decision"]["within_band"] is True
