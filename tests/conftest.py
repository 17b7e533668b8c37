"""Shared fixtures: the shipped rulebooks, loaded once, and an engine per matcher."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from dbfixtures import BACKENDS, Databases
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from discretion.engine.assessment import Engine
from discretion.rulebooks import tree
from discretion.rulebooks.loaded import RulebookSet

# The tests never touch the user's data directory or database: the whole session (and every process
# it starts, which inherits the environment) has a temporary DISCRETION_HOME and no database URL.
HOME = tempfile.mkdtemp(prefix="discretion-test-home-")
os.environ["DISCRETION_HOME"] = HOME
for _name in ("DISCRETION_DATABASE_URL", "DATABASE_URL"):
    os.environ.pop(_name, None)
atexit.register(shutil.rmtree, HOME, ignore_errors=True)
# Starlette's TestClient calls the app as Host "testserver"; a service without auth answers only
# loopback names and the ones listed here (tests/test_access.py checks that others are refused).
os.environ["DISCRETION_ALLOWED_HOSTS"] = "testserver"


@pytest.fixture(scope="session")
def rulebooks() -> RulebookSet:
    return tree.load()


@pytest.fixture(scope="session")
def engine(rulebooks: RulebookSet) -> Engine:
    return Engine(rulebooks, "durable")


@pytest.fixture(scope="session")
def reference_engine(rulebooks: RulebookSet) -> Engine:
    return Engine(rulebooks, "reference")


@pytest.fixture(scope="session", params=["durable", "reference"])
def any_engine(request: pytest.FixtureRequest, engine: Engine, reference_engine: Engine) -> Engine:
    return engine if request.param == "durable" else reference_engine


@pytest.fixture(scope="module")
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The service with its own SQLite database per test module."""
    db = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "t.db"
    return create_app(Settings(database_url=f"sqlite:///{db}"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a 500 must show up as a status code the tests can assert on.
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """Fresh SQLite files and PostgreSQL schemas for the storage tests (see dbfixtures.py)."""
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    try:
        yield dbs
    finally:
        dbs.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, databases: Databases) -> str:
    """A fresh, empty database of each backend: the storage tests run on SQLite and PostgreSQL."""
    return databases.new(request.param)


@pytest.fixture(scope="session")
def offline_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline terminal's bundle (``discretion offline build``), built once per session. Its npm and
    pip downloads are cached (api.offline.build.default_cache) and reused while their hashes match.
    Without Node.js and npm the tests that need it are skipped, or fail when ``CI`` is set."""
    from api.offline.build import build

    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{' and '.join(missing)} missing: CI must build and check the offline bundle")
        pytest.skip(f"{' and '.join(missing)} not installed: the offline bundle cannot be built")
    out = tmp_path_factory.mktemp("offline") / "bundle"
    build(out, log=lambda _line: None)
    return out
