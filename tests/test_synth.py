"""discretion.review.synth and ``discretion cases synth``: seeded, realistic, valid, marked synthetic."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.cli import main
from api.clock import today
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.engine.inputs import facts_for_matching
from discretion.errors import DiscretionError, InputError
from discretion.review import casefile, synth
from discretion.rulebooks.loaded import RulebookSet


@pytest.fixture(scope="module")
def drawn(reference_engine: Engine) -> list:
    return synth.generate(reference_engine.rulebooks, reference_engine.compiled, 3000, seed=11, today=today())


def test_the_same_seed_draws_the_same_cases_and_another_seed_others(reference_engine: Engine, drawn: list) -> None:
    again = synth.generate(reference_engine.rulebooks, reference_engine.compiled, 3000, seed=11, today=today())
    other = synth.generate(reference_engine.rulebooks, reference_engine.compiled, 3000, seed=12, today=today())
    assert again == drawn
    assert other != drawn
    assert sum(a == b for a, b in zip(drawn, other)) < 30


def test_dates_fall_on_both_sides_of_the_code_and_some_cases_compare_both_laws(drawn: list) -> None:
    before = [c for c in drawn if c.end_date < synth.CODE_DAY]
    after = [c for c in drawn if c.end_date >= synth.CODE_DAY]
    both = [c for c in before if c.decision_date >= synth.CODE_DAY]
    assert len(before) > 0.4 * len(drawn) and len(after) > 0.2 * len(drawn)
    assert len(both) > 0.03 * len(drawn)


def test_every_drawn_case_assesses_for_every_violation_type_the_generator_picks(reference_engine: Engine, drawn: list) -> None:
    picked = {c.violation for c in drawn}
    assert len(picked) == len(reference_engine.rulebooks.violations)  # 3,000 draws reach every type (one whose pre-Code provision is not encoded acts from 2026-08-15: assessable)
    for c in drawn:
        a = reference_engine.assess(c)  # raises InputError on an invalid case
        assert a.outcome in ("penalty", "no_penalty", "time_barred")


def test_the_mix_favours_the_common_violations_and_most_cases_carry_few_circumstances(drawn: list) -> None:
    counts = Counter(c.violation for c in drawn)
    top = {code for code, _ in counts.most_common(2)}
    assert top == {"water_over_standard", "air_over_standard"}
    assert counts["water_over_standard"] > 5 * counts["design_measures_missing"]
    few = sum(1 for c in drawn if len(c.circumstances) <= 2)
    assert few > 0.75 * len(drawn)
    assert sum(1 for c in drawn if "first_offense" in c.circumstances) > 0.2 * len(drawn)


def test_generate_valid_refuses_when_the_generator_no_longer_fits_the_rulebooks(rulebooks: RulebookSet) -> None:
    class Refusing(Engine):
        def assess(self, case):  # type: ignore[no-untyped-def]
            raise InputError(message="不适用", code="unknown_fact", field="facts.x")

    with pytest.raises(DiscretionError) as info:
        synth.generate_valid(Refusing(rulebooks, "reference"), 10, today=today())
    assert info.value.code == "synth_invalid"


def test_entries_mark_every_case_synthetic_with_a_reference(drawn: list) -> None:
    items = list(synth.entries(drawn[:3], 11))
    assert [(r, s) for r, s, _ in items] == [("SYN-11-000001", "synthetic"), ("SYN-11-000002", "synthetic"), ("SYN-11-000003", "synthetic")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_jsonl_to_stdout_marked_synthetic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cases", "synth", "--n", "5", "--seed", "3")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == 5
    assert all(x["source"] == "synthetic" and x["ref"].startswith("SYN-3-") for x in lines)
    assert {"violation", "violation_date", "decision_date", "facts"} <= set(lines[0])


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_cli_writes_a_case_file_that_reads_back_as_the_same_cases(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, reference_engine: Engine, suffix: str
) -> None:
    path = tmp_path / f"cases.{suffix}"
    code, out, _ = run(capsys, "cases", "synth", "--n", "40", "--seed", "9", "--out", str(path))
    assert code == 0 and "40" in out and "合成案例" in out
    entries = list(casefile.read(path).entries())
    expected = synth.generate_valid(reference_engine, 40, 9, today=today())
    assert [e.case for e in entries] == expected  # type: ignore[union-attr]
    assert {e.source for e in entries} == {"synthetic"}  # type: ignore[union-attr]
    if suffix == "xlsx":
        wb = load_workbook(path, read_only=True)
        assert "合成案例" in (wb.properties.title or "")
        wb.close()


@pytest.mark.parametrize(("argv", "field"), [(["--n", "0"], "n"), (["--out", "x.txt"], "file")])
def test_cli_refuses_bad_arguments_with_exit_two(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], field: str) -> None:
    code, out, err = run(capsys, "cases", "synth", *[a if a != "x.txt" else str(tmp_path / a) for a in argv])
    assert code == 2
    assert field in err and out == ""


def test_cli_with_a_fixed_today_gives_the_same_cases_on_any_day(capsys: pytest.CaptureFixture[str], reference_engine: Engine) -> None:
    """--today fixes the last date the cases may fall on, so a seed gives the same file whatever the day."""
    code, out, _ = run(capsys, "cases", "synth", "--n", "30", "--seed", "4", "--today", "2026-10-01")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    expected = synth.generate_valid(reference_engine, 30, 4, today=dt.date(2026, 10, 1))
    assert [x["violation_date"] for x in lines] == [c.violation_date.isoformat() for c in expected]
    assert max(x["decision_date"] for x in lines) <= "2026-10-01"


def test_cli_refuses_a_today_after_today(capsys: pytest.CaptureFixture[str]) -> None:
    """A cut-off day in the future would make acts in the future: refused, naming --today."""
    later = (today() + dt.timedelta(days=2)).isoformat()
    code, out, err = run(capsys, "cases", "synth", "--n", "3", "--today", later)
    assert code == 2 and "today" in err and out == ""


def test_an_individual_given_an_act_only_a_unit_commits_is_mended_to_a_unit(reference_engine: Engine) -> None:
    """A drawn case whose party denies its act (a contradiction rule reading ``party``) is mended by taking the other party, not left contradictory."""
    case = Case(violation="sanitation_waste_violation", party="individual", facts={"sanitation_act": "construction_waste_plan"},
                circumstances=[], violation_date=dt.date(2026, 9, 1), decision_date=dt.date(2026, 11, 1))
    unit = reference_engine.unit(case.violation, reference_engine.rulebooks.editions["yunnan@2023"])
    ruleset = unit.ruleset
    assert unit.consistency.check(case, facts_for_matching(ruleset, case)) is not None
    mended = synth.consistent(unit.consistency, ruleset, case, random.Random(1))
    assert mended.party == "unit" and mended.facts == case.facts
    assert unit.consistency.check(mended, facts_for_matching(ruleset, mended)) is None
