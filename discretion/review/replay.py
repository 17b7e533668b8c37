"""Impact replay: what a new benchmark edition would do to real cases.

Every case of a case file (:mod:`discretion.review.casefile`) is assessed twice, under edition ``A``
("from") and edition ``B`` ("to"), with everything else equal; the two results are compared
(outcome, recommended amount, band, procedural flags) and, where they differ, the two trails are
compared to name the rules that caused the difference: a changed factor level or weight, an
adjustment's points, an exemption entry, the position formula, 减轻, rounding, or the lighter-law
choice. A summary counts the changes per violation type.

How a case is replayed:

- the edition is forced on both sides (a case's own ``edition`` is overridden; drafts are allowed);
  the law regime still follows the case's dates, and the lighter-law comparison runs as usual;
- a case from a jurisdiction the edition does not cover is assessed as if in the edition's
  jurisdiction (the edition is what is being reviewed);
- a row that cannot be read, or that neither edition can assess, is a :class:`RowError` with its
  row number and column: reported and skipped, counted as ``invalid``;
- a case only one edition can assess is a change of its own kind (``error``).

Evaluation runs in worker processes when ``workers > 1`` (each with its own engine: the rules
engine keeps C-level state per process), in chunks, so that a caller can show progress.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from ..engine.assessment import Assessment, Engine, _assess
from ..engine.case import Case
from ..engine.money import wan
from ..engine.trail import REGIME_LABELS, STEP_LABELS, Step
from ..errors import DiscretionError, InputError
from ..rulebooks import tree
from ..rulebooks.loaded import RulebookSet
from .casefile import CaseFile, Decoder, Entry, RowError, column_of

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
DEFAULT_CHUNK = 500


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


# --- one case -----------------------------------------------------------------------------------


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


def side_of(a: Assessment) -> Side:
    f = a.applied.fine
    return Side(
        outcome=a.outcome,
        regime=a.applied.regime,
        legal_min=f.legal_min if f else None,
        legal_max=f.legal_max if f else None,
        band=tuple(f.band) if f else None,  # type: ignore[arg-type]
        recommended=f.recommended if f else None,
        flags=tuple(fl["id"] for fl in a.applied.flags),
    )


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


# --- which rule caused it -------------------------------------------------------------------------

# Trail steps in the order of their weight for the result: a step earlier in the list is the
# more significant cause. Steps that only follow from earlier ones (the position follows the
# factors, rounding follows the position) are causes only where nothing before them differs.
_OUTCOME_STEPS = ("lighter_law", "limitation", "exemption", "provision", "escalation")
_ORDER = _OUTCOME_STEPS + ("reduction", "factor", "adjustment", "position", "rounding")
_RANK = {s: i for i, s in enumerate(_ORDER)}


class _Sig(NamedTuple):
    rule: str | None
    value: tuple[Any, ...]
    text: str
    step: Step | None


def _signature(a: Assessment) -> dict[tuple[str, str], _Sig]:
    """The parts of an assessment's trail that an edition decides, keyed so both sides line up."""
    sig: dict[tuple[str, str], _Sig] = {}
    if a.lighter_law is not None:
        sig[("lighter_law", "")] = _Sig("lighter-law", (a.applied.regime,), REGIME_LABELS[a.applied.regime], None)
    for s in a.applied.steps:
        st, rule, d = s.step, s.rule, s.data
        if st == "limitation":
            sig[(st, "")] = _Sig(rule, (rule, a.applied.outcome == "time_barred"), s.text, s)
        elif st in ("exemption", "provision", "escalation"):
            sig[(st, rule or "")] = _Sig(rule, (rule, d.get("legal_min"), d.get("legal_max")), s.text, s)
        elif st == "factor":
            if rule is None:  # the edition sets no factors of its own for this type
                sig[(st, "")] = _Sig(None, (), s.text, s)
            else:
                sig[(st, rule.rsplit("/", 1)[0])] = _Sig(rule, (d.get("level"), d.get("weight")), s.text, s)
        elif st == "adjustment" and rule != "adjusted":
            sig[(st, rule or "")] = _Sig(rule, (d.get("direction"), d.get("points")), s.text, s)
        elif st == "position":
            sig[(st, "")] = _Sig(rule, (d.get("position"),), s.text, s)
        elif st == "reduction":
            sig[(st, "")] = _Sig(rule, ("floor" in d, d.get("ratio"), d.get("floor")), s.text, s)
        elif st == "rounding":
            sig[(st, "")] = _Sig(rule, (d.get("recommended"), tuple(d.get("band") or ())), s.text, s)
    return sig


