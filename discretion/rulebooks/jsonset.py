"""A rulebook set compiled to one JSON document, and loaded back: the offline terminal's rulebooks.

The terminal runs the engine in Pyodide, which has no PyYAML and no cryptography. :func:`dumps`
writes, from a set :func:`~discretion.rulebooks.tree.load` accepted (signatures verified), the
documents it was built from as parsed data: the law layer, every violation type, and the published
benchmark editions with the editions they narrow (drafts and approved-unpublished editions are left
out: an offline result is an official one, made with a published edition only), each with its file
name and the sha256 of its YAML source. ``source`` is the content address of the whole source tree
(:func:`~discretion.rulebooks.tree.source_hash`): the service's name for the set, by which it finds
the same rules to re-evaluate an uploaded offline result.

:func:`loads` validates each document against its model and builds the set with
:func:`~discretion.rulebooks.tree.assemble`, as ``tree.load`` does (the same cross-checks, the same
content hashes of approvals; the approval signatures were verified when the bundle was built).

Values keep their types exactly: decimals (``0.7``) are written as JSON numbers with a point or an
exponent and read back as :class:`~decimal.Decimal` from their text; integers stay integers; keys
and their order stay as in the YAML. :func:`dumps` refuses what JSON cannot carry (a key that is not
text) and checks that the document loads back to the same data, value for value.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import RulebookError, RulebookIssue
from . import loading, tree
from .loaded import LoadedEdition, RulebookSet
from .models import BenchmarkEdition, LawEdition, Violation

FORMAT = "discretion/rulebooks-json/1"
ROOT = Path("rulebooks")  # the root a set loaded from JSON reports (it has no tree on disk)


def included(rs: RulebookSet) -> list[LoadedEdition]:
    """The editions an offline set carries: the published ones and every edition they narrow, in the
    set's order."""
    keep: set[str] = set()
    for le in rs.editions.values():
        if le.model.status != "published":
            continue
        cur: LoadedEdition | None = le
        while cur is not None and cur.key not in keep:
            keep.add(cur.key)
            parent = cur.model.parent
            cur = rs.editions.get(parent) if parent else None
    return [le for le in rs.editions.values() if le.key in keep]


def dumps(rs: RulebookSet, source: str) -> bytes:
    """The set as one JSON document (UTF-8); ``source``: :func:`tree.source_hash` of its source files."""
    editions = included(rs)

    def doc(d: loading.Document, **more: Any) -> dict[str, Any]:
        return {"file": d.file, "sha256": d.sha256, **more, "data": d.data}

    document = {
        "format": FORMAT,
        "source": source,
        "sha256": rs.sha256,
        "law": doc(rs.law_doc),
        "violations": [doc(v.doc) for v in rs.violations.values()],
        "editions": [doc(le.doc, key=le.key, status=le.model.status) for le in editions],
        "left_out": [{"key": le.key, "status": le.model.status} for le in rs.editions.values() if le not in editions],
    }
    parts: list[str] = []
    _write(document, parts.append, "")
    raw = "".join(parts).encode("utf-8")
    back = _parse(raw)
    for got, want in zip([back["law"], *back["violations"], *back["editions"]],
                         [rs.law_doc, *(v.doc for v in rs.violations.values()), *(le.doc for le in editions)]):
        if not _same(got["data"], want.data):
            raise RulebookError(message=f"{want.file}：编译成 JSON 后内容不同（类型或数值），不能用于离线终端")
    return raw


def _write(x: Any, out: Callable[[str], None], where: str) -> None:
    if isinstance(x, dict):
        out("{")
        for i, (k, v) in enumerate(x.items()):
            if not isinstance(k, str):
                raise RulebookError(message=f"{where}：键 {k!r} 不是文字，JSON 无法表示")
            out(("," if i else "") + json.dumps(k, ensure_ascii=False) + ":")
            _write(v, out, f"{where}.{k}" if where else k)
        out("}")
    elif isinstance(x, list):
        out("[")
        for i, v in enumerate(x):
            out("," if i else "")
            _write(v, out, f"{where}[{i}]")
        out("]")
    elif isinstance(x, Decimal):
        if not x.is_finite():
            raise RulebookError(message=f"{where}：数值 {x} 不是有限数")
        text = str(x)
        # a JSON number without a point or an exponent reads back as an integer: give it an exponent
        out(text if any(c in text for c in ".eE") else text + "E+0")
    elif x is None or isinstance(x, (bool, int, str)):
        out(json.dumps(x, ensure_ascii=False))
    else:
        raise RulebookError(message=f"{where}：类型 {type(x).__name__} 无法编译成 JSON")


def _parse(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def _same(a: Any, b: Any) -> bool:
    """Equal value for value, with the same types (and a decimal with the same digits and exponent)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return bool(a == b)


def loads(raw: bytes) -> RulebookSet:
    """The set a document of :func:`dumps` carries, built and cross-checked as ``tree.load`` builds it;
    its ``extra`` holds ``source`` (the source tree's content address) and ``left_out`` (the editions
    not carried). Raises :class:`RulebookError` naming the document and path of every problem."""
    try:
        data = _parse(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RulebookError(message=f"编译的规则集不是有效的 JSON：{exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else None
        raise RulebookError(message=f"编译的规则集格式不符：须为 {FORMAT}，实为 {got!r}")
    issues: list[RulebookIssue] = []

    def read(entry: Any, model: Any) -> tuple[Any, loading.Document] | None:
        doc = loading.Document(file=str(entry.get("file")), data=entry.get("data"), sha256=str(entry.get("sha256")))
        try:
            return loading.validate(doc, model), doc
        except RulebookError as exc:
            issues.extend(exc.issues or [RulebookIssue(file=doc.file, line=None, message=exc.message)])
            return None

    def read_all(entries: Iterable[Any], model: Any) -> list[Any]:
        return [got for e in entries if (got := read(e, model)) is not None]

    law = read(data["law"], LawEdition)
    violations = read_all(data["violations"], Violation)
    editions = read_all(data["editions"], BenchmarkEdition)
    if law is None:
        raise RulebookError(message="编译的规则集无法加载", issues=issues)
    rs = tree.assemble(ROOT, law, violations, editions, None, issues)
    if rs.sha256 != data["sha256"]:
        raise RulebookError(message=f"编译的规则集的哈希不符：记载为 {data['sha256'][:16]}…，内容为 {rs.sha256[:16]}…")
    rs.extra["source"] = data["source"]
    rs.extra["left_out"] = data["left_out"]
    return rs
