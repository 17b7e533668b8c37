"""`discretion audit verify` on SQLite and PostgreSQL: rows altered, inserted or deleted directly with
SQL are found and named (record id and seq); exit 0 with a count when sound, 1 when anything is
wrong, 2 when there is nothing to verify."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Engine

from api.cli import main
from api.deps import Principal
from api.storage import Store, make_engine, new_id
from api.storage.chain import content_bytes, link_hash
from api.storage.schema import assessments, chain_head, decisions

WANG = Principal(name="wang", role="handler", via="token")
SOURCES = {"law/law.yaml": b"edition: audit\n"}


# The case's identity of a3 (the other records have none, as records made before migration 0006).
CASE = {"number": "昆环罚〔2026〕12号", "party": {"name": "张三", "kind": "individual", "id_code": "11010519491231002X"},
        "address": "昆明市五华区某路1号", "location": "昆明市五华区某河段"}


def _assessment(store: Store, set_key: str, n: int, case: dict[str, Any] | None = None) -> dict[str, Any]:
    rid = new_id()
    fine = {"legal_min": 100000, "legal_max": 1000000, "band": [100000, 280000], "recommended": 136000 + n}
    return store.submit_assessment(
        rid, request={"violation": "water_over_standard", "facts": {"exceedance_ratio": Decimal("0.5")}, "n": n},
        result_json=orjson.dumps({"id": rid, "outcome": "penalty", "fine": fine}), violation="water_over_standard",
        title="超标排放", outcome="penalty", fine=fine, edition="yunnan@2023", sha256="a" * 64, rulebook_set=set_key, who=WANG,
        case=case,
    ).result(10)


@pytest.fixture
def ledger(db_url: str) -> Iterator[tuple[str, Engine, dict[str, dict[str, Any]]]]:
    """Six records: a1, a2, d1 (on a1), a3 (with a case), a4, a5 at seq 1..6; the store closed, an
    engine for tampering."""
    store = Store(db_url)
    key = store.put_snapshot(SOURCES)
    recs: dict[str, dict[str, Any]] = {}
    recs["a1"] = _assessment(store, key, 1)
    recs["a2"] = _assessment(store, key, 2)
    recs["d1"] = store.submit_decision(recs["a1"]["id"], amount=60000, reason="理由", within_band=False, who=WANG).result(10)
    for i in (3, 4, 5):
        recs[f"a{i}"] = _assessment(store, key, i, CASE if i == 3 else None)
    store.close()
    engine = make_engine(db_url)
    try:
        yield db_url, engine, recs
    finally:
        engine.dispose()


def verify(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--database-url", url])
    return code, capsys.readouterr().out


def test_a_sound_chain_verifies_with_a_count(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url, _, recs = ledger
    code, out = verify(url, capsys)
    assert code == 0, out
    assert "哈希链完整：共 6 条记录（计算记录 5 条，决定记录 1 条），链头序号 6" in out
    assert recs["a5"]["hash"] in out


def test_token_creation_from_the_cli_is_recorded_in_the_chain_and_verified(
        ledger: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``tokens create`` for a reviewer (by the operating-system user) and an admin (by an acting
    admin's token) appends access events after the records: who, the role, the token id, never the
    token; ``audit verify`` counts them, and raising a recorded role afterwards is found."""
    from api.auth import os_user
    from api.storage.schema import access_events

    url, engine, recs = ledger
    monkeypatch.delenv("DISCRETION_TOKEN", raising=False)
    assert main(["tokens", "create", "--database-url", url, "--owner", "li", "--role", "reviewer"]) == 0
    reviewer = capsys.readouterr().out.strip()
    assert main(["tokens", "create", "--database-url", url, "--owner", "boss", "--role", "admin"]) == 0
    boss = capsys.readouterr().out.strip()
    assert main(["tokens", "create", "--database-url", url, "--owner", "wang-2", "--role", "admin", "--token", reviewer]) == 2
    assert "forbidden" in capsys.readouterr().err  # only an admin acts for another admin's token
    assert main(["tokens", "create", "--database-url", url, "--owner", "wang-2", "--role", "admin", "--token", boss,
                 "--label", "第二位管理员"]) == 0
    third = capsys.readouterr().out.strip()
    with engine.connect() as conn:
        events = [dict(r._mapping) for r in conn.execute(select(access_events).order_by(access_events.c.seq))]
    assert [(e["seq"], e["action"], e["role"], e["created_by"], e["created_role"]) for e in events] == [
        (7, "token_created", "reviewer", os_user(), "os_user"), (8, "token_created", "admin", os_user(), "os_user"),
        (9, "token_created", "admin", "boss", "admin")]
    assert events[0]["prev_id"] == recs["a5"]["id"]
    for e, token in zip(events, (reviewer, boss, third)):
        assert token not in e["detail"] and token[4:] not in e["detail"]
    code, out = verify(url, capsys)
    assert code == 0, out
    assert "哈希链完整：共 9 条记录（计算记录 5 条，决定记录 1 条，权限变更记录 3 条），链头序号 9" in out
    with engine.begin() as conn:
        conn.execute(update(access_events).where(access_events.c.seq == 7).values(role="admin"))
    code, out = verify(url, capsys)
    assert code == 1 and f"篡改：权限变更记录 {events[0]['id']}（序号 7）的内容与其哈希不符" in out


