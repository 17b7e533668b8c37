"""Running a replay: every row of a case file, here or in worker processes, in chunks with progress."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ...engine.assessment import Engine
from ...rulebooks import tree
from ...rulebooks.loaded import RulebookSet
from ..casefile import CaseFile, Decoder, RowError
from .compare import Replayer, check_editions
from .results import CaseResult
from .summary import Summary

DEFAULT_CHUNK = 500


Progress = Callable[[int, int], None]

_SHARED: Engine | None = None  # the parent's engine, inherited by forked workers (never matched in the parent)
_WORKER: tuple[Replayer, Decoder] | None = None


def _init_worker(root: str, matcher: str, from_key: str, to_key: str, decoder: Decoder) -> None:
    global _WORKER
    from ...engine.assessment import make_matcher

    engine = _SHARED
    if engine is not None and str(engine.rulebooks.root) == root:
        # forked: the compiled rulebooks are this process's copy; the matcher must be its own
        engine.matcher = make_matcher(matcher)
    else:
        engine = Engine(tree.load(Path(root)), matcher)
    _WORKER = (Replayer(engine, from_key, to_key), decoder)


def _run_chunk(chunk: list[tuple[int, Any]]) -> list[CaseResult]:
    assert _WORKER is not None
    replayer, decoder = _WORKER
    return [_one(replayer, decoder, row, raw) for row, raw in chunk]


def _one(replayer: Replayer, decoder: Decoder, row: int, raw: Any) -> CaseResult:
    try:
        entry = decoder(row, raw)
    except RowError as exc:
        m = decoder.peek(raw)
        return CaseResult(row, m["ref"], m["source"], m["violation"], None, None, None, "invalid", "invalid", error=exc)
    return replayer.one(entry, decoder.tabular)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_start_method() -> str:
    """``fork`` where the platform has it (workers inherit the loaded rulebooks), else ``spawn``."""
    return "fork" if "fork" in mp.get_all_start_methods() and sys.platform != "darwin" else "spawn"


def replay(
    rulebooks: RulebookSet,
    cases: CaseFile,
    from_key: str,
    to_key: str,
    *,
    workers: int = 1,
    matcher: str = "durable",
    engine: Engine | None = None,
    progress: Progress | None = None,
    chunk: int = DEFAULT_CHUNK,
    start_method: str | None = None,
) -> Iterator[CaseResult]:
    """Replay every row of ``cases`` under both editions, in row order.

    ``workers == 1`` evaluates here, with ``engine`` (or a new one); more workers evaluate in
    child processes, each building its own engine (forked children reuse the compiled rulebooks
    of this process; ``spawn`` children load them again from ``rulebooks.root``). Fork only from a
    single-threaded process such as the command line: a server passes ``workers=1`` and its engine.
    ``progress(done, total)`` is called after each chunk."""
    total = len(cases)
    records = cases.records
    if workers_used(total, workers, chunk) == 1:
        eng = engine or Engine(rulebooks, matcher)
        replayer = Replayer(eng, from_key, to_key)
        decoder = cases.decoder
        for start in range(0, total, chunk):
            for row, raw in records[start : start + chunk]:
                yield _one(replayer, decoder, row, raw)
            if progress:
                progress(min(start + chunk, total), total)
        return
    global _SHARED
    check_editions(rulebooks, from_key, to_key)  # unknown editions fail here, not in a child
    method = start_method or default_start_method()
    if method == "fork":
        # the compiled rulebooks once, here; each child gets its own matcher (C state per process)
        _SHARED = Engine(rulebooks, "reference")
    ctx = mp.get_context(method)
    chunks = [records[i : i + chunk] for i in range(0, total, chunk)]
    done = 0
    try:
        with ctx.Pool(
            processes=workers_used(total, workers, chunk),
            initializer=_init_worker,
            initargs=(str(rulebooks.root), matcher, from_key, to_key, cases.decoder),
        ) as pool:
            for got in pool.imap(_run_chunk, chunks):
                yield from got
                done += len(got)
                if progress:
                    progress(done, total)
    finally:
        _SHARED = None


def run(
    rulebooks: RulebookSet,
    cases: CaseFile,
    from_key: str,
    to_key: str,
    **kwargs: Any,
) -> tuple[list[CaseResult], Summary]:
    """Replay everything and summarise: the per-case results in row order and the summary."""
    check_editions(rulebooks, from_key, to_key)
    summary = Summary.for_editions(rulebooks, from_key, to_key)
    t0 = time.perf_counter()
    results = list(replay(rulebooks, cases, from_key, to_key, **kwargs))
    for r in results:
        summary.add(r)
    summary.seconds = time.perf_counter() - t0
    summary.workers = workers_used(len(cases), kwargs.get("workers", 1), kwargs.get("chunk", DEFAULT_CHUNK))
    return results, summary


def workers_used(total: int, workers: int, chunk: int = DEFAULT_CHUNK) -> int:
    """How many processes evaluate ``total`` rows: one for up to two chunks (starting workers would
    cost more than it saves), else up to one per chunk."""
    if workers <= 1 or total <= 2 * chunk:
        return 1
    return min(workers, -(-total // chunk))