def causes(a: Assessment, b: Assessment, sa: Side | None = None, sb: Side | None = None) -> tuple[Cause, ...]:
    """The rule differences between the trails of ``a`` (from) and ``b`` (to) that explain the
    change, most significant first."""
    sa = sa or side_of(a)
    sb = sb or side_of(b)
    x, y = _signature(a), _signature(b)
    outcome_changed = sa.outcome != sb.outcome
    found: list[tuple[int, int, Cause]] = []
    for n, key in enumerate(dict.fromkeys([*x, *y])):
        step = key[0]
        if outcome_changed and step not in _OUTCOME_STEPS:
            continue
        p, q = x.get(key), y.get(key)
        if p is not None and q is not None and p.value == q.value:
            continue
        if outcome_changed and step in ("provision", "escalation") and (p is None or q is None):
            continue  # the side that did not fine stopped before its provisions: a consequence, not a cause
        found.append((_RANK[step], n, _cause(step, p, q)))
    steps = {f[2].step for f in found}
    if "factor" in steps or "adjustment" in steps or "reduction" in steps:
        found = [f for f in found if f[2].step not in ("position", "rounding")]
    elif "position" in steps:
        found = [f for f in found if f[2].step != "rounding"]
    found.sort(key=lambda f: (f[0], f[1]))
    out = [f[2] for f in found]
    if not out and set(sa.flags) != set(sb.flags):
        added = sorted(set(sb.flags) - set(sa.flags))
        removed = sorted(set(sa.flags) - set(sb.flags))
        text = "程序提示："
        text += "；".join(
            part
            for part in (
                "新增" + "、".join(FLAG_SHORT.get(f, f) for f in added) if added else "",
                "取消" + "、".join(FLAG_SHORT.get(f, f) for f in removed) if removed else "",
            )
            if part
        )
        out.append(Cause("flag", tuple(added + removed), text + "（程序金额标准不同）"))
    return tuple(out)


def _head(text: str) -> str:
    return text.split("，", 1)[0]


def _cause(step: str, p: _Sig | None, q: _Sig | None) -> Cause:
    rules = tuple(dict.fromkeys(r for r in (p.rule if p else None, q.rule if q else None) if r))
    label = STEP_LABELS.get(step, step)
    if step == "factor":
        s = (q or p).step  # type: ignore[union-attr]
        name = s.data.get("label", "") if s is not None else ""
        kind = "共性" if (q or p).rule and (q or p).rule.startswith("common/") else "个性"  # type: ignore[union-attr]
        if p is None or q is None:
            one = q or p
            assert one is not None
            if not one.value:
                return Cause(step, rules, f"{'新版本' if q else '原版本'}未对该违法行为规定个性裁量因子")
            verb = "新增" if p is None else "删除"
            return Cause(step, rules, f"{kind}因子“{name}”：{verb}（第{one.value[0]}级）")
        parts = []
        if p.value[0] != q.value[0]:
            parts.append(f"第{p.value[0]}级 → 第{q.value[0]}级")
        if p.value[1] != q.value[1]:
            parts.append(f"权重 {p.value[1]} → {q.value[1]}")
        return Cause(step, rules, f"{kind}因子“{name}”：" + "，".join(parts))
    if step == "adjustment":
        head = _head((q or p).text)  # type: ignore[union-attr]
        if p is None:
            return Cause(step, rules, f"{head}：新增，{q.value[1]}个百分点")  # type: ignore[union-attr]
        if q is None:
            return Cause(step, rules, f"{head}：不再适用（原{p.value[1]}个百分点）")
        if p.value[0] != q.value[0]:
            return Cause(step, rules, f"{head}：方向改变")
        return Cause(step, rules, f"{head}：{p.value[1]} → {q.value[1]}个百分点")
    if step == "exemption":
        if p is None:
            return Cause(step, rules, f"新版本不予处罚：{q.text}")  # type: ignore[union-attr]
        if q is None:
            return Cause(step, rules, f"新版本不再不予处罚：{p.text}")
        return Cause(step, rules, f"不予处罚的依据改变：{p.text} → {q.text}")
    if step == "position":
        if p is not None and q is not None:
            return Cause(step, rules, f"裁量位置公式不同：位置 {_num(p.value[0])} → {_num(q.value[0])}")
        return Cause(step, rules, "裁量位置公式不同")
    if step == "reduction":
        if p is None or q is None:
            return Cause(step, rules, "减轻处罚：" + ("新版本适用" if p is None else "新版本不再适用"))
        if p.value[0] != q.value[0]:
            return Cause(step, rules, "减轻处罚：" + ("新版本有减轻余地" if q.value[0] else "新版本没有减轻余地"))
        return Cause(step, rules, "减轻处罚的比例不同")
    if step == "rounding":
        return Cause(step, rules, "取整规则或档次划分不同")
    if step == "lighter_law":
        if p is not None and q is not None:
            return Cause(step, rules, f"从旧兼从轻：适用{p.text} → {q.text}")
        return Cause(step, rules, "从旧兼从轻的比较结果不同")
    return Cause(step, rules, f"{label}：{p.text if p else '无'} → {q.text if q else '无'}")


