"""The one private adapter to durable_rules. Nothing else imports durable.

How it is used, and why (see shared/reference/durable-rules.md):
- A quiet host: :class:`durable.engine.Host` starts a dispatcher thread that races callers;
  ``_run`` is a no-op here.
- One lock around every evaluation: the C core is not thread-safe and never releases the GIL.
- A fresh sid per case, deleted in ``finally``: a reused sid leaks facts into the next case,
  and more than 1024 live sids per ruleset crash the process.
- Facts, not events (events fire one rule only); every fact carries a unique ``id``.
- A sentinel rule that matches every case fact, so the engine never answers "message not
  handled" (repeated unhandled asserts were seen to crash the process).
- No rules on state: conditions read case fields only, and the state holds nothing.
- Lean dispatch: rules have no Python action code. After asserting the case the adapter
  drains the engine's action queue, reading the name of each fired rule in firing order
  (ascending priority), and completes each action without updating state, so nothing can
  re-fire. The stock path (a Python closure per action plus a state re-assert) costs about
  20 µs per fired rule against about 5 µs here. Any error the engine reports is raised as
  :class:`~discretion.errors.EngineError`.
- Rulesets are registered lazily, on first use, under their own names (``yunnan@2023/<code>``).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any, Iterable

import durable_rules_engine as _core
import orjson
from durable import engine as _engine

from ..errors import EngineError
from ..rulebooks import conditions
from ..rulebooks.compiler import RuleSet

SENTINEL = "~sentinel"
_CASE_MARK = "__case__"


class _QuietHost(_engine.Host):
    """A durable_rules host without the background dispatcher thread."""

    def _run(self) -> None:  # no dispatcher thread
        return None

    def get_action(self, action_name: str) -> Any:
        def unused(c: Any) -> None:  # pragma: no cover - the lean dispatch never calls actions
            raise EngineError(message=f"规则 {action_name} 的动作不应被调用")

        return unused


def definition(rs: RuleSet) -> dict[str, Any]:
    """The durable_rules ruleset definition of compiled rules (plain data)."""
    out: dict[str, Any] = {}
    for pri, rule in enumerate(rs.rules):
        cond = conditions.to_durable(rule.node)
        out[rule.id] = {"all": [{"m": _non_empty(cond)}], "pri": pri, "run": rule.id}
    out[SENTINEL] = {"all": [{"m": {"$ex": {_CASE_MARK: 1}}}], "pri": len(rs.rules), "run": SENTINEL}
    return out


def _non_empty(cond: dict[str, Any]) -> dict[str, Any]:
    # an empty conjunction (always true) is written as "the case mark exists"
    if cond == {"$and": []}:
        return {"$ex": {_CASE_MARK: 1}}
    if "$and" in cond:
        return {"$and": [_non_empty(c) for c in cond["$and"]]}
    if "$or" in cond:
        return {"$or": [_non_empty(c) for c in cond["$or"]]}
    return cond


def _delete_rulesets(handles: dict[str, int]) -> None:
    """Delete a dropped matcher's rulesets from the C core (no session is open: every match
    deletes its own; retired rulesets are not in ``handles`` and stay untouched)."""
    for h in handles.values():
        try:
            _core.delete_ruleset(h)
        except Exception:  # pragma: no cover - nothing useful to do while a matcher is dropped
            pass
    handles.clear()


class DurableMatcher:
    """Matches case facts against compiled rulesets with durable_rules."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._lock = threading.Lock()
        self._handles: dict[str, int] = {}
        self._names: dict[str, tuple[str, ...]] = {}  # the fields each ruleset's conditions read
        self._generation: dict[str, int] = {}  # bumped when a ruleset is retired after a failure
        self._ids = itertools.count(1)
        self.live_sessions = 0  # sessions open right now (always 0 between calls)
        self.peak_sessions = 0  # the most ever open at once, over all rulesets (so ≥ any one ruleset's)
        # Rulesets live in the C core until deleted, and the core has a fixed table of handles
        # (131,071): a matcher that is dropped (an engine replaced by a rulebook reload) deletes its
        # rulesets, so reloads neither leak memory nor run out of handles.
        self._release = weakref.finalize(self, _delete_rulesets, self._handles)
        self._release.atexit = False  # nothing to free at interpreter exit

    def _handle(self, rs: RuleSet) -> int:
        h = self._handles.get(rs.name)
        if h is None:
            gen = self._generation.get(rs.name, 0)
            name = rs.name if gen == 0 else f"{rs.name}#{gen}"
            try:
                self._host.register_rulesets({name: definition(rs)})
                h = self._host.get_ruleset(name)._handle
            except Exception as exc:  # the engine refuses a definition
                raise EngineError(message=f"规则引擎拒绝了规则集 {name}：{exc}") from None
            self._handles[rs.name] = h
            used: set[str] = set()
            for rule in rs.rules:
                used |= conditions.names(rule.node)
            self._names[rs.name] = tuple(sorted(used))
        return h

    def _retire(self, rs: RuleSet) -> None:
        """Never touch a ruleset again once a session on it failed half way: the C core may hold
        a pending action for it, and using or deleting that state was seen to crash the process.
        The next case registers the same rules afresh under a new generation name."""
        self._handles.pop(rs.name, None)
        self._generation[rs.name] = self._generation.get(rs.name, 0) + 1

    def match(self, rs: RuleSet, fact: dict[str, Any]) -> list[str]:
        """The ids of the rules that fire for one case fact, in firing order."""
        with self._lock:
            handle = self._handle(rs)
            n = next(self._ids)
            sid = f"c{n}"
            # only the fields the rules read: a smaller message to serialise and for the engine to parse
            message = {k: fact[k] for k in self._names[rs.name] if k in fact}
            message["sid"] = sid
            message["id"] = n
            message[_CASE_MARK] = 1
            fired: list[str] = []
            self.live_sessions += 1
            if self.live_sessions > self.peak_sessions:
                self.peak_sessions = self.live_sessions
            asserted = False
            try:
                result = _core.assert_fact(handle, orjson.dumps(message, default=float).decode())
                if result[0] == 1:
                    raise EngineError(message="规则引擎未处理该案件事实（哨兵规则缺失）")
                if result[0] == 2:
                    raise EngineError(message="规则引擎认为该案件事实重复")
                asserted = True
                state = result[1]
                pending = _core.start_action_for_state(handle, state)
                while pending:
                    # the action message is {"<rule id>": {...}}; rule ids hold no quotes or escapes
                    text = pending[1]
                    fired.append(text[2 : text.index('"', 2)])
                    nxt = _core.complete_and_start_action(handle, state)
                    pending = (None, nxt) if nxt else None
            except Exception as exc:
                self.live_sessions -= 1
                if asserted:
                    self._retire(rs)  # its session is left behind with the retired ruleset
                if isinstance(exc, EngineError):
                    raise
                raise EngineError(message=f"规则引擎出错：{exc}") from None
            self.live_sessions -= 1
            try:
                _core.delete_state(handle, sid)
            except Exception as exc:
                self._retire(rs)
                raise EngineError(message=f"规则引擎无法删除案件会话：{exc}") from None
        if not fired or fired[-1] != SENTINEL:
            raise EngineError(message="规则引擎没有触发哨兵规则")
        # an `or` whose branches both hold reaches the rule twice in the engine's network: a rule
        # has fired once, so keep the first of each (the order is unchanged)
        return list(dict.fromkeys(fired[:-1]))

    def prepare(self, rulesets: Iterable[RuleSet]) -> None:
        """Register rulesets ahead of use (e.g. at service start)."""
        with self._lock:
            for rs in rulesets:
                self._handle(rs)
