"""CPU per stored record: per-thread CPU of ``discretion serve`` (1 worker) under wrk, with records on
SQLite (and optionally PostgreSQL) against the same service with storage off.

``python3 -m benchmarks.store_cpu`` starts one single-worker service per setup on a free loopback
port (``sqlite``: a temporary database file; ``off``: ``DISCRETION_STORAGE=off``; ``postgresql`` with
``--postgres``: a fresh schema on ``DISCRETION_TEST_POSTGRES``, dropped afterwards), warms each up
with every body once, then runs wrk (1 thread, ``--connections`` 16, ``--seconds`` 6) posting the
500 varied case bodies of ``benchmarks/test_service.py`` in turn. Around each run it reads the CPU
ticks of every thread of the server process from ``/proc/<pid>/task/*/stat``; the event-loop thread
is the main thread, the store's writer the busiest other thread. Setups alternate over ``--rounds``
rounds (the echo endpoint ``POST /_echo`` of the ``off`` service too, with the same bodies) and the
medians are printed: µs of CPU per request for each thread, req/s, the ratio to echo, and

    CPU per stored record = (event loop with records − event loop with storage off) + writer.

For PostgreSQL the CPU of the server's own backends (found by their client ports) is shown apart.
``--baseline DIR`` adds records on SQLite served from another checkout (an A/B in one run, e.g.
``mkdir /tmp/base && git archive HEAD | tar -x -C /tmp/base``). Context switches per request are
shown per thread (GIL hand-offs between the event loop and the writer show there). At the end it
prints the SQLite database size per record. The machine may be shared: the CPU figures are steadier
than the req/s, and a comparison is only fair within one run (setups interleaved, medians).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.serving import Server, post_script, serve, warm

ROOT = Path(__file__).resolve().parent.parent
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")
POSTGRES = os.environ.get("DISCRETION_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# --- CPU ticks from /proc ---------------------------------------------------------------------------


def _ticks(stat_path: Path) -> int:
    """utime + stime of one task (the fields after the parenthesised command name)."""
    try:
        text = stat_path.read_text()
    except OSError:  # the task ended
        return 0
    rest = text[text.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def thread_ticks(pid: int) -> dict[int, int]:
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        out[int(task.name)] = _ticks(task / "stat")
    return out


def thread_switches(pid: int) -> dict[int, int]:
    """Context switches (voluntary + involuntary) of every thread: GIL hand-offs show here."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            text = (task / "status").read_text()
            out[int(task.name)] = sum(int(line.split()[1]) for line in text.splitlines() if "ctxt_switches:" in line)
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def postgres_backends(server_pid: int, pg_port: int = 5432) -> list[int]:
    """The PostgreSQL backend pids serving the server's connections (by the client ports)."""
    inodes = _socket_inodes(server_pid)
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                local, remote, inode = f[1], f[2], int(f[9])
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == pg_port:
                    ports.append(int(local.rsplit(":", 1)[1], 16))
    if not ports:
        return []
    import psycopg

    with psycopg.connect(POSTGRES.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", (ports,)).fetchall()
    return [int(r[0]) for r in rows]


# --- servers and wrk -----------------------------------------------------------------------------------


def wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[int, float, int]:
    """(requests, seconds, non-2xx) of one wrk run."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    assert m, out
    secs = float(m.group(2)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return int(m.group(1)), secs, int(bad.group(1)) if bad else 0


@dataclass
class Run:
    rps: float
    loop_us: float
    writer_us: float
    other_us: float
    pg_us: float
    non_2xx: int
    loop_cs: float = 0.0  # context switches per request
    writer_cs: float = 0.0


def measure(srv: Server, path: str, script: Path, seconds: int, connections: int, storage: bool) -> Run:
    before, cs_before = thread_ticks(srv.pid), thread_switches(srv.pid)
    pg_before = {p: _ticks(Path(f"/proc/{p}/stat")) for p in srv.backends}
    n, secs, bad = wrk(srv.url + path, script, seconds, connections)
    after, cs_after = thread_ticks(srv.pid), thread_switches(srv.pid)
    cs = {tid: cs_after[tid] - cs_before.get(tid, 0) for tid in cs_after}
    pg = sum(_ticks(Path(f"/proc/{p}/stat")) - t for p, t in pg_before.items())
    delta = {tid: after[tid] - before.get(tid, 0) for tid in after}
    loop = delta.pop(srv.pid, 0)
    writer = writer_cs = 0
    if storage and delta:
        busiest = max(delta, key=lambda t: delta[t])
        writer = delta.pop(busiest)
        writer_cs = cs.get(busiest, 0)
    other = sum(delta.values())
    per = TICK_US / max(n, 1)
    return Run(n / secs, loop * per, writer * per, other * per, pg * per, bad, cs.get(srv.pid, 0) / max(n, 1), writer_cs / max(n, 1))


def db_bytes_per_record(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT count(*) FROM assessments").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        conn.close()
    return f"{rows} records, {(pages - free) * size / max(rows, 1) / 1024:.2f} KiB per record (page size {size})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m benchmarks.store_cpu", description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=6)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--bodies", type=int, default=500)
    p.add_argument("--postgres", action="store_true", help="also records on PostgreSQL (DISCRETION_TEST_POSTGRES)")
    p.add_argument("--no-echo", action="store_true", help="skip the echo endpoint")
    p.add_argument("--baseline", type=Path, metavar="DIR",
                   help="also records on SQLite served from another checkout (e.g. `git archive HEAD | tar -x -C DIR`), for A/B")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from benchmarks.test_service import _bodies

    tmp = Path(tempfile.mkdtemp(prefix="discretion-store-cpu-"))
    bodies = _bodies(args.bodies)
    script = post_script(tmp, bodies)
    runs: dict[str, list[Run]] = {}
    db = tmp / "records.db"
    try:
        with contextlib.ExitStack() as stack:
            setups: list[tuple[str, dict[str, str], Path | None, Path]] = [
                ("off", {"DISCRETION_STORAGE": "off", "DISCRETION_DATABASE_URL": f"sqlite:///{tmp}/off.db"}, None, ROOT),
                ("sqlite", {"DISCRETION_DATABASE_URL": f"sqlite:///{db}"}, db, ROOT),
            ]
            if args.baseline:
                setups.append(("baseline", {"DISCRETION_DATABASE_URL": f"sqlite:///{tmp}/baseline.db"}, None, args.baseline.resolve()))
            if args.postgres:
                schema = stack.enter_context(_postgres_schema())
                setups.append(("postgresql", {"DISCRETION_DATABASE_URL": f"{POSTGRES}?options=-csearch_path%3D{schema}"}, None, ROOT))
                if args.baseline:
                    other = stack.enter_context(_postgres_schema())
                    setups.append(("baseline-pg", {"DISCRETION_DATABASE_URL": f"{POSTGRES}?options=-csearch_path%3D{other}"}, None,
                                   args.baseline.resolve()))
            servers = [stack.enter_context(serve(tmp, name, env, db=dbp, cwd=cwd)) for name, env, dbp, cwd in setups]
            for srv in servers:
                warm(srv.url, bodies)
                if srv.name in ("postgresql", "baseline-pg"):
                    srv.backends = postgres_backends(srv.pid)
            off = servers[0]
            for r in range(args.rounds):
                order = servers if r % 2 == 0 else servers[::-1]
                if not args.no_echo:
                    runs.setdefault("echo", []).append(measure(off, "/_echo", script, args.seconds, args.connections, False))
                for srv in order:
                    run = measure(srv, "/v1/assessments", script, args.seconds, args.connections, srv.name != "off")
                    runs.setdefault(srv.name, []).append(run)
                    print(f"round {r + 1} {srv.name:10} {run.rps:7.0f} req/s  loop {run.loop_us:6.0f} µs  writer {run.writer_us:6.0f} µs"
                          f"  other {run.other_us:5.0f} µs" + (f"  pg backends {run.pg_us:5.0f} µs" if srv.backends else "")
                          + f"  switches/req loop {run.loop_cs:.2f} writer {run.writer_cs:.2f}", flush=True)
        print(f"\nmedians of {args.rounds} rounds, wrk -t1 -c{args.connections} -d{args.seconds}s, µs of CPU per request:")
        keys = ("rps", "loop_us", "writer_us", "other_us", "pg_us", "loop_cs", "writer_cs")
        med = {name: {k: statistics.median(getattr(x, k) for x in rs) for k in keys} for name, rs in runs.items()}
        echo = med.get("echo", {}).get("rps")
        for name, m in med.items():
            ratio = f"  {m['rps'] / echo:.2f} of echo" if echo and name != "echo" else ""
            pg = f"  pg backends {m['pg_us']:.0f}" if name in ("postgresql", "baseline-pg") else ""
            print(f"  {name:10} {m['rps']:7.0f} req/s{ratio}  loop {m['loop_us']:.0f}  writer {m['writer_us']:.0f}  other {m['other_us']:.0f}{pg}"
                  f"  (context switches per request: loop {m['loop_cs']:.2f}, writer {m['writer_cs']:.2f})")
        base = med["off"]["loop_us"]
        for name in ("sqlite", "baseline", "postgresql", "baseline-pg"):
            if name in med:
                m = med[name]
                req_path = m["loop_us"] - base
                total = req_path + m["writer_us"] + m["other_us"] - med["off"]["other_us"]
                extra = f" (+ {m['pg_us']:.0f} in the PostgreSQL backends)" if name in ("postgresql", "baseline-pg") else ""
                print(f"CPU per stored record, {name}: {total:.0f} µs = request path {req_path:.0f} + writer {m['writer_us']:.0f}"
                      f" + other threads {m['other_us'] - med['off']['other_us']:.0f}{extra}")
        bad = sum(r.non_2xx for rs in runs.values() for r in rs)
        if bad:
            print(f"non-2xx answers: {bad}")
    finally:
        if db.exists():
            print("SQLite database: " + db_bytes_per_record(db))
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES)
    schema = f"discretion_storecpu_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
