"""Which rule caused it: the differences between the two trails of a case that explain its change."""

from __future__ import annotations

from typing import Any, NamedTuple

from ...engine.assessment import Assessment
from ...engine.trail import REGIME_LABELS, STEP_LABELS, Step
from .results import FLAG_SHORT, Cause, Side, side_of

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
        elif st in ("exemption", "provision", "escalation") and rule != "fine_if_punished":  # 首违不罚's fine if punished: no rule of its own
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
