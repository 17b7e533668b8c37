"""api.cli: the command line calls the library and maps its errors to exit codes and messages."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from api.cli import main
from api.clock import today
from discretion.review import golden
from discretion.rulebooks import tree

SHIPPED = tree.SHIPPED
WATER = "law/violations/water_over_standard.yaml"
CONTRACT_KEYS = {"outcome", "fine", "individual_fines", "measures", "flags", "law", "rulebook", "trail", "reasoning"}
ASSESS = ["assess", "--violation", "water_over_standard", "--violation-date", "2025-03-01", "--decision-date", "2025-06-01"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_tree(tmp_path: Path) -> Path:
    root = tmp_path / "rulebooks"
    (root / "law" / "violations").mkdir(parents=True)
    shutil.copy(SHIPPED / "law" / "law.yaml", root / "law" / "law.yaml")
    shutil.copy(SHIPPED / WATER, root / WATER)
    return root


# --- rulebooks check / schema / test --------------------------------------------------------------


def test_rulebooks_check_exits_zero_on_the_shipped_set(capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks check` validates the shipped tree and says how much it holds."""
    code, out, _ = run(capsys, "rulebooks", "check")
    assert code == 0
    n = len(list((SHIPPED / "law" / "violations").glob("*.yaml")))
    assert f"{n} 类违法行为" in out and "4 个裁量基准版本" in out


def test_rulebooks_check_accepts_a_valid_tree_given_with_the_global_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--rulebooks, placed before the subcommand, points the check at another tree."""
    code, out, _ = run(capsys, "--rulebooks", str(make_tree(tmp_path)), "rulebooks", "check")
    assert code == 0
    assert "1 类违法行为" in out


def test_rulebooks_check_exits_one_with_file_and_line_on_a_broken_tree(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A broken tree exits 1 and prints file:line and the rule id of the problem."""
    root = make_tree(tmp_path)
    path = root / WATER
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        when: serious\n", "        when: serous\n", 1), encoding="utf-8")
    line = next(n for n, s in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "when: serous" in s)
    code, out, err = run(capsys, "--rulebooks", str(root), "rulebooks", "check")
    assert code == 1
    assert f"rulebooks/{WATER}:{line}:" in err
    assert "[water-83-2-serious]" in err and "serous" in err
    assert "规则集有效" not in out


def test_rulebooks_check_refuses_a_tree_without_law_layer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A directory that is not a rulebook tree exits 1 naming the missing law.yaml."""
    (tmp_path / "rulebooks").mkdir()
    code, _, err = run(capsys, "--rulebooks", str(tmp_path / "rulebooks"), "rulebooks", "check")
    assert code == 1
    assert "law.yaml" in err


def test_rulebooks_schema_prints_json_schema_with_defs(capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks schema` prints a JSON Schema whose $defs describe the rulebook models."""
    code, out, _ = run(capsys, "rulebooks", "schema")
    assert code == 0
    schema = json.loads(out)
    assert "$defs" in schema
    assert {"LawEdition", "Violation", "BenchmarkEdition", "RangeFine"} <= set(schema["$defs"])
    assert schema["$defs"]["Violation"].get("additionalProperties") is False


