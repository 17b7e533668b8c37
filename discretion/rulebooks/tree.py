"""The whole rulebook tree, loaded and cross-checked: the law layer plus benchmark editions.

Loading is all or nothing: every problem in every file is collected, then the set is
refused whole with the list (file, line, rule id), or returned complete.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from ..errors import NotFoundError, RulebookError, RulebookIssue
from . import approval, loading, signing
from .checks import check_contradictions, check_law, check_violation, resolve_facts
from .editions import apply_categories, check_edition, merge_parent
from .loaded import LoadedEdition, LoadedViolation, RulebookSet
from .models import BenchmarkEdition, LawEdition, ReviewerRegistry, Violation

SHIPPED = Path(__file__).resolve().parent.parent.parent / "rulebooks"


def yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.yaml") if ".cases" not in p.name and "cases" not in p.parts)


def source_files(root: Path | None = None) -> dict[str, bytes]:
    """The bytes of every file :func:`load` reads under ``root``, by POSIX path relative to ``root``.

    A copy of these files, written out under a directory, loads as the same set: that is how a
    stored snapshot of the rulebooks is rebuilt (the caller checks each loaded document's sha256
    against the copy, so a change of file selection here or in ``load`` cannot go unnoticed)."""
    root = (root or SHIPPED).resolve()
    paths = [root / signing.REGISTRY, root / "law" / "law.yaml", *yaml_files(root / "law" / "violations")]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law"):
        paths.extend(yaml_files(folder))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in paths if p.is_file()}


def source_hash(files: Mapping[str, bytes]) -> str:
    """The content address of a set of rulebook source files (paths and contents, as
    :func:`source_files` gives them): how the service names the set a record was made with (its
    stored snapshot), and how an offline bundle names the set it was compiled from."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).hexdigest().encode("ascii") + b"\n")
    return h.hexdigest()


