"""Snapshots of rulebook sources: a set of source files, addressed by the hash of its content and
stored compressed (the records name the set they were made with)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from pathlib import Path

import orjson

from discretion.rulebooks.tree import source_hash as set_hash  # the set's content address (the offline bundle's too)

__all__ = ["set_hash", "pack_files", "unpack_files", "write_tree"]


def pack_files(files: Mapping[str, bytes]) -> bytes:
    return zlib.compress(orjson.dumps({p: files[p].decode("utf-8") for p in sorted(files)}), 6)


def unpack_files(blob: bytes) -> dict[str, bytes]:
    return {p: t.encode("utf-8") for p, t in orjson.loads(zlib.decompress(blob)).items()}


def write_tree(files: Mapping[str, bytes], root: Path) -> None:
    """Write a set of source files out under ``root`` (a tree that loads as the same set); a path
    that would leave ``root`` is refused (ValueError)."""
    base = root.resolve()
    for rel, data in files.items():
        target = (base / rel).resolve()
        if base not in target.parents:
            raise ValueError(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
