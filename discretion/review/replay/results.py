"""The replay of one row as data: what each edition decided (:class:`Side`), the rule differences
that explain a change (:class:`Cause`), the row's result (:class:`CaseResult`), and the per-case
results file (:data:`RESULT_COLUMNS`, :func:`labelled`, :func:`result_rows`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ...engine.assessment import Assessment
from ...engine.results import NOTICE_FLAGS
from ...engine.trail import REGIME_LABELS
from ..casefile import RowError

OUTCOME_LABELS = {"penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限"}
CHANGE_LABELS = {
    "unchanged": "无变化",
    "amount_up": "罚款上调",
    "amount_down": "罚款下调",
    "band": "档次或幅度变化",
    "flags": "程序提示变化",
    "newly_waived": "新增不予处罚",
    "newly_fined": "新增罚款",
    "outcome": "处理结果变化",
    "error": "仅一个版本可以计算",
    "invalid": "无法读取或计算",
}
STATUS_LABELS = {"ok": "已计算", "error_from": "原版本无法计算", "error_to": "新版本无法计算", "invalid": "已跳过"}
FLAG_SHORT = {
    "hearing_notice": "听证告知",
    "collective_discussion": "集体讨论",
    "legal_review": "法制审核",
    "detention_referral": "移送拘留",
    "government_approval_closure": "报批停业关闭",
    "daily_penalty_eligible": "按日连续处罚",
    "permit_revocation": "吊销许可证",
}


class Side(NamedTuple):
    """What one edition decided for a case."""

    outcome: str
    regime: str
    legal_min: int | None
    legal_max: int | None
    band: tuple[int, int] | None
    recommended: int | None
    flags: tuple[str, ...]


class Cause(NamedTuple):
    """One rule difference between the two trails that explains a change."""

    step: str  # the trail step: factor, adjustment, exemption, position, reduction, rounding, ...
    rules: tuple[str, ...]  # rule ids: the "from" rule, then the "to" rule where they differ
    text: str  # Chinese


@dataclass(slots=True)
class CaseResult:
    """The replay of one row."""

    row: int
    ref: str | None
    source: str | None
    violation: str | None
    jurisdiction: str | None
    violation_date: str | None
    decision_date: str | None
    status: str  # ok | error_from | error_to | invalid
    change: str  # a key of CHANGE_LABELS
    before: Side | None = None
    after: Side | None = None
    causes: tuple[Cause, ...] = ()
    error: RowError | None = None

    @property
    def delta(self) -> int | None:
        """The change of the recommended amount (yuan), where both editions fine."""
        b, a = self.before, self.after
        if b is None or a is None or b.recommended is None or a.recommended is None:
            return None
        return a.recommended - b.recommended

    @property
    def changed(self) -> bool:
        return self.change not in ("unchanged", "invalid")

    def row_dict(self) -> dict[str, Any]:
        """One row of the per-case results file (see :data:`RESULT_COLUMNS`)."""
        b, a = self.before, self.after
        fb = set(b.flags) if b else set()
        fa = set(a.flags) if a else set()
        err = self.error
        return {
            "row": self.row,
            "ref": self.ref,
            "source": self.source,
            "violation": self.violation,
            "jurisdiction": self.jurisdiction,
            "violation_date": self.violation_date,
            "decision_date": self.decision_date,
            "status": self.status,
            "change": self.change,
            "from_outcome": b.outcome if b else None,
            "to_outcome": a.outcome if a else None,
            "from_regime": b.regime if b else None,
            "to_regime": a.regime if a else None,
            "from_recommended": b.recommended if b else None,
            "to_recommended": a.recommended if a else None,
            "delta": self.delta,
            "from_band": _band(b),
            "to_band": _band(a),
            "flags_added": ";".join(sorted(fa - fb)) if b and a else None,
            "flags_removed": ";".join(sorted(fb - fa)) if b and a else None,
            "cause_rules": "; ".join("→".join(c.rules) for c in self.causes if c.rules) or None,
            "cause": "；".join(c.text for c in self.causes) or None,
            "error_code": err.code if err else None,
            "error_field": err.field if err else None,
            "error_message": err.message if err else None,
        }


def _band(s: Side | None) -> str | None:
    return f"{s.band[0]}-{s.band[1]}" if s is not None and s.band is not None else None


# The per-case results file: (column id, Chinese label). CSV and JSONL use the ids, XLSX the labels.
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row", "行号"),
    ("ref", "案件编号"),
    ("source", "来源"),
    ("violation", "违法行为代码"),
    ("jurisdiction", "辖区"),
    ("violation_date", "违法行为日期"),
    ("decision_date", "决定日期"),
    ("status", "状态"),
    ("change", "变化"),
    ("from_outcome", "原版本结果"),
    ("to_outcome", "新版本结果"),
    ("from_regime", "原版本适用法律"),
    ("to_regime", "新版本适用法律"),
    ("from_recommended", "原建议罚款（元）"),
    ("to_recommended", "新建议罚款（元）"),
    ("delta", "罚款变化（元）"),
    ("from_band", "原档次（元）"),
    ("to_band", "新档次（元）"),
    ("flags_added", "新增程序提示"),
    ("flags_removed", "取消程序提示"),
    ("cause_rules", "原因规则"),
    ("cause", "原因说明"),
    ("error_code", "错误代码"),
    ("error_field", "错误字段"),
    ("error_message", "错误说明"),
)
_LABELLED = {
    "status": STATUS_LABELS,
    "change": CHANGE_LABELS,
    "from_outcome": OUTCOME_LABELS,
    "to_outcome": OUTCOME_LABELS,
    "from_regime": REGIME_LABELS,
    "to_regime": REGIME_LABELS,
}


def labelled(row: dict[str, Any]) -> dict[str, Any]:
    """A results row with its coded values in Chinese (for the XLSX report)."""
    out = dict(row)
    for k, labels in _LABELLED.items():
        v = out.get(k)
        if v is not None:
            out[k] = labels.get(v, v)
    for k in ("flags_added", "flags_removed"):
        if out.get(k):
            out[k] = "、".join(FLAG_SHORT.get(f, f) for f in out[k].split(";"))
    return out


def side_of(a: Assessment) -> Side:
    f = a.applied.fine
    return Side(
        outcome=a.outcome,
        regime=a.applied.regime,
        legal_min=f.legal_min if f else None,
        legal_max=f.legal_max if f else None,
        band=tuple(f.band) if f else None,  # type: ignore[arg-type]
        recommended=f.recommended if f else None,
        # the engine's notices (a factor not established, an edition for repealed laws) are not
        # procedural flags an edition's thresholds set: a replay compares the editions' own
        flags=tuple(fl["id"] for fl in a.applied.flags if fl["id"] not in NOTICE_FLAGS),
    )


def result_rows(results: Iterable[CaseResult]) -> Iterator[dict[str, Any]]:
    for r in results:
        yield r.row_dict()
