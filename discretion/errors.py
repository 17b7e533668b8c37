"""One error hierarchy for the whole library; every error has a stable ``code``.

The API and the CLI map :class:`DiscretionError` in one place each. Messages are
Chinese (they reach case handlers); codes and field paths are stable English.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DiscretionError(Exception):
    """Base class of every error raised by :mod:`discretion`."""

    message: str
    code: str = "discretion_error"
    field: str | None = None

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass
class RulebookIssue:
    """One problem found in a rulebook file, with its place."""

    file: str
    line: int | None
    message: str
    rule_id: str | None = None
    path: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rid = f" [{self.rule_id}]" if self.rule_id else ""
        at = f" ({self.path})" if self.path else ""
        return f"{where}:{rid}{at} {self.message}"


@dataclass
class RulebookError(DiscretionError):
    """A rulebook is broken; the whole set is refused."""

    code: str = "rulebook_invalid"
    issues: list[RulebookIssue] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.issues:
            return f"{self.code}: {self.message}"
        return "\n".join(str(i) for i in self.issues)


@dataclass
class InputError(DiscretionError):
    """A case or request is invalid (maps to HTTP 422)."""

    code: str = "invalid_input"


@dataclass
class ContradictionError(InputError):
    """Inputs of a case deny each other (maps to HTTP 422 ``contradictory_inputs``): ``fields``
    names every one of them (``field`` is the first), the message names them in Chinese."""

    code: str = "contradictory_inputs"
    fields: tuple[str, ...] = ()


@dataclass
class NotFoundError(DiscretionError):
    """An id names nothing that exists (maps to HTTP 404)."""

    code: str = "not_found"


@dataclass
class NoApplicableRuleError(DiscretionError):
    """No rule applies where the law requires exactly one (a rulebook gap)."""

    code: str = "no_applicable_rule"


@dataclass
class EngineError(DiscretionError):
    """The rules engine failed (an action raised, or the engine refused a case)."""

    code: str = "engine_error"


@dataclass
class AuthError(DiscretionError):
    """The caller is not authenticated (maps to HTTP 401)."""

    code: str = "unauthenticated"


@dataclass
class ForbiddenError(DiscretionError):
    """The caller's role may not do this (maps to HTTP 403)."""

    code: str = "forbidden"


@dataclass
class ConflictError(DiscretionError):
    """The request conflicts with what is stored (maps to HTTP 409), e.g. a second decision."""

    code: str = "conflict"


@dataclass
class TooManyAttemptsError(DiscretionError):
    """Too many failed attempts (e.g. logins); the caller may try again after ``retry_after``
    seconds (maps to HTTP 429 with ``Retry-After``)."""

    code: str = "too_many_attempts"
    retry_after: int = 60
