"""What an assessment answers: the result under one regime, the fine, and the contract's whole
result document (``to_dict`` / ``to_json``), with the labels of the flags a result may carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


from ..rulebooks.models import LegalRef
from .case import Case
from . import encoding
from .citation import as_dict, as_dict_list, as_json_list
from .trail import REGIME_LABELS, Step

FLAG_LABELS = {
    "detention_referral": "移送公安机关依法予以拘留",
    "government_approval_closure": "报经有批准权的人民政府批准，责令停业、关闭",
    "daily_penalty_eligible": "拒不改正的，可以按日连续处罚",
    "permit_revocation": "吊销许可证",  # which licence: the quoted basis says (排污许可证, 监测机构的许可证 ...)
    "hearing_notice": "应当告知当事人有要求听证的权利",
    "collective_discussion": "应当由行政机关负责人集体讨论决定",
    "legal_review": "作出决定前应当进行法制审核",
    # set by the engine, never by a rulebook (discretion.engine.notices)
    "factors_unknown": "部分裁量因子所需的事实未查明，已按默认等级计算，应当查明后复核",
    "edition_for_repealed_laws": "所适用的裁量基准依据已废止的法律制定，应当审查其与现行法律的衔接",
}
NOTICE_FLAGS = frozenset({"factors_unknown", "edition_for_repealed_laws"})  # the reasoning says these in sentences of their own


@dataclass
class FineResult:
    legal_min: int
    legal_max: int | None
    band: tuple[int, int]
    recommended: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "legal_min": self.legal_min,
            "legal_max": self.legal_max,
            "band": list(self.band),
            "recommended": self.recommended,
        }


@dataclass
class RegimeResult:
    """The assessment of a case under one regime."""

    regime: str
    outcome: str  # penalty | no_penalty | time_barred
    fine: FineResult | None = None
    individual_fines: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    basis: list[LegalRef] = field(default_factory=list)
    violated: list[LegalRef] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    reduced: bool = False
    not_punishable: bool = False
    exemption: str | None = None
    fine_optional: bool = False  # “可以处…罚款”: the law lets the fine be left out (not in the contract's JSON)
    amount_elsewhere: bool = False  # “依法予以处罚”: a penalty whose kind and amount other rules set (fine None)
    # 首违不罚 (“可以不予”): the result recommends no penalty; the fine that applies if the bureau punishes
    discretionary: bool = False
    fine_if_punished: FineResult | None = None
    # the facts selected none of the duties the violation type's acts break (they do not say which
    # act): ``violated`` lists them all, and the reasoning says so (not in the contract's JSON)
    duties_unselected: bool = False
    # the benchmark factors that took their default level because their facts were not given (or the
    # edition does not grade the law's choice): {id, label, level, level_label, missing, reason}
    defaulted: list[dict[str, Any]] = field(default_factory=list)
    shadow: RegimeResult | None = None  # 首违不罚: the result if the bureau punishes (fine_if_punished)

    def severity(self) -> tuple[Any, ...]:
        """Ordering for 从旧兼从轻: lower is lighter (outcome, then maximum, minimum, amount)."""
        rank = {"time_barred": 0, "no_penalty": 1, "penalty": 2}[self.outcome]
        if self.fine is None:
            return (rank, 0, 0, 0, 0)
        mx = self.fine.legal_max
        return (rank, 1 if mx is None else 0, mx or 0, self.fine.legal_min, self.fine.recommended)

    def summary(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "outcome": self.outcome,
            "fine": self.fine.to_dict() if self.fine else None,
            "individual_fines": self.individual_fines,
            "basis": [as_dict(r) for r in self.basis],
        }


@dataclass
class Assessment:
    """The contract's assessment result (without the storage id)."""

    case: Case
    outcome: str
    applied: RegimeResult
    compared: RegimeResult | None
    lighter_law: dict[str, Any] | None
    rulebook: dict[str, Any]
    trail: list[Step]
    title: str
    reasoning: str = ""
    # what the case gave that did not take effect, and the factors left at their default level
    # (additions to v1; discretion.engine.notices)
    circumstances_not_applied: list[dict[str, Any]] = field(default_factory=list)
    facts_not_applied: list[dict[str, Any]] = field(default_factory=list)  # facts nothing of the applied plan reads
    factors_defaulted: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the reasoning's sentences that say so (not in the JSON)

    @property
    def act_result(self) -> RegimeResult:
        """The result under the law in force when the act was committed: that law says which duties
        the act violated, even where 从旧兼从轻 applies the later, lighter law's penalty
        (行政处罚法第三十七条; 法典第一千零五十七条)."""
        c = self.compared
        if c is not None and self.lighter_law is not None and self.lighter_law["results"][0]["regime"] == c.regime:
            return c
        return self.applied

    @property
    def violated(self) -> list[LegalRef]:
        """The provisions the act violated: the act-time law's (the applied law's where it names none)."""
        return self.act_result.violated or self.applied.violated

    @property
    def violated_unselected(self) -> bool:
        """``violated`` lists every duty of the violation type: the facts did not say which act."""
        r = self.act_result if self.act_result.violated else self.applied
        return r.duties_unselected

    def to_dict(self) -> dict[str, Any]:
        """The contract's result as plain data (its own: the notices' entries are shared between results)."""
        doc = self._document(as_dict_list, [s.to_dict() for s in self.trail])
        doc["circumstances_not_applied"] = [dict(x) for x in self.circumstances_not_applied]
        doc["facts_not_applied"] = [dict(x) for x in self.facts_not_applied]
        doc["factors_defaulted"] = [{**x, "missing": list(x["missing"])} for x in self.factors_defaulted]
        return doc

    def to_json(self, **extra: Any) -> bytes:
        """The contract's result as JSON (UTF-8), with ``extra`` keys first (e.g. the stored id).

        The same document as ``to_dict()``; steps and legal references are embedded as JSON
        fragments serialised once (shared steps are serialised once for all cases)."""
        payload = self._document(as_json_list, list(map(Step.for_json, self.trail)))
        if extra:
            payload = {**extra, **payload}
        return encoding.dumps(payload, default=_step_dict, option=encoding.OPT_PASSTHROUGH_DATACLASS)

    def _document(self, refs: Callable[[list[LegalRef]], Any], trail: list[Any]) -> dict[str, Any]:
        """The result document, with lists of legal references encoded by ``refs`` and the given trail."""
        a = self.applied
        doc = {
            "outcome": self.outcome,
            "violation": {"code": self.case.violation, "title": self.title},
            "fine": a.fine.to_dict() if a.fine else None,
            "individual_fines": a.individual_fines,
            "measures": a.measures,
            "flags": a.flags,
            "circumstances_not_applied": self.circumstances_not_applied,
            "facts_not_applied": self.facts_not_applied,
            "factors_defaulted": self.factors_defaulted,
            "law": {
                "regime": a.regime,
                "regime_title": REGIME_LABELS[a.regime],
                "basis": refs(a.basis),
                "violated": refs(self.violated),
                "lighter_law": self.lighter_law,
            },
            "rulebook": self.rulebook,
            "trail": trail,
            "reasoning": self.reasoning,
        }
        if a.fine_if_punished is None:
            return doc
        # 首违不罚 (可以不予处罚): the fine if the bureau decides to punish, after ``fine`` (an addition to v1)
        items = list(doc.items())
        return dict(items[:3] + [("fine_if_punished", a.fine_if_punished.to_dict())] + items[3:])


