"""discretion.review.diff and ``discretion rulebooks diff``: what changes between two editions, matched by id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rulebook_tree import edit

from api.cli import main
from discretion.errors import NotFoundError
from discretion.review import diff
from discretion.review.diff import Change, EditionDiff
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.tree import SHIPPED

DRAFT = "yunnan/code-draft.yaml"


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    return root


def changes_of(d: EditionDiff, code: str | None = None) -> list[Change]:
    if code is None:
        return list(d.general)
    return next((list(v.changes) for v in d.violations if v.code == code), [])


def test_2023_against_the_code_draft_reads_each_side_under_its_own_law(rulebooks: RulebookSet) -> None:
    """The 2023 edition is read under the separate laws and the draft under the Code: the statutory
    fine of 超标排放水污染物 shows both provisions with their quoted text."""
    d = diff.compare("yunnan@2023", "yunnan@2026-draft", rulebooks)
    assert (d.a.regime, d.b.regime) == ("pre2026", "code2026")
    [c] = [c for c in changes_of(d, "water_over_standard") if c.area == "statutory"]
    assert c.kind == "changed"
    assert "《中华人民共和国水污染防治法》第八十三条第二项" in (c.a or "")
    assert "《中华人民共和国生态环境法典》第一千一百零七条" in (c.b or "")
    assert "100000元（10万元）以上1000000元（100万元）以下" in (c.a or "")
    assert any("十万元以上一百万元以下" in q.text and "第八十三条" in q.citation for q in c.basis_a)
    assert any("十万元以上一百万元以下" in q.text and "第一千一百零七条" in q.citation for q in c.basis_b)
    assert c.note == "罚款幅度相同，罚则条文不同"


def test_a_changed_adjustment_shows_both_values_and_the_new_statutory_basis(rulebooks: RulebookSet) -> None:
    """生态修复 moves from 10 to 15 points; the draft cites Code art. 1056 (2), the 2023 edition none."""
    d = diff.compare("yunnan@2023", "yunnan@2026-draft", rulebooks)
    [c] = [c for c in d.general if c.item == "mit-ecological-restoration" and c.field == "points"]
    assert (c.kind, c.a, c.b, c.a_value, c.b_value) == ("changed", "10", "15", "10", "15")
    assert c.basis_a == ()
    assert [q.citation for q in c.basis_b] == ["《中华人民共和国生态环境法典》第一千零五十六条第二款"]
    assert "酌定" in (c.note or "")


def test_one_regime_for_both_sides_leaves_only_benchmark_changes(rulebooks: RulebookSet) -> None:
    """Asked to read both editions under the Code, no statutory difference remains."""
    d = diff.compare("yunnan@2023", "yunnan@2026-draft", rulebooks, regime="code2026")
    assert not [c for v in d.violations for c in v.changes if c.area == "statutory"]
    assert [c.area for c in changes_of(d, "eia_unapproved_construction")].count("level") >= 1


def test_the_diff_shows_how_an_edition_reads_the_law_facts_and_its_contradiction_rules(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """A changed reading of a law fact (from_law) is a change of its violation type with both sides' mapping, and a
    changed contradiction rule an edition-wide change with both conditions."""
    root = tree(tmp_path)
    edit(root / DRAFT, "          equipment_tampered: [device_tampered]\n", "          equipment_tampered: [device_tampered, not_networked]\n")
    edit(root / DRAFT, "    when: 'first_offense and violations_in_two_years >= 2'\n", "    when: 'first_offense and violations_in_two_years >= 3'\n")
    d = diff.compare("yunnan@2026-draft", str(root / DRAFT), rulebooks)
    [c] = [c for c in changes_of(d, "air_monitoring_violation") if c.area == "from_law"]
    tampered, device = "“侵占、损毁或者擅自移动、改变大气环境质量监测设施或者大气污染物排放自动监测设备”", "“擅自拆除、闲置、损坏自动监测设备”"
    assert c.kind == "changed" and f"{tampered} → {device}；" in (c.a or "")
    assert f"{tampered} → {device}、“未按规定安装自动监测设备或者未联网”" in (c.b or "")
    assert c.label == "事实“监测违法行为情形”由法律层事实读取" and c.item == "monitoring_breach"
    [r] = [c for c in changes_of(d) if c.area == "contradiction"]
    assert (r.kind, r.field, r.a, r.b) == ("changed", "when", "“初次违法”，且“两年内同类违法次数（含本次）”不小于2次",
                                           "“初次违法”，且“两年内同类违法次数（含本次）”不小于3次")
    assert r.b_value == "first_offense and violations_in_two_years >= 3"


def test_an_edition_against_itself_has_no_differences(rulebooks: RulebookSet) -> None:
    """Comparing an edition with itself finds nothing and says so."""
    d = diff.compare("yunnan@2023", "yunnan@2023", rulebooks)
    assert d.same and len(d.unchanged) == len(rulebooks.violations)
    assert "两个版本没有实质差异" in diff.render_text(d)


def test_prefecture_against_its_province_shows_the_narrowing(rulebooks: RulebookSet) -> None:
    """Kunming narrows the province: a position ceiling of 0.9 and a legal-review threshold of 10万元."""
    d = diff.compare("yunnan@2021", "yunnan/kunming@2021", rulebooks)
    [pos] = [c for c in changes_of(d, "water_over_standard") if c.area == "position"]
    assert (pos.field, pos.a, pos.b) == ("max_position", "1（不限）", "0.9")
    [lr] = [c for c in d.general if c.field == "legal_review"]
    assert (lr.a, lr.b) == ("200000元（20万元）", "100000元（10万元）")
    assert any("第五十八条" in q.citation for q in lr.basis_b)
    assert {v.code for v in d.violations} == {"water_over_standard", "air_over_standard"}


def test_renamed_factor_and_changed_level_are_changes_not_delete_and_add(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """A factor keeping its id under a new title, and a level with a new condition, are "changed"."""
    root = tree(tmp_path)
    edit(root / DRAFT, "      - id: build_stage\n        label: 建设进程\n", "      - id: build_stage\n        label: 建设阶段\n")
    edit(root / DRAFT, """when: 'build_stage == "main_works"'}""", """when: 'build_stage in ("main_works", "equipment")'}""")
    d = diff.compare("yunnan@2026-draft", str(root / DRAFT), rulebooks)
    got = changes_of(d, "eia_unapproved_construction")
    assert [(c.kind, c.area, c.item, c.field) for c in got] == [
        ("changed", "factor", "build_stage", "label"),
        ("changed", "level", "build_stage/2", "when"),
    ]
    assert (got[0].a, got[0].b) == ("建设进程", "建设阶段")
    assert got[1].b == "“建设进程”为“主体建设”或“设备安装”"  # in words (the fact's label); the rule as written is the value
    assert got[1].b_value == 'build_stage in ("main_works", "equipment")'
    assert d.b.file == "rulebooks/" + DRAFT and d.general == ()


def test_a_factor_given_a_new_id_is_a_deletion_and_an_addition(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """Matching is by id: a new id is another factor (one removed, one added)."""
    root = tree(tmp_path)
    edit(root / DRAFT, "      - id: build_stage\n", "      - id: construction_stage\n")
    d = diff.compare("yunnan@2026-draft", str(root / DRAFT), rulebooks)
    got = [(c.kind, c.item) for c in changes_of(d, "eia_unapproved_construction")]
    assert got == [("removed", "build_stage"), ("added", "construction_stage")]


def test_renamed_exemption_entry_is_changed_with_its_quoted_basis(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """An exemption entry with a new title and threshold under the same id: two field changes, with
    both sides' basis quoted."""
    root = tree(tmp_path)
    edit(root / DRAFT, 'label: "危险废物年产生量不超过1吨，未设置识别标志，5日内改正，未造成危害后果"',
         'label: "危险废物年产生量不超过0.5吨，未设置识别标志，5日内改正，未造成危害后果"')
    edit(root / DRAFT, "hw_breach == \"label\" and hw_annual_tonnes <= 1 and", "hw_breach == \"label\" and hw_annual_tonnes <= 0.5 and")
    d = diff.compare("yunnan@2026-draft", str(root / DRAFT), rulebooks)
    got = changes_of(d, "hazardous_waste_management")
    assert [(c.kind, c.item, c.field) for c in got] == [("changed", "ex-hw-label", "label"), ("changed", "ex-hw-label", "when")]
    assert "“危险废物年产生量”不超过1吨，" in (got[1].a or "") and "“危险废物年产生量”不超过0.5吨，" in (got[1].b or "")
    assert "hw_annual_tonnes <= 0.5 " in got[1].b_value
    assert any("第三十三条" in q.citation and "不予行政处罚" in q.text for q in got[1].basis_b)


