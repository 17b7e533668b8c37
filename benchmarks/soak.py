"""Soak: a million assessments in one process, with resident memory and engine sessions watched.

``python3 -m benchmarks.soak --n 1000000`` assesses ``--n`` varied cases one after the other with
one durable_rules engine, as a long-running service would: every violation type, acts before and
after 2026-08-15 (lighter-law comparisons included), the 2021, 2023 and Kunming editions in force on
the decision dates, and a share of cases asking for the draft Code-aligned edition. Cases come from
``benchmarks.cases.generate`` in chunks of 10,000, each chunk with its own seed, so no two chunks
repeat; each result is encoded as the API encodes it (``Assessment.to_json``).

It measures:

- resident memory (``/proc/self/statm``) after the warm-up (``--warmup``, default 100,000 cases:
  every ruleset registered) and at the end, and its growth in between (target: < 5 %), with a
  sample every ``--sample-every`` cases, and the growth over the second half of the run (a leak
  grows there as much as in the first; bounded caches that are still filling do not);
- engine sessions: the adapter's count of live durable_rules sessions after every chunk (always
  0) and its high-water mark (at most 1: one session per case and regime, deleted before the
  next), and the most sessions any one engine ruleset served. durable_rules fails hard at 1,024
  live sessions per ruleset (the 1,025th raises MemoryError, then the process crashes): rulesets
  that served far more than 1,024 sessions in one process without failing show that no session
  outlives its case in the C core either, not only in the adapter's count.

Prints the figures as ``name value`` lines and exits 1 when a target is missed.
``benchmarks/test_soak.py`` runs a shorter version under pytest-benchmark.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import cases as case_gen  # noqa: E402
from discretion.engine.assessment import Engine  # noqa: E402
from discretion.errors import InputError  # noqa: E402
from discretion.rulebooks import tree  # noqa: E402

CHUNK = 10_000
DRAFT = "yunnan@2026-draft"
DRAFT_EVERY = 20  # one case in 20 asks for the draft edition
MAX_GROWTH = 0.05
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm (pages × page size)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def soak(n: int, warmup: int = 100_000, sample_every: int = 50_000, seed: int = case_gen.SEED,
         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Assess ``n`` varied cases; returns the figures (``ok`` False when a target is missed)."""
    if warmup >= n:
        raise ValueError("the warm-up must be shorter than the run")
    rs = tree.load()
    engine = Engine(rs, "durable")
    matcher: Any = engine.matcher
    per_ruleset: collections.Counter[str] = collections.Counter()
    outcomes: collections.Counter[str] = collections.Counter()
    editions: collections.Counter[str] = collections.Counter()
    codes: set[str] = set()
    lighter = after_code = refused = 0
    samples: list[tuple[int, int]] = []
    rss_warm = 0
    live_max_between_chunks = 0
    done = 0
    chunk_no = 0
    t0 = time.perf_counter()
    t_warm = t0
    while done < n:
        batch = case_gen.generate(rs, engine.compiled, min(CHUNK, n - done), seed=seed + chunk_no, today=case_gen.TODAY)
        chunk_no += 1
        for case in batch:
            if done % DRAFT_EVERY == DRAFT_EVERY - 1:
                case = case.model_copy(update={"edition": DRAFT})
            try:
                a = engine.assess(case)
            except InputError:
                refused += 1
            else:
                a.to_json(id="soak")
                key = a.rulebook["key"]
                for r in (a.applied, a.compared):  # one engine session per regime evaluated
                    if r is not None:
                        per_ruleset[f"{key}/{case.violation}/{r.regime}"] += 1
                outcomes[a.outcome] += 1
                editions[key] += 1
                codes.add(case.violation)
                lighter += a.compared is not None
                after_code += a.applied.regime == "code2026"
            done += 1
            if done == warmup:
                gc.collect()
                rss_warm = rss_bytes()
                t_warm = time.perf_counter()
                samples.append((done, rss_warm))
            elif done % sample_every == 0:
                samples.append((done, rss_bytes()))
                if progress:
                    rate = done / (time.perf_counter() - t0)
                    progress(f"{done:>9,} cases  RSS {samples[-1][1] / 2**20:7.1f} MiB  {rate:,.0f} cases/s")
        del batch
        live_max_between_chunks = max(live_max_between_chunks, matcher.live_sessions)
    elapsed = time.perf_counter() - t0
    gc.collect()
    rss_end = rss_bytes()
    samples.append((done, rss_end))
    growth = (rss_end - rss_warm) / rss_warm
    # bounded caches (formatted amounts, steps, editions by date) fill for a while, then stay: the
    # growth over the second half of the run tells a plateau from a leak
    mid = min(samples, key=lambda x: abs(x[0] - done // 2))
    growth_late = (rss_end - mid[1]) / mid[1]
    busiest = per_ruleset.most_common(1)[0] if per_ruleset else ("", 0)
    figures: dict[str, Any] = {
        "cases": done,
        "seconds": round(elapsed, 1),
        "cases_per_s": round(done / elapsed),
        "cases_per_s_after_warmup": round((done - warmup) / (time.perf_counter() - t_warm)) if done > warmup else None,
        "refused_input_errors": refused,
        "violation_types": len(codes),
        "editions": dict(sorted(editions.items())),
        "outcomes": dict(sorted(outcomes.items())),
        "lighter_law_comparisons": lighter,
        "applied_code2026": after_code,
        "rulesets_used": len(per_ruleset),
        "rulesets_registered": len(matcher._handles),
        "busiest_ruleset": busiest[0],
        "busiest_ruleset_sessions": busiest[1],
        "rulesets_over_1024_sessions": sum(1 for v in per_ruleset.values() if v > 1024),
        "live_sessions_end": matcher.live_sessions,
        "live_sessions_max_between_chunks": live_max_between_chunks,
        "peak_live_sessions": matcher.peak_sessions,
        "rss_after_warmup_mib": round(rss_warm / 2**20, 1),
        "rss_end_mib": round(rss_end / 2**20, 1),
        "rss_growth_pct": round(growth * 100, 2),
        "rss_growth_second_half_pct": round(growth_late * 100, 2),
        "rss_samples_mib": [(k, round(v / 2**20, 1)) for k, v in samples],
    }
    figures["ok"] = (growth < MAX_GROWTH and matcher.peak_sessions <= 1 and matcher.live_sessions == 0
                     and live_max_between_chunks == 0 and refused <= done // 100)
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m benchmarks.soak", description="百万次计算的内存与引擎会话检查")
    p.add_argument("--n", type=int, default=1_000_000, help="计算次数")
    p.add_argument("--warmup", type=int, default=100_000, help="预热次数（其后的内存为基准）")
    p.add_argument("--sample-every", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=case_gen.SEED)
    args = p.parse_args(argv)
    figures = soak(args.n, args.warmup, args.sample_every, args.seed, progress=lambda s: print(s, file=sys.stderr, flush=True))
    for k, v in figures.items():
        print(f"{k:34} {v}")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
