"""The matchers: what matches a compiled ruleset's conditions against a case's fact.

Two implementations fire the same rules in the same order (a differential test holds them equal):
the durable_rules adapter (``_durable``, the production matcher) and the plain-Python reference
evaluator (``reference``, the oracle and the yardstick of the benchmarks).
"""

from __future__ import annotations

from typing import Any, Iterable, Protocol

from ..rulebooks.compiler import RuleSet


class Matcher(Protocol):
    def match(self, rs: RuleSet, fact: dict[str, Any]) -> list[str]: ...

    def prepare(self, rulesets: Iterable[RuleSet]) -> None: ...


def make_matcher(kind: str) -> Matcher:
    if kind == "durable":
        from ._durable import DurableMatcher

        return DurableMatcher()
    if kind == "reference":
        from .reference import ReferenceMatcher

        return ReferenceMatcher()
    raise ValueError(f"unknown matcher {kind!r}")
