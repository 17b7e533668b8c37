"""Access: API tokens (stored hashed), web login, roles, CSRF on every form post, the loopback rule."""

from __future__ import annotations

import io
import logging
import re
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import cli
from api.auth import Signer, cli_principal, hash_password, is_loopback, verify_password
from api.main import create_app
from api.settings import Settings
from discretion.errors import AuthError

CASE = {
    "violation": "water_over_standard",
    "facts": {"exceedance_ratio": 0.5},
    "circumstances": [],
    "violation_date": "2026-09-01",
    "decision_date": "2026-10-01",
}


def run_cli(*argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('access') / 'a.db'}"


@pytest.fixture(scope="module")
def secured(db_url: str) -> FastAPI:
    return create_app(Settings(database_url=db_url, auth=True))


@pytest.fixture(scope="module")
def accounts(secured: FastAPI) -> dict[str, str]:
    """One user per role (password "password-<role>") and one API token per role."""
    store = secured.state.access.store
    tokens = {}
    for role in ("handler", "reviewer", "admin"):
        store.add_user(f"u-{role}", role, f"password-{role}")
        tokens[role] = store.create_token(f"app-{role}", role, "tests")[1]
    return tokens


@pytest.fixture()
def web(secured: FastAPI, accounts: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(secured, raise_server_exceptions=False) as c:
        yield c


def csrf_of(page: str) -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]


def login(c: TestClient, name: str, password: str, next_: str = "/") -> Any:
    page = c.get(f"/login?next={next_}").text
    return c.post("/login", data={"name": name, "password": password, "next": next_, "csrf_token": csrf_of(page)},
                  follow_redirects=False)


# --- API tokens ----------------------------------------------------------------------------


def test_api_without_a_token_is_401_with_the_error_shape(web: TestClient) -> None:
    r = web.post("/v1/assessments", json=CASE)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["code"] == "unauthenticated" and body["field"] == "Authorization" and "令牌" in body["message"]


def test_api_with_an_unknown_token_is_401(web: TestClient) -> None:
    r = web.get("/v1/violations", headers={"Authorization": "Bearer dsk_not-a-token"})
    assert r.status_code == 401


def test_api_with_a_valid_token_records_its_owner(web: TestClient, accounts: dict[str, str]) -> None:
    r = web.post("/v1/assessments", json=CASE, headers={"Authorization": f"Bearer {accounts['handler']}"})
    assert r.status_code == 201, r.text
    got = web.get(f"/v1/assessments/{r.json()['id']}", headers={"Authorization": f"Bearer {accounts['handler']}"})
    assert "app-handler" in got.text


def test_a_revoked_token_stops_working(secured: FastAPI, web: TestClient) -> None:
    store = secured.state.access.store
    tid, token = store.create_token("temp", "handler")
    headers = {"Authorization": f"Bearer {token}"}
    assert web.get("/v1/violations", headers=headers).status_code == 200
    store.revoke_token(tid)
    assert web.get("/v1/violations", headers=headers).status_code == 401


def test_health_and_docs_stay_open(web: TestClient) -> None:
    assert web.get("/healthz").status_code == 200
    assert web.get("/openapi.json").status_code == 200
    assert web.get("/docs").status_code == 200


def test_tokens_and_passwords_are_stored_hashed(secured: FastAPI, accounts: dict[str, str], db_url: str) -> None:
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    for token in accounts.values():
        assert token not in dump
    assert "password-handler" not in dump
    assert "scrypt$" in dump


def test_password_hashes_verify_only_their_password() -> None:
    h = hash_password("correct horse")
    assert verify_password("correct horse", h)
    assert not verify_password("correct horsf", h)
    assert not verify_password("x", "garbage")


# --- roles ---------------------------------------------------------------------------------