def _num(v: Any) -> str:
    text = str(v)
    if "." in text:
        text = text[: text.index(".") + 5].rstrip("0").rstrip(".")
    return text or "0"


# --- summary ------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Counts for one violation type (or all)."""

    code: str
    title: str
    cases: int = 0  # rows assessed under at least one edition
    changed: int = 0
    up: int = 0
    down: int = 0
    band: int = 0
    newly_waived: int = 0
    newly_fined: int = 0
    errors: int = 0  # only one edition could assess the case
    deltas: list[int] = field(default_factory=list)  # the non-zero amount changes
    causes: Counter[str] = field(default_factory=Counter)  # the first cause of each change

    def add(self, r: CaseResult) -> None:
        self.cases += 1
        kind = r.change
        if kind == "unchanged":
            return
        self.changed += 1
        if kind == "amount_up":
            self.up += 1
        elif kind == "amount_down":
            self.down += 1
        elif kind == "band":
            self.band += 1
        elif kind == "newly_waived":
            self.newly_waived += 1
        elif kind == "newly_fined":
            self.newly_fined += 1
        elif kind == "error":
            self.errors += 1
        d = r.delta
        if d:
            self.deltas.append(d)
        if r.causes:
            c = r.causes[0]
            self.causes[c.text] += 1

    @property
    def median(self) -> int | None:
        """The median of the non-zero amount changes (the lower middle one for an even count)."""
        return statistics.median_low(self.deltas) if self.deltas else None

    @property
    def max_change(self) -> int | None:
        """The largest amount change by size, with its sign."""
        return max(self.deltas, key=lambda d: (abs(d), d)) if self.deltas else None

    def top_cause(self) -> tuple[str, int] | None:
        got = self.causes.most_common(1)
        return got[0] if got else None

    def to_dict(self) -> dict[str, Any]:
        top = self.top_cause()
        return {
            "violation": self.code,
            "title": self.title,
            "cases": self.cases,
            "changed": self.changed,
            "up": self.up,
            "down": self.down,
            "band": self.band,
            "newly_waived": self.newly_waived,
            "newly_fined": self.newly_fined,
            "errors": self.errors,
            "median_change": self.median,
            "max_change": self.max_change,
            "top_cause": None if top is None else {"text": top[0], "cases": top[1]},
        }


SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("violation", "违法行为代码"),
    ("title", "违法行为"),
    ("cases", "案件数"),
    ("changed", "有变化"),
    ("up", "罚款上调"),
    ("down", "罚款下调"),
    ("band", "档次变化"),
    ("newly_waived", "新增不予处罚"),
    ("newly_fined", "新增罚款"),
    ("errors", "仅一版可算"),
    ("median_change", "变化中位数（元）"),
    ("max_change", "最大变化（元）"),
    ("top_cause", "主要原因"),
)


