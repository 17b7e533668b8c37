"""Where an assessment request's CPU goes, stage by stage, outside the server (issue 3's ratio).

The same 500 varied request bodies as ``test_service.py``, as bytes, go through the stages of
``POST /v1/assessments`` one stage at a time on one core, without HTTP:

- ``parse``: ``api.routes.assessments.parse_body`` (pydantic-core from the JSON bytes);
- ``validate``: ``to_case`` (the domain's ``Case``, with the limits on fact values);
- ``assess``: ``Engine.assess`` on the durable_rules path (matching, evaluation, trail, reasoning);
- ``to_json``: ``Assessment.to_json(id=…)``, the answer's bytes (≈ 10 KB);
- ``store``: the store's writer appending the record (SQLite, WAL, ``synchronous=FULL``), as CPU of
  the writer thread per record, and the caller's CPU to queue it, with 16 records in flight.

Each figure is µs per request (the median round). In the busy server each stage costs about 1.5–2×
its figure here (caches shared with the HTTP stack and wrk); ``benchmarks/README.md`` ("Why the
ratio is missed") puts them beside the server's measured CPU per request.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from api.routes.assessments import parse_body, to_case
from api.schemas import AssessmentIn
from api.storage import Store, new_id
from benchmarks.test_service import _bodies
from discretion.engine.assessment import Engine
from discretion.engine.results import Assessment

ROUNDS = 5


@pytest.fixture(scope="module")
def bodies() -> list[bytes]:
    return [b.encode() for b in _bodies()]


@pytest.fixture(scope="module")
def stages(bodies: list[bytes], engines: dict[str, Engine]) -> dict[str, Any]:
    engine = engines["durable"]
    parsed = [parse_body(b, "application/json") for b in bodies]
    cases = [to_case(p) for p in parsed]  # all valid: no stage measures an error path
    for _ in range(2):  # register every ruleset, fill the engine's bounded caches
        done = [engine.assess(c) for c in cases]
    return {"engine": engine, "parsed": parsed, "cases": cases, "assessed": done}


def _per_item(benchmark: Any, fn: Callable[[Any], Any], items: list[Any]) -> float:
    def run() -> None:
        for x in items:
            fn(x)

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    return float(benchmark.stats.stats.median) / len(items) * 1e6


@pytest.mark.parametrize("stage", ["parse", "validate", "assess", "to_json"])
def test_request_stage(stage: str, bodies: list[bytes], stages: dict[str, Any], benchmark: Any,
                       record: Callable[..., None]) -> None:
    """µs per request of one stage of POST /v1/assessments, over the 500 varied bodies."""
    engine: Engine = stages["engine"]
    fns: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "parse": (lambda b: parse_body(b, "application/json"), bodies),
        "validate": (to_case, stages["parsed"]),
        "assess": (engine.assess, stages["cases"]),
        "to_json": (lambda a: a.to_json(id=new_id()), stages["assessed"]),
    }
    fn, items = fns[stage]
    us = _per_item(benchmark, fn, items)
    benchmark.extra_info.update({"us_per_request": round(us, 1), "requests": len(items)})
    record(f"request stage {stage}", us_per_request=round(us, 1))
    assert us > 0


def _thread_cpu_s(native_id: int) -> float:
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_request_stage_store(stages: dict[str, Any], benchmark: Any, record: Callable[..., None]) -> None:
    """CPU of the store's writer per record, and of the caller to queue it (16 records in flight)."""
    parsed: list[AssessmentIn] = stages["parsed"]
    assessed: list[Assessment] = stages["assessed"]
    payloads = [(p.model_dump(mode="json"), a, a.to_json(id=new_id())) for p, a in zip(parsed, assessed)]
    who = SimpleNamespace(name="bench", role="handler")
    n = 4_000
    with tempfile.TemporaryDirectory(prefix="discretion-store-") as tmp:
        store = Store(f"sqlite:///{tmp}/store.db")
        writer = store._writer.native_id
        assert writer is not None
        figures: dict[str, list[float]] = {"writer": [], "caller": []}

        def run() -> None:
            w0, c0 = _thread_cpu_s(writer), time.thread_time()
            waiting = []
            for i in range(n):
                request, a, result = payloads[i % len(payloads)]
                fine = a.applied.fine
                waiting.append(store.submit_assessment(
                    new_id(), request=request, result_json=result, violation=a.case.violation, title=a.title,
                    outcome=a.outcome, fine={"band": fine.band, "recommended": fine.recommended} if fine else None,
                    edition=a.rulebook["key"], sha256=a.rulebook["sha256"], rulebook_set="bench", who=who))
                if len(waiting) == 16:
                    for f in waiting:
                        f.result(30)
                    waiting.clear()
            for f in waiting:
                f.result(30)
            figures["writer"].append((_thread_cpu_s(writer) - w0) / n * 1e6)
            figures["caller"].append((time.thread_time() - c0) / n * 1e6)

        try:
            benchmark.pedantic(run, rounds=3, iterations=1)
        finally:
            store.close()
    writer_us = sorted(figures["writer"])[1]
    caller_us = sorted(figures["caller"])[1]
    benchmark.extra_info.update({"writer_us_per_record": round(writer_us, 1), "caller_us_per_record": round(caller_us, 1),
                                 "records_per_round": n})
    record("request stage store", writer_us_per_record=round(writer_us, 1), caller_us_per_record=round(caller_us, 1))
    assert writer_us > 0