def test_require_lets_only_the_named_roles_through(secured: FastAPI, accounts: dict[str, str]) -> None:
    from fastapi import Depends

    from api.deps import Principal, require

    extra = FastAPI()

    @extra.get("/v1/only-reviewers")
    async def only(who: Principal = Depends(require("reviewer", "admin"))) -> dict[str, str]:
        return {"name": who.name}

    from api import errors
    from api.auth import AccessMiddleware

    errors.install(extra)
    access = secured.state.access
    extra.add_middleware(AccessMiddleware, store=access.store, signer=access.signer, auth=True)
    with TestClient(extra, raise_server_exceptions=False) as c:
        r = c.get("/v1/only-reviewers", headers={"Authorization": f"Bearer {accounts['handler']}"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = c.get("/v1/only-reviewers", headers={"Authorization": f"Bearer {accounts['reviewer']}"})
        assert r.status_code == 200 and r.json() == {"name": "app-reviewer"}


# --- web login -----------------------------------------------------------------------------


def test_pages_redirect_to_login_and_back(web: TestClient) -> None:
    r = web.get("/assess/water_over_standard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fassess%2Fwater_over_standard"
    r = login(web, "u-handler", "password-handler", "/assess/water_over_standard")
    assert r.status_code == 303 and r.headers["location"] == "/assess/water_over_standard"
    page = web.get("/assess/water_over_standard")
    assert page.status_code == 200 and "u-handler" in page.text and "承办人" in page.text


def test_a_wrong_password_is_refused_without_saying_which_part(web: TestClient) -> None:
    r = login(web, "u-handler", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = login(web, "nobody", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_login_never_redirects_off_site(web: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = login(web, "u-handler", "password-handler", target)
        assert r.status_code == 303 and r.headers["location"] == "/", target


def test_a_disabled_user_is_logged_out_at_once(secured: FastAPI, web: TestClient) -> None:
    secured.state.access.store.add_user("u-leaving", "handler", "password-leaving")
    assert login(web, "u-leaving", "password-leaving").status_code == 303
    assert web.get("/", follow_redirects=False).status_code == 200
    secured.state.access.store.disable_user("u-leaving")
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_ignored(web: TestClient) -> None:
    forged = Signer(b"not the service secret").session("u-admin", 0)
    web.cookies.set("dc_session", forged)
    assert web.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_the_session(web: TestClient) -> None:
    login(web, "u-handler", "password-handler")
    page = web.get("/").text
    r = web.post("/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    assert web.get("/", follow_redirects=False).status_code == 303


def test_the_no_auth_banner_is_not_shown_with_auth_on(web: TestClient) -> None:
    login(web, "u-handler", "password-handler")
    assert "未启用身份认证" not in web.get("/").text


# --- CSRF ----------------------------------------------------------------------------------


FORM = {"party": "unit", "jurisdiction": "yunnan", "violation_date": "2026-09-01", "decision_date": "2026-10-01",
        "fact.exceedance_ratio": "0.5"}


def test_a_form_post_without_the_csrf_token_is_refused(web: TestClient) -> None:
    login(web, "u-handler", "password-handler")
    r = web.post("/assess/water_over_standard", data=FORM, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text


def test_a_csrf_token_of_another_browser_is_refused(secured: FastAPI, web: TestClient) -> None:
    with TestClient(secured) as other:
        token = csrf_of(other.get("/login").text)
    login(web, "u-handler", "password-handler")
    r = web.post("/assess/water_over_standard", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403


def test_a_form_post_with_its_page_token_goes_through(web: TestClient) -> None:
    login(web, "u-handler", "password-handler")
    token = csrf_of(web.get("/assess/water_over_standard").text)
    r = web.post("/assess/water_over_standard", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/result/")


def test_the_login_form_itself_needs_the_token(web: TestClient) -> None:
    web.get("/login")
    r = web.post("/login", data={"name": "u-handler", "password": "password-handler"}, follow_redirects=False)
    assert r.status_code == 403


def test_form_posts_need_the_token_without_auth_too(client: TestClient) -> None:
    page = client.get("/assess/water_over_standard").text
    assert "未启用身份认证" in page  # the loopback banner
    r = client.post("/assess/water_over_standard", data=FORM, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/assess/water_over_standard", data={**FORM, "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303


# --- the loopback rule and logs ------------------------------------------------------------


@pytest.mark.parametrize("host,ok", [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.8.0.1", True),
                                     ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.org", False)])
def test_loopback_addresses(host: str, ok: bool) -> None:
    assert is_loopback(host) is ok


def test_serve_refuses_a_public_address_without_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCRETION_AUTH", raising=False)
    rc, _, err = run_cli("serve", "--host", "0.0.0.0", "--port", "1")
    assert rc == 2 and "拒绝启动" in err and "DISCRETION_AUTH" in err


def test_logs_carry_no_personal_data(web: TestClient, accounts: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "张三丰身份证530102199001011234"
    headers = {"Authorization": f"Bearer {accounts['handler']}"}
    web.post("/v1/assessments", json={**CASE, "facts": {"exceedance_ratio": marker}}, headers=headers)
    r = web.post("/v1/assessments", json=CASE, headers=headers)
    web.post(f"/v1/assessments/{r.json()['id']}/decision", json={"amount": 1, "reason": marker}, headers=headers)
    assert marker not in caplog.text


# --- CLI -----------------------------------------------------------------------------------


def test_cli_creates_lists_and_revokes_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    rc, out, _ = run_cli("tokens", "create", "--owner", "mobile-app", "--role", "reviewer", "--label", "移动执法", "--database-url", url)
    assert rc == 0
    token = out.strip()
    assert token.startswith("dsk_") and len(token) > 40
    who = cli_principal(token, Settings(database_url=url))
    assert (who.name, who.role, who.via) == ("mobile-app", "reviewer", "token")
    rc, out, _ = run_cli("tokens", "list", "--database-url", url)
    assert rc == 0 and "mobile-app" in out and token not in out
    tid = out.split()[0]
    assert run_cli("tokens", "revoke", tid, "--database-url", url)[0] == 0
    with pytest.raises(AuthError):
        cli_principal(token, Settings(database_url=url))
    rc, _, err = run_cli("tokens", "revoke", tid, "--database-url", url)
    assert rc == 2 and "没有可吊销的令牌" in err


def test_cli_adds_users_and_refuses_duplicates_and_short_passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_cli("users", "add", "li", "--role", "handler", "--password-stdin", "--database-url", url,
                   stdin="long-enough-pw\n", monkeypatch=monkeypatch)[0] == 0
    rc, _, err = run_cli("users", "add", "li", "--role", "handler", "--password-stdin", "--database-url", url,
                         stdin="long-enough-pw\n", monkeypatch=monkeypatch)
    assert rc == 2 and "用户已存在" in err
    rc, _, err = run_cli("users", "add", "wang", "--role", "handler", "--password-stdin", "--database-url", url,
                         stdin="short\n", monkeypatch=monkeypatch)
    assert rc == 2 and "至少 8 个字符" in err
    rc, out, _ = run_cli("users", "list", "--database-url", url)
    assert "li\thandler\t有效" in out
    assert cli_principal is not None
    with pytest.raises(AuthError):
        cli_principal(None, Settings(database_url=url))


def test_handlers_list_only_their_own_assessments_and_supervisors_list_all(web: TestClient, accounts: dict[str, str]) -> None:
    def as_(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {accounts[role]}"}

    mine = web.post("/v1/assessments", json=CASE, headers=as_("handler")).json()["id"]
    theirs = web.post("/v1/assessments", json=CASE, headers=as_("admin")).json()["id"]
    listed = {i["id"] for i in web.get("/v1/assessments?limit=200", headers=as_("handler")).json()["items"]}
    assert mine in listed and theirs not in listed
    r = web.get("/v1/assessments?handler=app-admin", headers=as_("handler"))
    assert r.status_code == 403 and r.json()["field"] == "handler"
    listed = {i["id"] for i in web.get("/v1/assessments?limit=200", headers=as_("reviewer")).json()["items"]}
    assert {mine, theirs} <= listed


def test_approving_an_edition_needs_a_real_reviewer_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end, no stand-ins: tokens from the store, the reviewer's key from ``reviewers keygen``
    registered by an admin; a handler's token is refused, a reviewer's without the key too, and the
    reviewer's token with the key approves and signs."""
    import shutil

    from discretion.rulebooks import tree

    root = tmp_path / "rulebooks"
    shutil.copytree(tree.SHIPPED, root)
    draft = root / "yunnan" / "code-draft.yaml"
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("DISCRETION_DATABASE_URL", url)
    monkeypatch.delenv("DISCRETION_TOKEN", raising=False)
    monkeypatch.delenv("DISCRETION_REVIEWER_KEY", raising=False)
    handler = run_cli("tokens", "create", "--owner", "zhang", "--role", "handler")[1].strip()
    reviewer = run_cli("tokens", "create", "--owner", "li-shenhe", "--role", "reviewer")[1].strip()
    admin = run_cli("tokens", "create", "--owner", "wang-admin", "--role", "admin")[1].strip()
    key = tmp_path / "li-shenhe.pem"
    rc, out, err = run_cli("reviewers", "keygen", "li-shenhe", "--out", str(key), "--passphrase-stdin",
                           stdin="li-shenhe passphrase\n", monkeypatch=monkeypatch)
    assert rc == 0, err
    public = out.split()[-1]
    rc, _, err = run_cli("--rulebooks", str(root), "reviewers", "add", "li-shenhe", "--public-key", public, "--token", reviewer)
    assert rc == 2 and "forbidden" in err  # only an admin registers keys
    rc, _, err = run_cli("--rulebooks", str(root), "reviewers", "add", "li-shenhe", "--public-key", public, "--token", admin)
    assert rc == 0, err
    assert run_cli("--rulebooks", str(root), "reviewers", "list")[1].count("li-shenhe") == 1
    before = draft.read_text(encoding="utf-8")
    rc, _, err = run_cli("rulebooks", "approve", str(draft), "--token", handler)
    assert rc == 2 and "forbidden" in err and draft.read_text(encoding="utf-8") == before
    rc, _, err = run_cli("rulebooks", "approve", str(draft), "--token", "dsk_forged")
    assert rc == 2 and "unauthenticated" in err
    rc, _, err = run_cli("rulebooks", "approve", str(draft), "--token", reviewer)
    assert rc == 2 and "--key" in err and draft.read_text(encoding="utf-8") == before
    rc, out, err = run_cli("rulebooks", "approve", str(draft), "--token", reviewer, "--key", str(key), "--passphrase-stdin",
                           stdin="li-shenhe passphrase\n", monkeypatch=monkeypatch)
    assert rc == 0, err
    text = draft.read_text(encoding="utf-8")
    assert "status: approved" in text and 'reviewer: "li-shenhe"' in text and "  signature:" in text
    assert tree.load(root).editions["yunnan@2026-draft"].model.status == "approved"


def test_a_database_writer_cannot_forge_an_approval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever can write the database can give themselves a reviewer token (a row written straight
    into api_tokens, even in a registered reviewer's name), but not an approval: without that
    reviewer's private key ``rulebooks approve`` refuses, a key of their own is not registered, and an
    approval they write into the edition file with it is refused whole when the rulebooks load."""
    import datetime as dt
    import shutil

    from rulebook_tree import register

    from api.auth import hash_token
    from discretion.errors import RulebookError
    from discretion.rulebooks import approval, loading, signing, tree
    from discretion.rulebooks.models import BenchmarkEdition

    root = tmp_path / "rulebooks"
    shutil.copytree(tree.SHIPPED, root)
    register(root, "li-shenhe")  # the real reviewer, whose private key the writer does not have
    draft = root / "yunnan" / "code-draft.yaml"
    db = tmp_path / "r.db"
    monkeypatch.setenv("DISCRETION_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.delenv("DISCRETION_TOKEN", raising=False)
    monkeypatch.delenv("DISCRETION_REVIEWER_KEY", raising=False)
    assert run_cli("tokens", "list")[0] == 0  # the database exists, migrated
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO api_tokens (id, label, owner, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                     ("f0f0f0f0f0f0f0f0", "", "li-shenhe", "reviewer", hash_token("dsk_written_by_sql"), "2026-12-01 00:00:00"))
    before = draft.read_bytes()
    rc, _, err = run_cli("rulebooks", "approve", str(draft), "--token", "dsk_written_by_sql")
    assert rc == 2 and "--key" in err
    own = signing.new_key()
    own_file = tmp_path / "own.pem"
    own_file.write_bytes(signing.private_pem(own, None))
    rc, _, err = run_cli("rulebooks", "approve", str(draft), "--token", "dsk_written_by_sql", "--key", str(own_file))
    assert rc == 2 and "forbidden（key）" in err and "不是审核人“li-shenhe”" in err
    assert draft.read_bytes() == before
    e = loading.validate(loading.read(draft), BenchmarkEdition)
    by_hand = signing.sign(own, "yunnan@2026-draft", approval.approve(e, "li-shenhe", dt.date.today()), dt.datetime.now(dt.UTC))
    draft.write_text(approval.rewrite(before.decode("utf-8"), "approved", by_hand), encoding="utf-8")
    with pytest.raises(RulebookError) as refused:
        tree.load(root)
    assert "yunnan@2026-draft 的审批签名所用的密钥" in str(refused.value) and "不是审核人“li-shenhe”" in str(refused.value)


# --- ownership of records ------------------------------------------------------------------


def _bearer(accounts: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts[role]}"}


def test_a_handler_cannot_read_reproduce_or_decide_another_handlers_case(
        secured: FastAPI, web: TestClient, accounts: dict[str, str]) -> None:
    """Another handler's record is 403 for read, reproduce and decision, and stays undecided for its owner."""
    other = secured.state.access.store.create_token("app-handler-2", "handler", "tests")[1]
    rid = web.post("/v1/assessments", json=CASE, headers=_bearer(accounts, "handler")).json()["id"]
    intruder = {"Authorization": f"Bearer {other}"}
    for r in (web.get(f"/v1/assessments/{rid}", headers=intruder),
              web.get(f"/v1/assessments/{rid}/reproduce", headers=intruder),
              web.post(f"/v1/assessments/{rid}/decision", json={"amount": 0, "reason": "抢先决定"}, headers=intruder)):
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden" and r.json()["field"] == "id"
    assert web.get(f"/v1/assessments/{rid}", headers=_bearer(accounts, "handler")).json()["decision"] is None
    assert web.get(f"/v1/assessments/{rid}/reproduce", headers=_bearer(accounts, "handler")).status_code == 200
    band = web.get(f"/v1/assessments/{rid}", headers=_bearer(accounts, "handler")).json()["fine"]["band"]
    r = web.post(f"/v1/assessments/{rid}/decision", json={"amount": band[0]}, headers=_bearer(accounts, "handler"))
    assert r.status_code == 201, r.text


def test_supervisors_read_every_handlers_case(web: TestClient, accounts: dict[str, str]) -> None:
    """Reviewers and admins read and reproduce any record; admins may also decide it."""
    rid = web.post("/v1/assessments", json=CASE, headers=_bearer(accounts, "handler")).json()["id"]
    for role in ("reviewer", "admin"):
        assert web.get(f"/v1/assessments/{rid}", headers=_bearer(accounts, role)).status_code == 200
        assert web.get(f"/v1/assessments/{rid}/reproduce", headers=_bearer(accounts, role)).status_code == 200


def test_a_handler_cannot_open_another_handlers_result_pages(secured: FastAPI, web: TestClient,
                                                             accounts: dict[str, str]) -> None:
    """The result page, its print view, its .docx and its decision form are refused to another handler."""
    secured.state.access.store.add_user("u-handler-2", "handler", "password-handler-2")
    rid = web.post("/v1/assessments", json=CASE, headers=_bearer(accounts, "handler")).json()["id"]
    assert login(web, "u-handler-2", "password-handler-2").status_code == 303
    for path in (f"/result/{rid}", f"/result/{rid}/print", f"/result/{rid}/reasoning.docx"):
        assert web.get(path).status_code == 403, path
    token = csrf_of(web.get("/").text)
    r = web.post(f"/result/{rid}/decision", data={"amount": "0", "reason": "抢先", "csrf_token": token})
    assert r.status_code == 403
    assert web.get(f"/v1/assessments/{rid}", headers=_bearer(accounts, "handler")).json()["decision"] is None


# --- no auth: only this machine may call (DNS rebinding, foreign origins) --------------------

DAILY = {"original_fine": 100000, "order_served_date": "2026-09-01", "reinspection_date": "2026-09-11"}


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A service without auth and no extra host names, called as http://127.0.0.1:8000."""
    url = f"sqlite:///{tmp_path_factory.mktemp('loopback') / 'l.db'}"
    app = create_app(Settings(database_url=url, allowed_hosts=""))
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "testserver", "192.168.1.5:8000", "0.0.0.0:8000"])
def test_without_auth_a_foreign_host_name_is_refused(loopback: TestClient, host: str) -> None:
    """A Host that is not a loopback name (a rebound DNS name) gets 400 host_not_allowed, pages and API alike."""
    r = loopback.get("/v1/violations", headers={"Host": host})
    assert r.status_code == 400 and r.json()["code"] == "host_not_allowed" and r.json()["field"] == "Host"
    assert loopback.get("/", headers={"Host": host}).status_code == 400
    assert loopback.post("/v1/admin/reload", headers={"Host": host}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "app.localhost:8000",
                                  "127.8.0.1"])
def test_without_auth_loopback_host_names_are_served(loopback: TestClient, host: str) -> None:
    """Every loopback name or address, with or without a port, is answered."""
    assert loopback.get("/v1/violations", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:9999", "http://localhost:8000", "null"])
def test_without_auth_a_state_change_from_a_foreign_origin_is_refused(loopback: TestClient, origin: str) -> None:
    """A POST whose Origin is not this service's own (another site, another local port) is 403 origin_not_allowed."""
    r = loopback.post("/v1/admin/reload", headers={"Origin": origin})
    assert r.status_code == 403 and r.json()["code"] == "origin_not_allowed" and r.json()["field"] == "Origin"
    r = loopback.post("/v1/daily-penalties", json=DAILY, headers={"Origin": origin})
    assert r.status_code == 403
    page = loopback.get("/assess/water_over_standard").text
    r = loopback.post("/assess/water_over_standard", data={**FORM, "csrf_token": csrf_of(page)},
                      headers={"Origin": origin}, follow_redirects=False)
    assert r.status_code == 403


def test_without_auth_same_origin_and_originless_requests_pass(loopback: TestClient) -> None:
    """The service's own pages (same Origin) and clients that send no Origin (curl, scripts) go through."""
    assert loopback.post("/v1/daily-penalties", json=DAILY, headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200
    assert loopback.post("/v1/daily-penalties", json=DAILY).status_code == 200
    page = loopback.get("/assess/water_over_standard").text
    r = loopback.post("/assess/water_over_standard", data={**FORM, "csrf_token": csrf_of(page)},
                      headers={"Origin": "http://127.0.0.1:8000"}, follow_redirects=False)
    assert r.status_code == 303


# --- what only admins see, what only benchmarks use, headers, cookies over HTTPS ---------------


def test_health_detail_is_for_admins_only(web: TestClient, accounts: dict[str, str]) -> None:
    """With auth on, /healthz stays open but detail=true needs an admin: 401 without a token, 403 for others."""
    assert web.get("/healthz").json() == {"status": "ok"}
    r = web.get("/healthz?detail=true")
    assert r.status_code == 401 and r.json()["field"] == "detail" and "pid" not in r.text
    for role in ("handler", "reviewer"):
        r = web.get("/healthz?detail=true", headers=_bearer(accounts, role))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = web.get("/healthz?detail=true", headers=_bearer(accounts, "admin"))
    assert r.status_code == 200 and isinstance(r.json()["pid"], int)


def test_echo_exists_only_when_the_benchmark_setting_turns_it_on(tmp_path: Path, client: TestClient) -> None:
    """POST /_echo is 404 by default and answers its body with DISCRETION_ECHO=1."""
    assert client.post("/_echo", json={"a": 1}).status_code == 404
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'e.db'}", echo=True))
    with TestClient(app) as c:
        assert c.post("/_echo", json={"a": 1}).json() == {"a": 1}


SECURITY_HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def _assert_secured(r: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name)
    csp = r.headers["content-security-policy"]
    scripts = re.search(r"script-src ([^;]*)", csp)
    assert scripts and scripts.group(1) == "'self'", csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_every_answer_carries_the_security_headers(client: TestClient, web: TestClient) -> None:
    """Pages, JSON, static files, docs, errors and refusals all carry CSP (no inline script), X-Frame-Options,
    nosniff and Referrer-Policy."""
    rid = client.post("/v1/assessments", json=CASE).json()["id"]
    for path in ("/", "/assess/water_over_standard", f"/result/{rid}", f"/result/{rid}/print", "/cases", "/review",
                 "/review/diff", "/review/replay", "/docs", "/static/app.css", "/static/app.js", "/healthz",
                 "/v1/violations", f"/v1/assessments/{rid}", "/v1/assessments/nope", "/nowhere"):
        _assert_secured(client.get(path))
    _assert_secured(client.post("/v1/assessments", json=CASE))
    _assert_secured(client.post("/v1/assessments", content=b"x" * 200_000, headers={"content-type": "application/json"}))
    _assert_secured(web.get("/v1/violations"))  # 401 from the access layer
    _assert_secured(web.get("/login"))


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    """Every page works under a CSP without 'unsafe-inline': no inline script, event handler, style block or attribute."""
    rid = client.post("/v1/assessments", json=CASE).json()["id"]
    for path in ("/", "/assess/water_over_standard", f"/result/{rid}", f"/result/{rid}/print", "/cases", "/review",
                 "/review/diff?a=yunnan@2023&b=yunnan@2026-draft", "/review/replay", "/docs", "/login"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", page, re.I), path


def test_cookies_are_secure_when_the_request_came_over_https(secured: FastAPI, web: TestClient) -> None:
    """Over HTTPS (or X-Forwarded-Proto: https from a proxy) the CSRF and session cookies carry Secure; over HTTP not."""
    plain = web.get("/login")
    assert "dc_csrf=" in plain.headers["set-cookie"] and "Secure" not in plain.headers["set-cookie"]
    web.cookies.clear()
    proxied = web.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "dc_csrf=" in proxied.headers["set-cookie"] and "Secure" in proxied.headers["set-cookie"]
    with TestClient(secured, base_url="https://testserver") as tls:
        page = tls.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        r = tls.post("/login", data={"name": "u-handler", "password": "password-handler", "next": "/",
                                     "csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert r.status_code == 303 and "dc_session=" in r.headers["set-cookie"] and "Secure" in r.headers["set-cookie"]


# --- disabling a user and logging out end access on the server -------------------------------


def test_disabling_a_user_revokes_their_tokens_in_every_worker(secured: FastAPI, web: TestClient,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A disabled user's API tokens stop at once in this worker and, like a revoked token, within the cache bound in others."""
    from api.auth import TOKEN_CACHE_SECONDS, AccessStore

    store = secured.state.access.store
    store.add_user("u-quits", "handler", "password-quits")
    token = store.create_token("u-quits", "handler", "phone")[1]
    other_worker = AccessStore(store.engine)
    assert other_worker.principal_for_token(token) is not None  # cached there
    assert web.get("/v1/violations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert store.disable_user("u-quits") == 1
    assert web.get("/v1/violations", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    later = __import__("time").monotonic() + TOKEN_CACHE_SECONDS + 1
    monkeypatch.setattr("api.auth.time.monotonic", lambda: later)
    assert other_worker.principal_for_token(token) is None
    with pytest.raises(Exception, match="已停用"):
        store.create_token("u-quits", "handler")


def test_logout_ends_the_session_on_the_server(secured: FastAPI, web: TestClient) -> None:
    """A session cookie kept from before logout (copied, stolen) no longer opens a page."""
    secured.state.access.store.add_user("u-logout", "handler", "password-logout")
    assert login(web, "u-logout", "password-logout").status_code == 303
    kept = web.cookies.get("dc_session")
    assert kept
    web.post("/logout", data={"csrf_token": csrf_of(web.get("/").text)}, follow_redirects=False)
    with TestClient(secured) as thief:
        thief.cookies.set("dc_session", kept)
        assert thief.get("/", follow_redirects=False).status_code == 303
    assert login(web, "u-logout", "password-logout").status_code == 303  # logging in again works
    assert web.get("/", follow_redirects=False).status_code == 200


def test_cli_disabling_a_user_says_how_many_tokens_it_revoked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`users disable` revokes the user's tokens and says so."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    run_cli("users", "add", "zhao", "--role", "handler", "--password-stdin", "--database-url", url,
            stdin="long-enough-pw\n", monkeypatch=monkeypatch)
    run_cli("tokens", "create", "--owner", "zhao", "--role", "handler", "--database-url", url)
    rc, out, _ = run_cli("users", "disable", "zhao", "--database-url", url)
    assert rc == 0 and "吊销其令牌 1 个" in out
    rc, out, _ = run_cli("tokens", "list", "--database-url", url)
    assert "zhao" in out and "有效" not in out.split("zhao", 1)[1].splitlines()[0]


def test_a_handler_cannot_store_a_record_made_with_an_unpublished_edition(
        secured: FastAPI, web: TestClient, accounts: dict[str, str]) -> None:
    """A handler asking for the draft edition gets 403 unpublished_edition and nothing is stored;
    a reviewer's what-if with it is kept, marked unpublished in its rulebook."""
    draft = {**CASE, "edition": "yunnan@2026-draft"}
    before = web.get("/v1/assessments?limit=200", headers=_bearer(accounts, "admin")).json()["items"]
    r = web.post("/v1/assessments", json=draft, headers=_bearer(accounts, "handler"))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "unpublished_edition" and r.json()["field"] == "edition"
    assert "尚未发布" in r.json()["message"] and "草案" in r.json()["message"]
    after = web.get("/v1/assessments?limit=200", headers=_bearer(accounts, "admin")).json()["items"]
    assert len(after) == len(before)
    r = web.post("/v1/assessments", json=draft, headers=_bearer(accounts, "reviewer"))
    assert r.status_code == 201, r.text
    assert r.json()["rulebook"]["status"] == "draft"
    assert web.post("/v1/assessments", json=CASE, headers=_bearer(accounts, "handler")).status_code == 201


# --- login throttling: lockout, admin unlock, no user enumeration -----------------------------


@pytest.fixture()
def browsers(secured: FastAPI, accounts: dict[str, str]) -> Iterator[Any]:
    """Opens clients at a given client address: browsers (Accept: text/html) or JSON clients."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        def open_(address: str, html: bool = True) -> TestClient:
            headers = {"Accept": "text/html,application/xhtml+xml"} if html else {"Accept": "application/json"}
            return stack.enter_context(TestClient(secured, raise_server_exceptions=False, client=(address, 50000),
                                                  headers=headers))
        yield open_


def _fail(c: TestClient, name: str, times: int) -> None:
    for _ in range(times):
        assert login(c, name, "wrong-password").status_code == 401


def test_five_failures_lock_the_name_with_a_chinese_page_and_retry_after(secured: FastAPI, browsers: Any) -> None:
    """After five wrong passwords even the right one is refused: 429, a Chinese login page, Retry-After, no session."""
    secured.state.access.store.add_user("u-locked", "handler", "password-locked")
    c = browsers("10.14.0.1")
    _fail(c, "u-locked", 5)
    r = login(c, "u-locked", "password-locked")
    assert r.status_code == 429 and "登录失败次数过多" in r.text and "分钟后再试" in r.text
    assert 'action="/login"' in r.text and r.headers["content-type"].startswith("text/html")
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    assert "dc_session" not in r.headers.get("set-cookie", "")
    assert c.get("/", follow_redirects=False).status_code == 303
    api_client = browsers("10.14.0.2", html=False)
    r = login(api_client, "u-locked", "password-locked")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.json()["code"] == "login_locked" and r.json()["field"] == "name" and "登录失败次数过多" in r.json()["message"]


def test_a_wrong_password_answers_a_json_client_in_the_error_shape(browsers: Any) -> None:
    """A client that does not ask for HTML gets 401 invalid_credentials as JSON, for a wrong password or name alike."""
    c = browsers("10.14.1.1", html=False)
    for name in ("u-handler", "nobody-at-all"):
        r = login(c, name, "wrong-password")
        assert r.status_code == 401 and r.json() == {
            "code": "invalid_credentials", "message": "用户名或密码错误，或该用户已停用。", "field": None,
            "errors": [{"code": "invalid_credentials", "message": "用户名或密码错误，或该用户已停用。", "field": None}]}


def test_lockout_answers_the_same_whether_or_not_the_account_exists(secured: FastAPI, browsers: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing name and one nobody has get the same answers, failure by failure, up to and after the lock."""
    secured.state.access.store.add_user("u-real", "handler", "password-real")
    monkeypatch.setattr(secured.state.access.store.throttle, "clock", lambda: 1_900_000_000.0)  # one instant
    seen = {}
    for address, name in (("10.14.2.1", "u-real"), ("10.14.2.2", "u-ghost")):
        c = browsers(address, html=False)
        seen[name] = [(r.status_code, r.json(), r.headers.get("retry-after"))
                      for r in (login(c, name, "wrong-password") for _ in range(7))]
    assert seen["u-real"] == seen["u-ghost"]
    assert [s for s, _, _ in seen["u-real"]] == [401] * 5 + [429] * 2
    pages = []
    for address, name in (("10.14.2.3", "u-real"), ("10.14.2.4", "u-ghost")):
        r = login(browsers(address), name, "wrong-password")
        pages.append((r.status_code, r.headers["retry-after"], re.sub(r'value="[^"]*"', "", r.text)))
    assert pages[0] == pages[1] and pages[0][0] == 429


def test_an_admin_lifts_a_lock_with_the_command_line(secured: FastAPI, browsers: Any, db_url: str) -> None:
    """`users list` shows the lock; `users unlock NAME` lifts it at once; an unknown name is refused with exit 2."""
    secured.state.access.store.add_user("u-unlock", "handler", "password-unlock")
    c = browsers("10.14.3.1")
    _fail(c, "u-unlock", 5)
    assert login(c, "u-unlock", "password-unlock").status_code == 429
    rc, out, _ = run_cli("users", "list", "--database-url", db_url)
    assert rc == 0 and "登录已锁定" in [line for line in out.splitlines() if line.startswith("u-unlock\t")][0]
    rc, out, _ = run_cli("users", "unlock", "u-unlock", "--database-url", db_url)
    assert rc == 0 and "已解除用户 u-unlock 的登录锁定（清除失败记录 5 条）" in out
    assert login(c, "u-unlock", "password-unlock").status_code == 303
    rc, _, err = run_cli("users", "unlock", "no-such-user", "--database-url", db_url)
    assert rc == 2 and "没有该用户" in err
    rc, _, err = run_cli("users", "unlock", "--database-url", db_url)
    assert rc == 2 and "二者选一" in err


def test_twenty_failures_from_one_address_stop_its_logins_until_an_admin_lifts_it(
        secured: FastAPI, browsers: Any, db_url: str) -> None:
    """Twenty failures from one address (a different name each time) stop a right password from it, not from elsewhere."""
    c = browsers("10.14.4.1")
    for i in range(20):
        assert login(c, f"guess-{i}", "wrong-password").status_code == 401
    r = login(c, "u-handler", "password-handler")
    assert r.status_code == 429 and "此网络地址" in r.text and int(r.headers["retry-after"]) > 0
    assert login(browsers("10.14.4.2"), "u-handler", "password-handler").status_code == 303
    rc, out, _ = run_cli("users", "unlock", "--address", "10.14.4.1", "--database-url", db_url)
    assert rc == 0 and "清除失败记录 20 条" in out
    assert login(c, "u-handler", "password-handler").status_code == 303
    rc, _, err = run_cli("users", "unlock", "--address", "not-an-address", "--database-url", db_url)
    assert rc == 2 and "不是有效的 IP 地址" in err


def test_an_unknown_or_disabled_name_runs_the_same_password_check(secured: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name with no enabled user costs one scrypt verification like a wrong password, against a hash of the same
    parameters, and no hashing besides (structural: it does not depend on the machine's speed)."""
    import api.auth

    store = secured.state.access.store
    store.add_user("u-timing", "handler", "password-timing")
    store.add_user("u-timing-gone", "handler", "password-timing")
    store.disable_user("u-timing-gone")
    store.login("u-timing", "warm-up-password", "10.14.5.1")  # the process's dummy hash exists from here on
    calls: list[tuple[str, str]] = []
    real_verify = api.auth.verify_password
    monkeypatch.setattr(api.auth, "verify_password", lambda p, h: calls.append((p, h)) or real_verify(p, h))
    monkeypatch.setattr(api.auth, "hash_password", lambda p: pytest.fail("login hashed a password"))
    for i, name in enumerate(("u-timing", "u-nobody", "u-timing-gone")):
        calls.clear()
        assert store.login(name, "wrong-password", f"10.14.5.{i + 2}") is None
        assert [p for p, _ in calls] == ["wrong-password"], name
        kind, n, r, p, salt, digest = calls[0][1].split("$")
        assert (kind, n, r, p, len(salt), len(digest)) == ("scrypt", "16384", "8", "1", 24, 44), name


def test_an_unknown_name_takes_about_as_long_as_a_wrong_password(secured: FastAPI) -> None:
    """Loose statistical check: the fastest of eight interleaved tries of each path lie within a factor of 1.5."""
    import time

    store = secured.state.access.store
    store.add_user("u-stopwatch", "handler", "password-stopwatch")
    best = {"u-stopwatch": float("inf"), "u-nobody-here": float("inf")}
    for i in range(9):
        for name in best:
            start = time.perf_counter()
            store.login(name, "wrong-password", f"10.14.6.{i}")
            if i:  # the first round warms up
                best[name] = min(best[name], time.perf_counter() - start)
            store.throttle.unlock(name)
    known, unknown = best["u-stopwatch"], best["u-nobody-here"]
    assert 1 / 1.5 < unknown / known < 1.5, (known, unknown)


# --- the session secret: one key file for every worker ----------------------------------------


def test_a_session_from_one_worker_opens_pages_in_another(secured: FastAPI, web: TestClient, db_url: str) -> None:
    """A second app on the same database and data directory (another worker) reads the same key file and accepts the session."""
    assert login(web, "u-handler", "password-handler").status_code == 303
    cookie = web.cookies.get("dc_session")
    other = create_app(Settings(database_url=db_url, auth=True))
    assert other.state.access.signer.secret == secured.state.access.signer.secret
    with TestClient(other) as c:
        c.cookies.set("dc_session", cookie)
        assert c.get("/", follow_redirects=False).status_code == 200


def test_the_header_links_review_for_reviewers_and_admins_only(web: TestClient) -> None:
    """The navigation shows 审核 (/review) to a reviewer or an admin, never to a handler."""
    for role, shown in (("handler", False), ("reviewer", True), ("admin", True)):
        login(web, f"u-{role}", f"password-{role}")
        assert ('<a href="/review">审核</a>' in web.get("/").text) is shown, role


def test_a_handler_refused_a_reviewers_page_gets_it_in_the_sites_layout(web: TestClient) -> None:
    """403 for a handler opening /review is a Chinese page with the site's navigation and the user's name."""
    login(web, "u-handler", "password-handler")
    r = web.get("/review", headers={"accept": "text/html"})
    assert r.status_code == 403 and "<h1>无权访问</h1>" in r.text
    assert '<a href="/cases">最近案件</a>' in r.text and "u-handler（承办人）" in r.text
