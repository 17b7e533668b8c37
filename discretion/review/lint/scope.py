"""Environments: which names a condition of the tree may read, and their domains; the regimes an
edition is applied with; the condition analysis with the conditions it cannot reason about left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from ...rulebooks.checks import DERIVED
from ...rulebooks.conditions import Node
from ...rulebooks.loaded import LoadedEdition, LoadedViolation
from ...rulebooks.models import BenchmarkEdition, FactDef, RegimeDef
from .space import _BOOL, Box, Env, Space, _dom, _Skip
from .tree import Tree


def _env_of(*groups: Mapping[str, FactDef], circumstances: Iterable[str] = ()) -> Env:
    env: Env = {name: _dom(f) for name, f in DERIVED.items()}
    for c in circumstances:
        env[c] = _BOOL
    for g in groups:
        for name, f in g.items():
            env[name] = _dom(f)
    return env


def _regimes_for(tree: Tree, e: BenchmarkEdition) -> list[RegimeDef]:
    """The regimes a case decided while the edition is in force may be judged under: every regime
    that began before the edition lapses (an act is never later than its decision)."""
    if tree.law is None:
        return []
    end = e.effective_to or dt.date.max
    return [r for r in tree.law.regimes if r.effective_from <= end]


def _edition_facts(tree: Tree, le: LoadedEdition) -> dict[str, FactDef]:
    return {f.name: f for f in le.effective.facts}


def _edition_env(tree: Tree, le: LoadedEdition, code: str | None) -> Env:
    """Names a benchmark condition reads. For one violation type: the facts its cases carry (the
    law layer's standard facts it does not list are never present); for the edition as a whole
    (common factors, 减轻): every fact."""
    efacts = _edition_facts(tree, le)
    circs = list(tree.circumstances)
    if code is None or code not in tree.violations:
        return _env_of(tree.facts, efacts, circumstances=circs)
    lv = tree.violations[code]
    env = _env_of(efacts, lv.facts, circumstances=circs + list(lv.model.circumstances))
    for name in tree.facts:
        env.setdefault(name, None)
    return env


def _violation_env(tree: Tree, lv: LoadedViolation) -> Env:
    return _env_of(lv.facts, circumstances=list(tree.circumstances) + list(lv.model.circumstances))


def _law_env(tree: Tree) -> Env:
    return _env_of(tree.facts, circumstances=tree.circumstances)


def _boxes(space: Space, cond: Node | str | None) -> list[Box] | None:
    """The condition's boxes, or None where it cannot be analysed (the loader reports why)."""
    try:
        return space.boxes(cond)
    except _Skip:
        return None


def _all(space: Space, *conds: Node | str | None) -> list[Box] | None:
    try:
        return space.all(*conds)
    except _Skip:
        return None


def _covered(space: Space, region: list[Box], covers: list[Box]) -> bool | None:
    try:
        return not space.uncovered(region, covers)
    except _Skip:
        return None
