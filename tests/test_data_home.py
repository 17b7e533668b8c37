"""One data directory (DISCRETION_HOME, by default the platform's user data directory) holds the
default database, whichever folder a command is started from; serve and db upgrade say where it is."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from platformdirs import user_data_dir
from test_server import ROOT, free_port, post_json, start, stop, wait_healthy

from api.cli import main
from api.settings import Settings, database_location, load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DISCRETION_HOME (not created yet) and no database URL in the environment."""
    folder = tmp_path / "data" / "discretion"
    monkeypatch.setenv("DISCRETION_HOME", str(folder))
    monkeypatch.delenv("DISCRETION_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return folder


def run_in(folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_db_upgrade_from_two_folders_opens_the_one_database_in_the_data_directory(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`db upgrade` started in two folders prints the same location in DISCRETION_HOME: created first, up to date next."""
    where = f"数据库：{home / 'discretion.db'}"
    code, first = run_in(tmp_path / "a", monkeypatch, capsys, "db", "upgrade")
    assert code == 0 and where in first and "已创建数据库结构" in first, first
    code, second = run_in(tmp_path / "b" / "c", monkeypatch, capsys, "db", "upgrade")
    assert code == 0 and where in second and "已是最新" in second and "已创建" not in second, second
    assert (home / "discretion.db").is_file()
    assert not (tmp_path / "a" / "var").exists() and not (tmp_path / "b" / "c" / "var").exists()
    code, audit = run_in(tmp_path / "d", monkeypatch, capsys, "audit", "verify")
    assert code == 0 and "哈希链完整：共 0 条记录" in audit, audit


def test_discretion_home_holds_the_default_database(home: Path) -> None:
    """With DISCRETION_HOME set, the default database is discretion.db in it, as an absolute path."""
    assert Settings().database_url == f"sqlite:///{home / 'discretion.db'}"
    assert home.is_absolute()


def test_without_discretion_home_the_data_lives_in_the_user_data_directory(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, DISCRETION_HOME defaults to platformdirs' user data directory (only read here, not created)."""
    monkeypatch.delenv("DISCRETION_HOME")
    s = Settings()
    assert s.home == Path(user_data_dir("discretion", appauthor=False)).resolve()
    assert s.database_url == f"sqlite:///{s.home / 'discretion.db'}"


def test_loading_the_settings_creates_the_data_directory_for_its_owner_only(home: Path) -> None:
    """The data directory is created on first use, readable by its owner only (0700)."""
    assert not home.exists()
    load_settings()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_a_database_url_in_the_environment_wins_over_the_data_directory(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL (or DISCRETION_DATABASE_URL) chooses the database; the data directory is then not created."""
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    assert load_settings().database_url == "sqlite:////tmp/elsewhere.db"
    monkeypatch.setenv("DISCRETION_DATABASE_URL", "sqlite:////tmp/first.db")
    assert load_settings().database_url == "sqlite:////tmp/first.db"
    assert not home.exists()


def test_the_printed_database_location_never_shows_a_password() -> None:
    """A PostgreSQL URL is shown with its password masked; a SQLite URL as the file's absolute path."""
    assert database_location("postgresql+psycopg://app:s3cret@db.example:5432/discretion") == "postgresql+psycopg://app:***@db.example:5432/discretion"
    assert database_location("postgresql+psycopg://postgres@127.0.0.1:5432/test") == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert database_location("sqlite:////srv/d/discretion.db") == "/srv/d/discretion.db"
    assert database_location("sqlite:///rel/x.db") == str(Path.cwd() / "rel" / "x.db")


def test_serve_started_elsewhere_keeps_its_records_in_the_data_directory(home: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`serve` started in another folder says where the database is, and a stored record is there for `audit verify`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISCRETION_RULEBOOKS",)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port, log = free_port(), tmp_path / "serve.log"
    proc = start(["serve", "--port", str(port)], env, log, cwd=elsewhere)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}", deadline_s=30)
        case = json.loads((ROOT / "examples" / "case.json").read_text(encoding="utf-8"))
        status, body = post_json(f"http://127.0.0.1:{port}/v1/assessments", case)
        assert status == 201, body
    finally:
        stop(proc)
    assert f"数据库：{home / 'discretion.db'}" in log.read_text(encoding="utf-8")
    assert sorted(p.name for p in elsewhere.iterdir()) == []
    assert main(["audit", "verify"]) == 0
    assert "计算记录 1 条" in capsys.readouterr().out


def test_a_new_database_its_folder_and_its_side_files_are_owner_only(tmp_path: Path) -> None:
    """A SQLite database named anywhere is made 0600 in a folder made 0700; its -wal, -shm and lock files are 0600 too."""
    from api.storage import Store

    db = tmp_path / "made" / "records.db"
    store = Store(f"sqlite:///{db}")
    try:
        store.put_snapshot({"law/law.yaml": b"edition: test\n"})  # a write: the WAL exists
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in db.parent.iterdir()}
    finally:
        store.close()
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert {"records.db", "records.db-wal", "records.db-shm", "records.db.lock"} <= set(files)
    assert set(files.values()) == {0o600}, files
