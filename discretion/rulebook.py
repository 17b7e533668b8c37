"""The whole rulebook tree, loaded and cross-checked: the law layer plus benchmark editions.

Loading is all or nothing: every problem in every file is collected, then the set is
refused whole with the list (file, line, rule id), or returned complete.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import conditions, loading
from .errors import NotFoundError, RulebookError, RulebookIssue
from .models import (
    BenchmarkEdition,
    CircumstanceDef,
    FactDef,
    FactRef,
    LawEdition,
    Violation,
)

# Names every condition may read besides facts and circumstances; the pipeline sets them.
DERIVED = {
    "party": FactDef(name="party", label="当事人类型", type="enum", choices={"unit": "单位", "individual": "个人"}),
    "mitigating_count": FactDef(name="mitigating_count", label="从轻减轻情节数", type="count"),
    "aggravating_count": FactDef(name="aggravating_count", label="从重情节数", type="count"),
}

SHIPPED = Path(__file__).resolve().parent.parent / "rulebooks"


@dataclass
class LoadedViolation:
    model: Violation
    doc: loading.Document
    facts: dict[str, FactDef]  # every fact this violation's law uses, resolved


@dataclass
class LoadedEdition:
    model: BenchmarkEdition
    doc: loading.Document
    key: str  # "yunnan@2023"
    sha256: str = ""
    merged: BenchmarkEdition | None = None  # after applying the parent (prefecture editions)

    @property
    def effective(self) -> BenchmarkEdition:
        return self.merged or self.model


@dataclass
class RulebookSet:
    root: Path
    law: LawEdition
    law_doc: loading.Document
    violations: dict[str, LoadedViolation]
    editions: dict[str, LoadedEdition]
    facts: dict[str, FactDef]
    circumstances: dict[str, CircumstanceDef]
    sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def violation(self, code: str) -> LoadedViolation:
        try:
            return self.violations[code]
        except KeyError:
            raise NotFoundError(message=f"未知的违法行为代码：{code}", field="violation") from None

    def edition(self, key: str) -> LoadedEdition:
        try:
            return self.editions[key]
        except KeyError:
            raise NotFoundError(message=f"未知的裁量基准版本：{key}", field="edition") from None


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.yaml") if ".cases" not in p.name and "cases" not in p.parts)


def source_files(root: Path | None = None) -> dict[str, bytes]:
    """The bytes of every file :func:`load` reads under ``root``, by POSIX path relative to ``root``.

    A copy of these files, written out under a directory, loads as the same set: that is how a
    stored snapshot of the rulebooks is rebuilt (the caller checks each loaded document's sha256
    against the copy, so a change of file selection here or in ``load`` cannot go unnoticed)."""
    root = (root or SHIPPED).resolve()
    paths = [root / "law" / "law.yaml", *_yaml_files(root / "law" / "violations")]
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law"):
        paths.extend(_yaml_files(folder))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in paths if p.is_file()}


def load(root: Path | None = None) -> RulebookSet:
    """Load and cross-check every rulebook under ``root`` (the shipped ones by default)."""
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
    violations: dict[str, LoadedViolation] = {}
    editions: dict[str, LoadedEdition] = {}
    raw_violations: list[tuple[Violation, loading.Document]] = []
    unreadable: set[str] = set()  # codes of violation files refused (each file is named for its code)
    for path in _yaml_files(root / "law" / "violations"):
        v = read(path, Violation)
        if v:
            raw_violations.append(v)
        else:
            unreadable.add(path.stem)
    raw_editions: list[tuple[BenchmarkEdition, loading.Document]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "law"):
        for path in _yaml_files(folder):
            e = read(path, BenchmarkEdition)
            if e:
                raw_editions.append(e)
    if got is None:
        raise RulebookError(message="规则集无法加载", issues=issues)
    law, law_doc = got
    facts = {f.name: f for f in law.facts}
    circumstances = {c.id: c for c in law.circumstances}
    issues.extend(_check_law(law, law_doc, facts, circumstances))

    for v, doc in raw_violations:
        if v.code in violations:
            issues.append(doc.issue(("code",), f"违法行为代码重复：{v.code}（另见 {violations[v.code].doc.file}）"))
            continue
        resolved, found = _resolve_facts(v, doc, facts)
        issues.extend(found)
        violations[v.code] = LoadedViolation(model=v, doc=doc, facts=resolved)
        issues.extend(_check_violation(v, doc, law, resolved, circumstances))

    for e, doc in raw_editions:
        key = f"{e.id}@{e.edition}"
        if key in editions:
            issues.append(doc.issue(("edition",), f"裁量基准版本重复：{key}"))
            continue
        editions[key] = LoadedEdition(model=e, doc=doc, key=key, sha256=doc.sha256)
    from . import approval, benchmark  # late import: both depend on models only

    for le in editions.values():
        found = list(benchmark.check_edition(le, editions, violations, facts, circumstances))
        found += approval.check_changelog(le, violations)
        if unreadable:  # a refused violation file is reported once, at its own line, not again per edition
            found = [i for i in found if not _follows_from(i, unreadable)]
        issues.extend(found)
        if not any(i.severity == "error" for i in found):  # the approval covers valid content only
            issues.extend(approval.check_approval(le))

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
    )
    for le in editions.values():
        benchmark.merge_parent(le, editions)
    return rs


_UNKNOWN_VIOLATION = re.compile(r"未知的违法行为：(\S+)$")


def _follows_from(issue: RulebookIssue, unreadable: set[str]) -> bool:
    """An edition's "unknown violation" issue about a violation file that was itself refused."""
    m = _UNKNOWN_VIOLATION.search(issue.message)
    return m is not None and m.group(1) in unreadable


