"""Byte-identical output before and after a change that must not change behaviour.

A refactoring is checked on a fixed corpus of case inputs: the golden cases plus varied synthetic
cases (several seeds; invalid ones kept, so error codes and messages are compared too). The
corpus is written once, as JSON lines of the contract's assessment input, so that the check does
not depend on the generator staying the same; each case is then assessed under both matchers and
the sha256 of ``to_json()`` and of ``to_dict()`` (or the error's code, field and message) is
written per case. Two digest files from two commits are compared line by line.

    python3 -m benchmarks.identity corpus /tmp/corpus.jsonl --n 22000
    python3 -m benchmarks.identity digest /tmp/corpus.jsonl --out /tmp/before.txt   # old commit
    python3 -m benchmarks.identity digest /tmp/corpus.jsonl --out /tmp/after.txt    # new commit
    python3 -m benchmarks.identity compare /tmp/before.txt /tmp/after.txt
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from pathlib import Path

import orjson

from api.clock import today
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.errors import DiscretionError
from discretion.review import golden, synth
from discretion.rulebooks import tree

SEEDS = (1, 7, 20260815, 42)


def write_corpus(path: Path, n: int) -> int:
    """Golden assessment inputs plus ``n`` synthetic cases spread over :data:`SEEDS`."""
    rs = tree.load()
    engine = Engine(rs, "reference")
    lines: list[bytes] = []
    for loaded in golden.load_cases():
        raw = loaded.case.input
        if "original_fine" in raw:
            continue
        lines.append(orjson.dumps(raw, default=str))
    per = n // len(SEEDS)
    for seed in SEEDS:
        for c in synth.generate(rs, engine.compiled, per, seed, today=today()):
            lines.append(c.model_dump_json().encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return len(lines)


def _digest(engine: Engine, raw: bytes) -> str:
    try:
        case = Case.model_validate_json(raw)
    except ValueError as exc:  # pydantic's ValidationError: the input itself is refused
        return "invalid " + hashlib.sha256(str(exc).encode()).hexdigest()[:16]
    try:
        a = engine.assess(case)
    except DiscretionError as exc:
        return f"error {exc.code} {exc.field} " + hashlib.sha256(exc.message.encode()).hexdigest()[:16]
    j = hashlib.sha256(a.to_json()).hexdigest()[:24]
    d = hashlib.sha256(orjson.dumps(a.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
    return f"ok {j} {d}"


def digest(corpus: Path, out: Path) -> int:
    rs = tree.load()
    raws = [line for line in corpus.read_bytes().splitlines() if line.strip()]
    rows: list[str] = []
    for kind in ("durable", "reference"):
        engine = Engine(rs, kind)
        for i, raw in enumerate(raws):
            rows.append(f"{kind} {i} {_digest(engine, raw)}")
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows)


def compare(a: Path, b: Path) -> int:
    left = a.read_text(encoding="utf-8").splitlines()
    right = b.read_text(encoding="utf-8").splitlines()
    if len(left) != len(right):
        print(f"different counts: {len(left)} against {len(right)}")
        return 1
    diffs = [(x, y) for x, y in zip(left, right) if x != y]
    for x, y in diffs[:20]:
        print(f"- {x}\n+ {y}")
    oks = sum(1 for x in left if " ok " in x)
    print(f"{len(left)} results ({oks} assessments, {len(left) - oks} refusals), {len(diffs)} differ")
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m benchmarks.identity")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("path", type=Path)
    c.add_argument("--n", type=int, default=22_000)
    d = sub.add_parser("digest")
    d.add_argument("corpus", type=Path)
    d.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("compare")
    m.add_argument("a", type=Path)
    m.add_argument("b", type=Path)
    args = p.parse_args(argv)
    start = dt.datetime.now()
    if args.cmd == "corpus":
        print(f"{write_corpus(args.path, args.n)} cases written")
    elif args.cmd == "digest":
        print(f"{digest(args.corpus, args.out)} digests written")
    else:
        return compare(args.a, args.b)
    print(f"{(dt.datetime.now() - start).total_seconds():.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
