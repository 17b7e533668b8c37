"""The offline terminal's budgets (issue 18 item 6), measured in Debian's headless chromium:

- warm start (the page reloaded with the network off, everything from the service worker's cache,
  until the engine is ready): median of ``BENCH_OFFLINE_RELOADS`` reloads (default 5) ≤ 5 s;
- per case in Pyodide (the page's engine worker, ``answer``): mean ≤ 5 ms over the offline check's
  inputs (the golden cases with a decision date and 300 synthetic cases, every violation type: each
  type's first case prepares what its cases share, as on the service), and again once prepared;
- the bundle ≤ 30 MB, with its gzip-compressed transfer size;
- memory: the engine's WebAssembly heap after start and after the cases, and chromium's proportional
  resident memory (PSS, every chromium process of this run: browser, renderer, workers, utilities).

Also reported: the first load (online, nothing cached) and where the warm start goes (Pyodide's boot,
reading and checking the bundle's files, unpacking, imports, the prepared rulebook set).

``python -m pytest benchmarks/test_offline.py --benchmark-only -s``; ``BENCH_ENFORCE=1`` fails on a
missed budget. Needs Node.js and npm (the build) and /usr/bin/chromium; skipped without them.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import statistics
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from api.clock import today
from api.offline.build import Built, build
from api.offline.check import inputs
from discretion.engine.assessment import Engine
from discretion.rulebooks.loaded import RulebookSet

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_WARM_S = 5.0
TARGET_CASE_MS = 5.0
TARGET_BUNDLE_MB = 30.0
RELOADS = int(os.environ.get("BENCH_OFFLINE_RELOADS", "5"))
SYNTHETIC = 300
ENFORCE = os.environ.get("BENCH_ENFORCE", "") not in ("", "0")
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm", ".whl": "application/octet-stream",
         ".json": "application/json", ".zip": "application/zip", ".css": "text/css", ".html": "text/html; charset=utf-8"}
Record = Callable[..., None]

# The offline check's inputs, answered one after the other by a second engine worker of the page
# (the page's own worker is private to terminal.js): the time each answer took inside the worker.
PER_CASE = """async (lines) => {
  const worker = new Worker(new URL("./engine.mjs", location.href), { type: "module" });
  const pending = new Map();
  let next = 0;
  worker.onmessage = (e) => { const p = pending.get(e.data.id); pending.delete(e.data.id); e.data.ok ? p.resolve(e.data.value) : p.reject(new Error(e.data.error)); };
  const call = (method, ...args) => new Promise((resolve, reject) => { const id = ++next; pending.set(id, { resolve, reject }); worker.postMessage({ id, method, args }); });
  const started = await call("ready");
  const first = [], again = [];
  for (const line of lines) first.push((await call("answer", line)).ms);
  for (const line of lines) again.push((await call("answer", line)).ms);
  const after = await call("ready");
  worker.terminate();
  return { first, again, heapStarted: started.wasmHeapBytes, heapAfter: after.wasmHeapBytes };
}"""


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Built:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: the offline bundle cannot be built")
    return build(tmp_path_factory.mktemp("offline-bench") / "bundle", log=lambda _line: None)


def _chromium_pss_mb() -> float:
    """Proportional resident memory (PSS) of this run's chromium (every chromium process descending
    from this process: browser, renderers, workers, utilities; not another run's), in MB."""
    parent: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent[int(proc.name)] = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    mine = {os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in mine} - mine
        mine |= more
        grew = bool(more)
    total = 0
    for pid in mine - {os.getpid()}:
        try:
            if "chromium" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):  # shared pages (chromium's own code) shared out, not counted per process
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 1e6


def _stats(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)
    return {"mean": round(statistics.fmean(xs), 3), "p50": round(statistics.median(xs), 3),
            "p99": round(s[min(len(s) - 1, int(0.99 * len(s)))], 2), "max": round(s[-1], 1)}


