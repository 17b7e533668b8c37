"""discretion.review.lint and `discretion rulebooks lint`: every check fires on a deliberately broken
rulebook (tests/lint_corpus), at the file and line a legal reviewer has to fix, and nowhere else.

Each corpus entry is a folder of files overlaid on the minimal tree in ``tests/lint_corpus/_base``
plus ``expect.yaml``: the findings (check, file, line[, severity]) that must appear (``expect``)
or may appear as a consequence (``also``); any other error fails the test. Published editions
carry a signed approval; after overlaying, the harness re-approves them with the test reviewer's key
(the content hash covers the content the entry breaks on purpose)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from rulebook_tree import reapprove

from api.cli import main
from discretion.review import lint
from discretion.review.lint import CHECKS, Dom, Space
from discretion.rulebooks import loading
from discretion.rulebooks.models import BenchmarkEdition

CORPUS = Path(__file__).parent / "lint_corpus"
BASE = CORPUS / "_base"
ENTRIES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))


def spec_of(name: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / name / "expect.yaml").read_text(encoding="utf-8"))


def build(tmp_path: Path, name: str | None = None) -> Path:
    """The base tree with the corpus entry ``name`` overlaid, as ``<tmp>/rulebooks``."""
    root = tmp_path / "rulebooks"
    shutil.copytree(BASE, root)
    if name is not None:
        entry = CORPUS / name
        for rel in spec_of(name).get("remove", []):
            (root / rel).unlink()
        for f in entry.rglob("*.yaml"):
            if f.name != "expect.yaml":
                target = root / f.relative_to(entry)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, target)
    reapprove(root)
    return root


def key(f: lint.Finding) -> tuple[str, str, int]:
    return (f.check, f.file, f.line)


# --- the corpus ---------------------------------------------------------------------------------


def test_the_base_tree_lints_without_any_finding(tmp_path: Path) -> None:
    """The minimal tree every corpus entry breaks is itself clean: findings come from the breakage."""
    assert lint.lint(build(tmp_path)) == []


@pytest.mark.parametrize("name", ENTRIES)
def test_each_broken_rulebook_is_reported_at_its_file_and_line(tmp_path: Path, name: str) -> None:
    """The expected check fires at the expected file and line, and no unexpected error appears."""
    spec = spec_of(name)
    findings = lint.lint(build(tmp_path, name))
    got = {key(f): f for f in findings}
    for e in spec["expect"]:
        k = (e["check"], f"rulebooks/{e['file']}", e["line"])
        assert k in got, f"{name}: expected {k}; got:\n" + "\n".join(map(str, findings))
        assert got[k].severity == e.get("severity", CHECKS[e["check"]][1])
        assert got[k].message, "a finding explains itself"
    allowed = {(e["check"], f"rulebooks/{e['file']}", e["line"]) for e in spec["expect"] + spec.get("also", [])}
    unexpected = [f for f in lint.errors(findings) if key(f) not in allowed]
    assert not unexpected, f"{name}: unexpected errors:\n" + "\n".join(map(str, unexpected))


def test_every_check_is_shown_firing_by_the_corpus() -> None:
    """Each check id has at least one broken rulebook that makes it fire; the corpus has 30 or more."""
    covered = {e["check"] for name in ENTRIES for e in spec_of(name)["expect"]}
    assert covered == set(CHECKS)
    assert len(ENTRIES) >= 30


def test_the_shipped_rulebooks_lint_without_errors() -> None:
    """The shipped law layer and editions have no lint errors (warnings are listed, not failed)."""
    findings = lint.lint()
    assert lint.errors(findings) == [], "\n".join(map(str, lint.errors(findings)))


def test_a_refused_tree_still_gets_the_semantic_checks(tmp_path: Path) -> None:
    """When the loader refuses the set (an unknown name in one edition), lint reports the refusal
    and still finds a level gap in another file that loads."""
    root = build(tmp_path, "unknown-name-level")
    path = root / "yunnan" / "2021.yaml"
    old = '          - {level: 1, label: "不足10天"}'
    new = "          - {level: 1, label: \"不足5天\", when: 'duration_days < 5'}"  # 5 to 9 days: no level
    assert path.read_text(encoding="utf-8").count(old) == 1
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    reapprove(root)
    checks = {(f.check, f.file) for f in lint.lint(root)}
    assert ("unknown-name", "rulebooks/yunnan/2023.yaml") in checks
    assert ("level-gap", "rulebooks/yunnan/2021.yaml") in checks


def test_a_tree_without_law_layer_is_one_finding_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "rulebooks").mkdir()
    findings = lint.lint(tmp_path / "rulebooks")
    assert [f.check for f in findings] == ["load-error"]
    assert "law.yaml" in findings[0].file


# --- the condition analysis ---------------------------------------------------------------------

COUNT = Dom("num", integer=True, lo=Decimal(0))
NUMBER = Dom("num", lo=Decimal(0))


def test_count_facts_are_integers_so_an_open_interval_between_neighbours_is_empty() -> None:
    space = Space({"n": COUNT, "x": NUMBER})
    assert space.boxes("n > 4 and n < 5") == []
    assert space.boxes("x > 4 and x < 5") != []


def test_facts_are_never_negative_so_a_negative_bound_never_holds() -> None:
    assert Space({"n": COUNT}).boxes("n < 0") == []


def test_a_name_absent_from_the_case_type_makes_its_comparisons_false() -> None:
    space = Space({"serious": None, "s": Dom("fin", frozenset({True, False}), bool_=True)})
    assert space.boxes("not serious") == []
    assert space.boxes("not serious or s") == [{"s": frozenset({True})}]


def test_uncovered_values_are_found_between_numeric_levels() -> None:
    space = Space({"n": COUNT})
    levels = [b for c in ("n < 5", "n >= 5 and n < 10", "n > 10") for b in space.boxes(c)]
    rest = space.uncovered([{}], levels)
    assert [space.show(b) for b in rest] == ["n = 10"]


def test_overlap_of_enum_conditions_names_the_shared_value() -> None:
    space = Space({"e": Dom("fin", frozenset({"a", "b", "c"}))})
    w = space.overlap(space.boxes('e in ("a", "b")'), space.boxes('e != "a"'))
    assert w is not None and space.show(w) == 'e = "b"'


# --- the command line ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lint_command_exits_zero_on_a_clean_tree(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "rulebooks", "lint", str(build(tmp_path)))
    assert code == 0
    assert "没有错误或警告" in out


def test_lint_command_prints_file_line_severity_check_rule_and_exits_one_on_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = build(tmp_path, "level-overlap-numeric")
    line = spec_of("level-overlap-numeric")["expect"][0]["line"]
    code, out, _ = run(capsys, "rulebooks", "lint", str(root))
    assert code == 1
    assert f"rulebooks/yunnan/2023.yaml:{line}: error [level-overlap] duration: " in out
    assert "共 1 个错误、0 个警告" in out


def test_lint_command_exits_zero_when_there_are_only_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "rulebooks", "lint", str(build(tmp_path, "missing-basis-adjustment-warning")))
    assert code == 0
    assert ": warning [missing-basis] mit-self-reported: " in out


def test_lint_command_json_lists_the_findings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "rulebooks", "lint", str(build(tmp_path, "edition-gap-after-last")), "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["errors"] == 1 and data["warnings"] == 0
    assert data["findings"][0]["check"] == "edition-gap"
    assert data["findings"][0]["file"] == "rulebooks/yunnan/2023.yaml"


def test_lint_command_on_one_file_lists_only_that_files_findings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = build(tmp_path, "edition-overlap-dates")  # the finding is in 2023.yaml, the change in 2021.yaml
    code, out, _ = run(capsys, "rulebooks", "lint", str(root / "yunnan" / "2021.yaml"))
    assert code == 0 and "edition-overlap" not in out
    code, out, _ = run(capsys, "rulebooks", "lint", str(root / "yunnan" / "2023.yaml"))
    assert code == 1 and "[edition-overlap]" in out


def test_lint_command_uses_the_global_rulebooks_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--rulebooks", str(build(tmp_path, "band-outside-range-reduction-floor")), "rulebooks", "lint")
    assert code == 1 and "[band-outside-range]" in out


def test_lint_command_on_a_missing_path_exits_two(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "rulebooks", "lint", str(tmp_path / "nowhere"))
    assert code == 2
    assert "路径不存在" in err


def test_rulebooks_check_fails_on_lint_errors_of_a_tree_that_loads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`rulebooks check` runs lint: a level gap does not stop loading, but it fails the check."""
    code, out, _ = run(capsys, "--rulebooks", str(build(tmp_path, "level-gap-interior")), "rulebooks", "check")
    assert code == 1
    assert "[level-gap]" in out
    assert "规则集有效" not in out


