"""The engine's JSON bytes, the same whichever encoder is installed.

The service encodes with orjson (fast, C). The offline terminal runs this library in Pyodide, where
orjson has no wheel: there :func:`pure_dumps` writes the same bytes in plain Python (compact
separators, UTF-8 without ``\\u`` escapes beyond what JSON requires, keys in insertion order,
integers as written, floats as orjson writes them, raw :class:`PureFragment` contents embedded).
``dumps``, ``Fragment`` and ``OPT_PASSTHROUGH_DATACLASS`` are orjson's own when it is importable
(nothing changes for the service) and the pure ones otherwise.

The pure encoder covers what the engine encodes, as orjson with ``OPT_PASSTHROUGH_DATACLASS`` does:
``None``, ``bool``, ``int`` (64-bit, as orjson), ``float``, ``str``, ``dict`` with ``str`` keys,
``list``, ``tuple``, fragments, ``datetime.date``/``datetime``; anything else (dataclasses, Decimal)
goes to ``default``, and without one is a ``TypeError`` (orjson's ``JSONEncodeError`` is one too).
tests/test_encoding.py holds the two equal on generated values and on whole results.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import is_dataclass
from json.encoder import encode_basestring  # the C escaper: the same escapes as orjson (tested per code point)
from typing import Any, Callable

PURE_PASSTHROUGH_DATACLASS = 1 << 11  # the only option the pure encoder knows (orjson's value, for clarity)
MAX_DEPTH = 254  # orjson's recursion limit
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # orjson refuses integers outside 64 bits


class PureEncodeError(TypeError):
    """A value the pure encoder cannot write (as orjson's ``JSONEncodeError``, a ``TypeError``)."""


class PureFragment:
    """JSON text to embed as it is (orjson's ``Fragment``)."""

    __slots__ = ("contents",)

    def __init__(self, contents: bytes | str) -> None:
        self.contents = contents


def _float(x: float) -> str:
    """A float as orjson writes it: Python's shortest repr, with exponents written without padding
    (``1e-7``, not ``1e-07``) and plain notation down to 1e-5 (Python goes to exponents below 1e-4)."""
    if not math.isfinite(x):
        return "null"
    r = repr(x)
    if "e" not in r:
        return r
    mantissa, exp = r.split("e")
    e = int(exp)
    if e == -5:
        sign = "-" if mantissa.startswith("-") else ""
        return f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
    return f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


def pure_dumps(obj: Any, default: Callable[[Any], Any] | None = None, option: int | None = None) -> bytes:
    """``orjson.dumps(obj, default=default, option=option)`` in plain Python (see the module's note)."""
    if option not in (None, 0, PURE_PASSTHROUGH_DATACLASS):
        raise ValueError(f"the pure encoder knows no option {option!r}")
    parts: list[str] = []
    _encode(obj, parts.append, default, bool(option), 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise PureEncodeError("str is not valid UTF-8: surrogates not allowed") from None


def _encode(x: Any, out: Callable[[str], None], default: Callable[[Any], Any] | None, passthrough: bool, depth: int) -> None:
    """The fast path for what the engine's results are made of (exact ``str``, ``dict``, ``list``);
    everything else, subclasses included, goes to :func:`_encode_other`. The bytes are the same
    either way (tests/test_encoding.py)."""
    t = type(x)
    if t is dict:
        _object(x, out, default, passthrough, depth)
    elif t is str:
        out(encode_basestring(x))
    elif t is list:
        _array(x, out, default, passthrough, depth)
    else:
        _encode_other(x, out, default, passthrough, depth)


def _text(fragment: PureFragment) -> str:
    c = fragment.contents
    return c.decode("utf-8") if isinstance(c, (bytes, bytearray, memoryview)) else c


def _object(x: Any, out: Callable[[str], None], default: Callable[[Any], Any] | None, passthrough: bool, depth: int) -> None:
    """A dict (or subclass): a member that is an exact ``str``, ``None``, ``int`` or fragment is
    written in the same piece as its key; the others through :func:`_encode`."""
    if depth >= MAX_DEPTH:
        raise PureEncodeError("Recursion limit reached")
    if not x:
        out("{}")
        return
    sep = "{"
    for k, v in x.items():
        if not isinstance(k, str):
            raise PureEncodeError("Dict key must be str")
        tv = type(v)
        if tv is str:
            out(sep + encode_basestring(k) + ":" + encode_basestring(v))
        elif v is None:
            out(sep + encode_basestring(k) + ":null")
        elif tv is int:
            if not _INT_MIN <= v <= _INT_MAX:
                raise PureEncodeError("Integer exceeds 64-bit range")
            out(sep + encode_basestring(k) + ":" + int.__repr__(v))
        elif tv is PureFragment:
            out(sep + encode_basestring(k) + ":" + _text(v))
        else:
            out(sep + encode_basestring(k) + ":")
            _encode(v, out, default, passthrough, depth + 1)
        sep = ","
    out("}")


def _array(x: Any, out: Callable[[str], None], default: Callable[[Any], Any] | None, passthrough: bool, depth: int) -> None:
    """A list (or subclass) or tuple: an exact ``str`` or fragment member in the same piece as its separator."""
    if depth >= MAX_DEPTH:
        raise PureEncodeError("Recursion limit reached")
    if not x:
        out("[]")
        return
    sep = "["
    for v in x:
        tv = type(v)
        if tv is str:
            out(sep + encode_basestring(v))
        elif tv is PureFragment:
            out(sep + _text(v))
        else:
            out(sep)
            _encode(v, out, default, passthrough, depth + 1)
        sep = ","
    out("]")


def _encode_other(x: Any, out: Callable[[str], None], default: Callable[[Any], Any] | None, passthrough: bool, depth: int) -> None:
    if isinstance(x, str):
        out(encode_basestring(x))
    elif x is None:
        out("null")
    elif x is True:
        out("true")
    elif x is False:
        out("false")
    elif isinstance(x, int):
        if not _INT_MIN <= x <= _INT_MAX:
            raise PureEncodeError("Integer exceeds 64-bit range")
        out(int.__repr__(x))
    elif isinstance(x, dict):
        _object(x, out, default, passthrough, depth)
    elif isinstance(x, list) or type(x) is tuple:
        _array(x, out, default, passthrough, depth)
    elif isinstance(x, PureFragment):
        out(_text(x))
    elif isinstance(x, float):
        out(_float(x))
    elif isinstance(x, (dt.date, dt.time)):  # datetime is a date
        out(f'"{x.isoformat()}"')
    elif default is not None and (passthrough or not is_dataclass(x)):
        if depth >= MAX_DEPTH:
            raise PureEncodeError("default serializer exceeds recursion limit")
        _encode(default(x), out, default, passthrough, depth + 1)
    else:  # a dataclass without OPT_PASSTHROUGH_DATACLASS too: the engine never asks orjson to write one
        raise PureEncodeError(f"Type is not JSON serializable: {type(x).__name__}")


try:
    import orjson
except ImportError:  # the offline terminal (Pyodide): no orjson wheel exists for it
    orjson = None

if orjson is not None:
    dumps: Callable[..., bytes] = orjson.dumps
    Fragment: Any = orjson.Fragment
    OPT_PASSTHROUGH_DATACLASS: int = orjson.OPT_PASSTHROUGH_DATACLASS
    ENCODER = "orjson"
else:
    dumps = pure_dumps
    Fragment = PureFragment
    OPT_PASSTHROUGH_DATACLASS = PURE_PASSTHROUGH_DATACLASS
    ENCODER = "pure"
