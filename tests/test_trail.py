"""discretion.engine.trail: the step record, its fast constructor and its JSON (serialised once when shared)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import orjson
import pytest

from discretion.engine.trail import STEP_LABELS, Step, make_step


def _step() -> Step:
    return Step("rounding", "推荐罚款为12500元", rule="rounding", basis=("《甲法》第一条", "《乙法》第二条"), regime="pre2026",
                data={"recommended": 12500, "band": [10000, 20000]})


def test_make_step_builds_the_same_frozen_record_as_the_constructor() -> None:
    """make_step(...) equals Step(...) field for field, and cannot be changed afterwards."""
    s = make_step("rounding", "推荐罚款为12500元", "rounding", ("《甲法》第一条", "《乙法》第二条"), "pre2026",
                  {"recommended": 12500, "band": [10000, 20000]})
    assert s == _step()
    fields = [f.name for f in dataclasses.fields(Step) if f.compare]
    assert fields == ["step", "text", "rule", "basis", "regime", "data"]
    assert all(getattr(s, f) == getattr(_step(), f) for f in fields)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.text = "改写"  # type: ignore[misc]


def test_json_is_the_dict_serialised_and_is_kept_for_a_shared_step() -> None:
    """A step's JSON is exactly orjson.dumps(to_dict()); it is made once and embeds unchanged."""
    s = _step()
    first = s.json()
    assert s.json() is first
    assert orjson.dumps([first]) == orjson.dumps([s.to_dict()])
    assert orjson.loads(orjson.dumps(first))["label"] == STEP_LABELS["rounding"]


def test_a_one_case_step_serialises_like_to_dict_without_keeping_its_json() -> None:
    """for_json() of a step made for one case gives the same JSON as to_dict(), and keeps nothing."""
    s = make_step("position", "位置 = 0.5", "formula", ("《甲法》第一条",), "code2026", {"position": "0.5", "modelled": True})
    assert orjson.dumps(s.for_json()) == orjson.dumps(s.to_dict())
    assert s._json is False
    shared = _step()
    assert shared.for_json() is shared.json()


def test_a_step_pickles_and_copies_after_its_json_was_made() -> None:
    """The cached JSON (an orjson fragment, which cannot be pickled) stays behind when a step is pickled or copied."""
    s = _step()
    s.json()
    for twin in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
        assert twin == s
        assert orjson.dumps(twin.json()) == orjson.dumps(s.json())
