"""The plain-Python reference evaluator of compiled rules: the oracle for the rules engine.

It fires the same rules as durable_rules, in the same order (ascending priority, which is
the rule's position), and is the yardstick in the benchmarks.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..rulebooks import conditions
from ..rulebooks.compiler import RuleSet

Predicate = Callable[[Mapping[str, Any]], bool]


class ReferenceMatcher:
    """Matches case facts with plain Python predicates compiled from the same rules."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, Any], list[tuple[str, Predicate]]] = {}
        self.live_sessions = 0

    def _preds(self, rs: RuleSet, regime: Any) -> list[tuple[str, Predicate]]:
        """The rules that can fire under one regime, in priority order, with the regime test
        (the first conjunct of a regime-scoped rule) already decided."""
        key = (rs.name, regime)
        got = self._compiled.get(key)
        if got is None:
            got = []
            for r in rs.rules:
                if rs.regime is not None or r.regime is None:  # a per-regime ruleset has no regime tests
                    got.append((r.id, conditions.to_predicate(r.node)))
                elif r.regime == regime:
                    assert isinstance(r.node, conditions.And) and r.node.parts[0] == conditions.Cmp("regime", "==", regime)
                    got.append((r.id, conditions.to_predicate(conditions.And(r.node.parts[1:]))))
            self._compiled[key] = got
        return got

    def match(self, rs: RuleSet, fact: dict[str, Any]) -> list[str]:
        return [rid for rid, pred in self._preds(rs, fact.get("regime")) if pred(fact)]

    def prepare(self, rulesets: Any) -> None:
        for rs in rulesets:
            for regime in ("pre2026", "code2026"):
                self._preds(rs, regime)
