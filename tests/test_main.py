"""api.main: the preload that ``discretion serve --workers N`` hands to its forked workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import main, reload
from api.settings import Settings
from discretion.errors import RulebookError


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
    rs = main.preload(settings)
    reload.SharedGeneration(path).bump("abc")
    got, _, files, attempt = reload.starting_set(settings, main._take_preloaded(settings))
    assert got is not rs and files is None and attempt is None
    rs = main.preload(settings)
    path.write_text('{"generation": 0, "rulebook_set": null, "pid": 1}')
    got, _, files, attempt = reload.starting_set(settings, main._take_preloaded(settings))
    assert got is rs and files is not None and attempt is None


def test_a_worker_started_after_a_reload_on_broken_files_takes_the_last_good_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """After a reload was announced, a worker started while the files are broken takes the set named
    last good (its kept copy), or the preloaded one when none is named, with one warning naming file:line."""
    import shutil

    from api.storage.snapshots import set_hash
    from discretion.rulebooks.tree import SHIPPED

    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'main.db'}", rulebooks=root)
    monkeypatch.setenv(reload.ENV_FILE, "")
    shared = reload.SharedGeneration(reload.prepare_shared_file())
    main.preload(settings)
    pre = main._take_preloaded(settings)
    assert pre is not None
    shared.bump(None)
    (root / "law" / "law.yaml").write_text("bogus: [\n", encoding="utf-8")
    with pytest.raises(RulebookError):
        reload.starting_set(settings, None)  # without a preloaded set (no supervisor): refused

    got, _, files, attempt = reload.starting_set(settings, pre)  # nothing named: the preloaded set
    assert got is pre[0] and files is pre[2] and attempt is not None and not attempt.ok
    assert attempt.rulebook_set == set_hash(pre[2]) and attempt.issues[0].file == "rulebooks/law/law.yaml"

    good = dict(pre[2])  # a set a worker swapped in later: the start-up set with one more comment
    good["law/law.yaml"] += b"\n# revised\n"
    shared.keep(good, set_hash(good))
    shared.name_good(set_hash(good), 1)
    caplog.clear()
    got, _, files, attempt = reload.starting_set(settings, pre)
    assert got.root == shared.kept(set_hash(good)).resolve() and files is None
    assert attempt is not None and attempt.rulebook_set == set_hash(good)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "rulebooks/law/law.yaml:2" in warnings[0].getMessage(), warnings


def test_the_service_starts_without_loading_python_docx() -> None:
    """Importing the app does not import python-docx (a tenth of a second of every start): the first document loads it."""
    import subprocess
    import sys

    code = "import sys, api.main; print('docx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "False", out.stderr[-2000:]
