"""The explanation trail: data first (one frozen record per step), text second."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# Step names, in pipeline order, with their Chinese labels.
STEP_LABELS = {
    "regime": "适用法律",
    "edition": "裁量基准",
    "limitation": "追责期限",
    "provision": "罚则",
    "exemption": "不予处罚",
    "escalation": "加重情节",
    "concurrence": "法条竞合",
    "range": "罚款幅度",
    "factor": "裁量因子",
    "position": "裁量位置",
    "adjustment": "从轻从重",
    "reduction": "减轻处罚",
    "rounding": "推荐金额",
    "individual_fine": "对个人罚款",
    "measure": "措施",
    "flag": "程序提示",
    "lighter_law": "从旧兼从轻",
}
STEPS = tuple(STEP_LABELS)
REGIME_LABELS = {"pre2026": "单行法", "code2026": "《中华人民共和国生态环境法典》"}


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an assessment: what was decided, by which rule, on which legal basis."""

    step: str
    text: str  # Chinese, for the case file
    rule: str | None = None
    basis: tuple[str, ...] = ()  # citations such as 《中华人民共和国水污染防治法》第八十三条第二项
    regime: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The step's Chinese name."""
        return STEP_LABELS[self.step]

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "label": self.label,
            "rule": self.rule,
            "basis": list(self.basis),
            "text": self.text,
            "regime": self.regime,
            "data": dict(self.data),
        }
