"""The store on SQLite and PostgreSQL: migrations, the one hash chain, group commit, several writers,
append-only decisions, exact stored requests and content-addressed rulebook snapshots."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import warnings
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

from api.cli import main
from api.deps import Principal
from api.storage import Store, make_engine, migrations, new_id
from api.auth import hash_token, os_user
from api.storage.chain import CONTENT, GENESIS, OPTIONAL, chained_hash, content_bytes, content_parts, link_hash
from api.storage.schema import access_events, api_tokens, assessments, chain_head, decisions, metadata, rulebook_snapshots
from api.storage.snapshots import set_hash
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
           request: dict[str, Any] | None = None, case: dict[str, Any] | None = None) -> Future[dict[str, Any]]:
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
        case=case,
    )


def chain(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """Every record of both kinds, in seq order."""
    with store.engine.connect() as conn:
        rows = [("assessment", dict(r._mapping)) for r in conn.execute(select(assessments))]
        rows += [("decision", dict(r._mapping)) for r in conn.execute(select(decisions))]
    return sorted(rows, key=lambda kr: kr[1]["seq"])


# --- migrations -----------------------------------------------------------------------------------


def test_migration_creates_every_table_exactly_as_the_models_declare(store: Store) -> None:
    """After the revisions, Alembic's autogenerate finds nothing to change, and the access
    layer's tables have the columns it relies on."""
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
        insp = inspect(conn)
        assert set(insp.get_table_names()) >= {
            "assessments", "decisions", "chain_head", "rulebook_snapshots", "users", "api_tokens", "service_keys", "login_failures", "alembic_version"}
        expected = {
            "users": [("name", String, 64, False), ("role", String, 16, False), ("password_hash", String, 255, False),
                      ("created_at", DateTime, None, False), ("disabled_at", DateTime, None, True),
                      ("session_generation", Integer, None, False)],
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


def test_access_events_take_their_place_in_the_same_chain(store: Store) -> None:
    """A token created between two assessments is chained between them with the change it records
    (the token row, in the same transaction); verify counts it; a change its own check refuses (a
    user that exists) writes neither the change nor an event."""
    from api.auth import AccessStore

    access = AccessStore(store.engine, chain=store)
    a1 = submit(store).result(10)
    tid, token = access.create_token("li", "reviewer", "审核", by=Principal(name="wang-admin", role="admin", via="token"))
    a2 = submit(store).result(10)
    access.add_user("zhang", "handler", "password-zhang")
    with pytest.raises(ConflictError):
        access.add_user("zhang", "admin", "password-other")
    with store.engine.connect() as conn:
        events = [dict(r._mapping) for r in conn.execute(select(access_events).order_by(access_events.c.seq))]
        assert conn.execute(select(api_tokens.c.owner).where(api_tokens.c.id == tid)).scalar() == "li"
    assert [(e["action"], e["target"], e["role"], e["created_by"], e["created_role"]) for e in events] == [
        ("token_created", tid, "reviewer", "wang-admin", "admin"), ("user_added", "zhang", "handler", os_user(), "os_user")]
    assert [a1["seq"], events[0]["seq"], a2["seq"], events[1]["seq"]] == [1, 2, 3, 4]
    assert events[0]["prev_id"] == a1["id"] and events[0]["hash"] == link_hash(events[0]["prev_hash"], content_bytes("access", events[0]))
    detail = orjson.loads(events[0]["detail"])
    assert detail["owner"] == "li" and detail["label"] == "审核" and detail["os_user"] == os_user()
    assert token not in events[0]["detail"] and hash_token(token) not in events[0]["detail"]
    rep = store.verify()
    assert rep.sound and (rep.records, rep.assessments, rep.decisions, rep.access) == (4, 2, 0, 2)


def test_an_access_store_without_the_chain_changes_nothing(store: Store) -> None:
    """Access changes are only ever made with their event: a store without the chain refuses them."""
    from api.auth import AccessStore

    with pytest.raises(DiscretionError) as refused:
        AccessStore(store.engine).create_token("li", "admin")
    assert refused.value.code == "access_unrecorded"
    with store.engine.connect() as conn:
        assert conn.execute(select(api_tokens.c.id)).first() is None


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


# --- the append path: content split around the chain fields, asyncio callers, the writer's connection


def _odd_text(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice('ab"\\/\x00\x1f\x7f\u2028数据😀 {}:,') for _ in range(n))


def test_the_content_split_around_the_chain_fields_hashes_exactly_as_the_whole() -> None:
    """The writer hashes prev_hash ‖ content from pieces encoded before the lock: for records of both
    kinds with quotes, backslashes, control characters, non-BMP text, nulls and big results, the
    pieces give the very bytes (and hash) that verification recomputes with content_bytes."""
    rnd = random.Random(20261126)
    for _ in range(300):
        for kind, keys in CONTENT.items():
            row: dict[str, Any] = {k: _odd_text(rnd, rnd.randint(0, 40)) for k in keys}
            row["created_at"] = dt.datetime(2026, 8, 15, tzinfo=dt.UTC) + dt.timedelta(microseconds=rnd.randint(0, 10**13))
            for k in ("recommended", "band_min", "band_max", "amount"):
                if k in row:
                    row[k] = rnd.choice([None, 0, 10**15, 136000])
            if kind == "assessment":
                row["result"] = _odd_text(rnd, rnd.randint(0, 12000))
            elif kind == "decision":
                row["within_band"] = rnd.choice([True, False, 0, 1])
                row["reason"] = rnd.choice([None, _odd_text(rnd, rnd.randint(0, 3000))])
            for k in OPTIONAL[kind]:  # hashed only when set
                row[k] = rnd.choice([None, _odd_text(rnd, rnd.randint(0, 300))])
            row["seq"], row["prev_id"] = rnd.randint(1, 10**12), rnd.choice(["", new_id(), _odd_text(rnd, 5)])
            prev_hash = rnd.choice([GENESIS, "ab" * 32])
            head, middle, tail = content_parts(kind, row)
            whole = head + orjson.dumps(row["prev_id"]) + b"," + bytes(middle) + b',"seq":' + b"%d" % row["seq"] + tail
            assert whole == content_bytes(kind, row)
            assert chained_hash(prev_hash, (head, middle, tail), row["prev_id"], row["seq"]) == link_hash(prev_hash, whole)


def test_a_record_without_a_case_hashes_exactly_as_before_the_case_existed() -> None:
    """The content of an assessment without a case is the sorted-key JSON of the columns it had
    before migration 0006 (no case key, not even null), so the hashes of older records still hold;
    with a case, its three columns are part of the content."""
    row: dict[str, Any] = {k: f"v-{k}" for k in CONTENT["assessment"]}
    row.update(seq=7, created_at=dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC), recommended=136000, band_min=100000, band_max=280000)
    before = {k: row[k] for k in CONTENT["assessment"]} | {"kind": "assessment", "created_at": "2026-09-01T08:00:00.000000Z"}
    legacy = orjson.dumps(before, option=orjson.OPT_SORT_KEYS)
    assert content_bytes("assessment", {**row, "case_json": None, "case_number": None, "case_party": None}) == legacy
    assert content_bytes("assessment", row) == legacy
    with_case = content_bytes("assessment", {**row, "case_json": '{"number":"1"}', "case_number": "1", "case_party": "张三"})
    assert json.loads(with_case) == {**json.loads(legacy), "case_json": '{"number":"1"}', "case_number": "1", "case_party": "张三"}


