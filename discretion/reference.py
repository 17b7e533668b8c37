"""The plain-Python reference evaluator of compiled rules: the oracle for the rules engine.

It fires the same rules as durable_rules, in the same order (ascending priority, which is
the rule's position), and is the yardstick in the benchmarks.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from . import conditions
from .compiler import RuleSet

Predicate = Callable[[Mapping[str, Any]], bool]


class ReferenceMatcher:
    """Matches case facts with plain Python predicates compiled from the same rules."""

    def __init__(self) -> None:
        self._compiled: dict[str, list[tuple[str, Predicate]]] = {}
        self.live_sessions = 0

    def _preds(self, rs: RuleSet) -> list[tuple[str, Predicate]]:
        got = self._compiled.get(rs.name)
        if got is None:
            got = [(r.id, conditions.to_predicate(r.node)) for r in rs.rules]
            self._compiled[rs.name] = got
        return got

    def match(self, rs: RuleSet, fact: dict[str, Any]) -> list[str]:
        return [rid for rid, pred in self._preds(rs) if pred(fact)]

    def prepare(self, rulesets: Any) -> None:
        for rs in rulesets:
            self._preds(rs)
