"""A failing golden case reads as a lawyer's note: the case's sentence, expected against actual
values, and the trail (``discretion rulebooks test`` and the pytest report alike)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api.cli import main
from discretion.engine.assessment import Engine
from discretion.review import golden
from discretion.rulebooks import tree

NAME = "2025年超标0.6倍排放含行业特征污染物的废水12天，排入Ⅲ类水体，首次违法，按2023年版推荐42万元"
WRONG = f"""\
- name: {NAME}
  input:
    violation: water_over_standard
    facts: {{exceedance_ratio: 0.6, pollutant_class: characteristic, discharge_area: residential, duration_days: 12}}
    circumstances: []
    violation_date: 2025-03-01
    decision_date: 2025-06-01
  expect:
    regime: code2026
    recommended: 420000
    legal_min: 100000
"""


@pytest.fixture
def wrong_case_tree(tmp_path: Path) -> Path:
    """The shipped rulebooks with one golden case whose expected values are wrong (the engine says
    单行法 and 415000 yuan, worked out in rulebooks/yunnan/2023.cases.yaml)."""
    root = tmp_path / "rulebooks"
    shutil.copytree(tree.SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    (root / "yunnan" / "2023.cases.yaml").write_text(WRONG, encoding="utf-8")
    return root


def assert_readable(report: str) -> None:
    lines = report.splitlines()
    assert lines[0] == f"案例：{NAME}"
    assert lines[1] == "位置：rulebooks/yunnan/2023.cases.yaml:1"
    assert lines[2].startswith("输入：违法行为 water_over_standard；违法行为日期 2025-03-01；决定日期 2025-06-01；事实 exceedance_ratio=0.6")
    assert "  - 适用法律体系 regime：应为 《生态环境法典》（code2026），实际为 单行法（pre2026）" in lines
    assert "  - 推荐罚款 recommended：应为 420000元（42万元），实际为 415000元（41.5万元）" in lines
    assert not any("legal_min" in line for line in lines)  # a value that matches is not reported
    trail = lines[lines.index("计算过程：") + 1:]
    assert trail[0].startswith("  1. 【适用法律】违法行为发生于2025-03-01，适用单行法")
    assert any(line.startswith("  ") and "【推荐金额】" in line and "415000元（41.5万元）" in line for line in trail)
    assert any("《中华人民共和国水污染防治法》第八十三条第二项" in line for line in trail)


def test_rulebooks_test_prints_the_sentence_expected_actual_and_trail(wrong_case_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`discretion rulebooks test` on a tree with a wrong case exits 1 with the readable report."""
    assert main(["--rulebooks", str(wrong_case_tree), "rulebooks", "test"]) == 1
    out = capsys.readouterr().out
    assert_readable(out.split("\n\n")[0])
    assert out.rstrip().endswith("0 passed, 1 failed")


def test_rulebooks_test_verbose_marks_the_wrong_case_failed_before_its_report(wrong_case_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With -v the wrong case is listed as failed, with its sentence and place, and its report follows."""
    assert main(["--rulebooks", str(wrong_case_tree), "rulebooks", "test", "-v"]) == 1
    first, report = capsys.readouterr().out.split("\n", 1)
    assert first == f"[失败 failed] {NAME}（rulebooks/yunnan/2023.cases.yaml:1）"
    assert_readable(report.split("\n\n")[0])


def test_the_pytest_report_of_a_failing_case_has_the_trail(wrong_case_tree: Path) -> None:
    """golden.report(case, diffs), as test_golden calls it on failure, includes the trail too."""
    engine = Engine(tree.load(wrong_case_tree), "reference")
    [case] = golden.load_cases(wrong_case_tree)
    diffs = golden.run(engine, case)
    assert len(diffs) == 2
    assert_readable(golden.report(case, diffs))


def test_a_case_that_cannot_be_assessed_reports_the_error_without_a_trail(wrong_case_tree: Path) -> None:
    """An input the engine refuses is reported with its error code and message."""
    path = wrong_case_tree / "yunnan" / "2023.cases.yaml"
    path.write_text(WRONG.replace("decision_date: 2025-06-01", "decision_date: 2024-06-01"), encoding="utf-8")
    engine = Engine(tree.load(wrong_case_tree), "reference")
    [case] = golden.load_cases(wrong_case_tree)
    report = golden.report(case, golden.run(engine, case))
    assert "计算出错：" in report and "计算过程" not in report
