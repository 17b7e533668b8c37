"""discretion.rulebooks.tree: the whole tree is loaded and cross-checked, or refused whole."""

from __future__ import annotations

import hashlib
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from rulebook_tree import edit, line_of, refusal

from discretion.errors import RulebookError, RulebookIssue
from discretion.rulebooks import tree
from discretion.rulebooks.loaded import RulebookSet

SHIPPED = tree.SHIPPED
WATER = "law/violations/water_over_standard.yaml"
EIA = "law/violations/eia_unapproved_construction.yaml"
KUNMING = "yunnan/kunming/2021.yaml"


def make_tree(tmp_path: Path, *codes: str) -> Path:
    """A small tree: law.yaml and the named violation files, copied from the shipped set."""
    root = tmp_path / "rulebooks"
    (root / "law" / "violations").mkdir(parents=True)
    shutil.copy(SHIPPED / "law" / "law.yaml", root / "law" / "law.yaml")
    for code in codes or ("water_over_standard",):
        shutil.copy(SHIPPED / "law" / "violations" / f"{code}.yaml", root / "law" / "violations" / f"{code}.yaml")
    return root


def full_tree(tmp_path: Path) -> Path:
    """A copy of the whole shipped tree, for checks that need the benchmark editions."""
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    return root


def only(err: RulebookError) -> RulebookIssue:
    errors = [i for i in err.issues if i.severity == "error"]
    assert len(errors) == 1, "\n".join(map(str, err.issues))
    return errors[0]


# --- the shipped set ---------------------------------------------------------------------------


def test_shipped_set_loads_forty_violation_types_and_four_editions(rulebooks: RulebookSet) -> None:
    """The shipped rulebooks load whole: every violation file (one type each) and the four benchmark editions."""
    assert len(rulebooks.violations) == len(list((SHIPPED / "law" / "violations").glob("*.yaml"))) >= 40
    assert set(rulebooks.editions) == {"yunnan@2021", "yunnan@2023", "yunnan@2026-draft", "yunnan/kunming@2021"}
    assert {r.id for r in rulebooks.law.regimes} == {"pre2026", "code2026"}


def test_every_violation_file_is_named_for_its_code(rulebooks: RulebookSet) -> None:
    """Each violation type lives in <code>.yaml, as the rulebook guide requires."""
    for code, lv in rulebooks.violations.items():
        assert lv.doc.file == f"rulebooks/law/violations/{code}.yaml"


