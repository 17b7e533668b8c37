"""The entry point: every check over a tree, the loader's refusals first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import RulebookError, RulebookIssue
from ...rulebooks.loaded import RulebookSet
from ...rulebooks.tree import SHIPPED
from ...rulebooks.tree import load as load_tree
from .bands import check_bands
from .basis import check_basis
from .findings import ERROR, WARNING, Finding, _finding
from .firing import check_conditions, check_duties, check_exclusive
from .ids import check_duplicates
from .levels import check_levels
from .periods import check_periods
from .prefecture import check_prefecture
from .refusals import _consequence, classify
from .tree import Tree, _from_set, _tolerant

Check = Callable[[Tree], Iterator[Finding]]


ALL_CHECKS: tuple[Check, ...] = (
    check_duplicates,
    check_conditions,
    check_duties,
    check_levels,
    check_exclusive,
    check_basis,
    check_periods,
    check_prefecture,
    check_bands,
)


def lint(root: Path | None = None, loaded: RulebookSet | None = None) -> list[Finding]:
    """Every finding for the rulebook tree at ``root`` (the shipped rulebooks by default), sorted by
    file and line. ``loaded``: the same tree, already loaded (saves loading it again)."""
    root = (root or SHIPPED).resolve()
    findings: list[Finding] = []
    tree: Tree
    if loaded is not None:
        tree = _from_set(loaded)
    else:
        try:
            tree = _from_set(load_tree(root))
        except RulebookError as exc:
            issues = exc.issues or [RulebookIssue(file=str(root), line=None, message=exc.message)]
            tree = _tolerant(root)
            findings.extend(
                _finding(i, classify(i), ERROR if i.severity == "error" else WARNING)
                for i in issues
                if not _consequence(i, tree.refused)
            )
    for check in ALL_CHECKS:
        findings.extend(check(tree))
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.check, f.rule_id or "", f.message))
