"""A lint finding, the check ids with their titles and severities, and the two ways a finding is
made: from a loader issue (:func:`_finding`) or at a path of a parsed file (:func:`_at`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...errors import RulebookIssue
from ...rulebooks import loading

ERROR = "error"
WARNING = "warning"

#: Every check id with its Chinese title and its usual severity.
CHECKS: dict[str, tuple[str, str]] = {
    "load-error": ("规则集文件无法加载（YAML、字段、交叉引用或审批记录错误）", ERROR),
    "unknown-name": ("引用了未知的事实、情节或违法行为", ERROR),
    "duplicate-id": ("编号重复", ERROR),
    "missing-basis": ("规则缺少法律依据或引文", ERROR),
    "never-fires": ("规则永远不会适用", ERROR),
    "level-gap": ("因子等级的数值条件有空档", ERROR),
    "level-overlap": ("因子的两个等级同时成立", ERROR),
    "exclusive-overlap": ("只能适用其一的两条规则同时适用", ERROR),
    "band-outside-range": ("基准金额或档次超出法定幅度", ERROR),
    "edition-overlap": ("同一辖区的版本施行期间重叠", ERROR),
    "edition-gap": ("同一辖区的版本施行期间有空档", ERROR),
    "prefecture-widens": ("下级版本放宽了上级版本", ERROR),
}


@dataclass(frozen=True, order=True)
class Finding:
    """One lint finding; ``line`` is 1-based (file-level findings point at line 1)."""

    file: str
    line: int
    check: str
    severity: str
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity} [{self.check}] {self.rule_id or '-'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "rule_id": self.rule_id,
            "message": self.message,
        }


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == WARNING]


def _finding(issue: RulebookIssue, check: str, severity: str | None = None) -> Finding:
    return Finding(
        file=issue.file,
        line=issue.line or 1,
        check=check,
        severity=severity or CHECKS[check][1],
        rule_id=issue.rule_id,
        message=issue.message,
    )


def _at(doc: loading.Document, path: tuple[Any, ...], check: str, message: str, severity: str | None = None, rule_id: str | None = None) -> Finding:
    issue = doc.issue(path, message)
    if rule_id is not None:
        issue.rule_id = rule_id
    return _finding(issue, check, severity)
