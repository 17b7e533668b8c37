"""Concurrency: many clients against a real ``discretion serve --workers 2``, every answer checked.

``python3 -m benchmarks.concurrency`` (defaults: 32 clients, 60 s, 2 workers, 2,000 varied cases)
starts ``discretion serve --workers N`` on a free loopback port with a temporary SQLite database,
then runs ``--clients`` threads, each with its own keep-alive connection, posting varied valid
cases (``benchmarks.cases.generate_valid``) to ``POST /v1/assessments`` for ``--seconds``. It
checks:

- zero transport errors, zero non-201 answers;
- the server and its workers alive at the end, and the same worker processes as at the start
  (no worker crashed and was replaced);
- every answer equal to the result of the same request body evaluated one at a time in this
  process (the same parsing as the service, ``api.routes.assessments.parse_body`` + ``to_case``,
  with the durable engine), compared as JSON without the record ``id``.

It prints requests/s and latency percentiles and exits 1 on any failure. ``tests/test_concurrency.py``
runs the same for ~10 s in CI; :class:`LiveServer` is also used by the reload and limits tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.serving import free_port

ROOT = Path(__file__).resolve().parent.parent


# --- a real server ------------------------------------------------------------------------------------


class LiveServer:
    """``python -m api.cli [--rulebooks R] serve --workers N`` on a free port, with its own database."""

    def __init__(self, workers: int = 2, rulebooks: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.rulebooks = rulebooks
        self.tmp = Path(tempfile.mkdtemp(prefix="discretion-live-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.tmp / "server.log"
        self.env = dict(os.environ)
        for name in ("DATABASE_URL", "DISCRETION_RULEBOOKS", "DISCRETION_AUTH", "DISCRETION_RELOAD_FILE"):
            self.env.pop(name, None)
        self.env["DISCRETION_DATABASE_URL"] = f"sqlite:///{self.tmp}/live.db"
        self.env["PYTHONUNBUFFERED"] = "1"
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "LiveServer":
        args = [sys.executable, "-m", "api.cli"]
        if self.rulebooks is not None:
            args += ["--rulebooks", str(self.rulebooks)]
        args += ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            self.wait_ready(60)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, seconds: float) -> None:
        """Until /healthz answers from every worker (each has its own pid)."""
        end = time.monotonic() + seconds
        pids: set[int] = set()
        while time.monotonic() < end:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                pids.add(self.health()["pid"])
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                time.sleep(0.05)
                continue
            if len(pids) >= self.workers and len(self.children()) >= (self.workers if self.workers > 1 else 0):
                return
        raise RuntimeError(f"server not ready within {seconds} s (pids seen: {pids}):\n{self.output()}")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, bytes]:
        """One request on a new connection (so that requests spread over the workers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers={"content-type": "application/json", **(headers or {})})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def health(self) -> dict[str, Any]:
        status, raw = self.request("GET", "/healthz?detail=true", timeout=5)
        if status != 200:
            raise ValueError(f"healthz {status}")
        return json.loads(raw)  # type: ignore[no-any-return]

    def worker_health(self, timeout: float = 20) -> dict[int, dict[str, Any]]:
        """``/healthz?detail=true`` of every worker, by pid (new connections until each has answered)."""
        want = set(self.children()) if self.workers > 1 else {self.pid}
        seen: dict[int, dict[str, Any]] = {}
        end = time.monotonic() + timeout
        while time.monotonic() < end and not want <= set(seen):
            h = self.health()
            seen[h["pid"]] = h
        if not want <= set(seen):
            raise AssertionError(f"workers {sorted(want - set(seen))} never answered /healthz")
        return {p: seen[p] for p in want}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def children(self) -> list[int]:
        """The pids of the server's child processes (its workers)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        kids = [int(p) for p in text.split()]
        # the multiprocessing resource tracker (spawn) is a child too: keep processes running our app
        out = []
        for k in kids:
            try:
                cmd = Path(f"/proc/{k}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmd:
                out.append(k)
        return sorted(out)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int = signal.SIGHUP) -> None:
        os.kill(self.pid, sig)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- the cases and their one-at-a-time results ----------------------------------------------------


def _number(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def bodies(n: int, seed: int = 20260815) -> list[bytes]:
    """``n`` varied, valid assessment requests as JSON bytes (as a mobile client sends them)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import cases as case_gen
    from discretion.engine.assessment import Engine
    from discretion.rulebooks import tree

    engine = Engine(tree.load(), "reference")
    out = []
    for c in case_gen.generate_valid(engine, n, seed, today=case_gen.TODAY):
        d = c.model_dump(mode="json", exclude_none=True)
        d["facts"] = {k: _number(v) for k, v in c.facts.items()}
        out.append(json.dumps(d, ensure_ascii=False).encode())
    return out


