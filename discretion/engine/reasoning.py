"""The reasoning paragraph for the case file (说理), rendered from an assessment's data."""

from __future__ import annotations

from .citation import cite_all, date_text
from .money import yuan_text
from .results import NOTICE_FLAGS, Assessment
from .trail import REGIME_LABELS


def render(a: Assessment) -> str:
    """A Chinese paragraph explaining the result, fit for the case file: the decision and its reasons,
    then what the reader must know besides (an edition written for repealed laws, factors left at
    their default level, circumstances that took no effect)."""
    return _decision(a) + "".join(a.notes)  # the notices' sentences (discretion.engine.notices)


def _decision(a: Assessment) -> str:
    c = a.case
    r = a.applied
    party = "当事人" if c.party == "unit" else "当事人（个人）"
    when = date_text(c.violation_date)
    end = c.violation_end_date
    if end:
        when += f"至{date_text(end)}"
    parts = [f"经查，{party}于{when}实施“{a.title}”的违法行为。"]
    violated = a.violated  # the duties of the law in force at the time of the act
    if violated:
        text = f"该行为违反了{cite_all(violated)}的规定"
        if a.violated_unselected:  # no fact said which act: every duty of the violation type is listed
            text += "（所填事实未指明具体违法情形，列出该类违法行为涉及的全部义务条款，请核对）"
        if violated is not r.violated and r.violated:  # the later law applies: the act is unlawful under it too
            text += f"，按{cite_all(r.violated)}的规定亦属违法行为"
        parts.append(text + "。")
    if a.lighter_law:
        parts.append(a.lighter_law["reason"] + "。")
    if r.outcome == "time_barred":
        lim = next(s for s in r.steps if s.step == "limitation")
        parts.append(lim.text + f"，依据{'、'.join(lim.basis)}，决定不予行政处罚。")
        return "".join(parts)
    if r.not_punishable:
        parts.append(f"依据{'、'.join(a.lighter_law['basis']) if a.lighter_law else REGIME_LABELS[r.regime]}，不予行政处罚。")
        return "".join(parts)
    if r.outcome == "no_penalty":
        reasons = [s for s in r.steps if s.step == "exemption" and s.rule != "fine_if_punished"]
        if reasons and r.discretionary:  # 首违不罚: “可以不予”, the bureau decides (行政处罚法第三十三条第一款)
            basis = "、".join(dict.fromkeys(b for s in reasons for b in s.basis))
            why = "；".join(s.text.removesuffix("，可以不予处罚") for s in reasons)
            parts.append(f"鉴于{why}，依据{basis}的规定，可以不予行政处罚，建议不予行政处罚。")
            parts.append("决定不予行政处罚的，依法对当事人进行教育，责令改正违法行为；")
            shown = next((s for s in r.steps if s.rule == "fine_if_punished"), None)
            if shown is not None:
                parts.append(shown.text + "。")
        elif reasons:
            basis = "、".join(dict.fromkeys(b for s in reasons for b in s.basis))
            parts.append("鉴于" + "；".join(s.text for s in reasons) + f"，依据{basis}的规定，决定不予行政处罚，")
            parts.append("并依法对当事人进行教育，责令改正违法行为。")
        else:
            parts.append("依据所适用的规定，该情形不处罚款，责令当事人改正违法行为。")
        return "".join(parts)
    parts.append(f"依据{cite_all(r.basis)}的规定，")
    if r.amount_elsewhere:
        fine_only = any(m["id"] == "penalty_set_elsewhere" and m["text"].startswith("依法处以罚款") for m in r.measures)
        parts.append("对该行为依法处以罚款；该条未规定罚款数额，应当依照有关法律、法规、规章的规定确定。" if fine_only
                     else "对该行为依法予以处罚；该条未规定处罚种类和罚款数额，应当依照有关法律、法规、规章的规定确定。")
    if r.fine is not None:
        f = r.fine
        mx = "不设上限" if f.legal_max is None else yuan_text(f.legal_max)
        # “处…”: a fine is due; “可以处…”: the fine may be left out, correction may not
        due = "可以" if r.fine_optional else "应"
        if f.legal_min > 0:
            parts.append(f"对该行为{due}处{yuan_text(f.legal_min)}以上{mx}以下的罚款。")
        else:
            parts.append(f"对该行为{due}处{mx}以下的罚款。")
        # one pass over the steps: the factors (matched or at their default level) and the adjustments
        matched: list[str] = []
        defaults: list[str] = []
        adjust: list[str] = []
        # the factors whose facts were not given are said once, with their levels, by the notices
        unknown = {x["id"] for x in a.factors_defaulted} if a.factors_defaulted else ()
        for s in r.steps:
            kind = s.step
            if kind == "factor":
                d = s.data
                if "factor" in d:
                    if d["matched"]:
                        matched.append(s.text)
                    elif d["factor"] not in unknown:
                        defaults.append(str(d["label"]))
            elif kind == "adjustment" and s.rule != "adjusted":
                adjust.append(s.text)
        if matched or defaults:
            text = f"根据{a.rulebook['citation']}，" + "；".join(matched)
            if defaults:
                text += ("；其余" if matched else "") + f"因子（{'、'.join(defaults)}）未提供相关事实或不符合较高等级，按默认等级计"
            parts.append(text + "。")
        if adjust:
            parts.append("考虑到" + "；".join(adjust) + "。")
        if r.reduced:
            red = next(s for s in r.steps if s.step == "reduction")
            parts.append(red.text + f"（{'、'.join(red.basis)}）。")
        parts.append(
            f"综上，建议对{party}处以罚款人民币{yuan_text(f.recommended)}"
            + (f"（裁量档次{yuan_text(f.band[0])}至{yuan_text(f.band[1])}）" if not r.reduced else "")
            + "。"
        )
    for ind in r.individual_fines:
        if ind["recommended"] is not None:
            parts.append(f"对{ind['role']}建议处以罚款{yuan_text(ind['recommended'])}。")
    shown = [m["text"] for m in r.measures if m["id"] != "penalty_set_elsewhere"]
    if shown:
        parts.append("同时" + "；".join(shown) + "。")
    flags = [fl["label"] for fl in r.flags if fl["id"] not in NOTICE_FLAGS]  # the notices say those (_notes)
    if flags:
        parts.append("程序提示：" + "；".join(flags) + "。")
    return "".join(parts)
