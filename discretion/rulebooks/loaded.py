"""The loaded rulebook tree as data: the law layer, its violation types and the benchmark editions,
each with the parsed document it came from (file, lines, sha256).

:mod:`discretion.rulebooks.tree` builds these; everything after loading reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotFoundError
from . import loading, signing
from .models import BenchmarkEdition, CircumstanceDef, FactDef, LawEdition, Violation


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
    reviewers: "signing.Registry | None" = None  # reviewers.yaml, the keys approvals were verified with (None: not verified)

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
