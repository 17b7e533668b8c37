"""api/storage/decided.py: the analytics row of a decided case, written with its decision, filled by
migration 0009, checked and rebuilt against the chain; synthetic rows; ``discretion analytics``.
Storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, insert, select, update

from api import cli
from api.clock import today
from api.deps import Principal
from api.storage import Store, make_engine, new_id
from api.storage.decided import bin_of, check, position_of, rebuild, side_of, synthetic_rows, synthetic_templates
from api.storage.migrations import upgrade
from api.storage.records import Records, check_decision
from api.storage.rows import assessment_row, decision_row
from api.storage.schema import assessments, decided_cases, decisions
from discretion.engine.assessment import Engine
from discretion.engine.case import Case
from discretion.rulebooks.loaded import RulebookSet

ROOT = Path(__file__).resolve().parent.parent
WANG = Principal(name="wang", role="handler", via="token")
CASE = json.loads((ROOT / "examples" / "case.json").read_text(encoding="utf-8"))  # water_over_standard, 0.5×, confessed
FEATURES = ("f=area:1:0,duration:1:0,exceedance:3:0.5,pollutant:1:0,regional_impact:1:0,repeat_count:1:0,social_impact:1:0"
            "|c=confessed|r=100000-1000000")


def test_positions_are_basis_points_of_the_statutory_range_rounded_to_the_nearest() -> None:
    """In 100,000–1,000,000 yuan: 136,000 is 4.00 % (400); 45 yuan above the minimum is 0.5 basis
    points (rounds up to 1), 1 yuan is 0; 90,000 is −1.11 % (−111); no range of positive width, no position."""
    assert position_of(136_000, 100_000, 1_000_000) == 400
    assert position_of(100_045, 100_000, 1_000_000) == 1
    assert position_of(100_001, 100_000, 1_000_000) == 0
    assert position_of(90_000, 100_000, 1_000_000) == -111
    assert position_of(1_000_000, 100_000, 1_000_000) == 10_000
    assert position_of(5, 100, None) is None and position_of(5, 100, 100) is None and position_of(5, None, 100) is None


def test_bins_are_whole_points_with_the_maximum_in_the_top_bin_and_the_ends_kept() -> None:
    """4.00 % is bin 4, −1.11 % bin −2 (the point below it), the maximum (100 %) bin 99 with 99.99 %,
    just above it bin 100; positions beyond −50 … 150 % fall in the end bins."""
    assert [bin_of(p) for p in (400, -111, 10_000, 9_999, 10_001, 10**9, -10**9)] == [4, -2, 99, 99, 100, 150, -50]
    assert bin_of(None) is None


def test_the_side_of_the_band_includes_its_ends() -> None:
    """Below, at either end, inside, above."""
    assert [side_of(x, [100, 200]) for x in (99, 100, 150, 200, 201)] == [-1, 0, 0, 0, 1]
    assert side_of(0, [0, 0]) == 0 and side_of(1, [0, 0]) == 1


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def records(store: Store, rulebooks: RulebookSet, reference_engine: Engine) -> Records:
    return Records(store, rulebooks, reference_engine, "reference")


def decide(store: Store, records: Records, engine: Engine, case: dict[str, Any], amount: int, reason: str | None = None,
           who: Principal = WANG) -> str:
    """Assess ``case``, store it as the service does, record the decision; returns the assessment id."""
    a = engine.assess(Case.model_validate(case))
    rid = new_id()
    records.submit(rid, case, a, a.to_json(id=rid), who).result(10)
    within, why = check_decision(store.get_row(rid) or {}, amount, reason)
    store.submit_decision(rid, amount=amount, reason=why, within_band=within, who=who).result(10)
    return rid


def row_of(store: Store, ref: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        got = conn.execute(select(decided_cases).where(decided_cases.c.ref == ref)).first()
    assert got is not None, ref
    return dict(got._mapping)


def test_a_decision_writes_its_analytics_row_with_it(store: Store, records: Records, reference_engine: Engine) -> None:
    """The example case (range 100,000–1,000,000, band 100,000–280,000, recommended 136,000) decided at
    300,000 with a reason: above the band, position 2,222 (200,000 / 900,000), bin 22, the case's
    factor levels and circumstance, the handler who assessed it, decided today in Beijing."""
    rid = decide(store, records, reference_engine, CASE, 300_000, "当事人拒不配合调查")
    r = row_of(store, rid)
    day = today()
    expected = {"ref": rid, "synthetic": False, "decided_on": day, "month": day.year * 100 + day.month,
                "violation": "water_over_standard", "regime": "pre2026", "jurisdiction": "yunnan", "edition": "yunnan@2023",
                "handler": "wang", "party": "unit", "outcome": "penalty", "legal_min": 100_000, "legal_max": 1_000_000,
                "band_min": 100_000, "band_max": 280_000, "recommended": 136_000, "amount": 300_000, "position": 2_222,
                "bin": 22, "side": 1, "waived": False, "reason": "当事人拒不配合调查", "features": FEATURES}
    assert {k: r[k] for k in expected} == expected


def test_a_waived_case_and_a_time_barred_one_are_told_apart(store: Store, records: Records, reference_engine: Engine) -> None:
    """不予处罚 (minor, corrected promptly, no harm) decided at 0: waived, no position, inside its [0, 0]
    band; a time-barred case decided at 0 is not a waiver."""
    waived = decide(store, records, reference_engine, {**CASE, "circumstances": ["minor", "corrected_promptly", "no_harm"]}, 0)
    barred = decide(store, records, reference_engine, {**CASE, "circumstances": [], "violation_date": "2022-01-01"}, 0)
    w, b = row_of(store, waived), row_of(store, barred)
    assert (w["outcome"], w["waived"], w["position"], w["bin"], w["side"]) == ("no_penalty", True, None, None, 0)
    assert w["features"].endswith("|r=-")
    assert (b["outcome"], b["waived"], b["side"]) == ("time_barred", False, 0)


def test_migration_0009_fills_the_table_from_the_decisions_already_chained(db_url: str) -> None:
    """A database at 0008 (before the table) with an assessment and its decision: after 0009 the decision has its row,
    derived from the stored result and request."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0008")
        result = {"outcome": "penalty", "violation": {"code": "water_over_standard"}, "law": {"regime": "code2026"},
                  "rulebook": {"id": "yunnan", "key": "yunnan@2023"},
                  "fine": {"legal_min": 100_000, "legal_max": 1_000_000, "band": [100_000, 280_000], "recommended": 136_000},
                  "trail": [{"step": "factor", "regime": "code2026", "data": {"factor": "area", "level": 2, "score": "0.25"}}]}
        a = assessment_row("0" * 24, request={}, result_json=b"", violation="water_over_standard", title="超标排放",
                           outcome="penalty", fine=result["fine"], edition="yunnan@2023", sha256="a" * 64,
                           rulebook_set="b" * 64, who=WANG)
        a.update(request=json.dumps({"jurisdiction": "yunnan/kunming", "party": "individual", "circumstances": ["confessed"]}),
                 result=json.dumps(result), seq=1, prev_id="", prev_hash="0" * 64, hash="1" * 64)
        d = decision_row("0" * 24, 190_000, None, True, WANG)
        d.update(seq=2, prev_id=a["id"], prev_hash="1" * 64, hash="2" * 64)
        with engine.begin() as conn:
            conn.execute(insert(assessments), [a])
            conn.execute(insert(decisions), [d])
        upgrade(engine)
        with engine.connect() as conn:
            r = dict(conn.execute(select(decided_cases)).one()._mapping)
        assert (r["ref"], r["regime"], r["jurisdiction"], r["party"], r["amount"], r["position"], r["side"]) == (
            "0" * 24, "code2026", "yunnan/kunming", "individual", 190_000, 1_000, 0)
        assert r["features"] == "f=area:2:0.25|c=confessed|r=100000-1000000"
    finally:
        engine.dispose()


