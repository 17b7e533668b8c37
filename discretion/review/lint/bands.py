"""``band-outside-range``: amounts an edition produces outside the statutory range."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ...engine.money import fitting_step, round_to
from ...engine.trail import REGIME_LABELS
from ...rulebooks.models import Fine, PerUnitFine, RangeFine, UpToFine, Violation
from .findings import Finding, _at
from .scope import _regimes_for
from .tree import Tree


def _fixed_bounds(f: Fine) -> tuple[int, int] | None:
    if isinstance(f, RangeFine):
        return f.min, f.max
    if isinstance(f, UpToFine):
        return 0, f.max
    if isinstance(f, PerUnitFine):
        return f.min, f.max  # per unit; every count multiplies both
    return None  # rate and multiple: the range follows the base fact


def _fines(v: Violation, regime: str) -> Iterator[tuple[str, Fine, bool]]:
    rules = v.regimes.get(regime)  # type: ignore[call-overload]
    for p in rules.provisions if rules is not None else []:
        if p.fine is not None:
            yield p.id, p.fine, True
        for f in p.individual_fines:
            yield p.id, f.fine, False
        for x in p.escalations:
            if x.fine is not None:
                yield x.id, x.fine, True
            for f in x.individual_fines or []:
                yield x.id, f.fine, False


def check_bands(tree: Tree) -> Iterator[Finding]:
    """The amounts an edition produces for every fixed statutory range, under every regime it can
    be applied with: the bounds of its bands and the extreme amounts after its rounding (the
    engine clamps them, so the published table and the result would disagree), and the 减轻 floor
    (减轻 stays a fine: its floor must be above zero)."""
    if tree.law is None:
        return
    for le in tree.editions.values():
        e, own, doc = le.effective, le.model, le.doc
        if e.rounding is None or e.formula is None:
            continue
        step, mode, bands = e.rounding.step, e.rounding.mode, e.formula.bands
        regimes = _regimes_for(tree, e)
        inherited = own.parent is not None and own.rounding is None and own.formula is None
        where_rounding: tuple[Any, ...] = ("rounding",) if own.rounding is not None else ("formula",) if own.formula is not None else ()
        for code, lv in tree.violations.items() if not inherited else ():  # else reported on the parent
            examples: list[str] = []
            for r in regimes:
                for rule_id, fine, _unit in _fines(lv.model, r.id):
                    got = _fixed_bounds(fine)
                    if got is None:
                        continue
                    lo, hi = got
                    width = Decimal(hi - lo)
                    fit = fitting_step(step, hi, lo)  # as the engine rounds (a small range: a finer step)
                    edges = [round_to(lo + width * g / bands, fit, mode) for g in range(bands + 1)]
                    bad = [x for x in edges if x < lo or x > hi]
                    if bad:
                        unit = "每单位" if isinstance(fine, PerUnitFine) else ""
                        examples.append(
                            f"{REGIME_LABELS.get(r.id, r.id)} {rule_id}：法定幅度{unit}{lo}至{hi}元，按{fit}元取整后的档次边界为 "
                            + "、".join(str(x) for x in edges)
                        )
            if examples:
                path = ("violations", code) if code in own.violations else where_rounding
                yield _at(
                    doc,
                    path,
                    "band-outside-range",
                    f"{code} 的档次或建议金额超出法定幅度（计算时会被截回幅度内，与公布的档次不符）："
                    + "；".join(examples[:3])
                    + (f"；另有 {len(examples) - 3} 处" if len(examples) > 3 else ""),
                    rule_id=code,
                )
        red = own.reduction
        if red is not None and red.floor_ratio <= 0:
            yield _at(doc, ("reduction", "floor_ratio"), "band-outside-range",
                      "减轻的下限为法定最低额的0%，罚款可减至0元，超出减轻处罚的范围（减轻仍须处以罚款；不予处罚只能依第三十三条）",
                      rule_id="reduction")