# The results are made many thousand times a second: these build the same dataclass instances
# without the generated __init__ (keyword handling and a call per default factory); a test keeps
# them equal to the constructors.
_object_new = object.__new__


def new_result(regime: str, outcome: str) -> RegimeResult:
    """``RegimeResult(regime, outcome)``."""
    r = _object_new(RegimeResult)
    r.regime = regime
    r.outcome = outcome
    r.fine = None
    r.individual_fines = []
    r.measures = []
    r.flags = []
    r.basis = []
    r.violated = []
    r.steps = []
    r.reduced = False
    r.not_punishable = False
    r.exemption = None
    r.fine_optional = False
    r.amount_elsewhere = False
    r.discretionary = False
    r.fine_if_punished = None
    r.duties_unselected = False
    r.defaulted = []
    r.shadow = None
    return r


def new_fine(legal_min: int, legal_max: int | None, band: tuple[int, int], recommended: int) -> FineResult:
    """``FineResult(legal_min, legal_max, band, recommended)``."""
    f = _object_new(FineResult)
    f.legal_min = legal_min
    f.legal_max = legal_max
    f.band = band
    f.recommended = recommended
    return f


def _step_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Step):
        return obj.to_dict()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def new_assessment(
    case: Case, applied: RegimeResult, compared: RegimeResult | None, lighter_law: dict[str, Any] | None,
    rulebook: dict[str, Any], trail: list[Step], title: str,
) -> Assessment:
    """``Assessment(case, applied.outcome, applied, compared, lighter_law, rulebook, trail, title)``."""
    a = _object_new(Assessment)
    a.case = case
    a.outcome = applied.outcome
    a.applied = applied
    a.compared = compared
    a.lighter_law = lighter_law
    a.rulebook = rulebook
    a.trail = trail
    a.title = title
    a.reasoning = ""
    a.circumstances_not_applied = []
    a.facts_not_applied = []
    a.factors_defaulted = []
    a.notes = []
    return a
