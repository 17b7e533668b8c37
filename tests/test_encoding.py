"""discretion.engine.encoding: the pure-Python encoder writes orjson's bytes for what the engine encodes."""

from __future__ import annotations

import datetime as dt
import sys

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discretion.engine import encoding
from discretion.engine.encoding import PureFragment, pure_dumps
from discretion.engine.trail import Step

# orjson's own argument: PURE_PASSTHROUGH_DATACLASS is its value, so either call takes the same option
PASS = orjson.OPT_PASSTHROUGH_DATACLASS

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text() | st.dates()
    | st.datetimes() | st.datetimes(timezones=st.just(dt.timezone.utc))
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _either(fn: object, *args: object, **kw: object) -> tuple[str, object]:
    """("ok", bytes) or ("error", TypeError) — orjson's JSONEncodeError is a TypeError, as the pure one."""
    try:
        return "ok", fn(*args, **kw)  # type: ignore[operator]
    except TypeError:
        return "error", None


def test_the_option_constant_is_orjsons() -> None:
    """The pure encoder's only option has orjson's value, so call sites pass either module's constant."""
    assert encoding.PURE_PASSTHROUGH_DATACLASS == orjson.OPT_PASSTHROUGH_DATACLASS


@settings(max_examples=600, deadline=None)
@given(values)
def test_pure_dumps_writes_orjsons_bytes_or_refuses_what_orjson_refuses(x: object) -> None:
    """Any mix of the engine's types (integers beyond 64 bits, lone surrogates, NaN included) gives
    orjson's bytes, or a TypeError where orjson raises one."""
    assert _either(pure_dumps, x) == _either(orjson.dumps, x)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_is_written_as_orjson_writes_it(x: float) -> None:
    """Every finite float, including the exponent forms Python writes differently (1e-07, 1e-05)."""
    assert pure_dumps(x) == orjson.dumps(x)


@pytest.mark.parametrize("x", [1e-5, -1.5e-5, 9.999000000000001e-05, 1e-7, 1e16, 1.2345678901234568e17, 5e-324, -0.0, 2**64 - 1, -(2**63)])
def test_the_edges_of_number_formatting(x: float) -> None:
    """The places where Python's repr and orjson part ways, and the ends of orjson's integer range."""
    assert pure_dumps(x) == orjson.dumps(x)


def test_a_lone_surrogate_is_refused_by_both() -> None:
    """Text that is not valid UTF-8 (a lone surrogate) is a TypeError in either encoder."""
    assert _either(pure_dumps, ["a\ud800"]) == _either(orjson.dumps, ["a\ud800"]) == ("error", None)


def test_every_code_point_is_escaped_as_orjson_escapes_it() -> None:
    """Control characters, quotes, backslashes and everything above ASCII, one code point at a time."""
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert pure_dumps([text, {text: text}]) == orjson.dumps([text, {text: text}])


@given(values)
@settings(max_examples=200, deadline=None)
def test_a_fragment_is_embedded_as_it_is(x: object) -> None:
    """A fragment of orjson's bytes embeds in the pure encoder as an orjson fragment does in orjson."""
    ok, raw = _either(orjson.dumps, x)
    if ok != "ok":
        return
    assert pure_dumps({"a": [PureFragment(raw)]}) == orjson.dumps({"a": [orjson.Fragment(raw)]})  # type: ignore[arg-type]


def test_dataclasses_go_to_default_with_passthrough_and_are_refused_without_a_default() -> None:
    """A Step reaches ``default`` as with orjson's OPT_PASSTHROUGH_DATACLASS; with no default it is refused."""
    step = Step("rounding", "推荐罚款为12500元", rule="r", basis=("《甲法》第一条",), data={"n": 1})
    doc = {"trail": [step, step]}
    assert pure_dumps(doc, default=Step.to_dict, option=PASS) == orjson.dumps(doc, default=Step.to_dict, option=PASS)
    with pytest.raises(TypeError):
        pure_dumps(doc)
    with pytest.raises(ValueError):
        pure_dumps(doc, option=orjson.OPT_SORT_KEYS)


def test_depth_beyond_orjsons_limit_is_refused_by_both() -> None:
    """orjson stops at 254 levels of nesting; so does the pure encoder."""
    deep: list[object] = []
    cur = deep
    for _ in range(300):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    assert _either(pure_dumps, deep) == _either(orjson.dumps, deep) == ("error", None)


def test_without_orjson_the_engine_module_uses_the_pure_encoder() -> None:
    """Where orjson cannot be imported (Pyodide), ``dumps`` and ``Fragment`` are the pure ones."""
    import subprocess

    code = ("import sys; sys.modules['orjson'] = None\n"
            "from discretion.engine import encoding\n"
            "assert encoding.dumps is encoding.pure_dumps and encoding.Fragment is encoding.PureFragment\n"
            "print(encoding.ENCODER)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "pure", r.stderr
    assert encoding.ENCODER == "orjson" and encoding.dumps is orjson.dumps  # the service: orjson's own function