def test_a_case_is_stored_beside_the_request_and_read_back(store: Store) -> None:
    """The case goes to its own columns (JSON, and the number and party name for the search), not
    into the stored request the reproduction re-assesses; an assessment without one keeps nulls."""
    case = {"number": "昆环罚〔2026〕12号", "party": {"name": "昆明某某有限公司", "kind": "unit", "id_code": "91350100M000100Y43"},
            "address": None, "location": "某排污口"}
    with_case = submit(store, case=case).result(10)
    without = submit(store).result(10)
    assert with_case["case_number"] == "昆环罚〔2026〕12号" and with_case["case_party"] == "昆明某某有限公司"
    assert "case" not in json.loads(with_case["request"])
    got = store.get_record(with_case["id"])
    assert got is not None and got["case"] == case
    assert store.get_record(without["id"])["case"] is None  # type: ignore[index]
    assert without["case_json"] is None and without["case_number"] is None
    assert store.verify().sound


def test_the_list_searches_case_numbers_and_party_names_literally(store: Store) -> None:
    """``search`` matches a part of the case number or party name, letters in any case, with % and _
    taken literally; a personal identity number is masked in the list."""
    cases = {
        "unit": {"number": "KM-2026-012", "party": {"name": "昆明某某化工有限公司", "kind": "unit", "id_code": "91350100M000100Y43"}},
        "person": {"number": "昆环罚〔2026〕13号", "party": {"name": "张三_100%", "kind": "individual", "id_code": "11010519491231002X"}},
    }
    ids = {k: submit(store, case=c).result(10)["id"] for k, c in cases.items()}
    submit(store).result(10)  # no case: never found by a search

    def found(q: str) -> list[str]:
        return [i["id"] for i in store.list(search=q)[0]]

    assert found("km-2026") == [ids["unit"]]
    assert found("化工") == [ids["unit"]]
    assert found("〔2026〕13") == [ids["person"]]
    assert found("_100%") == [ids["person"]] and found("%") == [ids["person"]] and found("3_") == []
    assert found("2026") == [ids["person"], ids["unit"]]
    item = next(i for i in store.list()[0] if i["id"] == ids["person"])
    assert item["case"] == {"number": "昆环罚〔2026〕13号",
                            "party": {"name": "张三_100%", "kind": "individual", "id_code": "1101**********002X"}}
    unit = next(i for i in store.list()[0] if i["id"] == ids["unit"])
    assert unit["case"]["party"]["id_code"] == "91350100M000100Y43"


