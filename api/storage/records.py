"""Records of the service: storing an assessment with who and which rulebooks, and reproducing it.

At start-up the rulebook source files the service loaded are kept in the store as a
content-addressed snapshot (once per distinct set); every assessment names its set by hash.
Reproduction re-evaluates a stored request with the engine of that set: the live one when the set
is current, otherwise one rebuilt from the snapshot (a few are cached).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from discretion import __version__
from discretion.engine.assessment import Assessment, Engine
from discretion.engine.case import Case
from discretion.errors import ConflictError, DiscretionError, ForbiddenError, InputError, RulebookError
from discretion.rulebooks import tree
from discretion.rulebooks.approval import STATUS_LABELS
from discretion.rulebooks.loaded import RulebookSet

from .rows import AssessmentFields, RequestIn, band_of
from .snapshots import set_hash, write_tree
from .store import Store
from .writer import already_superseded, superseded_error, supersedes_not_found

MAX_DIFFERENCES = 100


def loaded_hashes(rs: RulebookSet) -> set[str]:
    """The sha256 of every document a loaded set was built from (reviewers.yaml included)."""
    registry = rs.reviewers.doc if rs.reviewers is not None else None
    return {rs.law_doc.sha256, *(v.doc.sha256 for v in rs.violations.values()), *(e.doc.sha256 for e in rs.editions.values()),
            *([registry.sha256] if registry is not None and registry.sha256 else [])}


def snapshot_files(rs: RulebookSet) -> dict[str, bytes]:
    """The source files of a loaded set, checked against what was loaded (refused if they changed since)."""
    import hashlib

    files = tree.source_files(rs.root)
    have = {hashlib.sha256(b).hexdigest() for b in files.values()}
    if not loaded_hashes(rs) <= have:
        raise RulebookError(message="规则集文件在加载之后被修改，请重新启动服务", code="rulebook_changed")
    return files


class Records:
    """The service's record keeping: the current set's hash, and engines for reproduction."""

    CACHE = 3

    def __init__(self, store: Store, rs: RulebookSet, engine: Engine, matcher: str,
                 files: Mapping[str, bytes] | None = None) -> None:
        """``files``: the set's source files as they were loaded (read from its tree when not given)."""
        self.store = store
        self.engine = engine
        self.matcher = matcher
        self.set_hash = store.put_snapshot(snapshot_files(rs) if files is None else files)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    # --- storing -------------------------------------------------------------------------------

    def submit(self, rid: str, request: RequestIn, a: Assessment, result_json: bytes, who: Any,
               case: Mapping[str, Any] | None = None, supersedes: str | None = None) -> Future[dict[str, Any]]:
        """Queue the record of assessment ``a`` (its result already encoded, with ``rid`` inside), of
        its case's identity (api.casedata.stored), if any, and of the record it supersedes, if any."""
        return self.store.submit_assessment(rid, **self._fields(request, a, result_json, who, case, supersedes))

    def add(self, rid: str, request: RequestIn, a: Assessment, result_json: bytes, who: Any,
            idempotency: tuple[str, str, str] | None = None, case: Mapping[str, Any] | None = None,
            supersedes: str | None = None, offline: Mapping[str, Any] | None = None,
            rulebook_set: str | None = None) -> asyncio.Future[dict[str, Any]]:
        """:meth:`submit` in the running event loop: an asyncio future of the stored row, resolved once
        it is durably committed (await it). The request may be a function giving it: it is then
        called in the store's writer thread, off the event loop. ``idempotency``: see
        :meth:`~api.storage.writer.ChainWriter.add_assessment`. ``supersedes``: checked first with
        :func:`check_supersedes`; the writer checks again under the chain lock that no other record
        superseded it meanwhile (409 ``already_superseded``). ``offline`` (a terminal's result,
        re-evaluated) and ``rulebook_set`` (the set it was re-evaluated with, when not the current one)
        go into the record."""
        fields = self._fields(request, a, result_json, who, case, supersedes)
        if offline is not None:
            fields["offline"] = offline
        if rulebook_set is not None:
            fields["rulebook_set"] = rulebook_set
        return self.store.add_assessment(rid, idempotency, **fields)

    def _fields(self, request: RequestIn, a: Assessment, result_json: bytes, who: Any,
                case: Mapping[str, Any] | None, supersedes: str | None) -> AssessmentFields:
        check_official(a, who)
        fine = a.applied.fine
        return AssessmentFields(
            request=request, result_json=result_json, violation=a.case.violation, title=a.title, outcome=a.outcome,
            fine={"band": fine.band, "recommended": fine.recommended} if fine else None, edition=a.rulebook["key"],
            sha256=a.rulebook["sha256"], rulebook_set=self.set_hash, who=who, case=case, supersedes=supersedes)

    # --- reproducing ---------------------------------------------------------------------------

    def engine_for(self, key: str) -> tuple[Engine, str]:
        """The engine of rulebook set ``key``: ("current" | "snapshot"). Raises ConflictError (409)."""
        if key == self.set_hash:
            return self.engine, "current"
        with self._lock:
            got = self._engines.get(key)
            if got is not None:
                self._engines.move_to_end(key)
                return got, "snapshot"
            files = self.store.get_snapshot(key)
            if files is None:
                raise ConflictError(message=f"找不到该记录所用的规则集快照（{key[:16]}…），无法重现", code="snapshot_missing", field="id")
            if set_hash(files) != key:
                raise ConflictError(message=f"规则集快照（{key[:16]}…）的内容与其哈希不符，无法重现", code="snapshot_altered", field="id")
            try:
                rs = load_files(files)
                engine = Engine(rs, self.matcher)
            except RulebookError as exc:
                raise ConflictError(
                    message=f"规则集快照（{key[:16]}…）无法由当前程序加载：{exc.message}", code="snapshot_unloadable", field="id"
                ) from None
            self._engines[key] = engine
            while len(self._engines) > self.CACHE:
                self._engines.popitem(last=False)
            return engine, "snapshot"

    def reproduce(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Re-evaluate a stored assessment row with its own rulebook set; report any difference."""
        engine, which = self.engine_for(row["rulebook_set"])
        stored = orjson.loads(row["result"])
        try:
            case = Case.model_validate(json.loads(row["request"], parse_float=Decimal))
            now: Any = orjson.loads(engine.assess(case).to_json(id=row["id"]))
        except DiscretionError as exc:
            now = {"error": exc.code, "message": exc.message}
        except ValidationError as exc:
            now = {"error": "invalid_input", "message": str(exc.errors()[0]["msg"])}
        differences = diff(stored, now)
        return {
            "id": row["id"],
            "identical": not differences,
            "rulebooks": which,
            "rulebook_set": row["rulebook_set"],
            "edition": row["edition"],
            "sha256": row["sha256"],
            "engine_version": {"stored": row["engine_version"], "now": __version__},
            "reproduced_at": dt.datetime.now(dt.UTC).isoformat(),
            "differences": differences,
        }


def check_official(a: Assessment, who: Any) -> None:
    """A handler's record is an official one: made with a published benchmark edition only. An
    unpublished edition (a draft, or approved and not yet published) is for reviewers' what-if work;
    a handler asking for one is refused (403 ``unpublished_edition``) before anything is stored."""
    status = a.rulebook["status"]
    if status != "published" and getattr(who, "role", None) == "handler":
        raise ForbiddenError(
            message=f"裁量基准“{a.rulebook['title']}”（{STATUS_LABELS.get(status, status)}）尚未发布，仅供审核人员试算，"
            "不能作为案件的正式记录；请不指定版本，按施行中的已发布版本计算",
            code="unpublished_edition", field="edition")


def check_supersedes(row: Mapping[str, Any] | None, rid: str, who: Any) -> Mapping[str, Any]:
    """The stored row (Store.get_row) of the record a new assessment is to supersede (修改后重新计算),
    checked: it exists (404 ``superseded_not_found``), it was made by the caller (403
    ``supersede_forbidden``: a record is changed only by whoever made it, so that every version of
    a case stays in its handler's list; reviewers and admins, who may read it, may not replace it),
    and nothing supersedes it yet (409 ``already_superseded``, naming the newer record). What the
    new record says is not restricted: a recomputation may correct the violation type, the case's
    number or party as well as the facts. The writer checks the last two again under the chain lock."""
    if row is None:
        raise supersedes_not_found(rid)
    if row["created_by"] != getattr(who, "name", None):
        raise ForbiddenError(message="只能修改本人计算的记录（修改后重新计算）：该记录由他人计算",
                             code="supersede_forbidden", field="supersedes")
    if row.get("superseded_by"):
        raise already_superseded(rid, row["superseded_by"])
    return row


def check_decision(row: Mapping[str, Any], amount: int, reason: str | None) -> tuple[bool, str | None]:
    """Whether ``amount`` lies in the assessment's recommended band, and the reason to keep (stripped).

    Raises ConflictError ``decision_exists`` (409) for a second decision, ``superseded`` (409) on
    a record a recomputation replaced, and InputError ``reason_required`` (422) for an amount outside
    the band without a reason."""
    if row.get("decision") is not None:
        raise ConflictError(message=f"计算记录 {row['id']} 已有决定；记录只可追加，不能修改或重复决定",
                            code="decision_exists", field="id")
    if row.get("superseded_by"):
        raise superseded_error(row["id"], row["superseded_by"])
    lo, hi = band_of(row)
    within = lo <= amount <= hi
    reason = (reason or "").strip() or None
    if not within and reason is None:
        band = f"{lo:,} 至 {hi:,} 元" if row.get("band_min") is not None else "本案无罚款建议"
        raise InputError(message=f"决定的数额 {amount:,} 元不在建议裁量档次（{band}）内，须说明理由",
                         code="reason_required", field="reason")
    return within, reason


def load_files(files: Mapping[str, bytes]) -> RulebookSet:
    """Load a rulebook set from its source files (written to a temporary tree, then removed), to
    reproduce the records made with it. Approval signatures are not required here: the service
    accepted this set when it made those records (possibly before approvals were signed), and a
    rebuilt snapshot serves reproduction only, never a new assessment."""
    with tempfile.TemporaryDirectory(prefix="discretion-snapshot-") as tmp:
        root = Path(tmp) / "rulebooks"
        try:
            write_tree(files, root)
        except ValueError as exc:
            raise RulebookError(message=f"快照中的文件路径无效：{exc}") from None
        return tree.load(root, signatures=False)


def diff(stored: Any, now: Any, path: str = "", out: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Field paths (``fine.recommended``, ``trail[3].text``) where two JSON values differ."""
    out = [] if out is None else out
    if len(out) >= MAX_DIFFERENCES:
        return out
    if isinstance(stored, dict) and isinstance(now, dict):
        for k in list(stored) + [k for k in now if k not in stored]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in now:
                out.append({"path": sub, "stored": stored[k], "now": None})
            elif k not in stored:
                out.append({"path": sub, "stored": None, "now": now[k]})
            else:
                diff(stored[k], now[k], sub, out)
    elif isinstance(stored, list) and isinstance(now, list):
        for i in range(max(len(stored), len(now))):
            sub = f"{path}[{i}]"
            if i >= len(now):
                out.append({"path": sub, "stored": stored[i], "now": None})
            elif i >= len(stored):
                out.append({"path": sub, "stored": None, "now": now[i]})
            else:
                diff(stored[i], now[i], sub, out)
    elif stored != now or type(stored) is not type(now):
        out.append({"path": path, "stored": stored, "now": now})
    return out[:MAX_DIFFERENCES]
