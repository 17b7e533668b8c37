"""Reloading the rulebooks of a running service, without a restart and without ever serving a
broken set.

A reload re-reads the configured rulebook tree, loads, cross-checks and compiles it (in a thread,
so the event loop keeps answering), and only then replaces the service's :class:`~api.deps.State`
with a new object holding the new rulebooks, engine and records: requests in flight finish on
the old state, the next ones see the new one. When the new set is broken (anything
:func:`discretion.rulebooks.tree.load` or compiling refuses, or any other error while building it) the
process keeps serving the set it has, logs every issue (file:line) and, for the endpoint, answers
422 ``rulebook_invalid`` with them.

Triggers:

- ``POST /v1/admin/reload`` (admin only, :mod:`api.routes.admin`);
- ``SIGHUP`` to ``discretion serve`` (the process it started: with ``--workers N`` the supervisor,
  otherwise the server itself) or to any worker.

Several workers (``--workers 2``) converge through one small *reload generation* file shared by
the processes of one ``discretion serve`` (its path is in ``DISCRETION_RELOAD_FILE``, set by
``serve`` in a fresh temporary directory):

- a worker that reloaded a new set successfully (endpoint or signal) increments the generation;
- the supervisor, on SIGHUP, increments it without loading anything itself;
- every worker reads the file every :data:`POLL_S` seconds (one small read) and, when the
  generation moved past the one it has seen, reloads too.

A broken set is therefore refused by every worker on its own (each keeps its last good set); a
good one reaches every worker within about a second. ``GET /healthz?detail=true`` shows the
answering worker's pid, loaded set hash and generation, and the outcome of its last attempt.

Old engines are released once no request uses them (the durable_rules adapter deletes its
rulesets from the C core when its matcher is dropped), so repeated reloads do not grow memory.

A worker that uvicorn restarts after a crash (:func:`starting_set`) takes over the set the
supervisor preloaded while no reload has been announced; after one, it loads whatever the files
hold then, and when they are broken it serves the *last good set* instead (one warning naming
each ``file:line``, not a crash at every restart): every set a worker swapped in is kept, as a copy
of its source files, in the folder of the reload generation file, and named there
(``good.json``: its hash and generation); the set preloaded at start-up needs no copy.

Limitations (documented in docs/limits.md): update the rulebook tree as a whole (e.g. unpack a new
tree and swap a symlink) before asking for a reload; a reload re-reads the files while they are
being edited only as far as detecting that they changed under it (refused, try again).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fcntl
import gc
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from discretion.engine.assessment import Engine
from discretion.errors import DiscretionError, RulebookError, RulebookIssue
from discretion.rulebooks import tree
from discretion.rulebooks.loaded import RulebookSet

ENV_FILE = "DISCRETION_RELOAD_FILE"
POLL_S = 0.5  # how often a worker reads the shared generation
ATTEMPTS = 3  # loads tried while the files keep changing under the reload
KEEP_SETS = 3  # copies of good sets kept for restarted workers (the newest)
MAX_ISSUES_LOGGED = 5  # issues named in a restarted worker's warning
COLLECT_AGAIN_S = 5.0  # a second collection after a swap, once requests in flight have finished

log = logging.getLogger("discretion.reload")


# --- the rulebook set's hash ---------------------------------------------------------------------


def set_hash_of(root: Path | None) -> str:
    """The content hash of the rulebook source files under ``root`` (the key records carry)."""
    from .storage.snapshots import set_hash

    return set_hash(tree.source_files(root))


# --- the reload generation shared by the processes of one server ------------------------------------


class SharedGeneration:
    """A tiny JSON file ``{"generation": n, "rulebook_set": hash|null, "pid": p, "at": iso}``.

    Written whole with ``os.replace`` (a reader never sees half a file), incremented under an
    exclusive ``flock`` on a lock file beside it (two processes never take the same number).
    Beside it, the last good set: ``good.json`` ``{"rulebook_set": hash, "generation": n}`` and a
    copy of the source files of each of the newest good sets under ``sets/<hash>/rulebooks``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = path.with_name(path.name + ".lock")
        self.good_path = path.with_name("good.json")
        self.sets = path.with_name("sets")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.lock, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    def read(self) -> tuple[int, str | None]:
        try:
            data = json.loads(self.path.read_bytes())
            return int(data["generation"]), data.get("rulebook_set")
        except (OSError, ValueError, KeyError, TypeError):
            return 0, None

    def bump(self, rulebook_set: str | None) -> int:
        with self._locked():
            generation = self.read()[0] + 1
            self._write(self.path, {
                "generation": generation, "rulebook_set": rulebook_set, "pid": os.getpid(),
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            })
            return generation

    # the last good set ---------------------------------------------------------------------------

    def keep(self, files: Mapping[str, bytes], key: str) -> None:
        """Keep a copy of the source files of set ``key`` (once; only the newest KEEP_SETS stay)."""
        from .storage.snapshots import write_tree

        target = self.sets / key
        if target.is_dir():
            return
        tmp = self.sets / f".{key}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        write_tree(files, tmp / "rulebooks")
        try:
            os.rename(tmp, target)
        except OSError:  # another worker kept it first
            shutil.rmtree(tmp, ignore_errors=True)
        kept = sorted((p for p in self.sets.iterdir() if not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP_SETS:]:
            shutil.rmtree(old, ignore_errors=True)

    def name_good(self, key: str, generation: int) -> None:
        """Name set ``key`` (swapped in at ``generation``) the last good one, unless a later is named."""
        with self._locked():
            named = self.good()
            if named is None or named[1] <= generation:
                self._write(self.good_path, {"rulebook_set": key, "generation": generation})

    def good(self) -> tuple[str, int] | None:
        """The last good set named (hash, generation), or None (none since start-up)."""
        try:
            data = json.loads(self.good_path.read_bytes())
            return str(data["rulebook_set"]), int(data["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def kept(self, key: str) -> Path:
        """The root of the kept copy of set ``key`` (it may be gone)."""
        return self.sets / key / "rulebooks"


def prepare_shared_file() -> Path:
    """For ``discretion serve``: a fresh generation file for this server's processes, announced to
    them in the environment (the workers inherit it); removed when the server exits."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="discretion-reload-"))
    path = folder / "generation.json"
    path.write_text(json.dumps({"generation": 0, "rulebook_set": None, "pid": os.getpid()}))
    os.environ[ENV_FILE] = str(path)
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, ignore_errors=True))
    return path


def shared() -> SharedGeneration | None:
    value = os.environ.get(ENV_FILE)
    return SharedGeneration(Path(value)) if value else None


def run_workers(config: Any) -> None:
    """Run uvicorn's multi-process supervisor, with SIGHUP meaning "reload the rulebooks".

    Stock uvicorn restarts every worker on SIGHUP; here the supervisor only increments the shared
    generation, and each worker reloads in place (keeping its set when the new one is broken)."""
    import inspect

    from uvicorn import Server
    from uvicorn.supervisors import Multiprocess

    _fork_workers()
    sock = config.bind_socket()
    kwargs: dict[str, Any] = {"sockets": [sock]}
    if "target" in inspect.signature(Multiprocess.__init__).parameters:  # uvicorn < 0.30
        kwargs["target"] = Server(config=config).run
    supervisor = Multiprocess(config, **kwargs)
    generation = shared()

    def on_hup(signum: int, frame: Any) -> None:
        if generation is None:
            return
        try:
            n = generation.bump(None)
        except OSError as exc:  # never let a signal take the supervisor down
            log.error("收到 SIGHUP，但无法通知工作进程重新加载（%s）：%s", generation.path, exc)
            return
        log.warning("收到 SIGHUP：已通知各工作进程重新加载规则集（第 %d 次）", n)

    signal.signal(signal.SIGHUP, on_hup)  # replaces uvicorn's "restart every worker"
    supervisor.run()


def _fork_workers() -> None:
    """Start uvicorn's workers by fork instead of spawn: each inherits the imported modules and the
    rulebooks ``discretion serve`` preloaded (api.main.preload), instead of importing and loading
    them again, so the service is ready sooner. The parent has no threads and no open database
    connection when it forks. Where fork is missing, or uvicorn's internals differ, stock spawn stays."""
    import multiprocessing

    from uvicorn import _subprocess
    from uvicorn.supervisors import multiprocess

    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(multiprocess, "get_subprocess"):
        return
    fork = multiprocessing.get_context("fork")
    started = _subprocess.subprocess_started
    captured = tuple(getattr(multiprocess, "SIGNALS", ()))

    def child(**kwargs: Any) -> None:
        # The supervisor's signal handlers were copied by the fork: a worker starts, as a spawned
        # one would, with the default ones (uvicorn and the reloader then install their own).
        for sig in captured:
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_DFL)
        started(**kwargs)

    def get_subprocess(config: Any, target: Any, sockets: list[Any]) -> Any:
        try:
            stdin_fileno: int | None = sys.stdin.fileno()
        except (AttributeError, OSError):
            stdin_fileno = None
        return fork.Process(target=child, kwargs={"config": config, "target": target, "sockets": sockets,
                                                  "stdin_fileno": stdin_fileno})

    multiprocess.get_subprocess = get_subprocess


# --- one process's reloads ----------------------------------------------------------------------


@dataclass
class Attempt:
    """The outcome of one reload attempt in this process."""

    ok: bool
    changed: bool
    generation: int
    rulebook_set: str
    trigger: str
    message: str
    issues: list[RulebookIssue] = field(default_factory=list)
    at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "changed": self.changed, "generation": self.generation, "rulebook_set": self.rulebook_set,
            "trigger": self.trigger, "message": self.message, "at": self.at,
            "issues": [issue_dict(i) for i in self.issues],
        }


def issue_dict(i: RulebookIssue) -> dict[str, Any]:
    where = f"{i.file}:{i.line}" if i.line else i.file
    return {"code": "rulebook_invalid", "message": i.message, "field": where,
            "file": i.file, "line": i.line, "rule_id": i.rule_id}


@dataclass
class _Built:
    rulebooks: RulebookSet
    engine: Engine
    records: Any
    rulebook_set: str


class Reloader:
    """Serialises the reloads of one app, swaps its state, and follows the shared generation."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = asyncio.Lock()
        self.shared = shared()
        self.seen = self.shared.read()[0] if self.shared else 0  # the generation this process has acted on
        self.last: Attempt | None = getattr(app.state, "start_attempt", None)  # a restart on the last good set
        self._poller: asyncio.Task[None] | None = None
        self._signal = False

    # state ---------------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        return self.app.state.discretion

    def current_set(self) -> str:
        """The hash of the set being served ("" when unknown: the next reload then always swaps)."""
        s = self.state
        if s.rulebook_set:
            return str(s.rulebook_set)
        records = getattr(s, "records", None)
        return str(getattr(records, "set_hash", "") or "")

    # lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.state
        if not s.rulebook_set:
            got = self.current_set()
            if not got:
                try:
                    got = await asyncio.to_thread(set_hash_of, s.settings.rulebooks)
                except Exception:  # noqa: BLE001 - unknown: the first reload will swap
                    got = ""
            self.app.state.discretion = dataclasses.replace(s, rulebook_set=got, generation=self.seen)
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            try:
                loop.add_signal_handler(signal.SIGHUP, self._on_signal)
                self._signal = True
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - no signals here
                pass
        if self.shared is not None:
            self._poller = asyncio.create_task(self._poll(), name="discretion-reload-poller")

    async def stop(self) -> None:
        if self._signal:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._signal = False
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None

    def _on_signal(self) -> None:
        log.warning("收到 SIGHUP：重新加载规则集")
        asyncio.ensure_future(self.reload(trigger="SIGHUP"))

    async def _poll(self) -> None:
        assert self.shared is not None
        while True:
            await asyncio.sleep(POLL_S)
            try:
                generation, _ = self.shared.read()
                if generation > self.seen:
                    await self.reload(trigger="generation", follow=generation)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the poller must survive anything; the reload logs it
                log.exception("reload poller")

    # the reload --------------------------------------------------------------------------------

    async def reload(self, trigger: str, follow: int | None = None) -> Attempt:
        """Load and compile the configured tree; swap the state if it is good and new.

        ``follow``: the shared generation this reload follows (another process announced it);
        otherwise a successful change is announced to the other processes."""
        async with self.lock:
            if follow is not None and follow <= self.seen:  # acted on already (e.g. its own announcement)
                return self.last or Attempt(True, False, self.state.generation, self.current_set(), trigger, "已是最新")
            old = self.state
            current = self.current_set()
            try:
                built = await asyncio.to_thread(_build, old, current)
            except RulebookError as exc:
                attempt = self._refused(trigger, follow, exc.message, exc.issues)
            except DiscretionError as exc:
                attempt = self._refused(trigger, follow, exc.message, [])
            except Exception as exc:  # noqa: BLE001 - a rulebook may trip anything; never take the service down
                log.exception("reload failed")
                attempt = self._refused(trigger, follow, f"构建规则集时出错：{type(exc).__name__}: {exc}", [])
            else:
                if built is None:
                    if follow is not None:
                        self.seen = max(self.seen, follow)
                    attempt = Attempt(True, False, old.generation, current, trigger, "规则集未变化，无需重新加载")
                else:
                    attempt = self._swap(old, built, trigger, follow)
                    del old, built
                    _collect()
                    # requests in flight at the swap may have kept the old set a moment longer
                    asyncio.get_running_loop().call_later(COLLECT_AGAIN_S, _collect)
            self.last = attempt
            return attempt

    def _refused(self, trigger: str, follow: int | None, message: str, issues: list[RulebookIssue]) -> Attempt:
        if follow is not None:
            self.seen = max(self.seen, follow)  # tried: do not retry the same generation every poll
        s = self.state
        text = f"新规则集无效，未重新加载，继续使用原规则集（{self.current_set()[:12]}）：{message}"
        log.error("%s", text)
        for issue in issues:
            log.error("  %s", issue)
        return Attempt(False, False, s.generation, self.current_set(), trigger, text, list(issues))

    def _swap(self, old: Any, built: _Built, trigger: str, follow: int | None) -> Attempt:
        generation = self.seen + 1
        if follow is not None:
            generation = follow
        elif self.shared is not None:
            try:
                generation = self.shared.bump(built.rulebook_set)
            except OSError as exc:  # e.g. the temporary directory was cleaned away: serve it here at least
                log.error("无法通知其他工作进程重新加载（%s）：%s", self.shared.path, exc)
        self.seen = max(self.seen, generation)
        if self.shared is not None:
            try:
                self.shared.name_good(built.rulebook_set, generation)
            except OSError as exc:
                log.error("无法记下最近一次有效的规则集（%s）：%s", self.shared.good_path, exc)
        update: dict[str, Any] = {"rulebooks": built.rulebooks, "engine": built.engine,
                                  "rulebook_set": built.rulebook_set, "generation": generation}
        if built.records is not None:
            update["records"] = built.records
        self.app.state.discretion = dataclasses.replace(old, **update)  # one new object: atomic for readers
        _clear_caches()
        rs = built.rulebooks
        text = (f"规则集已重新加载：{len(rs.violations)} 类违法行为，{len(rs.editions)} 个裁量基准版本，"
                f"{built.rulebook_set[:12]}（第 {generation} 次）")
        log.warning("%s", text)
        return Attempt(True, True, generation, built.rulebook_set, trigger, text)


def _build(old: Any, current: str) -> _Built | None:
    """Load + compile the configured tree (in a worker thread); None when it has not changed."""
    root = old.settings.rulebooks
    for _ in range(ATTEMPTS):
        try:
            before = set_hash_of(root)
        except OSError as exc:
            raise RulebookError(message=f"无法读取规则集目录：{exc}") from None
        if before == current:
            return None
        rs = tree.load(root)
        engine = Engine(rs, old.settings.matcher)
        records = None
        if getattr(old, "records", None) is not None:
            from .storage.records import Records

            try:
                records = Records(old.store, rs, engine, old.settings.matcher)
            except RulebookError as exc:
                if exc.code == "rulebook_changed":
                    continue  # edited while loading: read it again
                raise
        after = records.set_hash if records is not None else set_hash_of(root)
        if after == before:
            _keep(root, after)
            return _Built(rs, engine, records, after)
    raise RulebookError(message="规则集文件在重新加载期间不断变化，请在修改完成后重试", code="rulebook_changed")


def _keep(root: Path | None, key: str) -> None:
    """Keep a copy of the set just built (under ``root``, hashed ``key``) for restarted workers."""
    generation = shared()
    if generation is None:
        return
    from .storage.snapshots import set_hash

    try:
        files = tree.source_files(root)
        if set_hash(files) == key:  # else changed since: the next reload keeps it
            generation.keep(files, key)
    except (OSError, ValueError) as exc:  # a worker restarted later falls back to an older set
        log.error("无法保存规则集 %s 的副本（%s）：%s", key[:12], generation.sets, exc)


# --- the set a (re)started worker serves ---------------------------------------------------------------


def starting_set(settings: Any, preloaded: tuple[RulebookSet, Engine, dict[str, bytes]] | None
                 ) -> tuple[RulebookSet, Engine, dict[str, bytes] | None, Attempt | None]:
    """The rulebooks a worker of ``discretion serve`` starts with, given the ``preloaded`` set (rulebooks,
    engine and source files of the supervisor's start-up load; None elsewhere): that set while no
    reload has been announced; afterwards the files as they are now, and when they are broken the
    last good set (the copy named in ``good.json``, or the preloaded set) with one warning naming each
    ``file:line``, and the refused attempt to show in ``/healthz?detail=true``. Returns the set, its
    engine, its source files when known without reading its tree, and that attempt. Without a
    preloaded set (one process, tests) the files are loaded and a broken set is refused (RulebookError)."""
    generation = shared()
    announced = generation.read()[0] if generation is not None else 0
    if preloaded is not None and announced == 0:
        return *preloaded, None
    try:
        rs = tree.load(settings.rulebooks)
        return rs, Engine(rs, settings.matcher), None, None
    except RulebookError as exc:
        if preloaded is None or generation is None:
            raise
        broken = exc
    from .storage.snapshots import set_hash

    rs, engine, files = preloaded
    got: dict[str, bytes] | None = files
    key = set_hash(files)
    named = generation.good()
    if named is not None and named[0] != key:
        try:
            rs = tree.load(generation.kept(named[0]))
            engine, got, key = Engine(rs, settings.matcher), None, named[0]
        except (RulebookError, OSError) as exc:  # the copy is gone: the start-up set is the good one left
            log.error("无法加载所保存的规则集 %s（%s），改用启动时的规则集", named[0][:12], exc)
    issues = broken.issues[:MAX_ISSUES_LOGGED]
    where = "；".join(str(i) for i in issues) if issues else broken.message
    more = f"（另有 {len(broken.issues) - len(issues)} 处）" if len(broken.issues) > len(issues) else ""
    text = (f"规则集文件有误，未能加载：{where}{more}。重新启动的工作进程（{os.getpid()}）沿用最近一次有效的规则集"
            f"（{key[:12]}）；修正文件后重新加载（SIGHUP 或 POST /v1/admin/reload）")
    log.warning("%s", text)
    return rs, engine, got, Attempt(False, False, announced, key, "restart", text, list(broken.issues))


def _collect() -> None:
    """Free the replaced set, then freeze the new one out of the cyclic collector's way, as at
    start-up (api/main.py). The replaced objects were frozen too, and some sit in reference cycles
    (durable_rules' host and its rulesets): without unfreezing first they would never be freed
    (about 10 MB per reload). Costs one full collection (~0.2 s) per reload."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _clear_caches() -> None:
    """Caches keyed by compiled objects would keep the old engine's objects alive (bounded, but
    tens of MB): drop them with the old set."""
    from discretion.engine import assessment

    step = getattr(assessment, "_factor_step", None)
    if step is not None and hasattr(step, "cache_clear"):
        step.cache_clear()


# --- wiring ----------------------------------------------------------------------------------------


def reloader(app: Any) -> Reloader:
    """The app's reloader (made on first use when the lifespan did not run, e.g. in some tests)."""
    got = getattr(app.state, "reloader", None)
    if got is None:
        got = Reloader(app)
        app.state.reloader = got
    return got


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Installed with the admin router: SIGHUP handling and the generation poller per process."""
    r = reloader(app)
    await r.start()
    try:
        yield
    finally:
        await r.stop()


def describe(app: Any) -> dict[str, Any]:
    """What ``GET /healthz?detail=true`` adds: this process and the set it serves."""
    s = app.state.discretion
    r = getattr(app.state, "reloader", None)
    rs: RulebookSet = s.rulebooks
    return {
        "pid": os.getpid(),
        "rulebooks": {
            "rulebook_set": s.rulebook_set or (r.current_set() if r else ""),
            "generation": s.generation,
            "violations": len(rs.violations),
            "editions": editions(rs),
        },
        "reload": {
            "seen": r.seen if r else 0,
            "shared": r is not None and r.shared is not None,
            "last": r.last.to_dict() if r and r.last else None,
        },
    }


def editions(rs: RulebookSet) -> list[dict[str, Any]]:
    return [
        {"key": key, "status": le.model.status, "effective_from": le.model.effective_from.isoformat(), "sha256": le.sha256}
        for key, le in sorted(rs.editions.items())
    ]
