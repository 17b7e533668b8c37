"""Helpers for tests that break a copy of the rulebook tree and check the refusal, and that sign
approvals with test reviewers' keys."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from discretion.errors import RulebookError
from discretion.rulebooks import approval, loading, signing, tree
from discretion.rulebooks.models import BenchmarkEdition


# how many violation types the shipped tree holds: one file each, counted without loading it (the
# tests that list every type compare with this, so adding a type changes no test)
SHIPPED_TYPES = len(list((tree.SHIPPED / "law" / "violations").glob("*.yaml")))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def refusal(root: Path) -> RulebookError:
    with pytest.raises(RulebookError) as exc:
        tree.load(root)
    assert exc.value.issues, "a refusal must list its issues"
    return exc.value


# --- approvals signed by test reviewers ----------------------------------------------------------


def reviewer_key(name: str) -> Ed25519PrivateKey:
    """A test reviewer's private key, derived from the name (tests only: anyone can derive it)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"discretion test reviewer {name}".encode()).digest())


def register(root: Path, reviewer: str, key: Ed25519PrivateKey | None = None) -> Ed25519PrivateKey:
    """Register ``key`` (the test key of ``reviewer`` by default) in the tree's reviewers.yaml."""
    key = key or reviewer_key(reviewer)
    path = root / signing.REGISTRY
    text = path.read_text(encoding="utf-8") if path.exists() else "keys:\n"
    path.write_text(text + signing.entry_text(reviewer, signing.public_text(key), dt.date(2026, 12, 1), "测试管理员"), encoding="utf-8")
    return key


def reapprove(root: Path) -> None:
    """Give every approved or published edition under ``root`` the hash of its present content,
    signed with its reviewer's test key (:func:`reviewer_key`)."""
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root)
        if rel.parts[0] == "law" or rel.name == signing.REGISTRY:
            continue
        text = path.read_text(encoding="utf-8")
        try:
            e = loading.validate(loading.parse(text.encode("utf-8"), path.name), BenchmarkEdition)
        except RulebookError:
            continue  # a file broken on purpose
        if e.approval is not None:
            a = e.approval.model_copy(update={"sha256": approval.content_hash(e), "signature": None})
            a = signing.sign(reviewer_key(a.reviewer), f"{e.id}@{e.edition}", a, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
            path.write_text(approval.rewrite(text, e.status, a), encoding="utf-8")