def test_rulebooks_check_passes_with_warnings_and_prints_them(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--rulebooks", str(build(tmp_path, "missing-basis-adjustment-warning")), "rulebooks", "check")
    assert code == 0
    assert "warning [missing-basis]" in out and "规则集有效" in out and "1 个警告" in out


def test_a_prefecture_lowering_a_mitigating_adjustment_narrows_its_province(tmp_path: Path) -> None:
    """The base tree's prefecture gives 主动供述 5 points of 从轻 where its province gives 10: less
    leniency is a narrowing, and lint finds nothing; raising an aggravating adjustment is the
    loader's refusal, lowering one the lint's (corpus: prefecture-widens-aggravating-lowered)."""
    root = build(tmp_path)
    kunming = loading.validate(loading.parse((root / "yunnan/kunming/2021.yaml").read_bytes(), "k.yaml"), BenchmarkEdition)
    province = loading.validate(loading.parse((root / "yunnan/2021.yaml").read_bytes(), "p.yaml"), BenchmarkEdition)
    mine = {a.id: a for a in kunming.adjustments or []}["mit-confessed"]
    theirs = {a.id: a for a in province.adjustments or []}["mit-confessed"]
    assert mine.direction == "mitigate" and mine.points < theirs.points
    assert [f for f in lint.lint(root) if f.check == "prefecture-widens"] == []