def test_check_names_missing_altered_and_extra_rows_and_rebuild_mends_them(store: Store, records: Records,
                                                                         reference_engine: Engine) -> None:
    """A row deleted, one altered (its amount) and one without a decision on the chain are each named;
    a rebuild derives them again from the chain, and the synthetic rows stay."""
    ids = [decide(store, records, reference_engine, CASE, amount) for amount in (136_000, 150_000)]
    assert check(store.engine) == (2, [])
    with store.engine.begin() as conn:
        conn.execute(delete(decided_cases).where(decided_cases.c.ref == ids[0]))
        conn.execute(update(decided_cases).where(decided_cases.c.ref == ids[1]).values(amount=1))
        copy = {k: v for k, v in row_of(store, ids[1]).items() if k != "id"}
        conn.execute(insert(decided_cases), [{**copy, "ref": "f" * 24}, {**copy, "ref": "SYN-1-1", "synthetic": True}])
    n, found = check(store.engine)
    assert n == 2
    assert sorted((d.problem, d.ref, d.columns) for d in found) == sorted(
        [("missing", ids[0], ()), ("altered", ids[1], ("amount",)), ("extra", "f" * 24, ())])
    with store.engine.begin() as conn:
        assert rebuild(conn) == 2
    assert check(store.engine) == (2, [])
    assert row_of(store, ids[1])["amount"] == 150_000 and row_of(store, "SYN-1-1")["synthetic"] is True


