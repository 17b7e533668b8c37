"""Snapshots of rulebook sources: a set of source files, addressed by the hash of its content and
stored compressed (the records name the set they were made with)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from pathlib import Path

import orjson


def set_hash(files: Mapping[str, bytes]) -> str:
    """The content address of a set of rulebook source files (paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode("utf-8") + b"\0" + hashlib.sha256(files[path]).hexdigest().encode("ascii") + b"\n")
    return h.hexdigest()


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