def test_edition_hash_is_the_sha256_of_its_file(rulebooks: RulebookSet) -> None:
    """An edition's sha256 is the hash of its file's bytes, so a result can be traced to the text."""
    le = rulebooks.editions["yunnan@2023"]
    assert le.sha256 == hashlib.sha256((SHIPPED / "yunnan" / "2023.yaml").read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", rulebooks.sha256)


def test_prefecture_edition_inherits_what_it_does_not_narrow(rulebooks: RulebookSet) -> None:
    """Kunming narrows some entries and takes the rest (formula, rounding, factors) from yunnan@2021."""
    km = rulebooks.editions["yunnan/kunming@2021"].effective
    parent = rulebooks.editions["yunnan@2021"].effective
    assert km.formula == parent.formula
    assert km.rounding == parent.rounding
    assert km.violations["water_over_standard"].max_position == Decimal("0.9")
    assert set(km.violations) == set(parent.violations)
    assert km.adjustments == parent.adjustments  # since 2026-12-03 it lowers no aggravating adjustment


def test_minimal_tree_loads_before_it_is_broken(tmp_path: Path) -> None:
    """The small copied trees load as they are, so each refusal below comes from the one break."""
    rs = tree.load(make_tree(tmp_path, "water_over_standard", "eia_unapproved_construction"))
    assert set(rs.violations) == {"water_over_standard", "eia_unapproved_construction"}


def test_full_tree_copy_loads_before_it_is_broken(tmp_path: Path) -> None:
    """The copied shipped tree loads, so each refusal below comes from the one break."""
    rs = tree.load(full_tree(tmp_path))
    assert len(rs.violations) == len(list((SHIPPED / "law" / "violations").glob("*.yaml"))) and len(rs.editions) == 4


# --- all or nothing --------------------------------------------------------------------------------


def test_broken_edition_refuses_the_whole_set_with_file_line_and_rule(tmp_path: Path) -> None:
    """A typo in one benchmark edition refuses every rulebook, naming file, line and rule id."""
    root = full_tree(tmp_path)
    path = root / KUNMING
    edit(path, "    kind: first_offense\n", "    kind: first_offense\n    knid: minor\n")
    err = refusal(root)
    issue = only(err)
    assert issue.file == f"rulebooks/{KUNMING}"
    assert issue.line == line_of(path, "knid")
    assert issue.rule_id == "ex-exceedance-first"
    assert f"rulebooks/{KUNMING}:{issue.line}: [ex-exceedance-first]" in str(err)


def test_broken_violation_refuses_the_whole_set_with_file_line_and_rule(tmp_path: Path) -> None:
    """One broken violation file among forty refuses the set, naming its file, line and rule id."""
    root = full_tree(tmp_path)
    path = root / WATER
    edit(path, "id: water-83-2\n", "id: water-83-2\n        lable: 超标\n")
    err = refusal(root)
    issue = next(i for i in err.issues if i.file == f"rulebooks/{WATER}")
    assert (issue.line, issue.rule_id) == (line_of(path, "lable: 超标"), "water-83-2")
    assert "lable" in issue.message
    assert f"rulebooks/{WATER}:{issue.line}: [water-83-2]" in str(err)


def test_every_problem_in_every_file_is_listed(tmp_path: Path) -> None:
    """Problems in several files are all collected in one refusal, not only the first."""
    root = make_tree(tmp_path, "water_over_standard", "eia_unapproved_construction")
    edit(root / WATER, "circumstances: []", "circumstances: [no_such_circumstance]")
    (root / EIA).write_bytes(b"code: x\x00")
    err = refusal(root)
    files = {i.file for i in err.issues}
    assert files == {f"rulebooks/{WATER}", f"rulebooks/{EIA}"}


def test_missing_law_layer_is_refused(tmp_path: Path) -> None:
    """A tree without law/law.yaml is refused, naming the missing file."""
    root = make_tree(tmp_path)
    (root / "law" / "law.yaml").unlink()
    err = refusal(root)
    assert err.issues[0].file == "rulebooks/law/law.yaml"


def test_duplicate_violation_code_is_refused(tmp_path: Path) -> None:
    """Two files declaring the same code are refused, naming the second."""
    root = make_tree(tmp_path)
    shutil.copy(root / WATER, root / "law" / "violations" / "zz_copy.yaml")
    issue = only(refusal(root))
    assert issue.file == "rulebooks/law/violations/zz_copy.yaml"
    assert "water_over_standard" in issue.message


# --- cross-checks of a violation ---------------------------------------------------------------------


def test_condition_naming_an_unknown_fact_is_refused(tmp_path: Path) -> None:
    """A condition that reads a fact no file defines is refused, naming the fact and the rule."""
    root = make_tree(tmp_path)
    path = root / WATER
    edit(path, "id: water-83-2-serious\n            label: 情节严重\n            when: serious",
         "id: water-83-2-serious\n            label: 情节严重\n            when: seriously_bad")
    issue = only(refusal(root))
    assert "seriously_bad" in issue.message
    assert issue.rule_id == "water-83-2-serious"
    assert issue.line == line_of(path, "when: seriously_bad")


def test_condition_outside_the_whitelisted_syntax_is_refused(tmp_path: Path) -> None:
    """A condition that is code (a call) is refused when the rulebook is read."""
    root = make_tree(tmp_path)
    path = root / WATER
    edit(path, "id: water-83-2-serious\n            label: 情节严重\n            when: serious",
         "id: water-83-2-serious\n            label: 情节严重\n            when: __import__('os').system('true')")
    issue = only(refusal(root))
    assert issue.rule_id == "water-83-2-serious"
    assert issue.line == line_of(path, "__import__")


def test_enum_compared_to_a_value_not_among_its_choices_is_refused(tmp_path: Path) -> None:
    """eia_document == "reprot" is refused: the enum has no such choice."""
    root = make_tree(tmp_path, "eia_unapproved_construction")
    path = root / EIA
    edit(path, "when: eia_document == \"report\"", "when: eia_document == \"reprot\"")
    issue = only(refusal(root))
    assert "reprot" in issue.message and "eia_document" in issue.message
    assert issue.rule_id == "code-1095-1-report"
    assert issue.line == line_of(path, "reprot")


def test_enum_compared_by_order_is_refused(tmp_path: Path) -> None:
    """An enum can only be tested for equality, never with < or >."""
    root = make_tree(tmp_path, "eia_unapproved_construction")
    edit(root / EIA, "when: eia_document == \"report\"", "when: eia_document > \"report\"")
    issue = only(refusal(root))
    assert "eia_document" in issue.message


def test_bool_fact_compared_to_a_number_is_refused(tmp_path: Path) -> None:
    """A boolean fact compared with a number is refused (True is not 1 in a rulebook)."""
    root = make_tree(tmp_path)
    edit(root / WATER, "label: 情节严重\n            when: serious\n            flags:\n              - flag: government_approval_closure\n                basis:\n                  ref: {law: 中华人民共和国水污染防治法",
         "label: 情节严重\n            when: serious == 1\n            flags:\n              - flag: government_approval_closure\n                basis:\n                  ref: {law: 中华人民共和国水污染防治法")
    issue = only(refusal(root))
    assert "serious" in issue.message


def test_law_not_belonging_to_the_regime_is_refused(tmp_path: Path) -> None:
    """A pre2026 provision citing the Code is refused: the Code is not a law of that regime."""
    root = make_tree(tmp_path)
    path = root / WATER
    edit(path, "ref: {law: 中华人民共和国水污染防治法, article: 83, item: 2}", "ref: {law: 中华人民共和国生态环境法典, article: 1107}")
    issue = only(refusal(root))
    assert "中华人民共和国生态环境法典" in issue.message and "pre2026" in issue.message
    assert issue.rule_id == "water-83-2"
    assert issue.line == line_of(path, "ref: {law: 中华人民共和国生态环境法典, article: 1107}")


def water_refusal(tmp_path: Path, old: str, new: str) -> tuple[Path, RulebookIssue]:
    """The one refusal of the minimal tree with ``old`` replaced by ``new`` in water_over_standard."""
    root = make_tree(tmp_path)
    path = root / WATER
    edit(path, old, new)
    return path, only(refusal(root))


def test_a_measures_own_basis_outside_the_regime_is_refused(tmp_path: Path) -> None:
    """A measure ordered by another paragraph cites it (``basis``); under the separate laws that
    paragraph cannot be the Code's."""
    _, issue = water_refusal(tmp_path, "          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}",
                             "          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治,"
                             " basis: {ref: {law: 中华人民共和国生态环境法典, article: 1107}, text: 由生态环境主管部门责令改正}}")
    assert "中华人民共和国生态环境法典" in issue.message and "pre2026" in issue.message and issue.rule_id == "order_correction"


def test_a_duty_selected_by_an_unknown_fact_is_refused(tmp_path: Path) -> None:
    """A duty's ``when`` reads the violation's facts like a provision's: an unknown name is refused
    at the duty's line."""
    duty = "        text: 排放水污染物，不得超过国家或者地方规定的水污染物排放标准和重点水污染物排放总量控制指标。\n"
    path, issue = water_refusal(tmp_path, duty + "    provisions:", duty + "        when: exceedence_ratio > 0\n    provisions:")
    assert "exceedence_ratio" in issue.message and issue.line == line_of(path, "when: exceedence_ratio > 0")


SOIL = "law/violations/soil_key_unit_violation.yaml"


def test_a_provision_whose_fine_is_in_another_paragraph_must_name_it(tmp_path: Path) -> None:
    """土壤污染防治法第八十六条第一款第一项 quotes “有前款规定行为之一的，处……” of 第二款: without
    ``read_with`` it would be cited without the paragraph that sets its fine, and is refused."""
    root = make_tree(tmp_path, "soil_key_unit_violation")
    path = root / SOIL
    text = path.read_text(encoding="utf-8")
    first = "        read_with: {law: 中华人民共和国土壤污染防治法, article: 86, paragraph: 2}\n"
    path.write_text(text.replace(first, "", 1), encoding="utf-8")
    issue = only(refusal(root))
    assert issue.rule_id == "soil-86-1-1" and "read_with" in issue.message


@pytest.mark.parametrize(
    "other, says",
    [("{law: 中华人民共和国土壤污染防治法, article: 87, paragraph: 2}", "同一条"),
     ("{law: 中华人民共和国土壤污染防治法, article: 86, paragraph: 1}", "不得与 basis 的款相同")],
)
def test_read_with_must_be_another_paragraph_of_the_same_article(tmp_path: Path, other: str, says: str) -> None:
    """``read_with`` names another paragraph of the provision's own article, never another article
    or the provision's own paragraph."""
    root = make_tree(tmp_path, "soil_key_unit_violation")
    path = root / SOIL
    text = path.read_text(encoding="utf-8")
    first = "read_with: {law: 中华人民共和国土壤污染防治法, article: 86, paragraph: 2}"
    path.write_text(text.replace(first, f"read_with: {other}", 1), encoding="utf-8")
    issue = only(refusal(root))
    assert issue.rule_id == "soil-86-1-1" and says in issue.message


def test_read_with_on_a_provision_that_reads_no_other_paragraph_is_refused(tmp_path: Path) -> None:
    """水污染防治法第八十三条第二项 sets its own fine: a ``read_with`` there cites a paragraph the
    provision does not read."""
    root = make_tree(tmp_path)
    edit(root / WATER, "        fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}",
         "        read_with: {law: 中华人民共和国水污染防治法, article: 83, paragraph: 2}\n"
         "        fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}")
    issue = only(refusal(root))
    assert issue.rule_id == "water-83-2" and "不需要 read_with" in issue.message


def test_violated_provision_from_another_regime_is_refused(tmp_path: Path) -> None:
    """The 义务条款 of the Code regime must be a law of that regime too."""
    root = make_tree(tmp_path)
    edit(root / WATER, "ref: {law: 中华人民共和国生态环境法典, article: 151}", "ref: {law: 中华人民共和国水污染防治法, article: 10}\n       ")
    issue = only(refusal(root))
    assert "code2026" in issue.message


def test_fine_base_not_in_requires_is_refused(tmp_path: Path) -> None:
    """A rate fine on total_investment is refused unless total_investment is a required fact."""
    root = make_tree(tmp_path, "eia_unapproved_construction")
    path = root / EIA
    edit(path, "requires: [total_investment]", "requires: []")
    err = refusal(root)
    assert err.issues and all("total_investment" in i.message and "requires" in i.message for i in err.issues)
    assert {i.rule_id for i in err.issues} == {"eia-31-1", "eia-31-2"}


def test_required_fact_not_listed_in_facts_is_refused(tmp_path: Path) -> None:
    """A required fact must be one of the violation's facts."""
    root = make_tree(tmp_path, "eia_unapproved_construction")
    edit(root / EIA, "requires: [total_investment]", "requires: [total_investment, disposal_cost]")
    issue = only(refusal(root))
    assert "disposal_cost" in issue.message


def test_unknown_circumstance_is_refused(tmp_path: Path) -> None:
    """A violation listing a circumstance that law.yaml does not define is refused at its line."""
    root = make_tree(tmp_path)
    path = root / WATER
    edit(path, "circumstances: []", "circumstances: [remorseful]")
    issue = only(refusal(root))
    assert "remorseful" in issue.message
    assert issue.line == line_of(path, "circumstances: [remorseful]")


def test_unknown_standard_fact_is_refused(tmp_path: Path) -> None:
    """A fact referenced by name must be a standard fact of law.yaml."""
    root = make_tree(tmp_path)
    edit(root / WATER, "facts:\n  - serious\n", "facts:\n  - serious\n  - seriousness\n")
    issue = only(refusal(root))
    assert "seriousness" in issue.message


def test_duplicate_rule_id_is_refused(tmp_path: Path) -> None:
    """Two rules with one id in a regime are refused."""
    root = make_tree(tmp_path)
    edit(root / WATER, "id: water-83-2-serious", "id: water-83-2")
    issue = only(refusal(root))
    assert "water-83-2" in issue.message


def test_unknown_fine_kind_is_refused(tmp_path: Path) -> None:
    """A fine form that is not one of the five kinds is refused, listing the allowed kinds."""
    root = make_tree(tmp_path)
    edit(root / WATER, "fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}",
         "fine: {kind: between, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}")
    issue = only(refusal(root))
    assert "between" in issue.message and "per_unit" in issue.message


def test_range_with_minimum_above_maximum_is_refused(tmp_path: Path) -> None:
    """处X元以上Y元以下 with X > Y is refused."""
    root = make_tree(tmp_path)
    edit(root / WATER, "fine: {kind: range, min: 100000, max: 1000000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}",
         "fine: {kind: range, min: 1000000, max: 100000}\n        measures:\n          - {id: order_correction, text: 责令改正或者责令限制生产、停产整治}")
    issue = only(refusal(root))
    assert issue.rule_id == "water-83-2"


# --- prefecture editions may only narrow ----------------------------------------------------------------


DRAFT = "yunnan/code-draft.yaml"


def test_an_edition_reading_a_law_fact_must_map_every_choice_of_it(tmp_path: Path) -> None:
    """from_law that leaves out a choice of the law's fact (act: outlet) is refused at its line, naming the choice."""
    root = full_tree(tmp_path)
    path = root / DRAFT
    edit(path, "          outlet: []\n", "")
    issue = only(refusal(root))
    assert issue.file == f"rulebooks/{DRAFT}" and "outlet" in issue.message
    lines = path.read_text(encoding="utf-8").splitlines()
    block = lines.index("  air_monitoring_violation:")
    assert issue.line == next(n for n in range(block, len(lines)) if lines[n] == "        values:") + 1


def test_an_edition_reading_a_law_fact_may_allow_only_its_own_choices(tmp_path: Path) -> None:
    """from_law that maps a law choice to a value the edition's fact does not have is refused, naming the value."""
    root = full_tree(tmp_path)
    edit(root / DRAFT, "          equipment_tampered: [device_tampered]\n", "          equipment_tampered: [device_smashed]\n")
    issue = only(refusal(root))
    assert "device_smashed" in issue.message


def test_a_contradiction_naming_an_unknown_circumstance_is_refused(tmp_path: Path) -> None:
    """A contradiction rule of law.yaml that reads an unknown name is refused like any condition."""
    root = make_tree(tmp_path, "water_over_standard")
    edit(root / "law" / "law.yaml", "    when: first_offense and repeat_offense\n", "    when: first_offense and repeat_ofense\n")
    issue = only(refusal(root))
    assert issue.file == "rulebooks/law/law.yaml" and "repeat_ofense" in issue.message


def test_a_prefecture_may_not_change_how_the_province_reads_a_law_fact(tmp_path: Path) -> None:
    """A prefecture entry with a from_law of its own (here where the province has none) is refused: it may only narrow."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "    note: \"建模：昆明将超标排放", "    from_law:\n      - {fact: pollutant_class, law_fact: serious, values: {}}\n    note: \"建模：昆明将超标排放")
    err = refusal(root)
    assert any("下级版本不得改变上级版本对法律层事实的读取" in i.message for i in err.issues), err


def test_prefecture_widening_its_position_window_is_refused(tmp_path: Path) -> None:
    """Kunming may not start its window for water_over_standard below the province's 0.1."""
    root = full_tree(tmp_path)
    path = root / KUNMING
    edit(path, "    min_position: 0.1\n", "    min_position: 0.05\n")
    issue = only(refusal(root))
    assert issue.file == f"rulebooks/{KUNMING}"
    assert "0.05" in issue.message and "只能收窄" in issue.message


def with_adjustment(root: Path, id: str, points: int) -> Path:
    """Kunming given an adjustment of a sensitive area (the province's is agg-sensitive-area, 15 points)."""
    path = root / KUNMING
    edit(path, "# (c) 替换省级同 id 条目", f"adjustments:\n  - id: {id}\n    circumstance: sensitive_area\n    direction: aggravate\n"
         f"    points: {points}\n    modelled: {{note: 测试, source: 测试}}\n\n# (c) 替换省级同 id 条目")
    return path


def test_prefecture_raising_adjustment_points_is_refused(tmp_path: Path) -> None:
    """Kunming may not move a position further than the province: 20 points for a sensitive area
    against the province's 15 is refused (lowering them is the lint's prefecture-widens)."""
    root = full_tree(tmp_path)
    path = with_adjustment(root, "agg-sensitive-area", 20)
    issue = only(refusal(root))
    assert issue.rule_id == "agg-sensitive-area"
    assert issue.line == line_of(path, "points: 20")


def test_prefecture_new_adjustment_is_refused(tmp_path: Path) -> None:
    """A prefecture may not add an adjustment the province does not have."""
    root = full_tree(tmp_path)
    with_adjustment(root, "agg-sensitive-area-km", 15)
    issue = only(refusal(root))
    assert "agg-sensitive-area-km" in issue.message


def test_prefecture_loosening_an_exemption_condition_is_refused(tmp_path: Path) -> None:
    """Dropping the province's "no_harm" from the first-offence exemption widens it and is refused."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "corrected_within_days <= 1 and no_harm)", "corrected_within_days <= 1)")
    issue = only(refusal(root))
    assert issue.rule_id == "ex-exceedance-first"
    assert "只能收窄" in issue.message


@pytest.mark.parametrize(
    "new",
    [
        "(first_offense and exceedance_ratio <= 0.5 and corrected_within_days <= 1 and no_harm)",
        "(first_offense and exceedance_ratio <= 0.1 and corrected_within_days <= 1 and no_harm) or positive_list",
        "(first_offense and exceedance_ratio <= 0.1 and corrected_within_days <= 1 and (no_harm or slight_harm))",
    ],
    ids=["raised-threshold", "or-alternative", "or-inside"],
)
def test_prefecture_exemption_loosened_in_other_ways_is_refused(tmp_path: Path, new: str) -> None:
    """A raised threshold or an added alternative loosens the exemption and is refused."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "(first_offense and exceedance_ratio <= 0.1 and corrected_within_days <= 1 and no_harm)", new)
    issue = only(refusal(root))
    assert issue.rule_id == "ex-exceedance-first"


def test_prefecture_exemption_for_an_extra_violation_is_refused(tmp_path: Path) -> None:
    """An exemption entry may not cover a violation type the province's entry does not cover."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "violations: [air_over_standard, water_over_standard]", "violations: [air_over_standard, water_over_standard, restaurant_fumes]")
    issue = only(refusal(root))
    assert issue.rule_id == "ex-exceedance-first"


def test_prefecture_new_exemption_id_is_refused(tmp_path: Path) -> None:
    """A prefecture may not add a 免罚 entry of its own."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "  - id: ex-exceedance-first\n", "  - id: ex-exceedance-first-km\n")
    issue = only(refusal(root))
    assert "ex-exceedance-first-km" in issue.message


def test_prefecture_raising_a_procedural_threshold_is_refused(tmp_path: Path) -> None:
    """A higher legal-review threshold than the province's would skip reviews and is refused."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, "  legal_review: 100000\n", "  legal_review: 300000\n")
    issue = only(refusal(root))
    assert issue.path == "thresholds.legal_review"


def test_prefecture_changing_the_formula_is_refused(tmp_path: Path) -> None:
    """A prefecture may not change the province's formula."""
    root = full_tree(tmp_path)
    path = root / KUNMING
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("# (b)", "formula: {kind: two_dimensional, individual_weight: 0.5, bands: 5}\n\n# (b)", 1), encoding="utf-8")
    issue = only(refusal(root))
    assert issue.path == "formula"