def _resolve_facts(
    v: Violation, doc: loading.Document, standard: dict[str, FactDef]
) -> tuple[dict[str, FactDef], list[RulebookIssue]]:
    out: dict[str, FactDef] = {}
    issues: list[RulebookIssue] = []
    for i, f in enumerate(v.facts):
        if isinstance(f, FactRef):
            base = standard.get(f.name)
            if base is None:
                issues.append(doc.issue(("facts", i), f"未知的标准事实：{f.name}（请在此处完整定义）"))
                continue
            upd = {k: val for k, val in (("label", f.label), ("hint", f.hint)) if val}
            out[f.name] = base.model_copy(update=upd)
        else:
            if f.name in standard and f != standard[f.name]:
                issues.append(doc.issue(("facts", i), f"事实 {f.name} 与标准事实同名，请直接引用名称"))
            out[f.name] = f
    return out, issues


def _check_law(
    law: LawEdition,
    doc: loading.Document,
    facts: dict[str, FactDef],
    circumstances: dict[str, CircumstanceDef],
) -> Iterator[RulebookIssue]:
    clash = set(facts) & set(circumstances)
    for name in sorted(clash):
        yield doc.issue(("facts",), f"事实与情节同名：{name}")
    regimes = {r.id for r in law.regimes}
    for rid, gen in law.general.items():
        if rid not in regimes:
            yield doc.issue(("general", rid), f"未定义的法律体系：{rid}")
        names = set(facts) | set(circumstances) | set(DERIVED)
        for i, lim in enumerate(gen.limitation):
            yield from _check_condition(doc, ("general", rid, "limitation", i, "when"), lim.when, names)
        for i, ex in enumerate(gen.exemptions):
            yield from _check_condition(doc, ("general", rid, "exemptions", i, "when"), ex.when, names)
        for i, adj in enumerate(gen.adjustments):
            if adj.circumstance not in circumstances:
                yield doc.issue(("general", rid, "adjustments", i, "circumstance"), f"未知的情节：{adj.circumstance}")


def _check_condition(
    doc: loading.Document, path: tuple[Any, ...], text: str | None, known: Iterable[str], facts: dict[str, FactDef] | None = None
) -> Iterator[RulebookIssue]:
    if not text:
        return
    node = conditions.parse(text)
    known = set(known)
    for c in conditions.comparisons(node):
        if c.name not in known:
            yield doc.issue(path, f"条件引用了未知的事实或情节：{c.name}")
            continue
        f = (facts or {}).get(c.name) or DERIVED.get(c.name)
        if f is None:
            if not isinstance(c.value, bool):
                yield doc.issue(path, f"情节 {c.name} 只能作为布尔条件使用")
            continue
        if f.type == "bool" and not isinstance(c.value, bool):
            yield doc.issue(path, f"布尔事实 {c.name} 不能与 {c.value!r} 比较")
        elif f.type == "enum":
            if c.op not in ("==", "!="):
                yield doc.issue(path, f"枚举事实 {c.name} 只能用 == 或 != 比较")
            elif f.choices and c.value not in f.choices:
                yield doc.issue(path, f"枚举事实 {c.name} 没有取值 {c.value!r}（可选：{', '.join(f.choices)}）")
        elif f.type in ("money", "count", "number"):
            if isinstance(c.value, (bool, str)):
                yield doc.issue(path, f"数值事实 {c.name} 不能与 {c.value!r} 比较")
        elif f.type == "date":
            yield doc.issue(path, f"日期事实 {c.name} 不能用于条件")


