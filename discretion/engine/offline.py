"""The offline terminal's engine: what the bundle's page calls in Pyodide, with no network.

:class:`Terminal` holds the rulebook set compiled to JSON (:mod:`discretion.rulebooks.jsonset`) and
an engine with the plain-Python matcher (durable_rules has no WebAssembly build; the differential
tests hold the two matchers equal). It takes the assessment input of ``POST /v1/assessments`` as
JSON text, exactly as the terminal will upload it, and answers the result JSON that the service's
engine writes for it (``Assessment.to_json()``, the result without the stored ``id``), byte for
byte, with its sha256; or the error, with the code, message and field the service answers.

The input is read as the service reads it (api/routes/assessments.py ``to_case``): the case's
identity (``case``) and the ``offline`` object are kept with the record, never assessed; a number
with a fraction arrives as a JSON float and is kept as its decimal text. One difference: the
terminal has no clock it may trust, so ``decision_date`` must be given (the page fills in the day).

Starting: the bundle's build loads ``rulebooks.json`` here (:func:`prepare`, in the bundle's own
Pyodide under Node) and ships the loaded set pickled (``rulebooks.pickle``); a terminal starts from
it (:meth:`Terminal.prepared`) instead of validating and cross-checking the whole JSON again at
every start. The pickle is checked against the manifest's sha256 before Python reads it, as the
wheels are, and it carries the set's content address (``bundle_hash``), compared with the manifest's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
from typing import Any

from pydantic import ValidationError

from ..errors import DiscretionError, InputError
from ..rulebooks.editions import in_force
from ..rulebooks.loaded import LoadedEdition, RulebookSet
from .assessment import Engine
from .case import Case
from .catalog import GROUP_LABELS, circumstance_groups, form_facts, one_question, provision_citations, violations_on

NOT_ASSESSED = ("case", "offline")  # kept with the record by the service, never assessed


class Terminal:
    """The engine of one offline bundle."""

    def __init__(self, rulebooks_json: bytes | None = None, *, rulebooks: RulebookSet | None = None) -> None:
        if rulebooks is None:
            if rulebooks_json is None:
                raise TypeError("Terminal needs the rulebooks' JSON or a loaded set")
            from ..rulebooks import jsonset  # not imported by a terminal started from the prepared set

            rulebooks = jsonset.loads(rulebooks_json)
        self.rulebooks = rulebooks
        self.engine = Engine(self.rulebooks, "reference")
        self.bundle_hash: str = self.rulebooks.extra["source"]

    @classmethod
    def prepared(cls, pickled: bytes) -> "Terminal":
        """The terminal of a set :func:`prepare` loaded when the bundle was built (bytes the caller
        checked against the bundle's manifest: a pickle runs what it names)."""
        rs = pickle.loads(pickled)
        if not isinstance(rs, RulebookSet):
            raise TypeError(f"rulebooks.pickle holds a {type(rs).__name__}, not a RulebookSet")
        return cls(rulebooks=rs)

    # --- assessing ---------------------------------------------------------------------------

    def assess(self, request: str | bytes) -> bytes:
        """The answer to one assessment input as JSON: ``{"ok": true, "sha256": …, "result": …}`` with
        the result embedded as the engine wrote it, or ``{"ok": false, "error": {code, message, field}}``."""
        try:
            raw = self.engine.assess(self.case(request)).to_json()
        except DiscretionError as exc:
            return json.dumps({"ok": False, "error": _error(exc)}, ensure_ascii=False).encode("utf-8")
        digest = hashlib.sha256(raw).hexdigest()
        return b'{"ok":true,"sha256":"' + digest.encode("ascii") + b'","result":' + raw + b"}"

    def result(self, request: str | bytes) -> bytes:
        """The result JSON alone (raises :class:`DiscretionError`): what ``offline check`` compares."""
        return self.engine.assess(self.case(request)).to_json()

    def case(self, request: str | bytes) -> Case:
        """The case of an assessment input (JSON text), read as the service reads it."""
        try:
            data = json.loads(request)
        except ValueError:
            raise InputError(message="请求须为 JSON", field="body") from None
        if not isinstance(data, dict):
            raise InputError(message="请求须为 JSON 对象", field="body")
        data = {k: v for k, v in data.items() if k not in NOT_ASSESSED}
        if not data.get("decision_date"):
            raise InputError(message="离线计算须填写决定日期", code="decision_date_required", field="decision_date")
        try:
            return Case.model_validate(data)
        except ValidationError as exc:  # mapped as the service maps it (api/routes/assessments.to_case)
            err = exc.errors()[0]
            msg = str(err["msg"]).removeprefix("Value error, ")
            chinese = any("\u4e00" <= ch <= "\u9fff" for ch in msg)
            code = "date_out_of_range" if msg.startswith("日期超出") else "invalid_input"
            raise InputError(message=msg if chinese else "输入无效", code=code,
                             field=".".join(str(x) for x in err["loc"])) from None

    def answer(self, request: str) -> str:
        """:meth:`assess` as text (the page's and Node's call: a Python str arrives in JavaScript as a string)."""
        return self.assess(request).decode("utf-8")

    # --- what the page shows ------------------------------------------------------------------

    def violations_json(self, on: str, q: str | None = None) -> str:
        return json.dumps(self.violations(on, q), ensure_ascii=False)

    def form_json(self, code: str, on: str, jurisdiction: str = "yunnan") -> str:
        return json.dumps(self.form(code, on, jurisdiction), ensure_ascii=False)

    def violations(self, on: str, q: str | None = None) -> list[dict[str, Any]]:
        """The violation types on a day (as ``GET /v1/violations``), searched by ``q``."""
        return violations_on(self.engine.compiled, dt.date.fromisoformat(on), q or None)

    def form(self, code: str, on: str, jurisdiction: str = "yunnan") -> dict[str, Any]:
        """The inputs of the case form of violation ``code`` for a decision on ``on``: the facts, the
        circumstances by group with their basis under both regimes (and the benchmark's), the
        penalty provisions, as the service's form shows them (api/pages/form.py)."""
        rs, compiled = self.rulebooks, self.engine.compiled
        v = rs.violation(code).model
        try:
            le: LoadedEdition | None = in_force(rs.editions, jurisdiction, dt.date.fromisoformat(on))[0]
        except InputError:
            le = None
        return {
            "code": code, "title": v.title, "basis": provision_citations(v),
            "edition": {"key": le.key, "title": le.effective.title} if le is not None else None,
            "facts": one_question(form_facts(compiled, code, le.key if le is not None else None)),
            "groups": [{"group": g, "label": GROUP_LABELS[g], "items": items}
                       for g, items in circumstance_groups(compiled, code, le).items()],
        }


def prepare(rulebooks_json: bytes) -> bytes:
    """The set of ``rulebooks_json`` loaded as :func:`jsonset.loads` loads it (every document validated,
    the set cross-checked and its hash compared), pickled for :meth:`Terminal.prepared`. Run by the
    build in the bundle's Pyodide (the same Python, pydantic and library as the terminal's), with a
    fixed PYTHONHASHSEED so that the same sources give the same bytes."""
    from ..rulebooks import jsonset

    return pickle.dumps(jsonset.loads(rulebooks_json), protocol=5)


def _error(exc: DiscretionError) -> dict[str, Any]:
    out = exc.to_dict()
    fields = getattr(exc, "fields", None)
    if fields:
        out["fields"] = list(fields)
    return out
