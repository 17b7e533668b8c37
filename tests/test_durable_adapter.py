"""discretion.engine._durable: the adapter to durable_rules leaks no sessions, agrees with the reference
evaluator, and turns every engine failure into EngineError."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from discretion.engine import _durable
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.errors import DiscretionError, EngineError
from discretion.review import golden
from discretion.rulebooks.loaded import RulebookSet

RUNS = 3000
ROOT = Path(__file__).resolve().parent.parent


def golden_cases(reference: Engine) -> list[Case]:
    """The golden cases' inputs that assess without an input error."""
    out = []
    for lc in golden.load_cases():
        raw = dict(lc.case.input)
        if "original_fine" in raw:
            continue
        for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
            if isinstance(raw.get(k), str):
                raw[k] = dt.date.fromisoformat(raw[k])
        c = Case.model_validate(raw)
        try:
            reference.assess(c)
        except DiscretionError:
            continue
        out.append(c)
    return out


@pytest.fixture(scope="module")
def cases(reference_engine: Engine) -> list[Case]:
    got = golden_cases(reference_engine)
    assert len(got) > 200
    return got


def test_three_thousand_assessments_leave_no_live_session_and_match_the_reference(
    rulebooks: RulebookSet, reference_engine: Engine, cases: list[Case]
) -> None:
    """After 3,000 assessments through a fresh durable matcher no session is open and every result
    equals the reference evaluator's."""
    durable = Engine(rulebooks, "durable")
    expected = {i: reference_engine.assess(c).to_dict() for i, c in enumerate(cases)}
    for n in range(RUNS):
        i = n % len(cases)
        got = durable.assess(cases[i]).to_dict()
        assert got == expected[i], f"run {n}: {cases[i]}"
        assert durable.matcher.live_sessions == 0  # type: ignore[attr-defined]
    assert durable.matcher.live_sessions == 0  # type: ignore[attr-defined]


# Run in a child process: a failure of the C core may abort the interpreter, and that must fail
# this test, not kill the whole test session.
FAILURE_SCRIPT = r"""
import datetime as dt, sys
from discretion.engine import _durable
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.rulebooks import tree
from discretion.errors import EngineError

name = sys.argv[1]
rs = tree.load()
durable, reference = Engine(rs, "durable"), Engine(rs, "reference")
D = dt.date.fromisoformat
cases = [
    Case(violation="water_over_standard", violation_date=D("2025-03-01"), decision_date=D("2025-06-01"), facts={"serious": True}),
    Case(violation="air_over_standard", violation_date=D("2025-03-01"), decision_date=D("2025-06-01")),
    Case(violation="eia_registration_not_filed", violation_date=D("2026-09-01"), decision_date=D("2026-11-01")),
    Case(violation="acceptance_not_done_operation", violation_date=D("2025-03-01"), decision_date=D("2025-09-01")),
]
durable.assess(cases[0])  # one ruleset warm, the others first used while the core fails

def boom(*args, **kwargs):
    raise RuntimeError("simulated failure of the C core")

original = getattr(_durable._core, name)
setattr(_durable._core, name, boom)
failures = 0
for c in cases + cases:
    try:
        durable.assess(c)
    except EngineError as exc:
        assert exc.code == "engine_error" and "simulated failure" in exc.message, exc
        failures += 1
    assert durable.matcher.live_sessions == 0
setattr(_durable._core, name, original)
assert failures > 0, "the simulated failure never surfaced"
for c in cases:
    assert durable.assess(c).to_dict() == reference.assess(c).to_dict(), c
assert durable.matcher.live_sessions == 0
print("OK", failures)
"""