@dataclass
class Summary:
    """The replay's summary by violation type, built as results arrive."""

    from_edition: dict[str, Any]
    to_edition: dict[str, Any]
    titles: dict[str, str]
    rows: int = 0
    invalid: int = 0
    row_errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS bad rows
    by_violation: dict[str, Stats] = field(default_factory=dict)
    total: Stats = field(default_factory=lambda: Stats("*", "合计"))
    seconds: float = 0.0
    workers: int = 1

    MAX_ERRORS = 1000

    @classmethod
    def for_editions(cls, rulebooks: RulebookSet, from_key: str, to_key: str) -> "Summary":
        def info(key: str) -> dict[str, Any]:
            e = rulebooks.editions[key].effective
            return {"key": key, "title": e.title, "status": e.status, "sha256": rulebooks.editions[key].sha256}

        titles = {c: lv.model.title for c, lv in rulebooks.violations.items()}
        return cls(info(from_key), info(to_key), titles)

    def add(self, r: CaseResult) -> None:
        self.rows += 1
        if r.status == "invalid":
            self.invalid += 1
            if r.error is not None and len(self.row_errors) < self.MAX_ERRORS:
                self.row_errors.append(r.error)
            return
        code = r.violation or "?"
        st = self.by_violation.get(code)
        if st is None:
            st = self.by_violation[code] = Stats(code, self.titles.get(code, code))
        st.add(r)
        self.total.add(r)

    @property
    def assessed(self) -> int:
        return self.rows - self.invalid

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def ordered(self) -> list[Stats]:
        """Violation types, most changed first."""
        return sorted(self.by_violation.values(), key=lambda s: (-s.changed, -s.cases, s.code))

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_edition,
            "to": self.to_edition,
            "rows": self.rows,
            "assessed": self.assessed,
            "invalid": self.invalid,
            "changed": self.total.changed,
            "by_violation": [s.to_dict() for s in self.ordered()],
            "total": self.total.to_dict(),
            "row_errors": [e.to_dict() for e in self.row_errors],
            "seconds": round(self.seconds, 3),
            "cases_per_second": round(self.rate, 1),
            "workers": self.workers,
        }

    def table(self) -> list[dict[str, Any]]:
        """The summary rows (the types, then the total) for a table or a spreadsheet sheet."""
        out = []
        for s in [*self.ordered(), self.total]:
            d = s.to_dict()
            top = s.top_cause()
            d["top_cause"] = f"{top[0]}（{top[1]}件）" if top else None
            out.append(d)
        return out


def yuan_change(d: int | None) -> str:
    """A signed amount change, short: +1.32万元, −4,500元, — (none)."""
    if d is None:
        return "—"
    sign = "+" if d > 0 else ("−" if d < 0 else "")
    a = abs(d)
    return sign + (f"{wan(a)}万元" if a >= 10000 else f"{a:,}元")


# --- running --------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]

_SHARED: Engine | None = None  # the parent's engine, inherited by forked workers (never matched in the parent)
_WORKER: tuple[Replayer, Decoder] | None = None


def _init_worker(root: str, matcher: str, from_key: str, to_key: str, decoder: Decoder) -> None:
    global _WORKER
    from ..engine.assessment import make_matcher

    engine = _SHARED
    if engine is not None and str(engine.rulebooks.root) == root:
        # forked: the compiled rulebooks are this process's copy; the matcher must be its own
        engine.matcher = make_matcher(matcher)
    else:
        engine = Engine(tree.load(Path(root)), matcher)
    _WORKER = (Replayer(engine, from_key, to_key), decoder)


def _run_chunk(chunk: list[tuple[int, Any]]) -> list[CaseResult]:
    assert _WORKER is not None
    replayer, decoder = _WORKER
    return [_one(replayer, decoder, row, raw) for row, raw in chunk]