def test_prefecture_with_an_unknown_parent_is_refused(tmp_path: Path) -> None:
    """A prefecture edition must name an existing provincial edition as parent."""
    root = full_tree(tmp_path)
    edit(root / KUNMING, 'parent: "yunnan@2021"', 'parent: "yunnan@2019"')
    issue = only(refusal(root))
    assert "yunnan@2019" in issue.message


PREFECTURE_UNDER_2023 = """\
id: yunnan/kunming
edition: "2024"
title: 昆明市测试版本
issuer: 测试
document: 测试
author: 测试起草人
status: draft
effective_from: 2024-02-02
parent: "yunnan@2023"
reduction:
  when: "{when}"
  floor_ratio: 0.5
  ratio: 0.6
  basis: {{ref: {{law: 中华人民共和国行政处罚法, article: 32}}, text: "当事人有下列情形之一，应当从轻或者减轻行政处罚"}}
changelog:
  - {{date: 2024-02-02, text: 测试版本施行, violations: all, affects_from: 2024-02-02}}
"""


def test_prefecture_keeping_the_province_reduction_loads(tmp_path: Path) -> None:
    """A prefecture repeating the province's reduction condition is a valid (non-widening) edition."""
    root = full_tree(tmp_path)
    (root / "yunnan" / "kunming" / "2024.yaml").write_text(
        PREFECTURE_UNDER_2023.format(when="mitigating_count >= 2 and aggravating_count == 0"), encoding="utf-8")
    assert "yunnan/kunming@2024" in tree.load(root).editions


