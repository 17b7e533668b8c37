"""What a handler must not miss on a result: the banners at the top of the result page and its print
view — 移送公安机关 (the engine's ``detention_referral``), 涉嫌犯罪移送司法机关 (a benchmark factor
level that asks for it, e.g. 危险废物三吨以上), 听证告知, 集体讨论 and 法制审核 — each saying what must
be done and on what basis (the engine's citations, and 《中华人民共和国行政处罚法》 as quoted in
/work/shared/reference/laws/)."""

from __future__ import annotations

from typing import Any

PENALTY_LAW = "《中华人民共和国行政处罚法》"

# flag id -> (banner heading, what must be done, further articles of 行政处罚法 beside the engine's basis)
_FLAG_BANNERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "detention_referral": (
        "须移送公安机关",
        "本案情形依法应当移送公安机关依法予以拘留：作出行政处罚的同时，将案件移送公安机关。",
        (),
    ),
    "hearing_notice": (
        "须告知听证权利",
        "拟作出的处罚决定应当告知当事人有要求听证的权利；当事人要求听证的，应当在行政机关告知后五日内提出，"
        "行政机关应当组织听证。",
        ("第六十四条第一项",),
    ),
    "collective_discussion": (
        "须集体讨论决定",
        "对情节复杂或者重大违法行为给予行政处罚，行政机关负责人应当集体讨论决定。",
        (),
    ),
    "legal_review": (
        "须法制审核",
        "在行政机关负责人作出行政处罚的决定之前，应当由从事行政处罚决定法制审核的人员进行法制审核；"
        "未经法制审核或者审核未通过的，不得作出决定。",
        (),
    ),
}

# a benchmark factor level whose label says the case must be checked for a crime (e.g. 危险废物三吨以上)
CRIME_MARK = "涉嫌犯罪"
_CRIME_BANNER = (
    "须审查是否涉嫌犯罪",
    "裁量因子达到刑事立案标准参照（{levels}）：应当审查是否涉嫌犯罪；涉嫌犯罪的，应当及时将案件移送司法机关，"
    "依法追究刑事责任。",
    (f"{PENALTY_LAW}第二十七条", f"{PENALTY_LAW}第五十七条第一款第四项"),
)

# the order the banners appear in: referrals first, then the procedure before the decision
ORDER = ("crime_referral", "detention_referral", "hearing_notice", "collective_discussion", "legal_review")


def banners(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The banners of the stored result ``r``: one per flag of ``_FLAG_BANNERS`` the engine set, and one
    when a factor level applied asks to check for a crime; each with its id, heading, text and basis."""
    got: dict[str, dict[str, Any]] = {}
    for fl in r.get("flags") or []:
        spec = _FLAG_BANNERS.get(fl["id"])
        if spec is None:
            continue
        heading, text, more = spec
        got[fl["id"]] = {"id": fl["id"], "heading": heading, "text": text,
                         "basis": [*fl.get("basis", []), *(f"{PENALTY_LAW}{a}" for a in more)]}
    levels = [s["text"] for s in r.get("trail") or [] if s.get("step") == "factor" and CRIME_MARK in s.get("text", "")]
    if levels:
        heading, text, basis = _CRIME_BANNER
        got["crime_referral"] = {"id": "crime_referral", "heading": heading, "text": text.format(levels="；".join(levels)),
                                 "basis": list(basis)}
    return [got[k] for k in ORDER if k in got]

