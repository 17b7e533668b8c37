"""The explanation trail: data first (one frozen record per step), text second."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import encoding

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
    "circumstance": "未适用的情节",
    "fact": "未适用的事实",
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
    # the step's JSON, made on first use: many steps are computed once and shared between cases
    # (False: a step made for one case only, not worth keeping its JSON)
    _json: Any = field(default=None, init=False, repr=False, compare=False)

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

    def json(self) -> Any:
        """``to_dict()`` as JSON (UTF-8), to embed in a larger document."""
        got = self._json
        if not got:
            frag = encoding.Fragment(encoding.dumps(self.to_dict(), default=_json_default, option=encoding.OPT_PASSTHROUGH_DATACLASS))
            if got is None:
                object.__setattr__(self, "_json", frag)
            return frag
        return got  # type: ignore[no-any-return]

    def for_json(self) -> Any:
        """What to put in a JSON document for this step: its JSON, serialised once, for a step that
        is shared between assessments; its ``to_dict()`` for a step made for one case only."""
        got = self._json
        if got is None:
            return self.json()
        if got is False:  # to_dict() without copying basis and data (serialised at once, never kept)
            return {
                "step": self.step,
                "label": STEP_LABELS[self.step],
                "rule": self.rule,
                "basis": self.basis,
                "text": self.text,
                "regime": self.regime,
                "data": self.data,
            }
        return got

    # pickling (and copying) leaves the cached JSON behind: fragments cannot be pickled
    def __getstate__(self) -> tuple[Any, ...]:
        return (self.step, self.text, self.rule, self.basis, self.regime, self.data)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(_FIELDS, state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_json", None)


_FIELDS = ("step", "text", "rule", "basis", "regime", "data")
_new = object.__new__
_set_step, _set_text, _set_rule, _set_basis, _set_regime, _set_data, _set_json = (
    Step.__dict__[name].__set__ for name in (*_FIELDS, "_json")  # the slots' own setters
)


def make_step(
    step: str, text: str, rule: str | None, basis: tuple[str, ...], regime: str | None, data: Mapping[str, Any]
) -> Step:
    """``Step(step, text, rule, basis, regime, data)`` for the assessment's hot path: the same
    frozen record, made without the keyword call into the dataclass ``__init__`` (half the cost),
    for one case only (its JSON is not kept)."""
    s = _new(Step)
    _set_step(s, step)
    _set_text(s, text)
    _set_rule(s, rule)
    _set_basis(s, basis)
    _set_regime(s, regime)
    _set_data(s, data)
    _set_json(s, False)
    return s


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Step):
        return obj.to_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
