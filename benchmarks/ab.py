"""Per-case speed of two checkouts of the project in the same run, interleaved (A B A B …).

A change that must not slow the engine is measured against the previous commit on the same
machine at the same time: each round starts one child process per checkout (``PYTHONPATH`` set to
it), which assesses the same case inputs (a corpus of JSON lines, as written by
``benchmarks.identity corpus``) and reports the median µs per case for each matcher. Rounds
alternate so that a slower minute of a shared machine hits both sides alike.

    git worktree add /tmp/base HEAD~1
    python3 -m benchmarks.ab /tmp/base . --corpus /tmp/corpus.jsonl --rounds 6

On a busy machine (other jobs on the same cores) times vary twofold between rounds; ``--instructions``
counts instead the CPU instructions per case under valgrind (cachegrind, no cache simulation): each
checkout and matcher runs once with one pass and once with three over the same valid cases, and the
difference divided by the cases of two passes is its figure (loading and warming cancel out). The
counts do not depend on load; they are not time (memory stalls are not counted).

    python3 -m benchmarks.ab /tmp/base . --corpus /tmp/corpus.jsonl --instructions --cases 1000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

# Runs in the child, with the checkout first on sys.path; imports the engine wherever that checkout keeps it.
CHILD = r"""
import json, sys, time
try:
    from discretion.engine.assessment import Engine
    from discretion.engine.case import Case
    from discretion.rulebooks.tree import load
except ImportError:  # a checkout from before the library's rooms
    from discretion.assessment import Engine
    from discretion.case import Case
    from discretion.rulebook import load
from discretion.errors import DiscretionError

corpus, n, passes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raws = [line for line in open(corpus, "rb").read().splitlines() if line.strip()]
rs = load()
out = {}
for kind in sys.argv[4:] or ("durable", "reference"):  # the matchers named, else both
    engine = Engine(rs, kind)
    cases = []
    for raw in raws:
        if len(cases) >= n:
            break
        try:
            c = Case.model_validate_json(raw)
            engine.assess(c).to_json()
        except (ValueError, DiscretionError):
            continue
        cases.append(c)
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for c in cases:
            engine.assess(c).to_json()
        times.append((time.perf_counter() - t0) / len(cases) * 1e6)
    out[kind] = {"cases": len(cases), "us_per_case": sorted(times)[len(times) // 2]}
print(json.dumps(out))
"""


def instructions(tree: Path, corpus: Path, n: int, passes: int, kind: str) -> tuple[int, int]:
    """The instructions (user space, all of the child) of ``passes`` passes over ``n`` cases, and the cases run."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    r = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, str(corpus), str(n), str(passes), kind],
        capture_output=True, text=True, env=env, cwd=tree, check=False,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", r.stderr)
    if r.returncode != 0 or found is None:
        raise SystemExit(f"{tree}: {r.stderr[-2000:]}")
    return int(found[1].replace(",", "")), json.loads(r.stdout.strip().splitlines()[-1])[kind]["cases"]


def per_case_instructions(tree: Path, corpus: Path, n: int, kind: str) -> tuple[float, int]:
    """Instructions per case: (three passes − one pass) / (two passes' cases)."""
    one, cases = instructions(tree, corpus, n, 1, kind)
    three, _ = instructions(tree, corpus, n, 3, kind)
    return (three - one) / (2 * cases), cases


def run(tree: Path, corpus: Path, n: int, passes: int) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(n), str(passes)],
        capture_output=True, text=True, env=env, cwd=tree, check=False,
    )
    if r.returncode != 0:
        raise SystemExit(f"{tree}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m benchmarks.ab")
    p.add_argument("a", type=Path, help="the baseline checkout (e.g. the previous commit)")
    p.add_argument("b", type=Path, help="the checkout under test")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--cases", type=int, default=3000, help="valid cases per pass")
    p.add_argument("--passes", type=int, default=5, help="passes per child (their median is its figure)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--instructions", action="store_true", help="count instructions per case under valgrind instead of timing")
    args = p.parse_args(argv)
    if args.instructions:
        for kind in ("durable", "reference"):
            (a, na), (b, nb) = (per_case_instructions(t, args.corpus, args.cases, kind) for t in (args.a, args.b))
            print(f"{kind}: a {a:,.0f} instructions/case ({na} cases), b {b:,.0f} ({nb} cases), b/a = {b / a:.3f}")
        return 0
    got: dict[str, dict[str, list[float]]] = {"a": {}, "b": {}}
    for i in range(args.rounds):
        for side, tree in (("a", args.a), ("b", args.b)) if i % 2 == 0 else (("b", args.b), ("a", args.a)):
            res = run(tree, args.corpus, args.cases, args.passes)
            for kind, v in res.items():
                got[side].setdefault(kind, []).append(v["us_per_case"])
            print(f"round {i + 1} {side}: " + ", ".join(f"{k} {v['us_per_case']:.1f} µs ({v['cases']} cases)" for k, v in res.items()))
    for kind in ("durable", "reference"):
        a = statistics.median(got["a"][kind])
        b = statistics.median(got["b"][kind])
        print(f"{kind}: a {a:.1f} µs/case, b {b:.1f} µs/case, b/a = {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
