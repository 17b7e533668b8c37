"""discretion.rulebooks.approval and ``rulebooks approve/publish``: draft → approved → published, the content
hash, and changelogs that name the violation types and dates they affect."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rulebook_tree import edit, line_of, refusal, register, reviewer_key

import api.auth
import api.commands.approval
from api.cli import main
from api.deps import Principal
from discretion.errors import AuthError, ConflictError, ForbiddenError
from discretion.review import diff
from discretion.rulebooks import approval, editions, loading, signing
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import BenchmarkEdition
from discretion.rulebooks.tree import SHIPPED, source_files
from discretion.rulebooks.tree import load as load_tree

Y2023 = "yunnan/2023.yaml"
DRAFT = "yunnan/code-draft.yaml"
DRAFT_AUTHOR = "本库起草人员（示例）"


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "rulebooks"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("cases", "*.cases.yaml"))
    return root


def parsed(path: Path) -> BenchmarkEdition:
    return loading.validate(loading.read(path), BenchmarkEdition)


def errors(root: Path) -> list[str]:
    return [f"{i.file}:{i.line} {i.message}" for i in refusal(root).issues if i.severity == "error"]


# --- the shipped editions ----------------------------------------------------------------------


def test_shipped_published_editions_carry_an_approval_of_their_content(rulebooks: RulebookSet) -> None:
    """2021, 2023 and Kunming are published with a reviewer other than the author and the hash of
    their content; the Code draft is a draft without approval."""
    status = {k: le.model.status for k, le in rulebooks.editions.items()}
    assert status == {"yunnan@2021": "published", "yunnan@2023": "published", "yunnan/kunming@2021": "published",
                      "yunnan@2026-draft": "draft"}
    for le in rulebooks.editions.values():
        a = le.model.approval
        if le.model.status == "draft":
            assert a is None
            continue
        assert a is not None and a.sha256 == approval.content_hash(le.model)
        assert a.reviewer != a.author == le.model.author
        assert "示例" in a.reviewer and a.published_on is not None


def test_content_hash_ignores_layout_comments_and_status_but_not_content() -> None:
    """Reformatting, comments, quoting and the status/approval lines leave the hash; a changed
    number changes it."""
    path = SHIPPED / Y2023
    text = path.read_text(encoding="utf-8")
    base = approval.content_hash(parsed(path))

    def h(t: str) -> str:
        return approval.content_hash(loading.validate(loading.parse(t.encode(), "x.yaml"), BenchmarkEdition))

    assert h(text) == base
    relaid = text.replace("rounding: {step: 100, mode: half_up}", "# 取整\nrounding:\n  step: 100\n  mode: \"half_up\"")
    assert relaid != text and h(relaid) == base
    assert h(text.replace("individual_weight: 0.7", "individual_weight: 0.70")) == base
    assert h(text.replace("status: published", "status: approved")) == base
    assert h(text.replace("    points: 5\n", "    points: 6\n", 1)) != base


# --- loading refuses what was not approved -------------------------------------------------------


def test_tampered_published_edition_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    """Raising one adjustment of the published 2023 edition after its approval refuses the set,
    naming the approval's hash line."""
    root = tree(tmp_path)
    path = root / Y2023
    edit(path, "  - id: mit-compensation-paid\n    circumstance: compensation_paid\n    direction: mitigate\n    points: 5\n",
         "  - id: mit-compensation-paid\n    circumstance: compensation_paid\n    direction: mitigate\n    points: 25\n")
    err = refusal(root)
    [issue] = [i for i in err.issues if i.severity == "error"]
    assert issue.file == f"rulebooks/{Y2023}"
    assert issue.line == line_of(path, "  sha256: ")
    assert issue.path == "approval.sha256"
    assert "审核后内容被改动" in issue.message
    assert f"rulebooks/{Y2023}:{issue.line}:" in str(err)


