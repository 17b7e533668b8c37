"""discretion.rulebooks.jsonset: the rulebook set compiled to JSON loads back as the same set, published editions only."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.errors import DiscretionError, RulebookError
from discretion.review import golden
from discretion.rulebooks import jsonset, tree
from discretion.rulebooks.loaded import RulebookSet


@pytest.fixture(scope="module")
def compiled(rulebooks: RulebookSet) -> bytes:
    return jsonset.dumps(rulebooks, tree.source_hash(tree.source_files()))


def test_the_set_loads_back_with_its_hashes_and_its_published_editions(rulebooks: RulebookSet, compiled: bytes) -> None:
    """Law layer, violation types and each published edition come back with the sha256 of their YAML;
    the draft is left out and named as such; the source tree's address is kept."""
    back = jsonset.loads(compiled)
    assert back.sha256 == rulebooks.sha256
    assert set(back.violations) == set(rulebooks.violations)
    published = {k for k, le in rulebooks.editions.items() if le.model.status == "published"}
    assert set(back.editions) == published
    assert {k: le.sha256 for k, le in back.editions.items()} == {k: rulebooks.editions[k].sha256 for k in published}
    assert back.extra["left_out"] == [{"key": k, "status": le.model.status} for k, le in rulebooks.editions.items() if k not in published]
    assert back.extra["source"] == tree.source_hash(tree.source_files())
    for k, le in back.editions.items():  # prefecture editions merged with their parent, as on loading the YAML
        assert le.effective == rulebooks.editions[k].effective


def test_every_document_keeps_its_values_and_their_types(rulebooks: RulebookSet, compiled: bytes) -> None:
    """Decimals stay Decimals with their digits (0.70 is not 0.7), integers stay integers, key order stays."""
    back = jsonset.loads(compiled)
    pairs = [(back.law_doc, rulebooks.law_doc)] + [(back.violations[c].doc, v.doc) for c, v in rulebooks.violations.items()]
    pairs += [(le.doc, rulebooks.editions[k].doc) for k, le in back.editions.items()]
    for got, want in pairs:
        assert jsonset._same(got.data, want.data), want.file
        assert got.file == want.file and got.sha256 == want.sha256


def test_the_engine_of_the_loaded_set_answers_as_the_yaml_sets(rulebooks: RulebookSet, compiled: bytes, engine: Engine) -> None:
    """The golden-case inputs give the same result JSON with the JSON set and the plain matcher as with
    the YAML set and durable_rules (the offline check compares thousands more through Pyodide)."""
    offline = Engine(jsonset.loads(compiled), "reference")
    n = 0
    for loaded in golden.load_cases():
        raw = loaded.case.input
        if "original_fine" in raw or raw.get("edition"):
            continue
        case = Case.model_validate(golden._dates(raw))
        assert _answer(offline, case) == _answer(engine, case), f"{loaded.file}:{loaded.line}"
        n += 1
    assert n > 50


def _answer(engine: Engine, case: Case) -> bytes | str:
    try:
        return engine.assess(case).to_json()
    except DiscretionError as exc:
        return str(exc)


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None)
data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | decimals,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data)
def test_any_parsed_value_round_trips_with_its_type(x: object) -> None:
    """What the YAML reader can give (text, integers, Decimals of any exponent, lists, mappings) reads back identical."""
    parts: list[str] = []
    jsonset._write(x, parts.append, "")
    assert jsonset._same(jsonset._parse("".join(parts).encode()), x)


@pytest.mark.parametrize("value", [Decimal("10"), Decimal("-0"), Decimal("1E+3"), Decimal("0.70"), Decimal("5.000")])
def test_a_decimal_without_a_point_is_not_read_back_as_an_integer(value: Decimal) -> None:
    """A decimal whose text has no point (YAML ``10.`` gives Decimal('10')) is written with an exponent."""
    parts: list[str] = []
    jsonset._write({"v": value}, parts.append, "")
    back = jsonset._parse("".join(parts).encode())["v"]
    assert isinstance(back, Decimal) and back.as_tuple() == value.as_tuple()


def test_a_key_that_is_not_text_is_refused_naming_where() -> None:
    """JSON keys are text: a mapping keyed by a number cannot be compiled, and the path says where."""
    with pytest.raises(RulebookError) as err:
        jsonset._write({"levels": {1: "a"}}, [].append, "yunnan/2023.yaml")
    assert "levels" in err.value.message


def test_a_changed_edition_is_refused_as_the_yaml_would_be(compiled: bytes) -> None:
    """Content changed after approval no longer matches the approval's hash: the whole set is refused, naming the file."""
    doc = json.loads(compiled, parse_float=Decimal)
    e = doc["editions"][0]
    e["data"]["title"] = e["data"]["title"] + "（改）"
    parts: list[str] = []
    jsonset._write(doc, parts.append, "")
    with pytest.raises(RulebookError) as err:
        jsonset.loads("".join(parts).encode())
    assert any(i.file == e["file"] and "审批记录不符" in i.message for i in err.value.issues)


@pytest.mark.parametrize("raw", [b"not json", b"[]", json.dumps({"format": "other"}).encode()])
def test_something_else_is_refused_with_a_message(raw: bytes) -> None:
    """Text that is not a compiled set (not JSON, not an object, another format) is a RulebookError."""
    with pytest.raises(RulebookError):
        jsonset.loads(raw)
