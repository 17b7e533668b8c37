"""Helpers for tests that break a copy of the rulebook tree and check the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from discretion.errors import RulebookError
from discretion.rulebooks import tree


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
