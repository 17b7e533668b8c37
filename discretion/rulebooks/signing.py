"""Reviewers' Ed25519 signatures of approvals, and the registry of their public keys.

A reviewer holds a private key (a PEM file, optionally passphrase-encrypted, made by
``discretion reviewers keygen``); its public key is registered in the rulebook tree's
``reviewers.yaml`` (:class:`~discretion.rulebooks.models.ReviewerRegistry`), which is reviewed and
committed like every other rulebook file. ``rulebooks approve`` signs the approval with the
private key; loading verifies every approved or published edition's signature against the keys
registered for its reviewer (:func:`discretion.rulebooks.approval.check_approval`).

What is signed (:func:`message`): the canonical JSON of a fixed purpose string, the edition's key,
the decision (``approved``), author, reviewer, date, the content hash, the key's fingerprint and the
time of signing. Changing any of them, or the edition's content (its hash no longer matches), makes
the signature fail; publication (``published_by``, ``published_on``) is outside the signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
except ImportError:  # the offline terminal (Pyodide) has none: approvals were verified when its bundle was built
    InvalidSignature = serialization = Ed25519PrivateKey = Ed25519PublicKey = None  # type: ignore[assignment,misc]

from ..errors import InputError, RulebookIssue
from . import loading
from .models import Approval, ReviewerKey, ReviewerRegistry, Signature

PURPOSE = "discretion/approval/v1"
DECISION = "approved"
REGISTRY = "reviewers.yaml"  # at the root of the rulebook tree


def _need_cryptography() -> None:
    if Ed25519PublicKey is None:
        raise RuntimeError("verifying reviewers' signatures needs the cryptography package")


# --- keys -------------------------------------------------------------------------------------


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey, passphrase: bytes | None) -> bytes:
    """The private key as PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def pem_is_encrypted(pem: bytes) -> bool:
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem


def load_private(pem: bytes, passphrase: bytes | None) -> Ed25519PrivateKey:
    """A reviewer's private key from its PEM file; InputError (field ``key``) when it is not one or
    the passphrase is wrong or missing."""
    if pem_is_encrypted(pem) and not passphrase:
        raise InputError(message="私钥文件已加密，须提供口令", field="key")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase if pem_is_encrypted(pem) else None)
    except (ValueError, TypeError):
        raise InputError(message="无法读取私钥：文件不是私钥，或口令不正确", field="key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(message="私钥须为 Ed25519 密钥（由 discretion reviewers keygen 生成）", field="key")
    return key


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as registered in reviewers.yaml: base64 of its 32 raw bytes."""
    return base64.b64encode(public_raw(key)).decode("ascii")


def fingerprint(raw: bytes) -> str:
    """A public key's fingerprint: sha256 (hex) of its 32 raw bytes."""
    return hashlib.sha256(raw).hexdigest()


def decode_public(text: str) -> bytes | None:
    """The 32 raw bytes of a registered public key, or None when the text is not one."""
    _need_cryptography()
    try:
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        return None
    return raw


# --- signing and verifying --------------------------------------------------------------------


def message(edition: str, a: Approval, key: str, signed_at: str) -> bytes:
    """The bytes a reviewer signs for approval ``a`` of edition ``edition`` (e.g. ``yunnan@2023``)."""
    data = {
        "purpose": PURPOSE, "edition": edition, "decision": DECISION, "author": a.author, "reviewer": a.reviewer,
        "date": a.date.isoformat(), "sha256": a.sha256, "key": key, "signed_at": signed_at,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(key: Ed25519PrivateKey, edition: str, a: Approval, at: dt.datetime) -> Approval:
    """Approval ``a`` with the reviewer's signature made now (``at``) with ``key``."""
    fp = fingerprint(public_raw(key))
    signed_at = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = base64.b64encode(key.sign(message(edition, a, fp, signed_at))).decode("ascii")
    return a.model_copy(update={"signature": Signature(key=fp, signed_at=signed_at, value=value)})


def verify(raw: bytes, edition: str, a: Approval) -> bool:
    """Whether ``a`` carries a good signature by the public key ``raw`` over its own fields."""
    _need_cryptography()
    s = a.signature
    if s is None or s.key != fingerprint(raw):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(s.value), message(edition, a, s.key, s.signed_at))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


# --- the registry -----------------------------------------------------------------------------


class Registry:
    """The reviewers' public keys of one rulebook tree, by reviewer name and fingerprint."""

    def __init__(self, keys: Mapping[str, Mapping[str, bytes]], doc: loading.Document | None) -> None:
        self.keys = keys  # reviewer → fingerprint → raw public key
        self.doc = doc  # None: the tree has no reviewers.yaml

    def of(self, reviewer: str) -> Mapping[str, bytes]:
        return self.keys.get(reviewer, {})


def registry(model: ReviewerRegistry, doc: loading.Document | None) -> tuple[Registry, list[RulebookIssue]]:
    """The registry a parsed reviewers.yaml declares, with the issues of its entries (each named at its line)."""
    keys: dict[str, dict[str, bytes]] = {}
    issues: list[RulebookIssue] = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(model.keys):
        raw = decode_public(entry.public_key)
        where = ("keys", i, "public_key")
        if raw is None:
            issues.append(_issue(doc, where, f"审核人“{entry.reviewer}”登记的公钥不是有效的 Ed25519 公钥"))
            continue
        fp = fingerprint(raw)
        if fp in seen:
            issues.append(_issue(doc, where, f"公钥 {fp[:16]}… 重复登记（另见审核人“{seen[fp]}”的条目）"))
            continue
        seen[fp] = entry.reviewer
        keys.setdefault(entry.reviewer, {})[fp] = raw
    return Registry(keys, doc), issues


def _issue(doc: loading.Document | None, path: tuple[object, ...], message: str) -> RulebookIssue:
    return doc.issue(path, message) if doc is not None else RulebookIssue(file=REGISTRY, line=None, message=message)


def entries(reg: Registry) -> Iterator[tuple[str, str]]:
    """(reviewer, fingerprint) of every registered key."""
    for reviewer, keys in sorted(reg.keys.items()):
        for fp in keys:
            yield reviewer, fp


def entry_text(reviewer: str, public_key: str, added: dt.date, added_by: str) -> str:
    """The reviewers.yaml entry registering ``public_key`` (:func:`public_text`) for ``reviewer``
    (appended under ``keys:``)."""
    e = ReviewerKey(reviewer=reviewer, public_key=public_key, added=added, added_by=added_by)

    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    return (f"  - reviewer: {q(e.reviewer)}\n    public_key: \"{e.public_key}\"\n"
            f"    added: {e.added.isoformat()}\n    added_by: {q(e.added_by)}\n")
