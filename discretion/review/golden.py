"""Golden cases: YAML cases named as sentences, with expected values worked out by hand.

Cases live beside the rulebooks (``rulebooks/law/cases/*.yaml`` and ``<edition>.cases.yaml``).
Each has an ``input`` in the contract's assessment shape and an ``expect`` whose keys are
checked only when given. Failures are written for a lawyer: the sentence, expected and
actual values, and the trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engine.assessment import Engine
from ..engine.case import Case
from ..engine.daily import daily_penalty
from ..engine.money import yuan_text
from ..engine.results import Assessment
from ..engine.trail import REGIME_LABELS
from ..errors import DiscretionError, RulebookError
from ..rulebooks import loading
from ..rulebooks.tree import SHIPPED

_LABELS = {
    "penalty": "予以处罚", "no_penalty": "不予处罚", "time_barred": "超过追责期限",
    "pre2026": "单行法", "code2026": "《生态环境法典》",
}


_PARTIES = {"unit": "单位", "individual": "个人"}


class Differences(list[str]):
    """The differences found for one golden case, with the assessment they were found in (if any),
    so that a failure report can show its trail."""

    assessment: Assessment | None = None


def _show(v: Any, money: bool = False) -> str:
    """A value as a lawyer reads it: yuan with 万元, Chinese names of outcomes and regimes."""
    if v is None:
        return "（无）"
    if isinstance(v, bool):
        return "是" if v else "否"
    if money and isinstance(v, int):
        return yuan_text(v)
    if money and isinstance(v, (list, tuple)):
        return "至".join(_show(x, True) for x in v)
    if isinstance(v, str) and v in _LABELS:
        return f"{_LABELS[v]}（{v}）"
    return str(v)


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["penalty", "no_penalty", "time_barred"] | None = None
    regime: Literal["pre2026", "code2026"] | None = None
    legal_min: int | None = None
    legal_max: int | None = None
    recommended: int | None = None
    band: tuple[int, int] | None = None
    basis: list[str] | None = None
    violated: list[str] | None = None  # the duties the act breaks, exactly these, in this order
    flags: list[str] | None = None
    no_flags: list[str] | None = None
    measures: list[str] | None = None  # each must be ordered; an id given twice, twice (e.g. two bans)
    individual_fines: list[dict[str, int | None]] | None = None
    fine_if_punished: dict[str, int | None] | None = None  # 首违不罚: the fine if the bureau punishes
    reasoning: list[str] | None = None  # each must appear in the reasoning text
    edition: str | None = None
    error: str | None = None  # the stable code of an expected input error
    error_fields: list[str] | None = None  # the fields it names, in order (contradictory inputs name each)
    factor_levels: dict[str, int] | None = None  # factor id → the level it is placed at
    factors_defaulted: list[str] | None = None  # the factors left at their default level (ids, in order)
    circumstances_not_applied: list[str] | None = None  # the circumstances that took no effect (codes, in order)
    days: int | None = None  # daily penalty cases
    total: int | None = None


class GoldenCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=4)
    input: dict[str, Any]
    expect: Expect


@dataclass
class Loaded:
    name: str
    file: str
    line: int | None
    case: GoldenCase


def case_files(root: Path | None = None) -> list[Path]:
    root = (root or SHIPPED).resolve()
    return sorted(set(root.rglob("*.cases.yaml")) | set((root / "law" / "cases").glob("*.yaml")))


def load_cases(root: Path | None = None) -> list[Loaded]:
    """Every golden case under ``root``; a broken case file is an error naming file and line."""
    root = (root or SHIPPED).resolve()
    out: list[Loaded] = []
    for path in case_files(root):
        name = str(path.relative_to(root.parent))
        doc = loading.read(path, name)
        if not isinstance(doc.data, list):
            raise RulebookError(message=f"{name}：案例文件必须是列表", issues=[doc.issue((), "案例文件必须是列表")])
        for i, item in enumerate(doc.data):
            sub = loading.Document(file=name, data=item, lines={k[1:]: v for k, v in doc.lines.items() if k[:1] == (i,)})
            gc = loading.validate(sub, GoldenCase)
            out.append(Loaded(name=gc.name, file=name, line=doc.line_of((i,)), case=gc))
    return out


def _dates(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for k in ("violation_date", "violation_end_date", "discovered_date", "decision_date"):
        v = out.get(k)
        if isinstance(v, str):
            out[k] = dt.date.fromisoformat(v)
    return out


def run(engine: Engine, loaded: Loaded) -> list[str]:
    """Check one golden case; returns the differences (empty when it passes)."""
    exp = loaded.case.expect
    if "original_fine" in loaded.case.input:
        return _run_daily(engine, loaded)
    try:
        case = Case.model_validate(_dates(loaded.case.input))
        a = engine.assess(case)
    except DiscretionError as exc:
        if exp.error and exc.code == exp.error:
            fields = list(getattr(exc, "fields", ()) or [exc.field])
            if exp.error_fields is not None and exp.error_fields != fields:
                return Differences([f"报错 {exc.code} 所指的输入：应为 {exp.error_fields}，实际为 {fields}（{exc.message}）"])
            return Differences()
        return Differences([f"计算出错：{exc.code}：{exc.message}（字段 {exc.field}）"])
    out = Differences([f"应当报错 {exp.error}，实际得出结果 {_show(a.outcome)}"] if exp.error else compare(exp, a))
    out.assessment = a
    return out


def _run_daily(engine: Engine, loaded: Loaded) -> list[str]:
    exp = loaded.case.expect
    raw = loaded.case.input
    try:
        got = daily_penalty(
            engine.rulebooks.law,
            raw["original_fine"],
            dt.date.fromisoformat(raw["order_served_date"]),
            dt.date.fromisoformat(raw["reinspection_date"]),
        )
    except DiscretionError as exc:
        if exp.error and exc.code == exp.error:
            return []
        return [f"计算出错：{exc.code}：{exc.message}（字段 {exc.field}）"]
    except (KeyError, TypeError, ValueError) as exc:
        return [f"按日连续处罚案例的输入不完整：{exc}"]
    diffs = []
    if exp.error:
        diffs.append(f"应当报错 {exp.error}，实际得出 {got.total}")
    if exp.days is not None and exp.days != got.days:
        diffs.append(f"计罚日数：应为 {exp.days}，实际为 {got.days}")
    if exp.total is not None and exp.total != got.total:
        diffs.append(f"按日连续处罚总额：应为 {exp.total}，实际为 {got.total}")
    if exp.regime is not None and exp.regime != got.regime:
        diffs.append(f"适用法律体系：应为 {exp.regime}，实际为 {got.regime}")
    for b in exp.basis or []:
        if b not in got.basis:
            diffs.append(f"依据中应有 {b}，实际依据为 {list(got.basis)}")
    return diffs


def compare(exp: Expect, a: Assessment) -> list[str]:
    diffs: list[str] = []
    d = a.to_dict()
    fine = d["fine"] or {}

    def check(label: str, want: Any, got: Any, money: bool = False) -> None:
        if want is not None and want != got:
            diffs.append(f"{label}：应为 {_show(want, money)}，实际为 {_show(got, money)}")

    check("处理结果 outcome", exp.outcome, d["outcome"])
    check("适用法律体系 regime", exp.regime, d["law"]["regime"])
    check("法定最低罚款 legal_min", exp.legal_min, fine.get("legal_min"), True)
    check("法定最高罚款 legal_max", exp.legal_max, fine.get("legal_max"), True)
    check("推荐罚款 recommended", exp.recommended, fine.get("recommended"), True)
    if exp.band is not None:
        check("裁量档次 band", list(exp.band), fine.get("band"), True)
    check("裁量基准版本 edition", exp.edition, d["rulebook"]["key"])
    cited = [b["citation"] for b in d["law"]["basis"]]
    for b in exp.basis or []:
        if b not in cited:
            diffs.append(f"依据中应有 {b}，实际依据为 {cited}")
    if exp.violated is not None:
        breached = [b["citation"] for b in d["law"]["violated"]]
        if breached != exp.violated:
            diffs.append(f"所违反的义务条款：应为 {exp.violated}，实际为 {breached}")
    flags = [f["id"] for f in d["flags"]]
    for f in exp.flags or []:
        if f not in flags:
            diffs.append(f"应有提示 {f}，实际提示为 {flags}")
    for f in exp.no_flags or []:
        if f in flags:
            diffs.append(f"不应有提示 {f}")
    measures = [m["id"] for m in d["measures"]]
    for m in dict.fromkeys(exp.measures or []):  # an id listed twice: two measures of that id
        if measures.count(m) < exp.measures.count(m):  # type: ignore[union-attr]
            want = exp.measures.count(m)  # type: ignore[union-attr]
            diffs.append(f"应有措施 {m}" + (f" {want} 项" if want > 1 else "") + f"，实际措施为 {measures}")
    if exp.fine_if_punished is not None:
        have_fine = d.get("fine_if_punished") or {}
        for k, v in exp.fine_if_punished.items():
            check(f"决定处罚时的罚款 fine_if_punished.{k}", v, have_fine.get(k), True)
    for text in exp.reasoning or []:
        if text not in d["reasoning"]:
            diffs.append(f"说理中应有“{text}”")
    if exp.factor_levels is not None:
        levels = {s.data["factor"]: s.data["level"] for s in a.applied.steps if s.step == "factor" and "factor" in s.data}
        for factor, level in exp.factor_levels.items():
            check(f"裁量因子 {factor} 的等级", level, levels.get(factor))
    if exp.factors_defaulted is not None:
        check("按默认等级计算的因子 factors_defaulted", exp.factors_defaulted, [x["id"] for x in d["factors_defaulted"]])
    if exp.circumstances_not_applied is not None:
        check("未予适用的情节 circumstances_not_applied", exp.circumstances_not_applied, [x["code"] for x in d["circumstances_not_applied"]])
    if exp.individual_fines is not None:
        got = d["individual_fines"]
        if len(got) != len(exp.individual_fines):
            diffs.append(f"对个人罚款应有 {len(exp.individual_fines)} 项，实际 {len(got)} 项：{got}")
        for want, have in zip(exp.individual_fines, got):
            for k, v in want.items():
                if have.get(k) != v:
                    diffs.append(f"对个人罚款（{have.get('role')}）{k}：应为 {_show(v, True)}，实际为 {_show(have.get(k), True)}")
    return diffs


def _facts_line(raw: dict[str, Any]) -> str:
    parts = [f"违法行为 {raw.get('violation', '—')}"]
    for key, label in (("violation_date", "违法行为日期"), ("violation_end_date", "终了日期"), ("decision_date", "决定日期")):
        if raw.get(key):
            parts.append(f"{label} {raw[key]}")
    if raw.get("facts"):
        parts.append("事实 " + "，".join(f"{k}={v}" for k, v in raw["facts"].items()))
    if raw.get("circumstances"):
        parts.append("情节 " + "、".join(map(str, raw["circumstances"])))
    for key, label in (("jurisdiction", "辖区"), ("party", "当事人"), ("edition", "指定裁量基准版本"), ("original_fine", "原罚款"),
                       ("order_served_date", "责令改正决定送达日期"), ("reinspection_date", "复查日期")):
        if raw.get(key) is not None:
            parts.append(f"{label} {_PARTIES.get(raw[key], raw[key]) if key == 'party' else raw[key]}")
    return "；".join(parts)


def report(loaded: Loaded, diffs: list[str], a: Assessment | None = None) -> str:
    """A failure as a lawyer reads it: the case's sentence, where it is written, its input, each
    expected value against the actual one, and the trail of the assessment (when there was one)."""
    a = a if a is not None else getattr(diffs, "assessment", None)
    lines = [f"案例：{loaded.name}", f"位置：{loaded.file}:{loaded.line}", f"输入：{_facts_line(loaded.case.input)}", "不符之处："]
    lines += [f"  - {d}" for d in diffs]
    if a is not None:
        lines.append("计算过程：")
        both = len({s.regime for s in a.trail if s.regime}) > 1  # name the regime only when both were evaluated
        lines += [
            f"  {i + 1}. 【{s.label}{'·' + REGIME_LABELS[s.regime] if both and s.regime else ''}】{s.text}"
            + (f"（{'、'.join(s.basis)}）" if s.basis else "")
            for i, s in enumerate(a.trail)
        ]
    return "\n".join(lines)
