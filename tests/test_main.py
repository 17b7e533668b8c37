"""api.main: the preload that ``discretion serve --workers N`` hands to its forked workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import main, reload
from api.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'main.db'}")


@pytest.fixture(autouse=True)
def no_preload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main, "_preloaded", None)
    monkeypatch.delenv(reload.ENV_FILE, raising=False)


def test_create_app_takes_over_the_preloaded_engine_once(settings: Settings) -> None:
    rs = main.preload(settings)
    engine = main._preloaded[3]  # type: ignore[index]
    app = main.create_app(settings)
    assert app.state.discretion.rulebooks is rs and app.state.discretion.engine is engine
    again = main.create_app(settings)  # e.g. a second app in the same process: loads afresh
    assert again.state.discretion.engine is not engine


def test_a_preload_of_another_tree_or_matcher_is_not_used(settings: Settings, tmp_path: Path) -> None:
    main.preload(settings)
    other = settings.model_copy(update={"matcher": "reference"})
    assert main._take_preloaded(other) is None
    main.preload(settings)
    assert main._take_preloaded(settings.model_copy(update={"rulebooks": tmp_path})) is None


def test_a_worker_started_after_a_reload_reads_the_files_afresh(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker forked (e.g. to replace a dead one) after a reload was announced must not serve the
    set the parent loaded at start."""
    monkeypatch.setenv(reload.ENV_FILE, "")  # restored (removed) after the test
    path = reload.prepare_shared_file()  # sets it
    main.preload(settings)
    reload.SharedGeneration(path).bump("abc")
    assert main._take_preloaded(settings) is None
    main.preload(settings)
    path.write_text('{"generation": 0, "rulebook_set": null, "pid": 1}')
    assert main._take_preloaded(settings) is not None