@pytest.fixture(scope="module")
def served(bundle: Built) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(bundle.out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.benchmark(group="offline")
def test_offline_bundle_size(benchmark: Any, bundle: Built, record: Record) -> None:
    """The bundle's bytes and what they take to transfer gzip-compressed (the build's own figures)."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    mb, gz = bundle.bytes / 1e6, bundle.gzip_bytes / 1e6
    figures = {"bundle_mb": round(mb, 1), "gzip_mb": round(gz, 1), "files": len(bundle.files), "ratio_to_30mb": round(mb / TARGET_BUNDLE_MB, 2)}
    benchmark.extra_info.update(figures)
    record("offline bundle", **figures)
    if ENFORCE:
        assert mb <= TARGET_BUNDLE_MB, f"bundle {mb:.1f} MB > {TARGET_BUNDLE_MB} MB"


@pytest.mark.benchmark(group="offline")
def test_offline_warm_start_and_per_case_in_chromium(benchmark: Any, served: str, rulebooks: RulebookSet, record: Record) -> None:
    """First load online, then ``RELOADS`` warm starts with the network off (median), then the offline
    check's inputs through an engine worker of the page: per-case times and memory."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    lines = [raw.decode("utf-8") for raw in inputs(Engine(rulebooks, "reference"), SYNTHETIC, 18, today())[0]]
    loads: list[dict[str, Any]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", service_workers="allow")
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def ready() -> dict[str, Any]:
                page.wait_for_selector("body[data-engine=ready]", timeout=180_000)
                times = json.loads(page.get_attribute("body", "data-times") or "{}")
                return {**times, "page_ms": int(page.get_attribute("body", "data-ready-ms") or 0)}

            page.goto(served)
            first = ready()
            end = time.monotonic() + 60
            while not page.evaluate("navigator.serviceWorker.controller !== null"):
                assert time.monotonic() < end, "the service worker never took control"
                time.sleep(0.2)
            context.set_offline(True)

            def reload() -> None:
                page.reload()
                loads.append(ready())

            benchmark.pedantic(reload, rounds=RELOADS, iterations=1)
            rss_started = _chromium_pss_mb()
            cases = page.evaluate(PER_CASE, lines)
            rss_after = _chromium_pss_mb()
            assert errors == [], errors
        finally:
            browser.close()

    warm_page = statistics.median(x["page_ms"] for x in loads)
    warm_engine = statistics.median(x["total_ms"] for x in loads)
    parts = {k: round(statistics.median(x[k] for x in loads)) for k in ("pyodide_ms", "files_ms", "imports_ms", "rulebooks_ms")}
    per_case, prepared = _stats(cases["first"]), _stats(cases["again"])
    figures = {
        "warm_start_ms": round(warm_page), "warm_start_engine_ms": round(warm_engine), "warm_runs": len(loads),
        "warm_min_max_ms": [min(x["page_ms"] for x in loads), max(x["page_ms"] for x in loads)],
        "warm_parts_ms": parts, "first_load_ms": first["page_ms"], "first_load_engine_ms": round(first["total_ms"]),
        "cases": len(lines), "per_case_ms": per_case, "per_case_prepared_ms": prepared,
        "wasm_heap_mb_started": round(cases["heapStarted"] / 1e6, 1), "wasm_heap_mb_after_cases": round(cases["heapAfter"] / 1e6, 1),
        "chromium_pss_mb": round(rss_started), "chromium_pss_mb_after_cases": round(rss_after),
        "load_average": os.getloadavg()[0],
        "ratio_warm_to_5s": round(warm_page / 1000 / TARGET_WARM_S, 2), "ratio_case_to_5ms": round(per_case["mean"] / TARGET_CASE_MS, 2),
    }
    benchmark.extra_info.update(figures)
    record("offline chromium", **figures)
    print(json.dumps(figures, ensure_ascii=False))
    if ENFORCE:
        assert warm_page <= TARGET_WARM_S * 1000, f"warm start {warm_page:.0f} ms > {TARGET_WARM_S} s"
        assert per_case["mean"] <= TARGET_CASE_MS, f"per case {per_case['mean']:.2f} ms > {TARGET_CASE_MS} ms"