def test_rulebooks_check_refuses_a_tampered_edition_with_exit_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rulebooks check` prints file:line of the approval that no longer matches and exits 1."""
    root = tree(tmp_path)
    edit(root / Y2023, "  legal_review: 100000\n", "  legal_review: 300000\n")
    assert main(["--rulebooks", str(root), "rulebooks", "check"]) == 1
    err = capsys.readouterr().err
    assert f"rulebooks/{Y2023}:{line_of(root / Y2023, '  sha256: ')}:" in err


def test_published_edition_without_approval_is_refused(tmp_path: Path) -> None:
    """Deleting the approval block does not make a published edition acceptable."""
    root = tree(tmp_path)
    path = root / Y2023
    text = path.read_text(encoding="utf-8")
    start = text.index("approval:\n")
    end = text.index("effective_from:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    [msg] = errors(root)
    assert msg.startswith(f"rulebooks/{Y2023}:{line_of(path, 'status: published')} ") and "必须有审批记录" in msg


def test_draft_with_an_approval_block_is_refused(tmp_path: Path) -> None:
    """A draft carrying an approval (say, an approved edition sent back) must drop it."""
    root = tree(tmp_path)
    edit(root / Y2023, "status: published\n", "status: draft\n")
    [msg] = errors(root)
    assert "草案不得带有审批记录" in msg


def test_approval_recording_the_author_as_reviewer_is_refused(tmp_path: Path) -> None:
    """An approval whose reviewer is the author is refused where it is written."""
    root = tree(tmp_path)
    path = root / Y2023
    edit(path, '  reviewer: "云南省生态环境厅法制审核（示例）"\n', '  reviewer: "云南省生态环境厅起草人员（示例）"\n')
    [msg] = errors(root)
    assert "审核人不得为版本起草人" in msg


# --- transitions ---------------------------------------------------------------------------------


def test_approve_records_reviewer_author_date_and_hash(rulebooks: RulebookSet) -> None:
    """Approving a draft records who, when and the content hash."""
    e = rulebooks.editions["yunnan@2026-draft"].model
    a = approval.approve(e, "李审核", dt.date(2026, 11, 30))
    assert (a.author, a.reviewer, a.date, a.sha256) == (DRAFT_AUTHOR, "李审核", dt.date(2026, 11, 30), approval.content_hash(e))


def test_author_may_not_approve_their_own_edition(rulebooks: RulebookSet) -> None:
    """The reviewer must be someone other than the author."""
    with pytest.raises(ForbiddenError):
        approval.approve(rulebooks.editions["yunnan@2026-draft"].model, DRAFT_AUTHOR, dt.date(2026, 11, 30))


def test_only_drafts_are_approved_and_only_approved_editions_published(rulebooks: RulebookSet) -> None:
    """A published edition cannot be approved again; a draft cannot be published."""
    with pytest.raises(ConflictError):
        approval.approve(rulebooks.editions["yunnan@2023"].model, "李审核", dt.date(2026, 11, 30))
    with pytest.raises(ConflictError):
        approval.publish(rulebooks.editions["yunnan@2026-draft"].model, "王发布", dt.date(2026, 11, 30))


def test_rewrite_replaces_only_the_status_line_and_approval_block() -> None:
    """Rewriting keeps every other byte, CRLF line ends included, and replaces an existing block."""
    text = "# 注释\r\nid: x\r\nstatus: draft\r\neffective_from: 2026-01-01\r\n"
    record = approval.approve(parsed(SHIPPED / DRAFT), "李审核", dt.date(2026, 11, 30))
    once = approval.rewrite(text, "approved", record)
    assert once.startswith("# 注释\r\nid: x\r\nstatus: approved\r\napproval:\r\n  author: \"本库起草人员（示例）\"\r\n")
    assert once.endswith("\r\neffective_from: 2026-01-01\r\n")
    published = record.model_copy(update={"published_by": "王发布", "published_on": dt.date(2026, 12, 1)})
    twice = approval.rewrite(once, "published", published)
    assert twice.count("approval:") == 1 and "  published_on: 2026-12-01\r\n" in twice
    assert twice.replace(twice[twice.index("status:"):twice.index("effective_from")], "") == text.replace("status: draft\r\n", "")


def key_file(tmp_path: Path, key: Ed25519PrivateKey, passphrase: bytes | None = None) -> Path:
    """A reviewer's private key written as ``reviewers keygen`` writes it."""
    path = tmp_path / f"reviewer-{signing.fingerprint(signing.public_raw(key))[:8]}.pem"
    path.write_bytes(signing.private_pem(key, passphrase))
    path.chmod(0o600)
    return path


# --- the commands --------------------------------------------------------------------------------


@pytest.fixture
def as_reviewer(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """cli_principal answers with a reviewer named after the token; the tokens seen are recorded."""
    seen: list[str | None] = []

    def fake(token: str | None, settings: object) -> Principal:
        seen.append(token)
        if token is None:
            raise AuthError(message="须提供有效的 API 令牌", field="token")
        role = "handler" if token.startswith("handler:") else "reviewer"
        return Principal(name=token.split(":")[-1], role=role, via="token")

    monkeypatch.setattr(api.auth, "cli_principal", fake)
    monkeypatch.delenv("DISCRETION_TOKEN", raising=False)
    return seen


def test_cli_approve_then_publish_round_trip(tmp_path: Path, as_reviewer: list[str | None], capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, rulebooks: RulebookSet) -> None:
    """approve then publish a copy of the draft: only the status line and approval block change,
    the tree still loads, and the published draft is then the edition in force under the Code. The
    dates are the service's day in Beijing (api.clock), not the server's local calendar."""
    day = dt.date(2026, 12, 4)  # e.g. 2026-12-03 23:30 UTC
    monkeypatch.setattr(api.commands.approval, "today", lambda: day)
    root = tree(tmp_path)
    path = root / DRAFT
    key = key_file(tmp_path, register(root, "李审核"))
    before = path.read_text(encoding="utf-8")
    assert main(["rulebooks", "approve", str(path), "--token", "李审核", "--key", str(key)]) == 0
    approved = path.read_text(encoding="utf-8")
    rs = load_tree(root)
    e = rs.editions["yunnan@2026-draft"].model
    assert e.status == "approved" and e.approval is not None and e.approval.signature is not None
    assert (e.approval.reviewer, e.approval.author, e.approval.date) == ("李审核", DRAFT_AUTHOR, day)
    assert e.approval.sha256 == approval.content_hash(parsed(SHIPPED / DRAFT))
    sig = e.approval.signature
    assert sig.key == signing.fingerprint(signing.public_raw(reviewer_key("李审核")))
    changed = set(approved.splitlines()) ^ set(before.splitlines())
    assert changed == {"status: draft", "status: approved", "approval:", f'  author: "{DRAFT_AUTHOR}"', '  reviewer: "李审核"',
                       f"  date: {day.isoformat()}", f"  sha256: {e.approval.sha256}", "  signature:",
                       f"    key: {sig.key}", f'    signed_at: "{sig.signed_at}"', f'    value: "{sig.value}"'}
    assert editions.in_force(rs.editions, "yunnan", dt.date(2026, 9, 1))[0].key == "yunnan@2023"  # approved: not yet served

    monkeypatch.setenv("DISCRETION_TOKEN", "王发布")
    assert main(["rulebooks", "publish", str(path)]) == 0
    assert as_reviewer == ["李审核", "王发布"]
    rs = load_tree(root)
    e = rs.editions["yunnan@2026-draft"].model
    assert e.status == "published" and e.approval is not None and e.approval.signature == sig
    assert (e.approval.published_by, e.approval.published_on) == ("王发布", day)
    assert editions.in_force(rs.editions, "yunnan", dt.date(2026, 9, 1))[0].key == "yunnan@2026-draft"
    out = capsys.readouterr().out
    assert "已审核" in out and "已发布" in out
    # a diff of the published copy against the shipped draft finds no content change
    assert diff.compare("yunnan@2026-draft", str(path), rulebooks).same


def test_cli_approve_by_the_author_is_refused_and_leaves_the_file(tmp_path: Path, as_reviewer: list[str | None],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The author's own token cannot approve: exit 2, the file byte-identical."""
    root = tree(tmp_path)
    path = root / DRAFT
    before = path.read_bytes()
    assert main(["rulebooks", "approve", str(path), "--token", DRAFT_AUTHOR]) == 2
    assert path.read_bytes() == before
    assert "审核人不得为版本起草人" in capsys.readouterr().err


def test_cli_approve_with_a_handler_token_is_forbidden(tmp_path: Path, as_reviewer: list[str | None],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A case handler's token may not approve (exit 2, forbidden)."""
    root = tree(tmp_path)
    before = (root / DRAFT).read_bytes()
    assert main(["rulebooks", "approve", str(root / DRAFT), "--token", "handler:张三"]) == 2
    assert "forbidden" in capsys.readouterr().err
    assert (root / DRAFT).read_bytes() == before


def test_cli_approve_without_a_token_is_unauthenticated(tmp_path: Path, as_reviewer: list[str | None],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """No --token and no DISCRETION_TOKEN: exit 2, unauthenticated."""
    root = tree(tmp_path)
    assert main(["rulebooks", "approve", str(root / DRAFT)]) == 2
    assert as_reviewer == [None]
    assert "unauthenticated" in capsys.readouterr().err


def test_cli_publish_of_a_draft_is_a_conflict(tmp_path: Path, as_reviewer: list[str | None],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A draft must be approved before it is published."""
    root = tree(tmp_path)
    assert main(["rulebooks", "publish", str(root / DRAFT), "--token", "王发布"]) == 2
    assert "只有已审核的版本可以发布" in capsys.readouterr().err


def test_cli_approve_of_a_file_that_is_no_edition_is_not_found(tmp_path: Path, as_reviewer: list[str | None],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The law layer is not an edition file."""
    root = tree(tmp_path)
    assert main(["rulebooks", "approve", str(root / "law" / "law.yaml"), "--token", "李审核"]) == 2
    assert "不是" in capsys.readouterr().err


# --- signatures -----------------------------------------------------------------------------------


SIGNATURE_BLOCK_END = '=="\n  published_by:'


def unsigned(path: Path) -> None:
    """Remove the signature block of an edition's approval (an approval made before signing existed)."""
    text = path.read_text(encoding="utf-8")
    start = text.index("  signature:\n")
    end = text.index(SIGNATURE_BLOCK_END) + len(SIGNATURE_BLOCK_END) - len("  published_by:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def test_shipped_approvals_are_signed_by_keys_registered_for_their_reviewers(rulebooks: RulebookSet) -> None:
    """Every approved or published shipped edition carries a signature that verifies against a key
    reviewers.yaml registers for its own reviewer."""
    assert rulebooks.reviewers is not None and rulebooks.reviewers.doc is not None
    for le in rulebooks.editions.values():
        a = le.model.approval
        if a is None:
            continue
        assert a.signature is not None
        raw = rulebooks.reviewers.of(a.reviewer)[a.signature.key]
        assert signing.verify(raw, le.key, a)
        assert not signing.verify(raw, "yunnan@other", a)  # bound to its edition


def test_a_valid_signed_approval_loads(tmp_path: Path) -> None:
    """An edition approved and signed with its reviewer's registered key is accepted as published."""
    root = tree(tmp_path)
    key = register(root, "测试审核人")
    path = root / Y2023
    e = parsed(path)
    assert e.approval is not None
    record = approval.approve(e.model_copy(update={"status": "draft", "approval": None}), "测试审核人", dt.date(2026, 11, 26))
    signed = signing.sign(key, "yunnan@2023", record, dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    published = approval.publish(e.model_copy(update={"status": "approved", "approval": signed}), "王发布", dt.date(2026, 11, 27))
    path.write_text(approval.rewrite(path.read_text(encoding="utf-8"), "published", published), encoding="utf-8")
    got = load_tree(root).editions["yunnan@2023"].model
    assert got.status == "published" and got.approval == published and published.signature is not None


def test_an_unsigned_legacy_approval_is_refused_until_approved_again(tmp_path: Path) -> None:
    """An approval without a signature (as every approval before signing was) no longer counts:
    the set is refused, naming the edition, the line and how to approve it again."""
    root = tree(tmp_path)
    path = root / Y2023
    unsigned(path)
    [issue] = [i for i in refusal(root).issues if i.severity == "error"]
    assert issue.file == f"rulebooks/{Y2023}" and issue.line == line_of(path, "approval:")
    assert "yunnan@2023" in issue.message and "没有审核人的电子签名" in issue.message and "旧版未签名" in issue.message
    assert "rulebooks approve --key" in issue.message


def test_a_tampered_content_hash_fails_the_signature(tmp_path: Path) -> None:
    """Changing the content and writing its new hash into the approval (what anyone can compute)
    is refused: the reviewer signed the old hash."""
    root = tree(tmp_path)
    path = root / Y2023
    edit(path, "  legal_review: 100000\n", "  legal_review: 300000\n")
    e = parsed(path)
    assert e.approval is not None
    edit(path, f"  sha256: {e.approval.sha256}\n", f"  sha256: {approval.content_hash(e)}\n")
    [issue] = [i for i in refusal(root).issues if i.severity == "error"]
    assert issue.path == "approval.signature.value" and issue.line == line_of(path, "    value: ")
    assert "yunnan@2023 的审批签名无效" in issue.message


def test_an_approval_signed_with_an_unregistered_key_is_refused(tmp_path: Path) -> None:
    """A well-formed signature by a key nobody registered (anyone can make one) does not count."""
    root = tree(tmp_path)
    path = root / Y2023
    e = parsed(path)
    assert e.approval is not None
    forged = signing.sign(signing.new_key(), "yunnan@2023", e.approval.model_copy(update={"signature": None}),
                          dt.datetime.now(dt.UTC))
    path.write_text(approval.rewrite(path.read_text(encoding="utf-8"), "published", forged), encoding="utf-8")
    [issue] = [i for i in refusal(root).issues if i.severity == "error"]
    assert issue.path == "approval.signature.key" and "不是审核人“云南省生态环境厅法制审核（示例）”在 reviewers.yaml 中登记的公钥" in issue.message


def test_a_signature_by_another_reviewers_key_is_refused(tmp_path: Path) -> None:
    """The Kunming reviewer's key cannot sign for the provincial reviewer: keys are per reviewer."""
    root = tree(tmp_path)
    register(root, "另一审核人")
    path = root / Y2023
    e = parsed(path)
    assert e.approval is not None
    other = signing.sign(reviewer_key("另一审核人"), "yunnan@2023", e.approval, dt.datetime.now(dt.UTC))
    path.write_text(approval.rewrite(path.read_text(encoding="utf-8"), "published", other), encoding="utf-8")
    [issue] = [i for i in refusal(root).issues if i.severity == "error"]
    assert issue.path == "approval.signature.key"


def test_without_reviewers_yaml_no_approval_is_trusted(tmp_path: Path) -> None:
    """Deleting the registry does not make approvals unverifiable-but-accepted: every approved
    edition is refused, each naming its reviewer."""
    root = tree(tmp_path)
    (root / signing.REGISTRY).unlink()
    msgs = errors(root)
    assert len(msgs) == 3 and all("未登记公钥" in m and "没有审核人公钥登记文件" in m for m in msgs)


def test_a_broken_registry_is_refused_at_its_line(tmp_path: Path) -> None:
    """A public key that is not one, or registered twice, is named in reviewers.yaml."""
    root = tree(tmp_path)
    registry = root / signing.REGISTRY
    text = registry.read_text(encoding="utf-8")
    first = text[text.index("  - reviewer:"):text.index("  - reviewer:", text.index("  - reviewer:") + 1)]
    registry.write_text(text + first.replace("（示例）", "（复制）"), encoding="utf-8")
    [msg] = errors(root)
    assert msg.startswith("rulebooks/reviewers.yaml:") and "重复登记" in msg


def test_a_snapshot_with_unsigned_approvals_still_rebuilds_for_reproduction(tmp_path: Path) -> None:
    """A stored snapshot from before signing (no reviewers.yaml, unsigned approvals) is refused as a
    set to serve but rebuilds to reproduce the records made with it."""
    from api.storage.records import load_files

    root = tree(tmp_path)
    (root / signing.REGISTRY).unlink()
    for rel in (Y2023, "yunnan/2021.yaml", "yunnan/kunming/2021.yaml"):
        unsigned(root / rel)
    refusal(root)
    rs = load_files(source_files(root))
    assert rs.reviewers is None and rs.editions["yunnan@2023"].model.status == "published"


def test_cli_approve_without_a_key_is_refused_and_leaves_the_file(tmp_path: Path, as_reviewer: list[str | None],
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A reviewer token alone cannot approve: the private key is required (exit 2, file unchanged)."""
    root = tree(tmp_path)
    monkeypatch.delenv("DISCRETION_REVIEWER_KEY", raising=False)
    before = (root / DRAFT).read_bytes()
    assert main(["rulebooks", "approve", str(root / DRAFT), "--token", "李审核"]) == 2
    assert "--key" in capsys.readouterr().err and (root / DRAFT).read_bytes() == before


def test_cli_approve_with_a_key_not_registered_for_the_reviewer_is_forbidden(
        tmp_path: Path, as_reviewer: list[str | None], capsys: pytest.CaptureFixture[str]) -> None:
    """A key registered for someone else, or for nobody, cannot sign the token owner's approval."""
    root = tree(tmp_path)
    other = key_file(tmp_path, register(root, "王审核"))
    before = (root / DRAFT).read_bytes()
    assert main(["rulebooks", "approve", str(root / DRAFT), "--token", "李审核", "--key", str(other)]) == 2
    err = capsys.readouterr().err
    assert "forbidden（key）" in err and "不是审核人“李审核”" in err and (root / DRAFT).read_bytes() == before


def test_cli_approve_with_an_encrypted_key_needs_its_passphrase(tmp_path: Path, as_reviewer: list[str | None],
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A passphrase-protected key is refused with a wrong passphrase and signs with the right one."""
    import io

    root = tree(tmp_path)
    key = key_file(tmp_path, register(root, "李审核"), b"correct horse")
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong horse\n"))
    assert main(["rulebooks", "approve", str(root / DRAFT), "--token", "李审核", "--key", str(key), "--passphrase-stdin"]) == 2
    assert "口令不正确" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert main(["rulebooks", "approve", str(root / DRAFT), "--token", "李审核", "--key", str(key), "--passphrase-stdin"]) == 0
    assert load_tree(root).editions["yunnan@2026-draft"].model.status == "approved"


def test_reviewers_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """keygen writes an encrypted PKCS#8 key with mode 0600, prints the public key to register, and
    never overwrites an existing file."""
    import io

    out = tmp_path / "li.pem"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["reviewers", "keygen", "李审核", "--out", str(out), "--passphrase-stdin"]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    pem = out.read_bytes()
    assert signing.pem_is_encrypted(pem)
    key = signing.load_private(pem, b"a long passphrase")
    printed = capsys.readouterr().out.split()
    assert printed[:3] == ["discretion", "reviewers", "add"] and printed[-1] == signing.public_text(key)
    assert main(["reviewers", "keygen", "李审核", "--out", str(out), "--no-passphrase"]) == 2
    assert out.read_bytes() == pem


# --- changelogs ----------------------------------------------------------------------------------


def test_changelog_entry_must_name_violation_types_and_dates(tmp_path: Path) -> None:
    """An entry without violations and affects_from is refused where it is written."""
    root = tree(tmp_path)
    path = root / DRAFT
    edit(path, "    violations: [eia_unapproved_construction]\n    affects_from: 2026-08-15\n", "")
    msgs = errors(root)
    assert any("violations" in m and "缺少必填项" in m for m in msgs)
    assert any("affects_from" in m for m in msgs)


def test_changelog_naming_an_unknown_violation_type_is_refused(tmp_path: Path) -> None:
    """Changelog codes are cross-checked against the law layer."""
    root = tree(tmp_path)
    path = root / DRAFT
    edit(path, "    violations: [eia_unapproved_construction]\n    affects_from", "    violations: [eia_unapproved_constructon]\n    affects_from")
    [msg] = errors(root)
    assert msg.startswith(f"rulebooks/{DRAFT}:{line_of(path, 'eia_unapproved_constructon')} ")
    assert "eia_unapproved_constructon" in msg


def test_changelog_dates_outside_the_edition_period_are_refused(tmp_path: Path) -> None:
    """A change cannot affect decisions before the edition takes effect."""
    root = tree(tmp_path)
    edit(root / DRAFT, "    violations: [eia_unapproved_construction]\n    affects_from: 2026-08-15\n",
         "    violations: [eia_unapproved_construction]\n    affects_from: 2026-01-01\n")
    [msg] = errors(root)
    assert "2026-01-01" in msg and "施行期间" in msg


@pytest.mark.parametrize(("before", "after"), [("yunnan@2021", "yunnan@2023"), ("yunnan@2021", "yunnan/kunming@2021")])
def test_changelog_names_exactly_the_types_whose_own_benchmark_changed(rulebooks: RulebookSet, before: str, after: str) -> None:
    """The violation types an edition's changelog names one by one are those whose factors,
    position window or exemption entries the diff against its predecessor finds changed."""
    d = diff.compare(before, after, rulebooks)
    changed = {v.code for v in d.violations if any(c.area != "statutory" for c in v.changes)}
    named = {code for c in rulebooks.editions[after].model.changelog if c.violations != "all" for code in c.violations}
    assert changed == named
