"""The coverage table: each article of 《生态环境法典》 that a violation type's penalty provisions cite,
the types that cite it, and what punished the same act before 2026-08-15 (the provisions of the
types' ``pre2026`` rules, or why there are none: ``before_code``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.citation import chinese_number, cite
from ..rulebooks.loaded import RulebookSet
from ..rulebooks.models import GROUPS

CODE = "中华人民共和国生态环境法典"
# The sections of 《生态环境法典》第五编第二章 (法律责任分则) by their first article (第六节 海洋, 第一千
# 一百四十六条至第一千一百五十七条, is no group of the catalogue: no Yunnan bureau applies it).
SECTIONS = (
    (1085, "monitoring"), (1094, "eia"), (1101, "permit"), (1113, "air"), (1135, "water"), (1146, None),
    (1158, "soil"), (1168, "solid_waste"), (1181, "noise"), (1193, "radiation"), (1204, "chemical"),
    (1211, "ecology"), (1220, "low_carbon"), (1228, "other"),
)
START = "<!-- coverage:start (discretion rulebooks coverage --update FILE) -->"
END = "<!-- coverage:end -->"


@dataclass
class Row:
    """One article of the Code with the types that cite it, and for each what punished it before."""

    article: int
    group: str | None  # the section the article stands in (None: outside the catalogue's sections)
    types: list[tuple[str, str]] = field(default_factory=list)  # (code, title)
    before: dict[str, list[str]] = field(default_factory=dict)  # code → pre-Code articles cited, or why none


def section(article: int) -> str | None:
    """The catalogue group of the Code's section an article of 第五编第二章 stands in."""
    if not 1085 <= article <= 1242:
        return None
    return [group for first, group in SECTIONS if first <= article][-1]


def rows(rs: RulebookSet) -> list[Row]:
    """The Code's articles cited by a penalty provision, in article order."""
    out: dict[int, Row] = {}
    for code in sorted(rs.violations):
        v = rs.violations[code].model
        rules = v.regimes.get("code2026")
        if rules is None:
            continue
        old = v.regimes.get("pre2026")
        if old is not None:  # by article: a type's items and paragraphs are its own business
            before = list(dict.fromkeys(cite(p.basis.ref.model_copy(update={"paragraph": None, "item": None})) for p in old.provisions))
        elif v.before_code is not None and v.before_code.status == "not_encoded":
            before = ["未收录：" + "、".join(f"《{law}》" for law in v.before_code.laws)]
        else:
            before = ["此前无处罚规定（不予处罚）"]
        for p in rules.provisions:
            ref = p.basis.ref
            if ref.law != CODE:
                continue
            row = out.setdefault(ref.article, Row(ref.article, section(ref.article)))
            if (code, v.title) not in row.types:
                row.types.append((code, v.title))
                row.before[code] = before
    return [out[a] for a in sorted(out)]


def markdown(rs: RulebookSet) -> str:
    """The table in Markdown, between the markers that :func:`replace` looks for."""
    table = rows(rs)
    types = {c for r in table for c, _ in r.types}
    lines = [
        START,
        f"《生态环境法典》第五编第二章中由违法行为类型引用的条文：{len(table)} 条，{len(types)} 类违法行为"
        f"（共 {len(rs.violations)} 类）。",
        "",
        "| 法典条文 | 分组 | 违法行为 | 代码 | 2026年8月15日前处罚同一行为的规定 |",
        "|---|---|---|---|---|",
    ]
    for r in table:
        for k, (code, title) in enumerate(r.types):
            article = f"第{chinese_number(r.article)}条" if k == 0 else "〃"
            group = (GROUPS[r.group] if r.group else "第五编第二章以外") if k == 0 else ""
            lines.append(f"| {article} | {group} | {title} | `{code}` | {'、'.join(r.before[code])} |")
    lines.append(END)
    return "\n".join(lines)


def replace(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``; ValueError without them."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError("文件中没有覆盖表的标记")
    return text[:start] + table + text[end + len(END):]


__all__ = ["Row", "SECTIONS", "section", "rows", "markdown", "replace", "START", "END"]