def load(root: Path | None = None, *, signatures: bool = True) -> RulebookSet:
    """Load and cross-check every rulebook under ``root`` (the shipped ones by default).

    Every approved or published edition's approval must be signed by a key its reviewer has in
    ``reviewers.yaml``. ``signatures=False`` skips that check (the content hashes are still checked):
    only for rebuilding a stored snapshot to reproduce a past record, whose set the service accepted
    when the record was made, possibly before approvals were signed."""
    root = (root or SHIPPED).resolve()
    issues: list[RulebookIssue] = []

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root.parent))
        except ValueError:
            return str(p)

    def read(path: Path, model: Any) -> tuple[Any, loading.Document] | None:
        try:
            doc = loading.read(path, rel(path))
            return loading.validate(doc, model), doc
        except RulebookError as exc:
            issues.extend(exc.issues or [RulebookIssue(file=rel(path), line=None, message=exc.message)])
            return None

    law_path = root / "law" / "law.yaml"
    if not law_path.exists():
        raise RulebookError(message=f"缺少法律层文件：{rel(law_path)}", issues=[RulebookIssue(rel(law_path), None, "缺少法律层文件")])
    got = read(law_path, LawEdition)
    raw_violations: list[tuple[Violation, loading.Document]] = []
    unreadable: set[str] = set()  # codes of violation files refused (each file is named for its code)
    for path in yaml_files(root / "law" / "violations"):
        v = read(path, Violation)
        if v:
            raw_violations.append(v)
        else:
            unreadable.add(path.stem)
    raw_editions: list[tuple[BenchmarkEdition, loading.Document]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law"):
        for path in yaml_files(folder):
            e = read(path, BenchmarkEdition)
            if e:
                raw_editions.append(e)
    reviewers: signing.Registry | None = None
    if signatures:
        reviewers = _reviewers(root, read, issues)
    if got is None:
        raise RulebookError(message="规则集无法加载", issues=issues)
    return assemble(root, got, raw_violations, raw_editions, reviewers, issues, unreadable)


def assemble(
    root: Path,
    law_read: tuple[LawEdition, loading.Document],
    raw_violations: list[tuple[Violation, loading.Document]],
    raw_editions: list[tuple[BenchmarkEdition, loading.Document]],
    reviewers: signing.Registry | None,
    issues: list[RulebookIssue],
    unreadable: set[str] | frozenset[str] = frozenset(),
) -> RulebookSet:
    """Cross-check the validated documents of a set and build it, or refuse it whole with every issue
    (``issues``: those found while reading). Used by :func:`load` and by the loader of a set compiled
    to JSON (:mod:`discretion.rulebooks.jsonset`), so both build the same set the same way."""
    law, law_doc = law_read
    violations: dict[str, LoadedViolation] = {}
    editions: dict[str, LoadedEdition] = {}
    facts = {f.name: f for f in law.facts}
    circumstances = {c.id: c for c in law.circumstances}
    issues.extend(check_law(law, law_doc, facts, circumstances))

    for v, doc in raw_violations:
        if v.code in violations:
            issues.append(doc.issue(("code",), f"违法行为代码重复：{v.code}（另见 {violations[v.code].doc.file}）"))
            continue
        resolved, found = resolve_facts(v, doc, facts)
        issues.extend(found)
        violations[v.code] = LoadedViolation(model=v, doc=doc, facts=resolved)
        issues.extend(check_violation(v, doc, law, resolved, circumstances))
    issues.extend(check_contradictions(law_doc, ("contradictions",), law.contradictions, set(facts) | set(circumstances), facts))

    for e, doc in raw_editions:
        key = f"{e.id}@{e.edition}"
        if key in editions:
            issues.append(doc.issue(("edition",), f"裁量基准版本重复：{key}"))
            continue
        editions[key] = LoadedEdition(model=e, doc=doc, key=key, sha256=doc.sha256)
    for le in editions.values():
        found = list(check_edition(le, editions, violations, facts, circumstances))
        found += approval.check_changelog(le, violations)
        if unreadable:  # a refused violation file is reported once, at its own line, not again per edition
            found = [i for i in found if not _follows_from(i, unreadable)]
        issues.extend(found)
        if not any(i.severity == "error" for i in found):  # the approval covers valid content only
            issues.extend(approval.check_approval(le, reviewers))

    if any(i.severity == "error" for i in issues):
        raise RulebookError(message=f"规则集有 {len(issues)} 处错误，整体拒绝加载", issues=issues)
    h = hashlib.sha256()
    h.update(law_doc.sha256.encode())
    for code in sorted(violations):
        h.update(violations[code].doc.sha256.encode())
    rs = RulebookSet(
        root=root,
        law=law,
        law_doc=law_doc,
        violations=violations,
        editions=editions,
        facts=facts,
        circumstances=circumstances,
        sha256=h.hexdigest(),
        reviewers=reviewers,
    )
    for le in editions.values():  # a province's categories first: a prefecture takes them over with its parent
        if le.model.parent is None:
            apply_categories(le, violations)
    for le in editions.values():
        merge_parent(le, editions)
    return rs


def _reviewers(root: Path, read: Any, issues: list[RulebookIssue]) -> signing.Registry:
    """The tree's registry of reviewers' public keys (empty when it has none or it is refused)."""
    path = root / signing.REGISTRY
    if not path.is_file():
        return signing.Registry({}, None)
    got = read(path, ReviewerRegistry)
    if got is None:
        return signing.Registry({}, loading.Document(file=signing.REGISTRY, data=None))
    reg, found = signing.registry(*got)
    issues.extend(found)
    return reg


_UNKNOWN_VIOLATION = re.compile(r"未知的违法行为：(\S+)$")


def _follows_from(issue: RulebookIssue, unreadable: set[str]) -> bool:
    """An edition's "unknown violation" issue about a violation file that was itself refused."""
    m = _UNKNOWN_VIOLATION.search(issue.message)
    return m is not None and m.group(1) in unreadable


# --- the edition behind a file ----------------------------------------------------------------


def tree_of(path: Path) -> Path | None:
    """The rulebook tree holding ``path``: the nearest folder above it with ``law/law.yaml``."""
    for folder in path.resolve().parents:
        if (folder / "law" / "law.yaml").is_file():
            return folder
    return None


def edition_file(path: Path, root: Path | None = None) -> tuple[RulebookSet, LoadedEdition]:
    """Load the tree holding the edition file ``path`` (``root`` if given) and return that edition."""
    if not path.is_file():
        raise NotFoundError(message=f"文件不存在：{path}", field="file")
    found = root.resolve() if root is not None else tree_of(path)
    if found is None:
        raise NotFoundError(message=f"{path} 不在规则集目录中（其上级目录都没有 law/law.yaml）", field="file")
    rs = load(found)
    target = path.resolve()
    for le in rs.editions.values():
        if (rs.root.parent / le.doc.file).resolve() == target:
            return rs, le
    raise NotFoundError(message=f"{path} 不是规则集 {rs.root} 中的裁量基准版本文件", field="file")