def test_prefecture_loosening_the_reduction_condition_is_refused(tmp_path: Path) -> None:
    """Allowing 减轻 (a fine below the statutory minimum) with one mitigating circumstance where the
    province requires two and no aggravating one widens the province and must be refused."""
    root = full_tree(tmp_path)
    (root / "yunnan" / "kunming" / "2024.yaml").write_text(PREFECTURE_UNDER_2023.format(when="mitigating_count >= 1"), encoding="utf-8")
    err = refusal(root)
    assert any(i.file == "rulebooks/yunnan/kunming/2024.yaml" for i in err.issues)


@pytest.mark.parametrize(
    ("code", "fine"),
    [
        ("eia_registration_not_filed", "{kind: up_to, max: 50000}"),  # 环评法第三十一条第三款 “处五万元以下”
        ("toxic_material_burning", "{kind: range, min: 10000, max: 100000}"),  # 大气法第一百一十九条第二款 “对单位处一万元以上”
    ],
)
def test_an_optional_fine_must_quote_a_provision_that_says_kexi_chu(tmp_path: Path, code: str, fine: str) -> None:
    """`optional: true` (“可以处…罚款”) on an `up_to` or `range` fine whose quoted text says “处…罚款” is refused at
    its line; the shipped optional fines (both kinds) quote “可以处” and load."""
    root = make_tree(tmp_path, code, "eia_registration_not_filed", "open_burning_or_toxic_spraying")
    tree.load(root)
    target = root / "law" / "violations" / f"{code}.yaml"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if x.strip() == f"fine: {fine}")
    lines[at] = lines[at].replace(fine, fine[:-1] + ", optional: true}")
    target.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        tree.load(root)
    issue = only(exc.value)
    assert issue.line == at + 1 and "可以处" in issue.message, issue


