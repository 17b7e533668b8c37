"""The tree under lint: what loads, even when the loader refuses the whole set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import RulebookError
from ...rulebooks import loading
from ...rulebooks.checks import resolve_facts
from ...rulebooks.editions import apply_categories, merge_parent
from ...rulebooks.loaded import LoadedEdition, LoadedViolation, RulebookSet
from ...rulebooks.models import BenchmarkEdition, CircumstanceDef, FactDef, LawEdition, Violation
from ...rulebooks.tree import yaml_files


@dataclass
class Tree:
    root: Path
    law: LawEdition | None
    law_doc: loading.Document | None
    violations: dict[str, LoadedViolation]
    editions: dict[str, LoadedEdition]
    facts: dict[str, FactDef]
    circumstances: dict[str, CircumstanceDef]
    docs: list[loading.Document] = field(default_factory=list)  # every parsed file
    refused: set[str] = field(default_factory=set)  # codes and edition keys of files that parse but do not validate


def _from_set(rs: RulebookSet) -> Tree:
    docs = [rs.law_doc] + [lv.doc for lv in rs.violations.values()] + [le.doc for le in rs.editions.values()]
    return Tree(rs.root, rs.law, rs.law_doc, dict(rs.violations), dict(rs.editions), dict(rs.facts), dict(rs.circumstances), docs)


def _tolerant(root: Path) -> Tree:
    """Every file that parses and validates on its own (the loader's rules, without refusing)."""

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root.parent))
        except ValueError:  # pragma: no cover - files come from below root
            return str(p)

    docs: list[loading.Document] = []
    refused: set[str] = set()

    def read(path: Path, model: Any) -> tuple[Any, loading.Document] | None:
        try:
            doc = loading.read(path, rel(path))
        except RulebookError:
            return None
        docs.append(doc)
        try:
            return loading.validate(doc, model), doc
        except RulebookError:
            data = doc.data if isinstance(doc.data, dict) else {}
            if isinstance(data.get("code"), str):
                refused.add(data["code"])
            if isinstance(data.get("id"), str) and isinstance(data.get("edition"), str):
                refused.add(f"{data['id']}@{data['edition']}")
            return None

    law = law_doc = None
    law_path = root / "law" / "law.yaml"
    if law_path.is_file():
        got = read(law_path, LawEdition)
        if got:
            law, law_doc = got
    facts = {f.name: f for f in law.facts} if law else {}
    circumstances = {c.id: c for c in law.circumstances} if law else {}
    violations: dict[str, LoadedViolation] = {}
    vfolder = root / "law" / "violations"
    for path in yaml_files(vfolder) if vfolder.is_dir() else []:
        got = read(path, Violation)
        if got and got[0].code not in violations:
            v, doc = got
            resolved, _ = resolve_facts(v, doc, facts)
            violations[v.code] = LoadedViolation(model=v, doc=doc, facts=resolved)
    editions: dict[str, LoadedEdition] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law") if root.is_dir() else []:
        for path in yaml_files(folder):
            got = read(path, BenchmarkEdition)
            if got:
                e, doc = got
                key = f"{e.id}@{e.edition}"
                editions.setdefault(key, LoadedEdition(model=e, doc=doc, key=key, sha256=doc.sha256))
    for le in editions.values():  # a province's categories first: a prefecture takes them over with its parent
        if le.model.parent is None:
            apply_categories(le, violations)
    for le in editions.values():
        merge_parent(le, editions)
    return Tree(root, law, law_doc, violations, editions, facts, circumstances, docs, refused)