@pytest.mark.parametrize("core_function", ["assert_fact", "start_action_for_state", "complete_and_start_action"])
def test_engine_failure_surfaces_as_engine_error_and_the_matcher_keeps_working(core_function: str) -> None:
    """A failure inside a C core function is raised as EngineError (never a crash), leaves no session
    open, and the same matcher answers like the reference evaluator once the core works again."""
    proc = subprocess.run(
        [sys.executable, "-c", FAILURE_SCRIPT, core_function],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("OK"), (
        f"exit status {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    )


def test_engine_error_is_a_discretion_error_with_a_stable_code() -> None:
    """The API and CLI map EngineError through DiscretionError with code engine_error."""
    err = EngineError(message="x")
    assert isinstance(err, DiscretionError)
    assert err.to_dict() == {"code": "engine_error", "message": "x", "field": None}


def test_unhandled_fact_is_an_engine_error(rulebooks: RulebookSet, monkeypatch: pytest.MonkeyPatch, cases: list[Case]) -> None:
    """If the engine reports a fact as not handled (result code 1), the adapter raises EngineError."""
    durable = Engine(rulebooks, "durable")
    monkeypatch.setattr(_durable._core, "assert_fact", lambda handle, message: (1, 0))
    with pytest.raises(EngineError):
        durable.assess(cases[0])
    assert durable.matcher.live_sessions == 0  # type: ignore[attr-defined]


def test_prepare_registers_rulesets_ahead_of_use(rulebooks: RulebookSet, reference_engine: Engine, cases: list[Case]) -> None:
    """prepare() registers every compiled ruleset; assessing afterwards gives the reference results."""
    durable = Engine(rulebooks, "durable")
    durable.matcher.prepare(durable.compiled.rulesets.values())
    assert len(durable.matcher._handles) == len(durable.compiled.rulesets)  # type: ignore[attr-defined]
    for c in cases[:20]:
        assert durable.assess(c).to_dict() == reference_engine.assess(c).to_dict()


def test_at_most_one_session_is_ever_open_even_under_threads_and_after_an_error(
    rulebooks: RulebookSet, cases: list[Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight threads assessing at once on one matcher never have two sessions open (the high-water
    mark stays 1, so no ruleset ever nears durable_rules' 1,024); after an engine error the count is
    back to 0 and the next case is answered."""
    import threading

    durable = Engine(rulebooks, "durable")
    matcher = durable.matcher
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for c in cases[offset::8][:40]:
                durable.assess(c)
                assert matcher.live_sessions <= 1  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert matcher.live_sessions == 0 and matcher.peak_sessions == 1  # type: ignore[attr-defined]

    def boom(handle: int, message: str) -> Any:
        raise RuntimeError("simulated")

    monkeypatch.setattr(_durable._core, "assert_fact", boom)
    with pytest.raises(EngineError):
        durable.assess(cases[0])
    assert matcher.live_sessions == 0 and matcher.peak_sessions == 1  # type: ignore[attr-defined]
    monkeypatch.undo()
    durable.assess(cases[1])
    assert matcher.live_sessions == 0  # type: ignore[attr-defined]


def test_a_dropped_matcher_deletes_its_rulesets_from_the_engine(rulebooks: RulebookSet, cases: list[Case]) -> None:
    """When an engine is dropped (a rulebook reload replaces it) its matcher's finalizer deletes every
    ruleset it registered from the C core, which would otherwise keep them (and their handle slots) forever."""
    import gc

    durable = Engine(rulebooks, "durable")
    for c in cases[:30]:
        durable.assess(c)
    handles = dict(durable.matcher._handles)  # type: ignore[attr-defined]
    release = durable.matcher._release  # type: ignore[attr-defined]
    assert handles and release.alive
    deleted: list[int] = []
    original = _durable._core.delete_ruleset
    _durable._core.delete_ruleset = lambda h: (deleted.append(h), original(h))[1]
    gc.collect()  # engines of earlier tests are released now, not below
    try:
        del durable
        gc.collect()
    finally:
        _durable._core.delete_ruleset = original
    assert not release.alive
    assert set(handles.values()) <= set(deleted), (sorted(handles.values()), sorted(deleted))
