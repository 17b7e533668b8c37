"""The start-up fast path of the migrations agrees with Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.storage import make_engine
from api.storage.migrations import head, known_head, upgrade


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert known_head() == head()


def test_a_database_at_head_is_not_migrated_again_and_alembic_is_not_imported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    assert upgrade(engine) == head()
    engine.dispose()
    code = (
        "import sys\n"
        "from api.storage.migrations import upgrade\n"
        "from api.storage import make_engine\n"
        f"print(upgrade(make_engine({url!r})), 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [head(), "False"]


def test_a_fresh_database_is_migrated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert upgrade(engine) == head()
    finally:
        engine.dispose()


def test_users_of_a_0001_database_keep_their_logins_after_0002(tmp_path: Path) -> None:
    """Migration 0002 adds the session generation with 0 for existing users, so their new sessions work."""
    from api.auth import AccessStore

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        assert upgrade(engine, "0001") == "0001"
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO users (name, role, password_hash, created_at) "
                                 "VALUES ('old', 'handler', 'x', '2026-11-30 00:00:00')")
        assert upgrade(engine) == head()
        store = AccessStore(engine)
        assert store.session_generation("old") == 0 and store.active_user("old", 0) is not None
        store.end_sessions("old")
        assert store.active_user("old", 0) is None and store.active_user("old", 1) is not None
    finally:
        engine.dispose()


def test_records_of_a_0003_database_still_verify_after_0006_and_new_ones_carry_their_case(tmp_path: Path) -> None:
    """Migration 0006 adds the case columns as nulls: a record chained before it keeps its hash (its
    content has no case key), and a record with a case appended afterwards chains on from it."""
    import datetime as dt

    import orjson

    from api.deps import Principal
    from api.storage import Store
    from api.storage.chain import GENESIS, content_bytes, link_hash
    from api.storage.snapshots import pack_files, set_hash

    files = {"law/law.yaml": b"edition: old\n"}
    key = set_hash(files)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        assert upgrade(engine, "0003") == "0003"
        row = {"id": "0" * 24, "seq": 1, "prev_id": "", "created_at": dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
               "created_by": "wang", "created_role": "handler", "violation": "water_over_standard", "title": "超标排放",
               "outcome": "penalty", "recommended": 136000, "band_min": 100000, "band_max": 280000, "edition": "yunnan@2023",
               "sha256": "a" * 64, "rulebook_set": key, "engine_version": "0.1.0", "request": "{}", "result": "{}"}
        digest = link_hash(GENESIS, content_bytes("assessment", row))  # as the chain hashed it before 0006
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO assessments (id, seq, prev_id, prev_hash, hash, created_at, created_by, created_role, violation, "
                "title, outcome, recommended, band_min, band_max, edition, sha256, rulebook_set, engine_version, request, result) "
                "VALUES (?, 1, '', ?, ?, '2026-09-01 00:00:00.000000', 'wang', 'handler', 'water_over_standard', '超标排放', "
                "'penalty', 136000, 100000, 280000, 'yunnan@2023', ?, ?, '0.1.0', '{}', '{}')",
                (row["id"], GENESIS, digest, "a" * 64, key))
            conn.exec_driver_sql("UPDATE chain_head SET seq = 1, record_id = ?, hash = ? WHERE id = 1", (row["id"], digest))
            conn.exec_driver_sql("INSERT INTO rulebook_snapshots (set_hash, created_at, files) VALUES (?, '2026-09-01', ?)",
                                 (key, pack_files(files)))
    finally:
        engine.dispose()
    store = Store(url)  # migrates to the head
    try:
        old = store.get_row("0" * 24)
        assert old is not None and old["case_json"] is None
        assert store.verify().sound
        new = store.submit_assessment(
            "1" * 24, request={}, result_json=orjson.dumps({}), violation="water_over_standard", title="超标排放",
            outcome="no_penalty", fine=None, edition="yunnan@2023", sha256="a" * 64, rulebook_set=key,
            who=Principal("wang", "handler"), case={"number": "昆环罚〔2026〕12号", "party": None, "address": None, "location": None},
        ).result(10)
        assert new["prev_hash"] == digest and new["case_number"] == "昆环罚〔2026〕12号"
        rep = store.verify()
        assert rep.sound and rep.records == 2
    finally:
        store.close()
