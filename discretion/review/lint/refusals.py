"""``load-error`` and ``unknown-name`` (and the loader's other refusals): which check a loader issue
belongs to, and which issues only repeat another file's refusal."""

from __future__ import annotations

import re

from ...errors import RulebookIssue

_NAMED = re.compile(r"(?:未知的违法行为|上级版本不存在)：(\S+)")


def _consequence(issue: RulebookIssue, refused: set[str]) -> bool:
    """An issue that only repeats another file's refusal (an edition naming a violation type
    whose file does not validate): the refusal itself is reported."""
    m = _NAMED.search(issue.message)
    return bool(m and m.group(1) in refused)


_WIDENS = ("只能收窄", "不得新增", "不得改变", "必须保留")
_UNKNOWN = (
    "条件引用了未知的事实或情节",
    "未知的情节",
    "未知的标准事实",
    "未知的违法行为",
    "引用了未知的违法行为",
    "未在 facts 中列出",
    "上级版本不存在",
)


def classify(issue: RulebookIssue) -> str:
    """The check id of a loader issue (the loader's messages are stable, tested Chinese text)."""
    m, path = issue.message, issue.path or ""
    if "多个默认等级" in m:
        return "level-overlap"
    if "重复" in m:
        return "duplicate-id"
    if any(w in m for w in _WIDENS):
        return "prefecture-widens"
    if "失效日期早于施行日期" in m:
        return "never-fires"
    if any(w in m for w in _UNKNOWN):
        return "unknown-name"
    last = path.rsplit(".", 1)[-1]
    if ("basis" in path.split(".") or last in ("basis", "text") or path.endswith(".basis")) and (
        m.startswith("缺少必填项") or "at least" in m
    ):
        return "missing-basis"
    return "load-error"