def test_an_altered_assessment_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Changing a stored result (the recommended amount) is found at that record."""
    url, engine, recs = ledger
    a2 = recs["a2"]
    with engine.begin() as conn:
        conn.execute(update(assessments).where(assessments.c.id == a2["id"])
                     .values(result=a2["result"].replace('"recommended":136002', '"recommended":36002')))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：计算记录 {a2['id']}（序号 2）的内容与其哈希不符" in out
    assert "发现 1 处问题" in out


def test_an_altered_request_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The stored request (encoded by the store's writer, off the request path) is covered by the
    hash too: changing one fact in it is found at that record."""
    url, engine, recs = ledger
    a4 = recs["a4"]
    assert '"exceedance_ratio":0.5' in a4["request"]
    with engine.begin() as conn:
        conn.execute(update(assessments).where(assessments.c.id == a4["id"])
                     .values(request=a4["request"].replace('"exceedance_ratio":0.5', '"exceedance_ratio":0.05')))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：计算记录 {a4['id']}（序号 5）的内容与其哈希不符" in out
    assert "发现 1 处问题" in out


@pytest.mark.parametrize("change", [
    {"case_json": orjson.dumps({**CASE, "party": {**CASE["party"], "name": "李四"}}, option=orjson.OPT_SORT_KEYS).decode()},
    {"case_party": "李四"},
    {"case_number": "昆环罚〔2026〕13号"},
    {"case_json": None, "case_number": None, "case_party": None},
], ids=["party_in_the_case", "searched_party_name", "searched_case_number", "case_removed"])
def test_an_altered_case_is_named(ledger: Any, capsys: pytest.CaptureFixture[str], change: dict[str, Any]) -> None:
    """The case's identity is inside the chain hash: changing the party or the case number (in the
    case itself or in the columns the list searches), or removing the case, is found at that record."""
    url, engine, recs = ledger
    a3 = recs["a3"]
    assert a3["case_party"] == "张三" and '"id_code":"11010519491231002X"' in a3["case_json"]
    with engine.begin() as conn:
        conn.execute(update(assessments).where(assessments.c.id == a3["id"]).values(**change))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：计算记录 {a3['id']}（序号 4）的内容与其哈希不符" in out
    assert "发现 1 处问题" in out


def test_a_case_added_to_a_record_made_without_one_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A record made without a case (as every record before migration 0006) verifies as it was made,
    and a case written into it afterwards is found."""
    url, engine, recs = ledger
    a2 = recs["a2"]
    assert a2["case_json"] is None
    with engine.begin() as conn:
        conn.execute(update(assessments).where(assessments.c.id == a2["id"])
                     .values(case_json=orjson.dumps(CASE).decode(), case_number=CASE["number"], case_party="张三"))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：计算记录 {a2['id']}（序号 2）的内容与其哈希不符" in out
    assert "发现 1 处问题" in out


def test_an_altered_decision_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Changing the amount or the inside-the-band flag of a decision is found at that decision."""
    url, engine, recs = ledger
    with engine.begin() as conn:
        conn.execute(update(decisions).where(decisions.c.id == recs["d1"]["id"]).values(amount=160000, within_band=True))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：决定记录 {recs['d1']['id']}（序号 3）" in out


