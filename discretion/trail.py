"""The explanation trail: data first (one frozen record per step), text second."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# Step names, in pipeline order.
STEPS = (
    "regime",
    "edition",
    "limitation",
    "provision",
    "exemption",
    "escalation",
    "concurrence",
    "range",
    "factor",
    "position",
    "adjustment",
    "reduction",
    "rounding",
    "individual_fine",
    "measure",
    "flag",
    "lighter_law",
)


@dataclass(frozen=True)
class Step:
    """One step of an assessment: what was decided, by which rule, on which legal basis."""

    step: str
    text: str  # Chinese, for the case file
    rule: str | None = None
    basis: tuple[str, ...] = ()  # citations such as 《中华人民共和国水污染防治法》第八十三条第二项
    regime: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "rule": self.rule,
            "basis": list(self.basis),
            "text": self.text,
            "regime": self.regime,
            "data": dict(self.data),
        }