def test_synthetic_rows_are_marked_reproducible_and_decided_as_their_bands_say(rulebooks: RulebookSet) -> None:
    """The same seed gives the same rows; every row is synthetic with a SYN reference and a synthetic
    handler, lies on the side of its band it says, gives a reason exactly when outside the band (or
    waived against a recommended fine), and is not decided after today."""
    day = dt.date(2026, 11, 1)
    templates = synthetic_templates(rulebooks, 60, 5, day)
    assert templates and all(t["decision_date"] < day for t in templates)
    rows = list(synthetic_rows(templates, 500, 5, day))
    assert rows == list(synthetic_rows(templates, 500, 5, day))
    assert [r["ref"] for r in rows[:2]] == ["SYN-5-1", "SYN-5-2"]
    for r in rows:
        assert r["synthetic"] is True and r["handler"].startswith("合成承办人") and r["decided_on"] <= day
        band = [0, 0] if r["band_min"] is None else [r["band_min"], r["band_max"]]
        assert r["side"] == side_of(r["amount"], band)
        assert (r["reason"] is not None) == (r["side"] != 0 or (r["amount"] == 0 and r["band_min"] is not None))
    assert {r["side"] for r in rows} == {-1, 0, 1}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def test_the_analytics_commands_write_refuse_again_purge_and_check(tmp_path: Path) -> None:
    """``analytics synth`` writes n synthetic rows; the same seed again is refused (exit 2,
    synthetic_exists) and writes nothing; ``purge`` deletes them; ``check`` finds the table sound."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    rc, out, _ = run("analytics", "synth", "--n", "300", "--pool", "40", "--seed", "3", "--database-url", url)
    assert rc == 0 and "已写入 300 件合成的已决定案件" in out
    rc, _, err = run("analytics", "synth", "--n", "5", "--pool", "40", "--seed", "3", "--database-url", url)
    assert rc == 2 and "synthetic_exists" in err
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(decided_cases.c.synthetic)).scalars().all() == [True] * 300
    engine.dispose()
    assert run("analytics", "check", "--database-url", url)[0] == 0
    rc, out, _ = run("analytics", "purge", "--database-url", url)
    assert rc == 0 and "已删除 300 件合成数据" in out
    assert run("analytics", "rebuild", "--database-url", url)[:2] == (0, "已由哈希链重新生成 0 件已决定案件的统计行\n")
    assert run("analytics", "synth", "--n", "0", "--database-url", url)[0] == 2


def test_the_stored_request_and_result_are_what_the_row_reads(store: Store, records: Records, reference_engine: Engine) -> None:
    """The row's features come from the stored request's circumstances, not from the engine's say:
    a circumstance given but not applied still counts for like cases."""
    rid = decide(store, records, reference_engine, {**CASE, "circumstances": ["confessed", "first_offense"]}, 136_000)
    stored = orjson.loads((store.get_row(rid) or {})["request"])
    assert stored["circumstances"] == ["confessed", "first_offense"]
    assert "|c=confessed,first_offense|" in row_of(store, rid)["features"]
