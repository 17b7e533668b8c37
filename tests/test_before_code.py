"""A violation type's law before the Code (``before_code``) and its catalogue group: an act not
punishable before 2026-08-15 is not punished, one whose earlier provision is not encoded is refused
(422 ``regime_not_encoded``), and every type stands in one of the Code's sections."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from rulebook_tree import edit, line_of, refusal

from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.catalog import grouped, violation_entry
from discretion.errors import InputError
from discretion.rulebooks import tree
from discretion.rulebooks.models import GROUPS
from discretion.rulebooks.tree import SHIPPED

TYPE = "law/violations/inspection_refused.yaml"
D = dt.date.fromisoformat


def _tree(tmp_path: Path, before_code: str | None) -> Path:
    """The shipped tree with inspection_refused's pre2026 regime cut out and ``before_code`` set."""
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    path = root / TYPE
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  pre2026:\n"), text.index("  code2026:\n")
    text = text[:start] + text[end:]
    if before_code is not None:
        text = text.replace("circumstances: []\n", "circumstances: []\n" + before_code, 1)
    path.write_text(text, encoding="utf-8")
    return root


NOT_ENCODED = 'before_code: {status: not_encoded, laws: [示例条例], note: 测试用的未收录规定}\n'
NOT_PUNISHABLE = 'before_code: {status: not_punishable, note: 法典新设的义务，此前没有处罚规定}\n'


def _case(**kw: object) -> Case:
    return Case(**{"violation": "inspection_refused", "facts": {}, "circumstances": [], **kw})  # type: ignore[arg-type]


def test_a_type_without_pre2026_rules_must_say_why(tmp_path: Path) -> None:
    """Leaving out the pre-Code law without ``before_code`` is refused, naming the file."""
    err = refusal(_tree(tmp_path, None))
    assert any(i.file.endswith("inspection_refused.yaml") and "before_code" in i.message for i in err.issues), err


def test_a_type_with_pre2026_rules_cannot_also_claim_before_code(tmp_path: Path) -> None:
    """``before_code`` beside encoded pre2026 rules is a contradiction, refused with its file."""
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    edit(root / TYPE, "circumstances: []\n", "circumstances: []\n" + NOT_PUNISHABLE)
    err = refusal(root)
    assert any(i.file.endswith("inspection_refused.yaml") for i in err.issues), err


def test_not_encoded_must_name_the_law(tmp_path: Path) -> None:
    """A provision said to exist but not encoded must name its law, refused at its line otherwise."""
    root = _tree(tmp_path, "before_code: {status: not_encoded, note: 没有写明法律名称}\n")
    err = refusal(root)
    assert any("laws" in i.message and i.line == line_of(root / TYPE, "before_code") for i in err.issues), err


def test_an_act_under_a_provision_not_encoded_is_refused_naming_the_law(tmp_path: Path) -> None:
    """A pre-Code act of a type whose earlier provision is not encoded: 422 regime_not_encoded, never a guess."""
    engine = Engine(tree.load(_tree(tmp_path, NOT_ENCODED)), "reference")
    with pytest.raises(InputError) as exc:
        engine.assess(_case(violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert exc.value.code == "regime_not_encoded" and exc.value.field == "violation_date"
    assert "《示例条例》" in exc.value.message
    # the lighter-law comparison needs the old law too
    with pytest.raises(InputError) as exc:
        engine.assess(_case(violation_date=D("2026-03-01"), decision_date=D("2026-09-01")))
    assert exc.value.code == "regime_not_encoded"
    # an act under the Code is assessed
    a = engine.assess(_case(violation_date=D("2026-09-01"), decision_date=D("2026-10-01")))
    assert a.outcome == "penalty" and a.applied.fine is not None and a.applied.fine.legal_min == 50000


@pytest.mark.parametrize("matcher", ["durable", "reference"])
def test_an_act_not_punishable_before_the_code_is_not_punished(tmp_path: Path, matcher: str) -> None:
    """Not punishable before 2026-08-15: no penalty, the reason in the trail; decided later, the old law is lighter."""
    engine = Engine(tree.load(_tree(tmp_path, NOT_PUNISHABLE)), matcher)
    a = engine.assess(_case(violation_date=D("2025-03-01"), decision_date=D("2025-09-01")))
    assert a.outcome == "no_penalty" and a.applied.not_punishable
    assert any("法典新设的义务" in s.text for s in a.trail)
    later = engine.assess(_case(violation_date=D("2026-03-01"), decision_date=D("2026-09-01")))
    assert later.applied.regime == "pre2026" and later.outcome == "no_penalty"


def test_the_catalogue_names_the_law_not_encoded(tmp_path: Path) -> None:
    """The catalogue says which law's text is missing for the day's regime, and nothing for the Code's."""
    engine = Engine(tree.load(_tree(tmp_path, NOT_ENCODED)), "reference")
    old = violation_entry(engine.compiled, "inspection_refused", D("2025-03-01"), "yunnan")
    new = violation_entry(engine.compiled, "inspection_refused", D("2026-09-01"), "yunnan")
    assert (old["punishable"], old["not_encoded"]) == (False, ["示例条例"])
    assert (new["punishable"], new["not_encoded"]) == (True, [])


def test_every_shipped_type_stands_in_a_group_of_the_code(rulebooks) -> None:  # type: ignore[no-untyped-def]
    """Every shipped type has a group among the Code's sections, and grouping keeps the sections' order."""
    engine = Engine(rulebooks, "reference")
    items = [violation_entry(engine.compiled, code, D("2026-09-01"), "yunnan") for code in sorted(rulebooks.violations)]
    assert all(i["group"] in GROUPS and i["group_label"] == GROUPS[i["group"]] for i in items)
    groups = grouped(items)
    order = list(GROUPS)
    assert [order.index(g) for g, _, _ in groups] == sorted(order.index(g) for g, _, _ in groups)
    assert sum(len(m) for _, _, m in groups) == len(items)


def test_the_api_lists_and_filters_by_group(client) -> None:  # type: ignore[no-untyped-def]
    """GET /v1/violations gives each type's group and label, and ``?group=`` keeps that group only."""
    items = client.get("/v1/violations", params={"on": "2026-09-01"}).json()["items"]
    assert {i["group"] for i in items} >= {"air", "eia", "permit", "solid_waste"}
    air = client.get("/v1/violations", params={"on": "2026-09-01", "group": "air"}).json()["items"]
    assert air and all(i["group"] == "air" and i["group_label"] == "大气污染防治" for i in air)
    bad = client.get("/v1/violations", params={"group": "marine"})
    assert bad.status_code == 422 and "group" in bad.text


def test_the_home_page_shows_the_groups(client) -> None:  # type: ignore[no-untyped-def]
    """The catalogue page has a heading per group, in the Code's order, and links to each."""
    page = client.get("/", params={"on": "2026-09-01"}).text
    assert 'href="#group-air"' in page and "<th colspan=\"3\" scope=\"rowgroup\">大气污染防治</th>" in page
    assert page.index("生态环境监测</th>") < page.index("大气污染防治</th>") < page.index("其他违法行为</th>")