def expected_results(payloads: list[bytes]) -> list[dict[str, Any]]:
    """Each request evaluated one at a time in this process, as the service parses it; without ``id``."""
    from api.routes.assessments import parse_body, to_case
    from discretion.engine.assessment import Engine
    from discretion.rulebooks import tree

    engine = Engine(tree.load(), "durable")
    out = []
    for raw in payloads:
        a = engine.assess(to_case(parse_body(raw, "application/json")))
        d = json.loads(a.to_json(id="-"))
        d.pop("id")
        out.append(d)
    return out


# --- the clients ----------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # transport errors and non-201 answers
    mismatches: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(port: int, index: int, stride: int, payloads: list[bytes], expected: list[dict[str, Any]],
            stop: threading.Event, tally: Tally) -> None:
    conn: http.client.HTTPConnection | None = None
    i = index
    lat: list[float] = []
    n = 0
    while not stop.is_set():
        k = i % len(payloads)
        i += stride
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            t0 = time.perf_counter()
            conn.request("POST", "/v1/assessments", body=payloads[k], headers={"content-type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            lat.append(time.perf_counter() - t0)
            n += 1
        except (OSError, http.client.HTTPException) as exc:
            with tally.lock:
                tally.errors.append(f"client {index}: {type(exc).__name__}: {exc}")
            if conn is not None:
                conn.close()
            conn = None
            continue
        if r.status != 201:
            with tally.lock:
                tally.errors.append(f"client {index}: {r.status} {raw[:300]!r}")
            continue
        got = json.loads(raw)
        got.pop("id", None)
        if got != expected[k]:
            with tally.lock:
                tally.mismatches.append(f"case {k}: {payloads[k][:300]!r}")
    if conn is not None:
        conn.close()
    with tally.lock:
        tally.requests += n
        tally.latencies.extend(lat)


def run_clients(
    port: int, payloads: list[bytes], expected: list[dict[str, Any]], clients: int, seconds: float
) -> tuple[Tally, float]:
    tally = Tally()
    stop = threading.Event()
    threads = [threading.Thread(target=_client, args=(port, i, clients, payloads, expected, stop, tally), daemon=True)
               for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    return tally, time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run(clients: int = 32, seconds: float = 60, workers: int = 2, n_cases: int = 2000) -> dict[str, Any]:
    """The whole check; returns its figures (``ok`` False on any error, mismatch or lost worker)."""
    payloads = bodies(n_cases)
    expected = expected_results(payloads)
    with LiveServer(workers=workers) as server:
        before = server.children()
        tally, elapsed = run_clients(server.port, payloads, expected, clients, seconds)
        after = server.children()
        alive = server.alive() and all(Path(f"/proc/{p}").exists() for p in after)
        log = server.output()
    figures: dict[str, Any] = {
        "clients": clients,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "distinct_cases": len(payloads),
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / elapsed, 1),
        "p50_ms": round(percentile(tally.latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(tally.latencies, 99) * 1000, 1),
        "max_ms": round(max(tally.latencies, default=0) * 1000, 1),
        "errors": len(tally.errors),
        "mismatches": len(tally.mismatches),
        "workers_before": before,
        "workers_after": after,
        "server_alive": alive,
    }
    figures["ok"] = (not tally.errors and not tally.mismatches and alive and before == after
                     and (workers == 1 or len(before) == workers) and tally.requests > 0)
    figures["first_errors"] = tally.errors[:5] + tally.mismatches[:5]
    if not figures["ok"]:
        figures["server_log"] = log[-3000:]
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m benchmarks.concurrency",
                                description="并发客户端对 discretion serve 的正确性与稳定性检查")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cases", type=int, default=2000)
    args = p.parse_args(argv)
    figures = run(args.clients, args.seconds, args.workers, args.cases)
    for k, v in figures.items():
        if k != "server_log":
            print(f"{k:16} {v}")
    if not figures["ok"]:
        print(figures.get("server_log", ""), file=sys.stderr)
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
