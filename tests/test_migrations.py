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
