"""The diff as a Chinese text report for the legal reviewer."""

from __future__ import annotations

from collections.abc import Sequence

from ...engine.citation import chinese_number
from .result import Change, EditionDiff, Quote, Side


def _quotes(lines: list[str], who: str, quotes: Sequence[Quote], side: Side) -> None:
    for q in quotes:
        if q == side.benchmark_basis:
            lines.append(f"      {who}依据：{q.citation}（原文见开头）")
        else:
            lines.append(f"      {who}依据：{q.citation}：“{q.text}”")


_NOT_IDS = ("edition", "formula", "rounding", "thresholds", "reduction")  # items named by their area, not by an id


def _change_lines(n: int, c: Change, d: EditionDiff) -> list[str]:
    what = c.label + (f" · {c.field_label}" if c.field_label else "")
    if c.item not in (c.area, c.field, *_NOT_IDS):  # a rule's id, for whoever edits the file
        what += f"（标识 {c.item}）"
    lines = [f"  {n}. 【{c.kind_label}】{c.area_label}：{what}"]
    for who, val in (("A", c.a), ("B", c.b)):
        if val is None:
            continue
        body = val.replace("\n", "\n         ")
        lines.append(f"      {who}：{body}")
    if c.note:
        lines.append(f"      说明：{c.note}")
    if c.basis_a == c.basis_b and c.basis_a and d.a.benchmark_basis == d.b.benchmark_basis:
        _quotes(lines, "", c.basis_a, d.a)
    else:
        _quotes(lines, "A ", c.basis_a, d.a)
        _quotes(lines, "B ", c.basis_b, d.b)
    return lines


def _side_line(who: str, s: Side) -> list[str]:
    period = f"{s.effective_from} 起" + (f"至 {s.effective_to}" if s.effective_to else "")
    appr = f"；审核：{s.reviewer}（{s.approved_on}）" if s.reviewer else ""
    pub = f"；发布：{s.published_on}" if s.published_on else ""
    return [
        f"{who}：{s.title}（{s.key}，{s.status_label}，{period}）",
        f"    文件 {s.file}；起草：{s.author}{appr}{pub}；内容哈希 {s.content_sha256[:12]}…",
        f"    适用法律：{s.regime_title}",
    ]


def render_text(d: EditionDiff) -> str:
    """The diff as a Chinese report for the legal reviewer."""
    lines = ["裁量基准版本比较", ""]
    lines += _side_line("A", d.a) + _side_line("B", d.b)
    lines.append("")
    if d.a.benchmark_basis == d.b.benchmark_basis:
        lines.append(f"裁量基准的依据：{d.a.benchmark_basis.citation}：“{d.a.benchmark_basis.text}”")
    else:
        lines.append(f"A 裁量基准的依据：{d.a.benchmark_basis.citation}：“{d.a.benchmark_basis.text}”")
        lines.append(f"B 裁量基准的依据：{d.b.benchmark_basis.citation}：“{d.b.benchmark_basis.text}”")
    lines.append("")
    if d.same:
        lines.append("两个版本没有实质差异。")
        return "\n".join(lines)
    lines.append(f"一、全局变化（影响全部违法行为）：{len(d.general)} 处")
    for i, c in enumerate(d.general, 1):
        lines += _change_lines(i, c, d)
    if not d.general:
        lines.append("  （无）")
    lines.append("")
    lines.append(f"二、逐类违法行为：{len(d.violations)} 类有变化，{len(d.unchanged)} 类无变化")
    for k, v in enumerate(d.violations, 1):
        lines.append("")
        lines.append(f"（{chinese_number(k)}）{v.title}（{v.code}）")
        for i, c in enumerate(v.changes, 1):
            lines += _change_lines(i, c, d)
    if d.unchanged:
        lines.append("")
        lines.append("无变化的违法行为：" + "、".join(f"{v.title}（{v.code}）" for v in d.unchanged))
    return "\n".join(lines)
