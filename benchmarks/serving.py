"""A real ``discretion serve`` for the speed benchmarks, and the wrk script that posts case bodies.

Used by ``test_service.py``, ``test_storage.py`` and ``store_cpu.py``. (The tests' live server with
per-worker health checks is :class:`benchmarks.concurrency.LiveServer`.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    pid: int  # the serving process (the supervisor with several workers), leader of its process group
    ready_s: float  # from starting the command to the first /healthz answer
    db: Path | None = None
    backends: list[int] = field(default_factory=list)  # PostgreSQL backends serving it (store_cpu)


@contextlib.contextmanager
def serve(tmp: Path, name: str, env: dict[str, str], workers: int = 1, db: Path | None = None,
          cwd: Path = ROOT, timeout_s: float = 60) -> Iterator[Server]:
    """``python -m api.cli serve`` on a free loopback port, in its own process group (stopped whole
    on exit), with ``env`` over this environment (less DATABASE_URL and DISCRETION_STORAGE);
    its stderr goes to ``tmp/<name>.log``."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DISCRETION_STORAGE")}
    full["DISCRETION_ECHO"] = "1"  # POST /_echo, the baseline the benchmarks compare against
    full.update(env)
    log_path = tmp / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in the finally below
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.perf_counter() - start > timeout_s or proc.poll() is not None:
                    raise RuntimeError(f"{name}: the server did not start: " + log_path.read_text(errors="replace")) from None
                time.sleep(0.02)
        yield Server(name, url, proc.pid, time.perf_counter() - start, db)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def post_script(tmp: Path, bodies: list[str]) -> Path:
    """A wrk Lua script that POSTs the JSON bodies in turn."""
    script = tmp / "post.lua"
    script.write_text(
        "local bodies = {" + ",".join(_lua_string(b) for b in bodies) + "}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])\n'
        "end\n",
        encoding="utf-8",
    )
    return script


def warm(url: str, bodies: list[str]) -> None:
    """POST every body once (each answered 201): the rulesets they need are registered before measuring."""
    for b in bodies:
        req = urllib.request.Request(url + "/v1/assessments", data=b.encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            assert r.status == 201, r.status