def test_an_altered_record_with_a_recomputed_hash_is_named_by_its_successor(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Who alters a record and recomputes its own hash still breaks the link the next record keeps."""
    url, engine, recs = ledger
    with engine.begin() as conn:
        row = dict(conn.execute(select(assessments).where(assessments.c.id == recs["a3"]["id"])).one()._mapping)
        row["outcome"] = "no_penalty"
        conn.execute(update(assessments).where(assessments.c.id == row["id"])
                     .values(outcome="no_penalty", hash=link_hash(row["prev_hash"], content_bytes("assessment", row))))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"篡改：计算记录 {recs['a3']['id']}（序号 4）被改动并重新计算了哈希，与下一条计算记录 {recs['a4']['id']}（序号 5）" in out


def _forged(prev: dict[str, Any], seq: int) -> dict[str, Any]:
    """A well-formed assessment row linked after ``prev`` at ``seq``, with a correct own hash."""
    row = {**{k: prev[k] for k in prev if k in assessments.c}, "id": new_id(), "seq": seq, "prev_id": prev["id"],
           "prev_hash": prev["hash"], "created_by": "mallory"}
    row["hash"] = link_hash(row["prev_hash"], content_bytes("assessment", row))
    return row


def test_an_inserted_record_in_the_middle_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A forged assessment given seq 3 (held by the decision) and a correct-looking link: the original keeps its place."""
    url, engine, recs = ledger
    forged = _forged(recs["a2"], 3)
    with engine.begin() as conn:
        conn.execute(insert(assessments).values(**forged))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"插入：计算记录 {forged['id']}（序号 3）与 {recs['d1']['id']} 序号重复，不在原链中" in out
    assert recs["d1"]["id"] not in out.replace(f"与 {recs['d1']['id']}", "")


def test_a_record_appended_behind_the_chain_head_is_named(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A forged record correctly linked after the last one, without moving the chain head, is named."""
    url, engine, recs = ledger
    forged = _forged(recs["a5"], 7)
    with engine.begin() as conn:
        conn.execute(insert(assessments).values(**forged))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"插入：计算记录 {forged['id']}（序号 7）在链头（序号 6）之后，不在原链中" in out
    assert "删除" not in out


def test_a_deleted_record_is_named_by_its_seq_and_id(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url, engine, recs = ledger
    with engine.begin() as conn:
        conn.execute(assessments.delete().where(assessments.c.id == recs["a2"]["id"]))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"删除：序号 2 的记录缺失（已被删除）；序号 2 的记录是 {recs['a2']['id']}" in out
    assert "篡改" not in out


def test_several_deleted_records_are_named_as_a_range(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url, engine, recs = ledger
    with engine.begin() as conn:
        conn.execute(assessments.delete().where(assessments.c.id.in_([recs["a3"]["id"], recs["a4"]["id"]])))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"删除：序号 4 至 5 的记录缺失（已被删除）；序号 5 的记录是 {recs['a4']['id']}" in out


def test_a_deleted_last_record_is_found_against_the_chain_head(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url, engine, recs = ledger
    with engine.begin() as conn:
        conn.execute(assessments.delete().where(assessments.c.id == recs["a5"]["id"]))
    code, out = verify(url, capsys)
    assert code == 1
    assert f"删除：链尾 序号 6 的记录缺失（最后一条应为 {recs['a5']['id']}）" in out


def test_a_deleted_chain_head_is_reported(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url, engine, _ = ledger
    with engine.begin() as conn:
        conn.execute(chain_head.delete())
    code, out = verify(url, capsys)
    assert code == 1 and "链头记录（chain_head）已被删除" in out
    assert "插入" not in out


def test_an_altered_rulebook_snapshot_is_reported(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot must hash to its key (reproduction relies on it)."""
    url, engine, _ = ledger
    from api.storage.snapshots import pack_files

    with engine.begin() as conn:
        conn.execute(text("UPDATE rulebook_snapshots SET files = :f"), {"f": pack_files({"law/law.yaml": b"edition: forged\n"})})
    code, out = verify(url, capsys)
    assert code == 1 and "篡改：规则集快照" in out


def test_verify_without_a_database_exits_two(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing SQLite file, or a database never migrated: exit 2 with a Chinese message, no traceback."""
    assert main(["audit", "verify", "--database-url", f"sqlite:///{tmp_path}/none.db"]) == 2
    assert "数据库文件不存在" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    empty = make_engine(f"sqlite:///{tmp_path}/empty.db")
    with empty.begin() as conn:
        conn.execute(text("CREATE TABLE other (x INTEGER)"))
    empty.dispose()
    assert main(["audit", "verify", "--database-url", f"sqlite:///{tmp_path}/empty.db"]) == 2
    assert "database_not_initialised" in capsys.readouterr().err


# --- a head kept outside the database (audit head, verify --expect-head) --------------------------


def _kept(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``discretion audit head``'s line to keep: ``SEQ:HASH``."""
    assert main(["audit", "head", "--database-url", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("链头：序号 6，记录 ") and "北京时间" in lines[0]
    return lines[1]


def _verify_against(url: str, kept: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--database-url", url, "--expect-head", kept])
    return code, capsys.readouterr().out


def test_audit_head_prints_the_head_to_keep_and_verify_accepts_it(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The printed SEQ:HASH is the last record's; verifying against it while nothing changed passes."""
    url, _, recs = ledger
    kept = _kept(url, capsys)
    assert kept == f"6:{recs['a5']['hash']}"
    code, out = _verify_against(url, kept, capsys)
    assert code == 0 and "与保存的链头（序号 6）相符" in out


def test_a_later_record_keeps_an_earlier_head_valid(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Records added after a head was kept do not fail the check: the kept record is still in the chain."""
    url, engine, recs = ledger
    kept = _kept(url, capsys)
    store = Store(url)
    try:
        _assessment(store, store.put_snapshot(SOURCES), 7)
    finally:
        store.close()
    code, out = _verify_against(url, kept, capsys)
    assert code == 0, out


def test_records_deleted_after_a_kept_head_with_the_head_moved_back_are_found(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Who deletes the last records and moves chain_head back leaves a sound-looking chain; the kept head shows it."""
    url, engine, recs = ledger
    kept = _kept(url, capsys)
    with engine.begin() as conn:
        conn.execute(assessments.delete().where(assessments.c.id.in_([recs["a4"]["id"], recs["a5"]["id"]])))
        conn.execute(update(chain_head).values(seq=4, record_id=recs["a3"]["id"], hash=recs["a3"]["hash"]))
    assert verify(url, capsys)[0] == 0  # without the kept head nothing shows
    code, out = _verify_against(url, kept, capsys)
    assert code == 1
    assert "删除：保存的链头为序号 6，现在的链头只到序号 4" in out


def test_a_rebuilt_chain_is_found_against_a_kept_head(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Who alters a record and recomputes every hash after it (and chain_head) leaves a sound chain; the kept head shows it."""
    url, engine, recs = ledger
    kept = _kept(url, capsys)
    with engine.begin() as conn:
        rows = [("assessment", dict(r._mapping)) for r in conn.execute(select(assessments))]
        rows += [("decision", dict(r._mapping)) for r in conn.execute(select(decisions))]
        rows.sort(key=lambda kr: kr[1]["seq"])
        prev_hash = rows[0][1]["prev_hash"]
        for kind, row in rows:
            if row["id"] == recs["a2"]["id"]:
                row["outcome"] = "no_penalty"
            row["prev_hash"] = prev_hash
            row["hash"] = prev_hash = link_hash(prev_hash, content_bytes(kind, row))
            table = assessments if kind == "assessment" else decisions
            conn.execute(update(table).where(table.c.id == row["id"]).values(
                prev_hash=row["prev_hash"], hash=row["hash"], **({"outcome": row["outcome"]} if kind == "assessment" else {})))
        conn.execute(update(chain_head).values(hash=prev_hash))
    assert verify(url, capsys)[0] == 0  # the rebuilt chain is sound in itself
    code, out = _verify_against(url, kept, capsys)
    assert code == 1
    assert "篡改：保存的链头（序号 6" in out and "哈希链被重新计算" in out


def test_a_kept_head_written_wrongly_is_refused_with_exit_two(ledger: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """--expect-head takes SEQ:HASH (64 lowercase hex digits); anything else exits 2 with a Chinese message."""
    url, _, _ = ledger
    for bad in ("6", "x:" + "a" * 64, "6:" + "A" * 64, "6:abc"):
        with pytest.raises(SystemExit) as exc:
            main(["audit", "verify", "--database-url", url, "--expect-head", bad])
        assert exc.value.code == 2
        assert "链头须写作 序号:哈希" in capsys.readouterr().err