def test_a_fine_left_to_other_rules_must_quote_yifa_chu_yi_fakuan_or_yifa_yuyi_chufa(tmp_path: Path) -> None:
    """`amount_elsewhere` is accepted on “对个人依法处以罚款” (法典第一千一百七十四条第三款) and refused, at its
    line, on a quote that says neither “依法处以罚款” nor “依法予以处罚”."""
    root = make_tree(tmp_path, "garbage_sorting_violation")
    tree.load(root)
    target = root / "law" / "violations" / "garbage_sorting_violation.yaml"
    text = target.read_text(encoding="utf-8")
    cut = text.replace("拒不改正的，……对个人依法处以罚款。", "拒不改正的，……对个人", 1)
    assert cut != text
    target.write_text(cut, encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        tree.load(root)
    issue = only(exc.value)
    assert "依法处以罚款" in issue.message and cut.splitlines()[issue.line - 1].strip() == "amount_elsewhere: true", issue


def test_a_refused_violation_file_is_reported_once_not_again_by_every_edition_that_names_it(tmp_path: Path) -> None:
    """A typo in water_over_standard.yaml is one error at its line; the editions that grade water
    cases do not each add "未知的违法行为：water_over_standard" after it."""
    root = full_tree(tmp_path)
    target = root / "law" / "violations" / "water_over_standard.yaml"
    text = target.read_text(encoding="utf-8") + "bogus_key: 1\n"
    target.write_text(text, encoding="utf-8")
    with pytest.raises(RulebookError) as exc:
        tree.load(root)
    issue = only(exc.value)
    assert issue.file.endswith("water_over_standard.yaml") and issue.line == len(text.splitlines()) and "bogus_key" in issue.message


# --- benchmarks by category (个性裁量基准按类别) ------------------------------------------------------

DRAFT = "yunnan/code-draft.yaml"


@pytest.mark.parametrize("key", ["yunnan@2023", "yunnan@2026-draft"])
def test_a_type_without_its_own_benchmark_takes_its_categorys_factors(rulebooks: RulebookSet, key: str) -> None:
    """An air type the edition gives no entry of its own (construction_dust) is graded by the 大气 category's factors,
    said in its note; a type with its own entry keeps it whole, even an empty one (登记表备案: common factors only)."""
    le = rulebooks.editions[key]
    assert "construction_dust" not in le.model.violations and rulebooks.violations["construction_dust"].model.group == "air"
    got = le.effective.violations["construction_dust"]
    assert [f.id for f in got.factors] == [f.id for f in le.model.categories["air"].factors] == ["area", "duration"]
    assert got.note is not None and got.note.startswith("按“大气污染防治”类别的个性裁量基准")
    assert le.effective.violations["eia_registration_not_filed"].factors == []
    assert le.effective.violations["water_over_standard"] == le.model.violations["water_over_standard"]


def test_a_categorys_factor_moves_the_recommended_fine(engine: Any) -> None:
    """construction_dust under the 2023 edition: the category's 排放去向/区域 at its top level raises the position
    above the same case with the area not given (which defaults to level 1 and is listed as defaulted)."""
    from discretion.engine.case import Case

    base = dict(violation="construction_dust", violation_date="2025-05-01", decision_date="2025-06-01",
                facts={"site_act": "site_measures", "duration_days": 3})
    low = engine.assess(Case.model_validate(base))
    high = engine.assess(Case.model_validate({**base, "facts": {**base["facts"], "discharge_area": "protected"}}))
    assert low.applied.fine is not None and high.applied.fine is not None
    assert high.applied.fine.recommended > low.applied.fine.recommended
    assert any(s.step == "factor" and "“排放去向/区域”" in s.text and "第5级" in s.text for s in high.applied.steps)
    assert "area" in [d["id"] for d in low.to_dict()["factors_defaulted"]]


def test_a_prefecture_edition_may_not_add_categories(tmp_path: Path) -> None:
    """Kunming may only narrow what the province grades: a category of its own is refused at its line."""
    root = full_tree(tmp_path)
    path = root / KUNMING
    edit(path, "# (c) 替换省级同 id 条目", "categories:\n  soil:\n    factors:\n      - id: area\n        label: 区域\n"
         "        levels:\n          - {level: 1, label: 一般}\n          - {level: 5, label: 敏感, when: 'discharge_area == \"protected\"'}\n\n# (c) 替换省级同 id 条目")
    issue = only(refusal(root))
    assert issue.file == f"rulebooks/{KUNMING}" and "下级版本不得新增类别基准" in issue.message
    assert issue.line == line_of(path, "  soil:")


def test_a_category_factor_reading_an_unknown_fact_is_refused_at_its_line(tmp_path: Path) -> None:
    """A category's level that reads a fact neither the edition nor the law layer defines refuses the whole set, with file:line."""
    root = full_tree(tmp_path)
    path = root / DRAFT
    edit(path, "\ncategories:\n", "\ncategories:\n  chemical:\n    factors:\n      - id: amount\n        label: 数量\n"
         "        levels:\n          - {level: 1, label: 少量}\n          - {level: 5, label: 大量, when: 'no_such_fact >= 3'}\n")
    issue = only(refusal(root))
    assert issue.file == f"rulebooks/{DRAFT}" and "no_such_fact" in issue.message
    assert issue.line == line_of(path, "no_such_fact")
