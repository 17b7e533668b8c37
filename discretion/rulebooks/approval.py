"""The life of a benchmark edition: draft → approved (法制审核) → published.

An edition's **content hash** is the sha256 of its canonical JSON: the parsed edition without
``status`` and ``approval``, values that equal the schema default left out, decimals written
normalised (``0.70`` → ``"0.7"``), dates as ``YYYY-MM-DD``, keys sorted, no whitespace, UTF-8.
Comments, quoting, key order and layout of the YAML do not change it; any change of content does.

Approval records author, reviewer (never the author), date and that hash, signed with the
reviewer's private key (:mod:`discretion.rulebooks.signing`); publishing needs a valid approval and
adds who published and when. Loading refuses an approved or published edition whose content no
longer matches its approval, or whose approval lacks a good signature by a key registered for its
reviewer in ``reviewers.yaml``, naming file and line. Approving and
publishing rewrite only the ``status`` line and the ``approval`` block of the edition file
(:func:`rewrite`); everything else stays byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from ..errors import ConflictError, ForbiddenError, RulebookError, RulebookIssue
from . import loading, signing
from .loaded import LoadedEdition, LoadedViolation
from .models import Approval, BenchmarkEdition, Status

STATUS_LABELS = {"draft": "草案", "approved": "已审核（未发布）", "published": "已发布"}

# --- the content hash ------------------------------------------------------------------------


def _canon(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v.normalize(), "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def canonical(e: BenchmarkEdition) -> bytes:
    """The canonical JSON of an edition's content (what the approval hash covers)."""
    data = e.model_dump(mode="python", exclude={"status", "approval"}, exclude_defaults=True)
    return json.dumps(_canon(data), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(e: BenchmarkEdition) -> str:
    """sha256 (hex) of :func:`canonical`."""
    return hashlib.sha256(canonical(e)).hexdigest()


# --- checks on loading ------------------------------------------------------------------------


def check_changelog(le: LoadedEdition, violations: Mapping[str, LoadedViolation]) -> Iterator[RulebookIssue]:
    """Every changelog entry names existing violation types and dates inside the edition's period."""
    e, doc = le.model, le.doc
    period = f"{e.effective_from.isoformat()} 至 {e.effective_to.isoformat() if e.effective_to else '失效之日'}"
    for i, entry in enumerate(e.changelog):
        if entry.violations != "all":
            for k, code in enumerate(entry.violations):
                if code not in violations:
                    yield doc.issue(("changelog", i, "violations", k), f"变更说明引用了未知的违法行为：{code}")
        for name in ("affects_from", "affects_to"):
            day = getattr(entry, name)
            if day is None:
                continue
            if day < e.effective_from or (e.effective_to is not None and day > e.effective_to):
                yield doc.issue(("changelog", i, name), f"变更影响的日期 {day.isoformat()} 不在本版本施行期间（{period}）内")


def check_approval(le: LoadedEdition, reviewers: signing.Registry | None) -> Iterator[RulebookIssue]:
    """Status and approval agree, an approved or published edition's content is what was approved,
    and its approval is signed by a key registered for its reviewer (``reviewers``; None: signatures
    are not checked, for rebuilding a stored snapshot only)."""
    e, doc = le.model, le.doc
    a = e.approval
    if e.status == "draft":
        if a is not None:
            yield doc.issue(("approval",), "草案不得带有审批记录（修改已审核的版本后，请把状态改回 draft、删除 approval，重新审核）")
        return
    if a is None:
        yield doc.issue(("status",), f"状态为 {e.status}（{STATUS_LABELS[e.status]}）的版本必须有审批记录 approval（起草人、审核人、日期、内容哈希）")
        return
    if a.author != e.author:
        yield doc.issue(("approval", "author"), f"审批记录的起草人“{a.author}”与版本的起草人 author“{e.author}”不一致")
    got = content_hash(e)
    if a.sha256 != got:
        yield doc.issue(
            ("approval", "sha256"),
            f"版本内容与审批记录不符：审核时的内容哈希为 {a.sha256[:12]}…，现在为 {got[:12]}…；"
            "审核后内容被改动，须改回草案重新法制审核",
        )
    if reviewers is not None:
        yield from _check_signature(le, a, reviewers)
    if e.status == "published" and a.published_on is None:
        yield doc.issue(("approval",), "已发布的版本须记录发布人和发布日期（published_by、published_on）")
    if e.status == "approved" and a.published_on is not None:
        yield doc.issue(("approval", "published_on"), "未发布的版本不得有发布记录")


REAPPROVE = "请把状态改回 draft、删除 approval 块，由审核人用登记的私钥重新审核（discretion rulebooks approve --key 私钥文件）后再发布"


def _check_signature(le: LoadedEdition, a: Approval, reviewers: signing.Registry) -> Iterator[RulebookIssue]:
    """The approval carries a good signature by one of its reviewer's registered keys."""
    doc, key = le.doc, le.key
    s = a.signature
    if s is None:
        yield doc.issue(("approval",), f"{key} 的审批记录没有审核人的电子签名，不承认为已审核或已发布"
                                       f"（旧版未签名的审批记录一律须重新审核）：{REAPPROVE}")
        return
    keys = reviewers.of(a.reviewer)
    if not keys:
        where = "规则集没有审核人公钥登记文件 reviewers.yaml" if reviewers.doc is None else "reviewers.yaml 中没有其公钥"
        yield doc.issue(("approval", "reviewer"), f"{key} 的审核人“{a.reviewer}”未登记公钥（{where}），审批签名无法核验，不承认为已审核或已发布")
        return
    raw = keys.get(s.key)
    if raw is None:
        yield doc.issue(("approval", "signature", "key"), f"{key} 的审批签名所用的密钥 {s.key[:16]}… 不是审核人“{a.reviewer}”"
                                                         "在 reviewers.yaml 中登记的公钥，不承认为已审核或已发布")
        return
    if not signing.verify(raw, key, a):
        yield doc.issue(("approval", "signature", "value"), f"{key} 的审批签名无效：签名与审批记录（版本、起草人、审核人、日期、"
                                                           f"内容哈希、签名时间）不符，审批记录在签名后被改动或签名系伪造；{REAPPROVE}")


# --- transitions ------------------------------------------------------------------------------


def approve(e: BenchmarkEdition, reviewer: str, on: dt.date) -> Approval:
    """The approval of a draft by ``reviewer`` on ``on`` (never by its author)."""
    key = f"{e.id}@{e.edition}"
    if e.status != "draft":
        raise ConflictError(message=f"只有草案可以审核；{key} 的状态为 {STATUS_LABELS[e.status]}", field="status")
    if reviewer == e.author:
        raise ForbiddenError(message=f"审核人不得为版本起草人（{e.author}）", field="reviewer")
    return Approval(author=e.author, reviewer=reviewer, date=on, sha256=content_hash(e))


def publish(e: BenchmarkEdition, publisher: str, on: dt.date) -> Approval:
    """The approval of an approved edition with its publication by ``publisher`` on ``on``."""
    key = f"{e.id}@{e.edition}"
    if e.status != "approved" or e.approval is None:
        raise ConflictError(message=f"只有已审核的版本可以发布；{key} 的状态为 {STATUS_LABELS[e.status]}", field="status")
    if e.approval.sha256 != content_hash(e):
        raise ConflictError(message=f"{key} 的内容与审批记录不符，不得发布", field="approval")
    if on < e.approval.date:
        raise ConflictError(message=f"发布日期 {on.isoformat()} 早于审核日期 {e.approval.date.isoformat()}", field="date")
    return e.approval.model_copy(update={"published_by": publisher, "published_on": on})


# --- rewriting the edition file ---------------------------------------------------------------

_STATUS = re.compile(r"^status:")
_APPROVAL = re.compile(r"^approval:")


def _block(approval: Approval, eol: str) -> list[str]:
    def q(s: str) -> str:  # a YAML double-quoted scalar (JSON string syntax is valid YAML)
        return json.dumps(s, ensure_ascii=False)

    lines = [
        "approval:",
        f"  author: {q(approval.author)}",
        f"  reviewer: {q(approval.reviewer)}",
        f"  date: {approval.date.isoformat()}",
        f"  sha256: {approval.sha256}",
    ]
    if approval.signature is not None:
        s = approval.signature
        lines += ["  signature:", f"    key: {s.key}", f"    signed_at: \"{s.signed_at}\"", f"    value: \"{s.value}\""]
    if approval.published_by is not None and approval.published_on is not None:
        lines += [f"  published_by: {q(approval.published_by)}", f"  published_on: {approval.published_on.isoformat()}"]
    return [line + eol for line in lines]


def rewrite(text: str, status: Status, approval: Approval) -> str:
    """The edition file ``text`` with its top-level ``status`` line and ``approval`` block replaced
    (the block is inserted after the status line when there is none); nothing else changes."""
    lines = text.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if _STATUS.match(line)]
    if len(at) != 1:
        raise RulebookError(message="版本文件须有且只有一行顶格的 status:", issues=[])
    s = at[0]
    eol = "\r\n" if lines[s].endswith("\r\n") else "\n"
    lines[s] = f"status: {status}{eol}"
    starts = [i for i, line in enumerate(lines) if _APPROVAL.match(line)]
    if len(starts) > 1:
        raise RulebookError(message="版本文件有多个 approval 块", issues=[])
    block = _block(approval, eol)
    if starts:
        b = starts[0]
        end = b + 1
        while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
            end += 1
        lines[b:end] = block
    else:
        if not lines[s].endswith(("\n", "\r")):
            lines[s] += eol
        lines[s + 1 : s + 1] = block
    return "".join(lines)


def verify_rewrite(before: BenchmarkEdition, text: str, name: str) -> BenchmarkEdition:
    """Parse the rewritten file and make sure only status and approval changed."""
    doc = loading.parse(text.encode("utf-8"), name)
    after = loading.validate(doc, BenchmarkEdition)
    if content_hash(after) != content_hash(before):  # pragma: no cover - rewrite() touches no content
        raise RulebookError(message=f"{name}：改写后内容哈希变化，已放弃改写", issues=[])
    return after