def test_the_event_loop_api_resolves_after_the_commit_and_survives_cancelled_callers(store: Store, db_url: str) -> None:
    """add_assessment returns an asyncio future, settled in the caller's loop once the row is
    committed; a caller that gave up (cancelled) does not stop the writer, and its record is kept."""

    async def main() -> tuple[list[dict[str, Any]], str]:
        def fields(rid: str) -> dict[str, Any]:
            return {"request": {"n": rid}, "result_json": orjson.dumps({"id": rid}), "violation": "water_over_standard",
                    "title": "t", "outcome": "no_penalty", "fine": None, "edition": "yunnan@2023", "sha256": "a" * 64,
                    "rulebook_set": SET, "who": WANG}

        gone = new_id()
        abandoned = store.add_assessment(gone, **fields(gone))
        abandoned.cancel()
        rows = await asyncio.gather(*(store.add_assessment(rid, **fields(rid)) for rid in (new_id() for _ in range(20))))
        return list(rows), gone

    rows, gone = asyncio.run(main())
    other = make_engine(db_url)
    try:
        with other.connect() as conn:  # committed before the futures resolved: another connection sees them
            stored = set(conn.execute(select(assessments.c.id)).scalars())
    finally:
        other.dispose()
    assert {r["id"] for r in rows} | {gone} == stored
    assert submit(store).result(10)["seq"] == 22  # the writer lives on
    assert store.verify().sound


def test_a_cancelled_thread_future_does_not_stop_the_writer(store: Store) -> None:
    """Cancelling the future of a queued record (a caller that stopped waiting) leaves the record to
    be written and the writer running; setting its result must not raise in the writer."""
    first = submit(store)
    assert first.cancel()  # still queued: it can be cancelled
    assert submit(store).result(10)["seq"] == 2
    assert store.verify().records == 2