def test_a_changed_law_layer_shows_the_provision_that_changed(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """Two trees with different law layers: the same edition shows the changed statutory range of
    the provision, matched by its rule id (the optional law-layer diff)."""
    root = tree(tmp_path)
    edit(root / "law/violations/water_over_standard.yaml", "fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}",
         "fine: {kind: range, min: 100000, max: 2000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}")
    d = diff.compare("yunnan@2023", str(root / "yunnan/2023.yaml"), rulebooks)
    [c] = changes_of(d, "water_over_standard")
    assert (c.area, c.item, c.field) == ("statutory", "water-83-2", "fine")
    assert (c.a, c.b) == ("100000元（10万元）以上1000000元（100万元）以下", "100000元（10万元）以上2000000元（200万元）以下")


def test_unknown_edition_key_is_not_found(rulebooks: RulebookSet) -> None:
    """An unknown key names the editions there are."""
    with pytest.raises(NotFoundError) as exc:
        diff.compare("yunnan@2023", "yunnan@2099", rulebooks)
    assert "yunnan@2026-draft" in exc.value.message


def test_a_file_outside_any_rulebook_tree_is_refused(tmp_path: Path, rulebooks: RulebookSet) -> None:
    """An edition file is read with its tree; a lone file has none and is refused."""
    lone = tmp_path / "draft.yaml"
    shutil.copy(SHIPPED / DRAFT, lone)
    with pytest.raises(NotFoundError) as exc:
        diff.compare("yunnan@2023", str(lone), rulebooks)
    assert "law/law.yaml" in exc.value.message


def test_diff_is_data_serialisable_to_json_with_chinese_labels(rulebooks: RulebookSet) -> None:
    """to_dict() round-trips through JSON and carries the Chinese labels beside the stable keys."""
    d = diff.compare("yunnan@2021", "yunnan@2023", rulebooks)
    data = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    assert data["a"]["key"] == "yunnan@2021" and data["b"]["status_label"] == "已发布"
    first = data["general"][0]
    assert {"kind", "kind_label", "area", "area_label", "item", "field", "field_label", "a", "b", "a_value", "b_value", "basis_a", "basis_b"} <= set(first)
    assert all(v["changes"] for v in data["violations"])


# --- the command --------------------------------------------------------------------------------


def test_cli_diff_text_is_a_chinese_report(capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks diff A B` prints both editions, the edition-wide changes and the changes per type."""
    assert main(["rulebooks", "diff", "yunnan@2021", "yunnan@2023"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("裁量基准版本比较")
    assert "一、全局变化（影响全部违法行为）" in out and "二、逐类违法行为" in out
    assert "【修改】取整：推荐罚款取整 · 取整单位\n      A：1000元\n      B：100元" in out


def test_cli_diff_json_names_both_editions(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the diff's data."""
    assert main(["rulebooks", "diff", "yunnan@2023", str(SHIPPED / DRAFT), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["a"]["key"], data["b"]["key"]) == ("yunnan@2023", "yunnan@2026-draft")
    # every type's statutory fine moves to the Code but for the regulation provision that stays in force
    assert [v["code"] for v in data["unchanged"]] == ["acceptance_report_not_published"]
    assert len(data["violations"]) + 1 == len(list((SHIPPED / "law" / "violations").glob("*.yaml")))


def test_cli_diff_with_an_unknown_edition_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown edition is an input error (exit 2) naming the edition, without a traceback."""
    assert main(["rulebooks", "diff", "yunnan@2023", "yunnan@1999"]) == 2
    err = capsys.readouterr().err
    assert "yunnan@1999" in err and "Traceback" not in err