def _one(replayer: Replayer, decoder: Decoder, row: int, raw: Any) -> CaseResult:
    try:
        entry = decoder(row, raw)
    except RowError as exc:
        m = decoder.peek(raw)
        return CaseResult(row, m["ref"], m["source"], m["violation"], None, None, None, "invalid", "invalid", error=exc)
    return replayer.one(entry, decoder.tabular)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_start_method() -> str:
    """``fork`` where the platform has it (workers inherit the loaded rulebooks), else ``spawn``."""
    return "fork" if "fork" in mp.get_all_start_methods() and sys.platform != "darwin" else "spawn"


def replay(
    rulebooks: RulebookSet,
    cases: CaseFile,
    from_key: str,
    to_key: str,
    *,
    workers: int = 1,
    matcher: str = "durable",
    engine: Engine | None = None,
    progress: Progress | None = None,
    chunk: int = DEFAULT_CHUNK,
    start_method: str | None = None,
) -> Iterator[CaseResult]:
    """Replay every row of ``cases`` under both editions, in row order.

    ``workers == 1`` evaluates here, with ``engine`` (or a new one); more workers evaluate in
    child processes, each building its own engine (forked children reuse the compiled rulebooks
    of this process; ``spawn`` children load them again from ``rulebooks.root``). Fork only from a
    single-threaded process such as the command line: a server passes ``workers=1`` and its engine.
    ``progress(done, total)`` is called after each chunk."""
    total = len(cases)
    records = cases.records
    if workers_used(total, workers, chunk) == 1:
        eng = engine or Engine(rulebooks, matcher)
        replayer = Replayer(eng, from_key, to_key)
        decoder = cases.decoder
        for start in range(0, total, chunk):
            for row, raw in records[start : start + chunk]:
                yield _one(replayer, decoder, row, raw)
            if progress:
                progress(min(start + chunk, total), total)
        return
    global _SHARED
    check_editions(rulebooks, from_key, to_key)  # unknown editions fail here, not in a child
    method = start_method or default_start_method()
    if method == "fork":
        # the compiled rulebooks once, here; each child gets its own matcher (C state per process)
        _SHARED = Engine(rulebooks, "reference")
    ctx = mp.get_context(method)
    chunks = [records[i : i + chunk] for i in range(0, total, chunk)]
    done = 0
    try:
        with ctx.Pool(
            processes=workers_used(total, workers, chunk),
            initializer=_init_worker,
            initargs=(str(rulebooks.root), matcher, from_key, to_key, cases.decoder),
        ) as pool:
            for got in pool.imap(_run_chunk, chunks):
                yield from got
                done += len(got)
                if progress:
                    progress(done, total)
    finally:
        _SHARED = None


def run(
    rulebooks: RulebookSet,
    cases: CaseFile,
    from_key: str,
    to_key: str,
    **kwargs: Any,
) -> tuple[list[CaseResult], Summary]:
    """Replay everything and summarise: the per-case results in row order and the summary."""
    check_editions(rulebooks, from_key, to_key)
    summary = Summary.for_editions(rulebooks, from_key, to_key)
    t0 = time.perf_counter()
    results = list(replay(rulebooks, cases, from_key, to_key, **kwargs))
    for r in results:
        summary.add(r)
    summary.seconds = time.perf_counter() - t0
    summary.workers = workers_used(len(cases), kwargs.get("workers", 1), kwargs.get("chunk", DEFAULT_CHUNK))
    return results, summary


def workers_used(total: int, workers: int, chunk: int = DEFAULT_CHUNK) -> int:
    """How many processes evaluate ``total`` rows: one for up to two chunks (starting workers would
    cost more than it saves), else up to one per chunk."""
    if workers <= 1 or total <= 2 * chunk:
        return 1
    return min(workers, -(-total // chunk))


def check_editions(rulebooks: RulebookSet, from_key: str, to_key: str) -> None:
    """Both edition keys name editions of the rulebook set (:class:`InputError` ``unknown_edition``)."""
    for key, name in ((from_key, "from"), (to_key, "to")):
        if key not in rulebooks.editions:
            raise InputError(
                message=f"未知的裁量基准版本：{key}（可用：{'、'.join(sorted(rulebooks.editions))}）",
                code="unknown_edition",
                field=name,
            )


def result_rows(results: Iterable[CaseResult]) -> Iterator[dict[str, Any]]:
    for r in results:
        yield r.row_dict()