def test_a_request_given_as_a_function_is_encoded_in_the_writer_thread(store: Store) -> None:
    """The service hands the request over as a function (its encoding is off the event loop): it is
    called once, in the writer thread, and stored exactly like the mapping it returns."""
    calls: list[str] = []

    def request() -> dict[str, Any]:
        calls.append(threading.current_thread().name)
        return {"violation": "water_over_standard", "facts": {"exceedance_ratio": Decimal("0.125")}}

    rid = submit(store, request=request).result(10)["id"]  # type: ignore[arg-type]
    assert calls == ["discretion-store-writer"]
    raw = store.get_row(rid)["request"]  # type: ignore[index]
    assert raw == '{"violation":"water_over_standard","facts":{"exceedance_ratio":0.125}}'
    assert store.verify().sound


def test_a_record_that_cannot_be_encoded_fails_alone(store: Store) -> None:
    """A result that is not UTF-8 fails its own caller; the records queued with it are written."""
    bad = store.submit_assessment(
        new_id(), request={}, result_json=b"\xff\xfe", violation="water_over_standard", title="t", outcome="no_penalty",
        fine=None, edition="yunnan@2023", sha256="a" * 64, rulebook_set=SET, who=WANG)
    good = submit(store)
    with pytest.raises(UnicodeDecodeError):
        bad.result(10)
    assert good.result(10)["seq"] == 1
    assert store.verify().sound


def test_ids_from_a_forked_child_do_not_repeat_the_parents() -> None:
    """Random id digits come from a pool read from the OS; a forked child (replay workers) must not
    reuse the parent's pool."""
    new_id()  # the parent's pool is filled
    r, w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 warns about fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        os.write(w, ",".join(new_id()[12:] for _ in range(100)).encode())
        os._exit(0)
    os.close(w)
    mine = {new_id()[12:] for _ in range(100)}
    with os.fdopen(r, "rb") as f:
        child = set(f.read().decode().split(","))
    os.waitpid(pid, 0)
    assert len(child) == 100 and len(mine) == 100
    assert not mine & child


def test_a_new_sqlite_database_has_8k_pages_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    """New SQLite databases get 8 KiB pages (fewer WAL frames per ~12 KB record); a database made
    with 4 KiB pages keeps them and records append and verify as before."""
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    for path, size in ((tmp_path / "new.db", 8192), (old, 4096)):
        s = Store(f"sqlite:///{path}")
        try:
            s.put_snapshot(SOURCES)
            assert [submit(s).result(10)["seq"] for _ in range(3)] == [1, 2, 3]
            assert s.verify().sound
            with s.engine.connect() as c:
                assert c.exec_driver_sql("PRAGMA page_size").scalar() == size
        finally:
            s.close()


def test_the_writer_reconnects_when_its_connection_is_dropped(store: Store, db_url: str) -> None:
    """The writer keeps one connection between batches; when the server drops it (a PostgreSQL
    restart, an administrator), the next batch reconnects and the chain goes on without a gap."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a server-side disconnect is a PostgreSQL matter")
    first = submit(store).result(10)
    pid = store._conn.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    admin = make_engine(db_url)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar() is True
    finally:
        admin.dispose()
    second = submit(store).result(30)
    assert (second["seq"], second["prev_id"]) == (2, first["id"])
    assert store.verify().sound


def test_a_new_sqlite_database_and_its_wal_are_created_owner_only(tmp_path: Path) -> None:
    """The database file (records, password hashes, keys) and SQLite's -wal and -shm files are 0600."""
    url = f"sqlite:///{tmp_path}/new/discretion.db"
    store = Store(url)
    try:
        store.put_snapshot({"law/law.yaml": b"edition: perms\n"})
        files = [p for p in (tmp_path / "new").iterdir() if p.name.startswith("discretion.db")]
        assert {p.name for p in files} >= {"discretion.db", "discretion.db-wal"}
        assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: "0o600" for p in files}
    finally:
        store.close()
