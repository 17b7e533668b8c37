"""The session secret lives in an owner-only key file (api/keyfile.py), never in the database: made
atomically once and read by every process, refused when exposed or malformed, gone from the tables."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api import cli
from api.keyfile import KeyFileError, session_secret
from api.settings import Settings
from api.storage import make_engine
from api.storage.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_file_is_owner_only_in_an_owner_only_folder(tmp_path: Path) -> None:
    """The first call makes the folder (0700) and the file (0600, 64 hex characters); the next reads the same secret."""
    path = tmp_path / "new" / "session.key"
    secret = session_secret(path)
    assert len(secret) == 32 and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert path.read_text(encoding="ascii") == secret.hex() + "\n"
    assert session_secret(path) == secret
    assert sorted(p.name for p in path.parent.iterdir()) == ["session.key"]  # no temporary file left


def test_the_key_file_defaults_to_the_data_directory_and_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """session.key in DISCRETION_HOME by default, whatever the database; DISCRETION_SECRET_FILE names another (made absolute)."""
    monkeypatch.setenv("DISCRETION_HOME", str(tmp_path / "home"))
    assert Settings(database_url="postgresql+psycopg://x@db/y").secret_path == tmp_path / "home" / "session.key"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCRETION_SECRET_FILE", "keys/s.key")
    assert Settings().secret_path == tmp_path / "keys" / "s.key"
    monkeypatch.setenv("DISCRETION_SECRET_FILE", "")
    assert Settings().secret_path == tmp_path / "home" / "session.key"


def test_processes_starting_at_once_all_read_the_one_secret(tmp_path: Path) -> None:
    """Six processes that need the secret at the same moment agree on it: the first creator wins, nobody reads half a file."""
    path = tmp_path / "data" / "session.key"
    go = time.time() + 1.5
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from api.keyfile import session_secret\n"
            f"time.sleep(max(0, {go!r} - time.time()))\n"
            f"print(session_secret(Path({str(path)!r})).hex())\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(6)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    secrets_seen = {out.strip() for out, _ in outs}
    assert secrets_seen == {path.read_text(encoding="ascii").strip()}
    assert mode(path) == 0o600 and sorted(p.name for p in path.parent.iterdir()) == ["session.key"]


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o620, 0o602, 0o660])
def test_a_key_file_others_may_read_or_write_is_refused(tmp_path: Path, bits: int) -> None:
    """Group or other permission bits on the key file stop the service; the file is left as it was."""
    path = tmp_path / "session.key"
    path.write_text("ab" * 32 + "\n", encoding="ascii")
    path.chmod(bits)
    with pytest.raises(KeyFileError) as refused:
        session_secret(path)
    assert refused.value.code == "secret_file_insecure" and "chmod 600" in refused.value.message
    assert f"{bits:04o}" in refused.value.message
    assert path.read_text(encoding="ascii") == "ab" * 32 + "\n" and mode(path) == bits


@pytest.mark.parametrize("content", ["", "\n", "ab" * 31 + "\n", "ab" * 33, "zz" * 32, "ab" * 32 + "\nextra\n", "密钥" * 10])
def test_a_malformed_key_file_is_refused_and_kept(tmp_path: Path, content: str) -> None:
    """A key file without exactly 64 hexadecimal characters stops the service and is not replaced."""
    path = tmp_path / "session.key"
    path.write_text(content, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(KeyFileError) as refused:
        session_secret(path)
    assert refused.value.code == "secret_file_malformed" and "格式错误" in refused.value.message
    assert path.read_text(encoding="utf-8") == content


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_key_file_another_user_owns_is_refused(tmp_path: Path) -> None:
    """A 0600 key file owned by another user (who could replace the secret) stops the service."""
    path = tmp_path / "session.key"
    path.write_text("ab" * 32 + "\n", encoding="ascii")
    path.chmod(0o600)
    os.chown(path, 65534, 65534)
    with pytest.raises(KeyFileError) as refused:
        session_secret(path)
    assert refused.value.code == "secret_file_insecure" and "属于另一用户（uid 65534）" in refused.value.message


def test_a_key_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    """A folder where the key file should be is refused, not written into."""
    path = tmp_path / "session.key"
    path.mkdir(mode=0o700)
    with pytest.raises(KeyFileError) as refused:
        session_secret(path)
    assert refused.value.code in ("secret_file_invalid", "secret_file_unreadable")


def test_an_operators_own_key_file_is_used_as_it_is(tmp_path: Path) -> None:
    """A key file made by the operator (openssl rand -hex 32, uppercase or not) is read, not rewritten."""
    path = tmp_path / "session.key"
    path.write_text("AB" * 32 + "\n", encoding="ascii")
    path.chmod(0o400)
    assert session_secret(path) == bytes.fromhex("ab" * 32)
    assert path.read_text(encoding="ascii") == "AB" * 32 + "\n"


def test_serve_refuses_to_start_with_an_exposed_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`discretion serve` with a group-readable key file exits 1 with a Chinese message, before loading anything."""
    path = tmp_path / "session.key"
    path.write_text("ab" * 32 + "\n", encoding="ascii")
    path.chmod(0o644)
    monkeypatch.setenv("DISCRETION_SECRET_FILE", str(path))
    monkeypatch.setenv("DISCRETION_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    monkeypatch.delenv("DISCRETION_AUTH", raising=False)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main(["serve", "--port", "1"])
    assert rc == 1
    assert f"启动失败：会话密钥文件 {path} 权限为 0644" in err.getvalue() and "chmod 600" in err.getvalue()
    path.write_text("not a key\n", encoding="ascii")
    path.chmod(0o600)
    with redirect_stdout(out), redirect_stderr(err):
        assert cli.main(["serve", "--port", "1"]) == 1
    assert "格式错误" in err.getvalue()


def test_no_table_holds_the_session_secret(app: FastAPI) -> None:
    """The service's secret (in the key file of the data directory) appears nowhere in its database."""
    settings = app.state.discretion.settings
    secret = app.state.access.signer.secret
    assert settings.secret_path.read_text(encoding="ascii").strip() == secret.hex()
    assert mode(settings.secret_path) == 0o600
    con = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    try:
        dump = "\n".join(con.iterdump())
        assert con.execute("SELECT count(*) FROM service_keys WHERE name = 'session_secret'").fetchone() == (0,)
    finally:
        con.close()
    assert secret.hex() not in dump.lower()


def test_the_migration_deletes_a_session_secret_kept_in_the_database(db_url: str) -> None:
    """A database from before the key file loses its session_secret row on upgrade (SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    try:
        assert upgrade(engine, "0003") == "0003"
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO service_keys (name, value) VALUES ('session_secret', :v), ('other', 'kept')"),
                         {"v": "cd" * 32})
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, value FROM service_keys")).all() == [("other", "kept")]
    finally:
        engine.dispose()
