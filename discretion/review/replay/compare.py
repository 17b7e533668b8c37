"""One case under two editions: :class:`Replayer` assesses it under both and classifies the change."""

from __future__ import annotations

from ...engine.assessment import Assessment, Engine, _assess
from ...engine.case import Case
from ...errors import DiscretionError, InputError
from ...rulebooks.loaded import RulebookSet
from ..casefile import Entry, RowError, column_of
from .explain import causes
from .results import CaseResult, Side, side_of


class Replayer:
    """Assesses cases under two editions of one engine and compares them."""

    def __init__(self, engine: Engine, from_key: str, to_key: str) -> None:
        check_editions(engine.rulebooks, from_key, to_key)
        editions = engine.rulebooks.editions
        self.engine = engine
        self.keys = (from_key, to_key)
        self._places = (editions[from_key].model.id, editions[to_key].model.id)

    def _side(self, case: Case, k: int) -> Assessment:
        key, place = self.keys[k], self._places[k]
        j = case.jurisdiction
        if not (j == place or j.startswith(place + "/")):
            j = place
        # the reasoning text is not compared: the pipeline without it (Engine.assess adds it)
        return _assess(self.engine, case.model_copy(update={"edition": key, "jurisdiction": j}))

    def one(self, entry: Entry, tabular: bool = False) -> CaseResult:
        """Replay one case read from a file."""
        case = entry.case
        res = CaseResult(
            row=entry.row,
            ref=entry.ref,
            source=entry.source,
            violation=case.violation,
            jurisdiction=case.jurisdiction,
            violation_date=case.violation_date.isoformat(),
            decision_date=case.decision_date.isoformat(),
            status="ok",
            change="unchanged",
        )
        got: list[Assessment | DiscretionError] = []
        for k in (0, 1):
            try:
                got.append(self._side(case, k))
            except DiscretionError as exc:  # InputError for the case; EngineError is reported the same way
                got.append(exc)
            except Exception as exc:  # a defect must not end a long replay: reported on its row, counted
                got.append(DiscretionError(message=f"计算出错（程序缺陷，请报告）：{type(exc).__name__}: {exc}", code="internal_error"))
        a, b = got
        if isinstance(a, DiscretionError) or isinstance(b, DiscretionError):
            err = a if isinstance(a, DiscretionError) else b
            assert isinstance(err, DiscretionError)
            which = "原版本" if err is a else "新版本"
            if isinstance(a, DiscretionError) and isinstance(b, DiscretionError):
                res.status = res.change = "invalid"
                which = "两个版本均"
            else:
                res.status = "error_from" if err is a else "error_to"
                res.change = "error"
                ok = b if err is a else a
                assert isinstance(ok, Assessment)
                if err is a:
                    res.after = side_of(ok)
                else:
                    res.before = side_of(ok)
            res.error = RowError(
                message=f"{which}无法计算：{err.message}",
                code=err.code,
                field=column_of(err.field, tabular),
                row=entry.row,
            )
            return res
        assert isinstance(a, Assessment) and isinstance(b, Assessment)
        sa, sb = side_of(a), side_of(b)
        res.before, res.after = sa, sb
        res.change = classify(sa, sb)
        if res.change != "unchanged":
            res.causes = causes(a, b, sa, sb)
        return res


def classify(b: Side, a: Side) -> str:
    """The kind of change from ``b`` (the "from" edition) to ``a`` (the "to" edition)."""
    if b.outcome != a.outcome:
        if b.outcome == "penalty" and a.outcome == "no_penalty":
            return "newly_waived"
        if b.outcome == "no_penalty" and a.outcome == "penalty":
            return "newly_fined"
        return "outcome"
    if b.recommended != a.recommended:
        if b.recommended is not None and a.recommended is not None:
            return "amount_up" if a.recommended > b.recommended else "amount_down"
        return "outcome"
    if b.band != a.band or b.legal_min != a.legal_min or b.legal_max != a.legal_max or b.regime != a.regime:
        return "band"
    if set(b.flags) != set(a.flags):
        return "flags"
    return "unchanged"


def check_editions(rulebooks: RulebookSet, from_key: str, to_key: str) -> None:
    """Both edition keys name editions of the rulebook set (:class:`InputError` ``unknown_edition``)."""
    for key, name in ((from_key, "from"), (to_key, "to")):
        if key not in rulebooks.editions:
            raise InputError(
                message=f"未知的裁量基准版本：{key}（可用：{'、'.join(sorted(rulebooks.editions))}）",
                code="unknown_edition",
                field=name,
            )
