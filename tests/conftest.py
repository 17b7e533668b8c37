"""Shared fixtures: the shipped rulebooks, loaded once, and an engine per matcher."""

from __future__ import annotations

import pytest

from discretion import rulebook
from discretion.assessment import Engine
from discretion.rulebook import RulebookSet


@pytest.fixture(scope="session")
def rulebooks() -> RulebookSet:
    return rulebook.load()


@pytest.fixture(scope="session")
def engine(rulebooks: RulebookSet) -> Engine:
    return Engine(rulebooks, "durable")


@pytest.fixture(scope="session")
def reference_engine(rulebooks: RulebookSet) -> Engine:
    return Engine(rulebooks, "reference")


@pytest.fixture(scope="session", params=["durable", "reference"])
def any_engine(request: pytest.FixtureRequest, engine: Engine, reference_engine: Engine) -> Engine:
    return engine if request.param == "durable" else reference_engine
