"""discretion.rulebooks.approval and ``rulebooks approve/publish``: draft → approved → published, the content
hash, and changelogs that name the violation types and dates they affect."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from rulebook_tree import edit, line_of, refusal

import api.auth
from api.cli import main
from api.deps import Principal
from discretion.errors import AuthError, ConflictError, ForbiddenError
from discretion.review import diff
from discretion.rulebooks import approval, editions, loading
from discretion.rulebooks.loaded import RulebookSet
from discretion.rulebooks.models import BenchmarkEdition
from discretion.rulebooks.tree import SHIPPED
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
    the tree still loads, and the published draft is then the edition in force under the Code."""
    root = tree(tmp_path)
    path = root / DRAFT
    before = path.read_text(encoding="utf-8")
    assert main(["rulebooks", "approve", str(path), "--token", "李审核"]) == 0
    approved = path.read_text(encoding="utf-8")
    rs = load_tree(root)
    e = rs.editions["yunnan@2026-draft"].model
    assert e.status == "approved" and e.approval is not None
    assert (e.approval.reviewer, e.approval.author, e.approval.date) == ("李审核", DRAFT_AUTHOR, dt.date.today())
    assert e.approval.sha256 == approval.content_hash(parsed(SHIPPED / DRAFT))
    changed = set(approved.splitlines()) ^ set(before.splitlines())
    assert changed == {"status: draft", "status: approved", "approval:", f'  author: "{DRAFT_AUTHOR}"', '  reviewer: "李审核"',
                       f"  date: {dt.date.today().isoformat()}", f"  sha256: {e.approval.sha256}"}
    assert editions.in_force(rs.editions, "yunnan", dt.date(2026, 9, 1))[0].key == "yunnan@2023"  # approved: not yet served

    monkeypatch.setenv("DISCRETION_TOKEN", "王发布")
    assert main(["rulebooks", "publish", str(path)]) == 0
    assert as_reviewer == ["李审核", "王发布"]
    rs = load_tree(root)
    e = rs.editions["yunnan@2026-draft"].model
    assert e.status == "published" and e.approval is not None
    assert (e.approval.published_by, e.approval.published_on) == ("王发布", dt.date.today())
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
