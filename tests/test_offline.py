"""discretion.engine.offline: the terminal's engine answers, without the service's binary packages, what the service answers."""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from api.clock import today
from api.offline.check import service_answer
from discretion.engine.assessment import Engine
from discretion.engine.offline import Terminal
from discretion.review import synth
from discretion.rulebooks import jsonset, tree
from discretion.rulebooks.loaded import RulebookSet

ROOT = Path(__file__).resolve().parent.parent
# What Pyodide has no wheel for: the terminal's engine must import and run without any of them.
ABSENT = ("yaml", "orjson", "durable", "durable_rules_engine", "cryptography")
RUN_WITHOUT = f"""
import hashlib, importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {ABSENT!r}:
            raise ImportError(name)
sys.meta_path.insert(0, Absent())
from discretion.engine.offline import Terminal
term = Terminal(open(sys.argv[1], "rb").read())
for line in open(sys.argv[2], "rb"):
    print(hashlib.sha256(term.assess(line.strip())).hexdigest())
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({ABSENT!r}))
print("loaded:", ",".join(loaded))
"""


@pytest.fixture(scope="module")
def compiled(rulebooks: RulebookSet) -> bytes:
    return jsonset.dumps(rulebooks, tree.source_hash(tree.source_files()))


@pytest.fixture(scope="module")
def terminal(compiled: bytes) -> Terminal:
    return Terminal(compiled)


def test_without_pyyaml_orjson_durable_or_cryptography_the_answers_are_the_services(
    tmp_path: Path, rulebooks: RulebookSet, compiled: bytes, engine: Engine
) -> None:
    """300 synthetic cases assessed in a Python that cannot import the four packages give, byte for
    byte, the service's answers (durable_rules, orjson, the YAML set); none of the four gets loaded."""
    cases = [c.model_dump_json().encode() for c in synth.generate(rulebooks, engine.compiled, 300, 18, today=today())]
    (tmp_path / "set.json").write_bytes(compiled)
    (tmp_path / "cases.jsonl").write_bytes(b"\n".join(cases) + b"\n")
    r = subprocess.run([sys.executable, "-c", RUN_WITHOUT, str(tmp_path / "set.json"), str(tmp_path / "cases.jsonl")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    *digests, last = r.stdout.split()
    assert last == "loaded:"  # nothing after the colon: none of the four was imported
    assert digests == [hashlib.sha256(service_answer(engine, raw)).hexdigest() for raw in cases]


def test_an_answer_carries_the_result_and_its_sha256(terminal: Terminal, engine: Engine) -> None:
    """The envelope's sha256 is the hash of the result bytes it embeds, which are the service's."""
    raw = json.dumps({"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.6}, "circumstances": ["confessed"],
                      "violation_date": "2025-03-01", "decision_date": "2025-09-01"}).encode()
    answer = terminal.assess(raw)
    head, result = answer.split(b',"result":', 1)
    result = result[:-1]
    assert json.loads(head + b"}")["sha256"] == hashlib.sha256(result).hexdigest()
    assert answer == service_answer(engine, raw)
    assert json.loads(result)["fine"]["recommended"] > 0


@pytest.mark.parametrize("body", [
    {"violation": "no_such_violation", "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
    {"violation": "water_over_standard", "violation_date": "1800-01-01", "decision_date": "2025-09-01"},
    {"violation": "water_over_standard", "violation_date": "2025-09-02", "decision_date": "2025-09-01"},
    {"violation": "water_over_standard", "circumstances": ["first_offense", "repeat_offense"],
     "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
    {"violation": "water_over_standard", "facts": {"exceedance_ratio": "x"}, "violation_date": "2025-03-01", "decision_date": "2025-09-01"},
])
def test_a_refused_input_gives_the_services_code_and_field(terminal: Terminal, engine: Engine, body: dict[str, object]) -> None:
    """Unknown violation, dates out of range or out of order, contradictory circumstances, a bad fact:
    the terminal refuses each with the code, message and field(s) the service answers. (The body's
    shape, e.g. a party other than unit or individual, is the service's schema: the terminal's own
    form cannot send it, and the service checks the upload.)"""
    raw = json.dumps(body).encode()
    got = json.loads(terminal.assess(raw))
    assert got["ok"] is False
    assert got == json.loads(service_answer(engine, raw))


def test_the_terminal_needs_the_decision_date(terminal: Terminal) -> None:
    """A terminal's clock may be wrong: without a decision date it refuses instead of guessing the day."""
    got = json.loads(terminal.assess(b'{"violation": "water_over_standard", "violation_date": "2025-03-01"}'))
    assert got["error"]["code"] == "decision_date_required" and got["error"]["field"] == "decision_date"


def test_the_identity_of_the_case_is_not_assessed(terminal: Terminal) -> None:
    """``case`` and ``offline`` ride along to the upload; the result is the same without them."""
    body = {"violation": "water_over_standard", "violation_date": "2025-03-01", "decision_date": "2025-09-01"}
    more = {**body, "case": {"number": "昆环罚〔2026〕12号"}, "offline": {"made_at": "2025-09-01T10:00:00+08:00"}}
    assert terminal.assess(json.dumps(more).encode()) == terminal.assess(json.dumps(body).encode())


def test_the_form_asks_what_the_services_form_asks(terminal: Terminal, app: object) -> None:
    """The facts, circumstance groups and provisions of a violation's form are the web form's."""
    from api.pages.form import _form_context
    from api.deps import State

    s: State = app.state.discretion  # type: ignore[attr-defined]
    day = "2026-12-01"
    want = _form_context(s, "water_over_standard", __import__("datetime").date.fromisoformat(day), "yunnan")
    got = terminal.form("water_over_standard", day)
    assert got["facts"] == want["facts"]
    assert [(g["group"], g["label"], g["items"]) for g in got["groups"]] == want["groups"]
    assert got["basis"] == want["basis"]
    assert got["edition"]["key"] == "yunnan@2023"
    assert [v["code"] for v in terminal.violations(day)] == sorted(rulebooks_codes(terminal))


def rulebooks_codes(terminal: Terminal) -> list[str]:
    return list(terminal.rulebooks.violations)


def test_a_terminal_started_from_the_prepared_set_answers_as_one_started_from_json(compiled: bytes, terminal: Terminal) -> None:
    """Terminal.prepared (the pickle the build makes with prepare) holds the same set and gives the same answers."""
    from discretion.engine.offline import prepare

    started = Terminal.prepared(prepare(compiled))
    assert started.rulebooks == terminal.rulebooks and started.bundle_hash == terminal.bundle_hash
    body = json.dumps({"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, "circumstances": ["confessed"],
                       "violation_date": "2025-03-01", "decision_date": "2025-09-01"})
    answer = started.answer(body)
    assert json.loads(answer)["ok"] is True and answer == terminal.answer(body)


def test_the_prepared_set_must_be_a_rulebook_set() -> None:
    """A pickle of anything but a rulebook set is refused."""
    with pytest.raises(TypeError):
        Terminal.prepared(pickle.dumps({"not": "a set"}))