def test_rulebooks_test_runs_every_golden_case(capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks test` runs the golden cases and prints "N passed, 0 failed"."""
    code, out, _ = run(capsys, "rulebooks", "test")
    m = re.search(r"(\d+) passed, (\d+) failed", out)
    assert m, out[-500:]
    assert int(m.group(2)) == 0
    assert int(m.group(1)) == len(golden.load_cases())
    assert code == 0


def test_rulebooks_test_verbose_lists_every_case_with_its_sentence_and_result(capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks test -v` prints one line per golden case: its result, its sentence and where it is written."""
    code, out, _ = run(capsys, "rulebooks", "test", "-v")
    listed = [line for line in out.splitlines() if line.startswith("[")]
    assert listed == [f"[通过 passed] {c.name}（{c.file}:{c.line}）" for c in golden.load_cases()]
    assert code == 0 and out.rstrip().endswith(f"{len(listed)} passed, 0 failed")


# --- assess -------------------------------------------------------------------------------------


def test_assess_text_output_states_the_recommended_fine(capsys: pytest.CaptureFixture[str]) -> None:
    """The text output has the legal range, the 建议罚款 line, the trail and the reasoning."""
    code, out, _ = run(capsys, *ASSESS)
    assert code == 0
    assert "建议罚款：100000元（10万元）" in out
    assert "《中华人民共和国水污染防治法》第八十三条第二项" in out
    assert "计算过程" in out and "说理" in out


def test_assess_json_output_has_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the contract's result object."""
    code, out, _ = run(capsys, *ASSESS, "--fact", "serious=true", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert CONTRACT_KEYS <= set(d)
    assert d["outcome"] == "penalty"
    assert {"legal_min", "legal_max", "band", "recommended"} <= set(d["fine"])
    assert "government_approval_closure" in [f["id"] for f in d["flags"]]
    assert re.fullmatch(r"[0-9a-f]{64}", d["rulebook"]["sha256"])


def test_assess_reads_a_case_from_a_json_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--input reads the API's assessment input, with decimal money kept exact."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps({
        "violation": "eia_unapproved_construction",
        "facts": {"total_investment": 12345678.90, "eia_document": "report"},
        "violation_date": "2025-03-01",
        "decision_date": "2025-06-01",
    }), encoding="utf-8")
    code, out, _ = run(capsys, "assess", "--input", str(path), "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert (d["fine"]["legal_min"], d["fine"]["legal_max"]) == (123457, 617283)
    assert d["law"]["regime"] == "pre2026"


def test_assess_with_an_unknown_fact_exits_two_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad fact exits 2 and names facts.<name> and the error code."""
    code, out, err = run(capsys, *ASSESS, "--fact", "exceedance=2")
    assert code == 2
    assert "unknown_fact" in err and "facts.exceedance" in err
    assert out == ""


def test_assess_with_contradictory_circumstances_exits_two_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    """初次违法 with 多次被处罚 exits 2 with contradictory_inputs, both fields and the Chinese message, and prints no result."""
    code, out, err = run(capsys, *ASSESS, "--circumstance", "first_offense", "--circumstance", "repeat_offense")
    assert code == 2 and out == ""
    assert "contradictory_inputs（circumstances[0]、circumstances[1]）" in err
    assert "“初次违法”与“多次实施违法行为被处罚（两年内因同类违法行为被处罚三次以上）”相互矛盾" in err


def test_assess_text_output_lists_what_took_no_effect(capsys: pytest.CaptureFixture[str]) -> None:
    """The text output names the circumstances not applied and the factors at their default level, with the reasons."""
    code, out, _ = run(capsys, *ASSESS, "--circumstance", "first_offense")
    assert code == 0
    assert "未予适用的情节：初次违法（只是不予处罚的条件之一" in out
    assert "按默认等级计算的因子：持续时间，未提供“违法行为持续时间”，按默认的第1级（不足5天）计" in out


def test_assess_with_an_unknown_violation_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown violation code exits 2 naming the field "violation"."""
    code, _, err = run(capsys, "assess", "--violation", "nope", "--violation-date", "2025-03-01", "--decision-date", "2025-06-01")
    assert code == 2
    assert "unknown_violation" in err and "violation" in err


def test_assess_input_file_missing_a_date_exits_two_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An input file without violation_date exits 2 and names the field."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"violation": "water_over_standard"}), encoding="utf-8")
    code, _, err = run(capsys, "assess", "--input", str(path))
    assert code == 2
    assert "violation_date" in err


@pytest.mark.parametrize("field", ["violation_date", "violation_end_date", "discovered_date"])
def test_assess_refuses_an_act_or_discovery_after_today_from_arguments_and_files(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str) -> None:
    """A violation, end or discovery date after today (Beijing time) exits 2 with date_in_future naming
    the field, whether given as arguments or in an --input file; a decision date ahead is computed."""
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    dates = {"violation_date": "2025-03-01", "decision_date": tomorrow, field: tomorrow}
    flags = {"violation_date": "--violation-date", "violation_end_date": "--end-date", "discovered_date": "--discovered-date",
             "decision_date": "--decision-date"}
    args = [x for k, v in dates.items() for x in (flags[k], v)]
    code, out, err = run(capsys, "assess", "--violation", "water_over_standard", "--fact", "exceedance_ratio=0.5", *args)
    assert code == 2 and out == "" and f"date_in_future（{field}）" in err and "晚于今天（北京时间" in err, err
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5}, **dates}), encoding="utf-8")
    code, _, err = run(capsys, "assess", "--input", str(path))
    assert code == 2 and f"date_in_future（{field}）" in err, err
    code, _, err = run(capsys, "assess", "--violation", "water_over_standard", "--fact", "exceedance_ratio=0.5",
                       "--violation-date", today().isoformat(), "--decision-date", tomorrow)
    assert code == 0, err  # an act today, decided on a day planned ahead


