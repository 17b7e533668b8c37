"""discretion.engine.assessment: the parts prepared once per engine (plans, shared steps, memoised texts)
change no output — the same case gives the same result however many cases went before, on any
engine, in any thread — and the JSON is the dict's document."""

from __future__ import annotations

import dataclasses
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from api.clock import today
from discretion.engine import amounts, citation, dates, money
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.results import Assessment, FineResult, RegimeResult, new_fine, new_result
from discretion.errors import DiscretionError
from discretion.review import golden
from discretion.review.synth import generate_valid
from discretion.rulebooks.loaded import RulebookSet


@pytest.fixture(scope="module")
def varied(reference_engine: Engine) -> list[Case]:
    """Varied cases (both regimes, lighter law, continuing acts, Kunming, exemptions, reductions)."""
    return generate_valid(reference_engine, 400, seed=11, today=today())


def _golden_cases() -> list[Case]:
    out = []
    for lc in golden.load_cases():
        raw = dict(lc.case.input)
        if "original_fine" in raw:
            continue
        for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
            if isinstance(raw.get(k), str):
                raw[k] = dt.date.fromisoformat(raw[k])
        try:
            out.append(Case.model_validate(raw))
        except ValueError:
            continue
    return out


def _answer(engine: Engine, c: Case) -> bytes:
    try:
        return engine.assess(c).to_json(id=7)
    except DiscretionError as exc:
        return f"{exc.code}:{exc.message}:{exc.field}".encode()


def test_to_json_is_the_document_of_to_dict(any_engine: Engine, varied: list[Case]) -> None:
    """to_json(id=…) is byte for byte orjson.dumps({"id": …, **to_dict()}) for golden and varied cases."""
    checked = 0
    for c in _golden_cases() + varied:
        try:
            a = any_engine.assess(c)
        except DiscretionError:
            continue
        assert a.to_json(id=7) == orjson.dumps({"id": 7, **a.to_dict()}), c
        assert a.to_json() == orjson.dumps(a.to_dict()), c
        checked += 1
    assert checked > 500


def _forget() -> None:
    """Empty the module-level memos (texts of amounts, dates, citations; rounding bands)."""
    for memo in (money._YUAN, money._WAN, citation._JSON_BY_ID, citation._ALL_BY_IDS, citation._DATES,
                 amounts._BANDS, dates._ISO):
        memo.clear()


def test_a_case_is_answered_alike_whatever_came_before(rulebooks: RulebookSet, varied: list[Case]) -> None:
    """Two new engines answering the same cases in opposite orders, each from empty memos, agree case
    by case: nothing memoised from one case leaks into another."""
    cases = _golden_cases() + varied
    _forget()
    forward = Engine(rulebooks, "reference")
    ahead = {id(c): _answer(forward, c) for c in cases}
    _forget()
    backward = Engine(rulebooks, "reference")
    for c in reversed(cases):
        assert _answer(backward, c) == ahead[id(c)], c


def test_threads_get_the_answers_of_one_thread(rulebooks: RulebookSet, varied: list[Case]) -> None:
    """Four threads on one new engine (its plans prepared concurrently) answer as one thread does."""
    alone = Engine(rulebooks, "reference")
    expected = [_answer(alone, c) for c in varied]
    shared = Engine(rulebooks, "reference")
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda c: _answer(shared, c), varied))
    assert got == expected


def test_shared_steps_are_not_changed_by_later_cases(engine: Engine, varied: list[Case]) -> None:
    """The trail of an earlier assessment reads the same after many more cases (its shared steps are immutable)."""
    a = engine.assess(varied[0])
    before = [s.to_dict() for s in a.trail]
    for c in varied[1:]:
        engine.assess(c).to_json()
    assert [s.to_dict() for s in a.trail] == before


def test_results_are_built_with_exactly_the_dataclass_fields(engine: Engine, varied: list[Case]) -> None:
    """The fast builders of RegimeResult, FineResult and Assessment set the same fields, in the same
    order, as the dataclass constructors."""
    assert vars(new_result("pre2026", "penalty")) == vars(RegimeResult("pre2026", "penalty"))
    assert list(vars(new_result("pre2026", "penalty"))) == [f.name for f in dataclasses.fields(RegimeResult)]
    assert vars(new_fine(1, None, (1, 2), 3)) == vars(FineResult(1, None, (1, 2), 3))
    a = engine.assess(varied[0])
    assert list(vars(a)) == [f.name for f in dataclasses.fields(Assessment)]
    assert list(vars(a.applied)) == [f.name for f in dataclasses.fields(RegimeResult)]


def test_a_duty_with_its_provisions_condition_is_selected_by_the_provisions_rule(rulebooks: RulebookSet) -> None:
    """The matcher fires each condition once: a duty whose ``when`` is a provision's (大气污染防治法第二十九条,
    ``inspection_law == "air"`` like air-98) is selected by that provision's rule and compiles no rule of
    its own; one whose condition no provision has (a union of two items) keeps its own rule."""
    from discretion.rulebooks.compiler import compile_ruleset, duty_rule_ids

    rules = rulebooks.violations["inspection_refused"].model.regimes["pre2026"]
    assert duty_rule_ids("pre2026", rules)[0] == "pre2026/air-98"
    compiled = compile_ruleset(rulebooks, "inspection_refused", None, "pre2026")
    assert not any(r.kind == "duty" for r in compiled.rules)
    dusty = rulebooks.violations["dusty_material_uncovered"].model.regimes["pre2026"]
    assert duty_rule_ids("pre2026", dusty)[0] == "pre2026/violated/0"  # not_enclosed or not_covered: two items
    assert [r.id for r in compile_ruleset(rulebooks, "dusty_material_uncovered", None, "pre2026").rules if r.kind == "duty"] == [
        "pre2026/violated/0"
    ]
