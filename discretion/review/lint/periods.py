"""``edition-overlap`` and ``edition-gap``: the effective periods of one jurisdiction's editions."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

from ...rulebooks.loaded import LoadedEdition
from .findings import ERROR, WARNING, Finding, _at
from .tree import Tree


def check_periods(tree: Tree) -> Iterator[Finding]:
    """Editions of one jurisdiction (drafts excluded) follow each other without overlap or gap:
    ``effective_to`` is the last day in force, so a successor starts the day after. Overlaps and
    gaps that involve an approved, not yet published edition are warnings (fix before publishing).
    A provincial edition's period may not end without a successor; a prefecture without one falls
    back to its province, so a gap between two prefecture editions is a warning."""
    by_id: dict[str, list[LoadedEdition]] = {}
    for le in tree.editions.values():
        if le.model.status != "draft":
            by_id.setdefault(le.model.id, []).append(le)
    for jid, items in sorted(by_id.items()):
        items.sort(key=lambda x: (x.model.effective_from, x.key))
        province = all(x.model.parent is None for x in items)
        for a, b in itertools.pairwise(items):
            ea, eb = a.model, b.model
            sev = ERROR if ea.status == eb.status == "published" else WARNING
            if ea.effective_to is None or ea.effective_to >= eb.effective_from:
                if ea.effective_to is None:
                    yield _at(a.doc, ("effective_to",), "edition-overlap",
                              f"{a.key} 没有失效日期，而 {b.key}（{b.doc.file}）自 {eb.effective_from} 起施行：两个版本同时有效；"
                              f"被取代的版本应以 {eb.effective_from - dt.timedelta(days=1)} 为失效日期", severity=sev, rule_id=a.key)
                else:
                    yield _at(b.doc, ("effective_from",), "edition-overlap",
                              f"{b.key} 自 {eb.effective_from} 起施行，而 {a.key}（{a.doc.file}）至 {ea.effective_to} 仍有效：两个版本同时有效",
                              severity=sev, rule_id=b.key)
            elif ea.effective_to + dt.timedelta(days=1) < eb.effective_from:
                first, last = ea.effective_to + dt.timedelta(days=1), eb.effective_from - dt.timedelta(days=1)
                yield _at(b.doc, ("effective_from",), "edition-gap",
                          f"{a.key} 于 {ea.effective_to} 失效，{b.key} 自 {eb.effective_from} 起施行：{first} 至 {last} 没有{jid}的裁量基准"
                          + ("" if province else "（期间适用上级版本）"),
                          severity=sev if province else WARNING, rule_id=b.key)
        last_le = items[-1]
        if province and last_le.model.effective_to is not None:
            yield _at(last_le.doc, ("effective_to",), "edition-gap",
                      f"{last_le.key} 于 {last_le.model.effective_to} 失效，此后没有{jid}的裁量基准（草案不计）",
                      severity=ERROR if last_le.model.status == "published" else WARNING, rule_id=last_le.key)