def test_assess_input_takes_the_case_identity_checked_as_the_api_does(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A ``case`` in the input file is checked (identity code, party kind) and printed, the personal
    number masked in the text and given in full in the JSON; its party kind is the one assessed."""
    case = {"number": "昆环罚〔2025〕41号", "party": {"name": "孙某某", "kind": "individual", "id_code": "11010519491231002x"}}
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"violation": "water_over_standard", "facts": {"exceedance_ratio": 0.5},
                                "violation_date": "2025-03-01", "decision_date": "2025-06-01", "case": case}), encoding="utf-8")
    code, out, _ = run(capsys, "assess", "--input", str(path))
    assert code == 0
    assert "案号：昆环罚〔2025〕41号" in out and "公民身份号码：1101**********002X" in out and "11010519491231002X" not in out
    assert "当事人（个人）" in out
    code, out, _ = run(capsys, "assess", "--input", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["case"]["party"]["id_code"] == "11010519491231002X"
    for wrong, field, what in (({**case, "party": {**case["party"], "id_code": "110105194912310021"}}, "case.party.id_code", "invalid_id_code"),
                               ({**case, "number": "x" * 65}, "case.number", "invalid_input")):
        path.write_text(json.dumps({"violation": "water_over_standard", "violation_date": "2025-03-01", "party": "individual",
                                    "case": wrong}), encoding="utf-8")
        code, _, err = run(capsys, "assess", "--input", str(path))
        assert code == 2 and what in err and field in err and ("最多 64 个字符" in err or "校验不通过" in err), err
    path.write_text(json.dumps({"violation": "water_over_standard", "violation_date": "2025-03-01", "party": "unit",
                                "case": case}), encoding="utf-8")
    code, _, err = run(capsys, "assess", "--input", str(path))
    assert code == 2 and "party_mismatch" in err


def test_assess_with_an_unreadable_input_file_exits_two(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing or malformed input file exits 2 instead of a traceback."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert run(capsys, "assess", "--input", str(tmp_path / "missing.json"))[0] == 2
    assert run(capsys, "assess", "--input", str(bad))[0] == 2


def test_assess_with_a_huge_money_fact_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """--fact total_investment=1e30 is bad input: exit 2 naming the fact, not an uncaught exception."""
    argv = ["assess", "--violation", "eia_unapproved_construction", "--violation-date", "2025-03-01",
            "--decision-date", "2025-06-01", "--fact", "total_investment=1e30"]
    try:
        code, _, err = run(capsys, *argv)
    except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes main()
        pytest.fail(f"{type(exc).__name__} escaped from main(): {exc!r}")
    assert code == 2
    assert "facts.total_investment" in err


def test_assess_without_violation_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """assess with neither --violation nor --input is refused with exit 2."""
    code, _, err = run(capsys, "assess")
    assert code == 2
    assert "--violation" in err


# --- violations ---------------------------------------------------------------------------------


def test_violations_json_lists_forty_items_with_their_form_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """`violations --on 2026-11-26 --format json` lists every type (one per violation file), each with what a form needs."""
    code, out, _ = run(capsys, "violations", "--on", "2026-11-26", "--format", "json")
    assert code == 0
    items = json.loads(out)["items"]
    assert len(items) == len(list((SHIPPED / "law" / "violations").glob("*.yaml")))
    for item in items:
        assert {"code", "title", "penalty_basis", "facts", "circumstances"} <= set(item)
        assert item["regime"] == "code2026"
        assert all(b["citation"].startswith("《") for b in item["penalty_basis"])


def basis_has(item: dict[str, object], law: str, article: int) -> bool:
    return any(law in b["law"] and b["article"] == article for b in item["penalty_basis"])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "on, q, law, article",
    [
        ("2025-06-01", "水污染防治法 83", "水污染防治法", 83),
        ("2025-06-01", "大气污染防治法 99", "大气污染防治法", 99),
        ("2026-11-26", "生态环境法典 1107", "生态环境法典", 1107),
        ("2025-06-01", "水污染防治法 33", "水污染防治法", 33),
    ],
)
def test_violations_query_by_law_and_article_narrows_to_that_article(
    capsys: pytest.CaptureFixture[str], on: str, q: str, law: str, article: int
) -> None:
    """--q "<law> <article>" lists exactly the types whose penalty basis is that article of that law."""
    _, out, _ = run(capsys, "violations", "--on", on, "--format", "json")
    expected = sorted(i["code"] for i in json.loads(out)["items"] if basis_has(i, law, article))
    code, out, _ = run(capsys, "violations", "--on", on, "--q", q, "--format", "json")
    assert code == 0
    got = sorted(i["code"] for i in json.loads(out)["items"])
    assert got == expected


def test_violations_query_for_water_law_83_finds_over_standard_discharge(capsys: pytest.CaptureFixture[str]) -> None:
    """水污染防治法 83 in 2025 finds 超标排放水污染物 and not air pollution types."""
    code, out, _ = run(capsys, "violations", "--on", "2025-06-01", "--q", "水污染防治法 83", "--format", "json")
    codes = {i["code"] for i in json.loads(out)["items"]}
    assert "water_over_standard" in codes
    assert "air_over_standard" not in codes
    assert 0 < len(codes) < 40


def test_violations_text_output_ends_with_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    """The text listing, under a 【group】 heading per section of the Code, ends with 共 N 类."""
    code, out, _ = run(capsys, "violations", "--on", "2025-06-01", "--q", "超标排放")
    assert code == 0
    lines = out.strip().splitlines()
    rows = [line for line in lines[:-1] if not line.startswith("【")]
    assert lines[-1] == f"共 {len(rows)} 类" and "【排污许可】" in lines
    assert any(line.startswith("water_over_standard\t") for line in lines)


# --- daily-penalty -----------------------------------------------------------------------------


def test_daily_penalty_counts_days_from_the_day_after_service(capsys: pytest.CaptureFixture[str]) -> None:
    """Served 2025-03-01, re-inspected 2025-03-11: 10 days × 100000 yuan under 环境保护法 第五十九条."""
    code, out, _ = run(capsys, "daily-penalty", "--fine", "100000", "--served", "2025-03-01", "--reinspection", "2025-03-11", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert (d["days"], d["total"], d["regime"]) == (10, 1_000_000, "pre2026")
    assert "《中华人民共和国环境保护法》第五十九条第一款" in d["basis"]


def test_daily_penalty_under_the_code_cites_article_1060(capsys: pytest.CaptureFixture[str]) -> None:
    """An order served after 2026-08-15 is counted under 《生态环境法典》第一千零六十条."""
    code, out, _ = run(capsys, "daily-penalty", "--fine", "50000", "--served", "2026-09-01", "--reinspection", "2026-09-04")
    assert code == 0
    assert "150000元（15万元）" in out
    assert "《中华人民共和国生态环境法典》第一千零六十条第一款" in out


def test_daily_penalty_with_reinspection_before_service_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """A re-inspection not after the service date is refused with exit 2 naming the field."""
    code, _, err = run(capsys, "daily-penalty", "--fine", "100000", "--served", "2025-03-11", "--reinspection", "2025-03-11")
    assert code == 2
    assert "reinspection_date" in err


def test_bad_date_on_the_command_line_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A date not written YYYY-MM-DD is refused by the parser (exit status 2)."""
    with pytest.raises(SystemExit) as exc:
        main(["daily-penalty", "--fine", "1", "--served", "2025/3/1", "--reinspection", "2025-03-11"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--port", "99999"], "端口须在 1 至 65535 之间"), (["--port", "0"], "端口须在 1 至 65535 之间"),
     (["--port", "abc"], "端口须为整数"), (["--workers", "0"], "工作进程数须在 1 至 64 之间"),
     (["--workers", "-3"], "工作进程数须在 1 至 64 之间")],
)
def test_serve_refuses_a_port_or_worker_count_out_of_range(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    """`serve` exits 2 with a Chinese message before starting anything, instead of hanging on an
    impossible port or running without workers."""
    with pytest.raises(SystemExit) as exc:
        main(["serve", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