def _check_violation(
    v: Violation,
    doc: loading.Document,
    law: LawEdition,
    facts: dict[str, FactDef],
    circumstances: dict[str, CircumstanceDef],
) -> Iterator[RulebookIssue]:
    regime_laws = {r.id: set(r.laws) for r in law.regimes}
    for i, cid in enumerate(v.circumstances):
        if cid not in circumstances:
            yield doc.issue(("circumstances", i), f"未知的情节：{cid}（请先在 law.yaml 中定义）")
    known = set(facts) | set(circumstances) | set(DERIVED)
    for rid, rules in v.regimes.items():
        base = ("regimes", rid)
        laws = regime_laws.get(rid, set())
        for i, q in enumerate(rules.violated):
            if q.ref.law not in laws:
                yield doc.issue(base + ("violated", i, "ref", "law"), f"《{q.ref.law}》不属于法律体系 {rid}")
        for i, name in enumerate(rules.requires):
            if name not in facts:
                yield doc.issue(base + ("requires", i), f"必填事实 {name} 未在 facts 中列出")
        ids: set[str] = set()
        for pi, p in enumerate(rules.provisions):
            pp = base + ("provisions", pi)
            if p.basis.ref.law not in laws:
                yield doc.issue(pp + ("basis", "ref", "law"), f"《{p.basis.ref.law}》不属于法律体系 {rid}")
            yield from _check_condition(doc, pp + ("when",), p.when, known, facts)
            for rule_id in [p.id] + [e.id for e in p.escalations]:
                if rule_id in ids:
                    yield doc.issue(pp, f"规则编号重复：{rule_id}")
                ids.add(rule_id)
            fines = [(pp + ("fine",), p.fine, True)] + [
                (pp + ("individual_fines", k, "fine"), f.fine, False) for k, f in enumerate(p.individual_fines)
            ]
            for ei, esc in enumerate(p.escalations):
                ep = pp + ("escalations", ei)
                yield from _check_condition(doc, ep + ("when",), esc.when, known, facts)
                fines.append((ep + ("fine",), esc.fine, True))
                for k, f in enumerate(esc.individual_fines or []):
                    fines.append((ep + ("individual_fines", k, "fine"), f.fine, False))
                    yield from _check_condition(doc, ep + ("individual_fines", k, "when"), f.when, known, facts)
                for k, m in enumerate(esc.measures):
                    yield from _check_condition(doc, ep + ("measures", k, "when"), m.when, known, facts)
                for k, fl in enumerate(esc.flags):
                    yield from _check_condition(doc, ep + ("flags", k, "when"), fl.when, known, facts)
                if esc.basis and esc.basis.ref.law not in laws:
                    yield doc.issue(ep + ("basis", "ref", "law"), f"《{esc.basis.ref.law}》不属于法律体系 {rid}")
            for k, f in enumerate(p.individual_fines):
                yield from _check_condition(doc, pp + ("individual_fines", k, "when"), f.when, known, facts)
            for k, m in enumerate(p.measures):
                yield from _check_condition(doc, pp + ("measures", k, "when"), m.when, known, facts)
            for k, fl in enumerate(p.flags):
                yield from _check_condition(doc, pp + ("flags", k, "when"), fl.when, known, facts)
            if getattr(p.fine, "optional", False) and "可以处" not in p.basis.text:
                yield doc.issue(pp + ("fine", "optional"), "optional: true 只用于“可以处……罚款”的规定，所引条文中没有“可以处”")
            for path, fine, unit_fine in fines:
                base_fact = getattr(fine, "base", None) or getattr(fine, "count", None)
                if base_fact is None:
                    continue
                f = facts.get(base_fact)
                if f is None:
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 未在 facts 中列出")
                elif f.type not in ("money", "count"):
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 必须是金额或计数")
                elif unit_fine and base_fact not in rules.requires:
                    yield doc.issue(path, f"罚款基数事实 {base_fact} 必须列入 requires")
