"""Access: users, roles and API tokens (stored hashed), web login sessions, CSRF.

- API clients send ``Authorization: Bearer <token>``; tokens are created and revoked with
  ``discretion tokens``, stored as sha256 of the token (they are 256-bit random, so a fast hash
  is enough), and carry one role.
- Case handlers log in to the web form (``discretion users`` creates them; passwords are stored
  with scrypt); the session is an HMAC-signed cookie, checked against the users table on every
  page so a disabled user is out at once; logging out moves the user's session generation on,
  which ends every session issued before on the server, not only in the browser. Disabling a user
  also revokes the API tokens they own.
- Every form post (logged in or not) carries a CSRF token: HMAC of a random per-browser cookie
  under the service secret, which signs the session cookies too. The secret is in an owner-only
  key file every worker reads (``api/keyfile.py``), never in the database.
- Logins are throttled per name tried and per client address, counted in the database so that
  every worker sees the same counts (``api/throttle.py``: 5 failures of a name in 15 minutes lock
  it until the window passes or ``discretion users unlock NAME``; 20 from an address stop it).
  An unknown or disabled name costs the same scrypt verification as a wrong password (against a
  dummy hash made once per process), is counted and locked like any other, and gets the same
  answer, so neither timing nor answers tell whether an account exists.
- Without auth (``DISCRETION_AUTH`` unset) the service only runs on a loopback address, every
  caller is the local operator (admin), and every page shows a banner saying so.
- Every change of access (a token created or revoked, a user added or disabled) is appended to the
  records' hash chain as an access event, in the same transaction as the change: who did it (the
  acting admin's token owner, or the operating-system user running ``discretion tokens``/``users``),
  the action, the token id or user name and its role, never the token or password
  (``discretion audit verify`` checks them with the records).

Interface used by other modules (stable):
- ``cli_principal(token, settings) -> Principal``: the owner of an API token given on the command
  line (``--token`` or ``DISCRETION_TOKEN``); raises ``AuthError`` when missing, unknown or revoked.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import os
import secrets
import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from discretion.errors import AuthError, ConflictError, DiscretionError, InputError, NotFoundError

from .deps import ANONYMOUS, ROLES, Principal
from .limits import Receive, Scope, Send
from .security import is_https
from .settings import Settings
from .throttle import LoginThrottle, address_key

if TYPE_CHECKING:
    from .storage.writer import ChainWriter

SESSION_COOKIE = "dc_session"
CSRF_COOKIE = "dc_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
TOKEN_CACHE_SECONDS = 10.0  # a revoked token stops working within this long in every worker
TOKEN_PREFIX = "dsk_"

# Paths reachable without logging in (with auth on): the login page, assets, liveness, API docs.
OPEN_PATHS = ("/login", "/static/", "/healthz", "/docs", "/openapi.json", "/favicon.ico")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- hashing ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password with the same cost as the users' (made once per process): the
    password of a name that has no enabled user is checked against it, so that a wrong name takes
    as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The host name of a ``Host`` header value or an origin's netloc, without the port, lowercased
    (IPv6 literals without their brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def is_loopback_name(name: str, extra: frozenset[str] = frozenset()) -> bool:
    """A name that can only reach this machine: ``localhost`` (and ``*.localhost``, RFC 6761), a
    loopback address, or a name the operator listed (``DISCRETION_ALLOWED_HOSTS``)."""
    return is_loopback(name) or name.endswith(".localhost") or name in extra


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(message=f"未知的角色：{role}（可选：{'、'.join(ROLES)}）", field="role")


def _possible_name(name: str) -> bool:
    """Whether ``name`` could be a user's or a token owner's name (1 to 64 printable characters, no white space)."""
    return 1 <= len(name) <= 64 and not any(c.isspace() for c in name) and name.isprintable()


def _check_name(name: str, field: str) -> None:
    if not _possible_name(name):
        raise InputError(message="名称须为 1 至 64 个字符，不含空白", field=field)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- the access store ------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    id: str
    label: str
    owner: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def os_user() -> str:
    """The operating-system account running this process (from the user database, not the
    environment), or ``uid:N`` when it has no name."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid:{os.getuid()}"


class AccessStore:
    """Users, tokens and the failed-login counters, in the same database as the records.

    ``chain``: the records' chain writer (:class:`api.storage.Store`); every change of access goes
    through it as an access event (:meth:`_change`), so a store without one only reads (and ends
    sessions). ``by`` of a change: the acting admin (their token's owner), or None for the
    operating-system user running the command."""

    def __init__(self, engine: Engine, chain: ChainWriter | None = None) -> None:
        from .storage import schema

        self.engine = engine
        self.chain = chain
        self.users = schema.users
        self.tokens = schema.api_tokens
        self.throttle = LoginThrottle(engine)
        self._token_cache: dict[str, tuple[float, Principal | None]] = {}

    def _change(self, action: str, target: str, role: str, by: Principal | None, detail: dict[str, Any],
                apply: Callable[[Connection], None]) -> None:
        """Make a change of access (``apply``, in the chain writer's transaction) and append its access
        event to the hash chain; both or neither are stored."""
        from .storage.rows import access_row

        if self.chain is None:
            raise DiscretionError(code="access_unrecorded", message="权限变更须记入哈希链：此处没有记录库的写入器，未作改动")
        me = os_user()
        detail = {**detail, "os_user": me, "host": socket.gethostname()}
        row = access_row(action, target, role, by.name if by else me, by.role if by else "os_user", detail)
        try:
            self.chain.submit_access(row, apply).result()
        except IntegrityError:
            raise ConflictError(message=f"{target} 已存在（同时有另一次创建）", code="access_conflict", field="name") from None

    # users
    def add_user(self, name: str, role: str, password: str, by: Principal | None = None) -> None:
        _check_name(name, "name")
        _check_role(role)
        if len(password) < 8:
            raise InputError(message="密码至少 8 个字符", field="password")
        values = {"name": name, "role": role, "password_hash": hash_password(password), "created_at": _now(), "disabled_at": None}

        def apply(conn: Connection) -> None:
            if conn.execute(select(self.users.c.name).where(self.users.c.name == name)).first() is not None:
                raise ConflictError(message=f"用户已存在：{name}", code="user_exists", field="name")
            conn.execute(insert(self.users).values(**values))

        self._change("user_added", name, role, by, {}, apply)

    def disable_user(self, name: str, by: Principal | None = None) -> int:
        """Disable a user and, in the same transaction, revoke every API token they own (a token's
        owner is a user's name). Their sessions end at once; their tokens within
        ``TOKEN_CACHE_SECONDS`` in every worker, as with ``revoke_token``. Returns the tokens revoked."""
        with self.engine.connect() as conn:
            role = conn.execute(select(self.users.c.role).where(self.users.c.name == name, self.users.c.disabled_at.is_(None))).scalar()
        missing = NotFoundError(message=f"没有可停用的用户：{name}", field="name")
        if role is None:
            raise missing
        revoked = [0]

        def apply(conn: Connection) -> None:
            now = _now()
            if not conn.execute(update(self.users).where(self.users.c.name == name, self.users.c.disabled_at.is_(None))
                                .values(disabled_at=now)).rowcount:
                raise missing
            revoked[0] = conn.execute(update(self.tokens).where(self.tokens.c.owner == name, self.tokens.c.revoked_at.is_(None))
                                      .values(revoked_at=now)).rowcount

        self._change("user_disabled", name, role, by, {}, apply)
        self._token_cache.clear()
        return int(revoked[0])

    def _disabled(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(self.users.c.disabled_at).where(
                self.users.c.name == name, self.users.c.disabled_at.is_not(None))).first() is not None

    def list_users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.users.c.name, self.users.c.role, self.users.c.created_at,
                                       self.users.c.disabled_at).order_by(self.users.c.name)).all()
        return [dict(r._mapping) for r in rows]

    def active_user(self, name: str, generation: int) -> Principal | None:
        """The user of a session issued at ``generation``, if they are still enabled and have not
        logged out since (:meth:`end_sessions`)."""
        u = self.users.c
        with self.engine.connect() as conn:
            row = conn.execute(select(u.role).where(
                u.name == name, u.disabled_at.is_(None), u.session_generation == generation)).first()
        return None if row is None else Principal(name=name, role=row[0], via="session")

    def session_generation(self, name: str) -> int:
        """The generation a session issued now carries (0 for an unknown name)."""
        with self.engine.connect() as conn:
            got = conn.execute(select(self.users.c.session_generation).where(self.users.c.name == name)).scalar()
        return int(got or 0)

    def end_sessions(self, name: str) -> None:
        """Log a user out on the server: every session cookie issued to them so far stops working."""
        with self.engine.begin() as conn:
            conn.execute(update(self.users).where(self.users.c.name == name)
                         .values(session_generation=self.users.c.session_generation + 1))

    def login(self, name: str, password: str, client: str | None = None) -> Principal | None:
        """The user ``name`` if ``password`` is theirs and they are enabled, else None; raises
        ``TooManyAttemptsError`` (checking no password) while the name or the client address
        (``client``, the caller's IP address) has had too many failures (:mod:`api.throttle`)."""
        if not _possible_name(name):  # no user has it (nor can any have it): not counted, nothing stored
            verify_password(password, _dummy_hash())  # and no quicker than any other refusal
            return None
        attempt = self.throttle.admit(name, address_key(client))
        who = self._check_password(name, password)
        if who is not None:
            self.throttle.succeeded(attempt, name)
        return who

    def _check_password(self, name: str, password: str) -> Principal | None:
        """One scrypt verification whether or not ``name`` is an enabled user (timing tells nothing)."""
        dummy = _dummy_hash()  # before the lookup: a process's first login pays for it, whoever's name it is
        with self.engine.connect() as conn:
            row = conn.execute(select(self.users.c.role, self.users.c.password_hash).where(
                self.users.c.name == name, self.users.c.disabled_at.is_(None))).first()
        ok = verify_password(password, dummy if row is None else row[1])
        return Principal(name=name, role=row[0], via="session") if row is not None and ok else None

    def unlock(self, name: str) -> int:
        """Lift a user's login lock: forget the failed logins of their name. Returns how many."""
        with self.engine.connect() as conn:
            if conn.execute(select(self.users.c.name).where(self.users.c.name == name)).first() is None:
                raise NotFoundError(message=f"没有该用户：{name}", field="name")
        return self.throttle.unlock(name)

    # tokens
    def create_token(self, owner: str, role: str, label: str = "", by: Principal | None = None) -> tuple[str, str]:
        """Create a token; returns (id, token). The token is shown once and stored only hashed; the
        access event records its id, owner, role and label, and who created it."""
        _check_name(owner, "owner")
        _check_role(role)
        if len(label) > 80:
            raise InputError(message="标签最长 80 个字符", field="label")
        if self._disabled(owner):
            raise InputError(message=f"用户 {owner} 已停用，不能为其创建令牌", field="owner")
        tid = secrets.token_hex(8)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        values = {"id": tid, "label": label, "owner": owner, "role": role, "token_hash": hash_token(token),
                  "created_at": _now(), "revoked_at": None}

        def apply(conn: Connection) -> None:
            conn.execute(insert(self.tokens).values(**values))

        self._change("token_created", tid, role, by, {"owner": owner, "label": label}, apply)
        return tid, token

    def revoke_token(self, tid: str, by: Principal | None = None) -> None:
        t = self.tokens.c
        with self.engine.connect() as conn:
            got = conn.execute(select(t.owner, t.role).where(t.id == tid, t.revoked_at.is_(None))).first()
        missing = NotFoundError(message=f"没有可吊销的令牌：{tid}", field="id")
        if got is None:
            raise missing

        def apply(conn: Connection) -> None:
            if not conn.execute(update(self.tokens).where(t.id == tid, t.revoked_at.is_(None)).values(revoked_at=_now())).rowcount:
                raise missing

        self._change("token_revoked", tid, got[1], by, {"owner": got[0]}, apply)
        self._token_cache.clear()

    def list_tokens(self) -> list[TokenInfo]:
        t = self.tokens
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.id, t.c.label, t.c.owner, t.c.role, t.c.created_at, t.c.revoked_at)
                                .order_by(t.c.created_at)).all()
        return [TokenInfo(*r) for r in rows]

    def principal_for_token(self, token: str) -> Principal | None:
        """The token's owner, or None. Cached briefly: one lookup per token per few seconds."""
        now = time.monotonic()
        hit = self._token_cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.engine.connect() as conn:
            row = conn.execute(select(self.tokens.c.owner, self.tokens.c.role).where(
                self.tokens.c.token_hash == hash_token(token), self.tokens.c.revoked_at.is_(None))).first()
        who = None if row is None else Principal(name=row[0], role=row[1], via="token")
        if len(self._token_cache) > 10_000:
            self._token_cache.clear()
        self._token_cache[token] = (now + TOKEN_CACHE_SECONDS, who)
        return who


def cli_principal(token: str | None, settings: Settings) -> Principal:
    """The principal owning ``token`` (looked up hashed in the store)."""
    if not token:
        raise AuthError(message="须提供有效的 API 令牌（--token 或环境变量 DISCRETION_TOKEN）", field="token")
    from .storage import make_engine
    from .storage.migrations import upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        who = AccessStore(engine).principal_for_token(token)
    finally:
        engine.dispose()
    if who is None:
        raise AuthError(message="API 令牌无效或已吊销", field="token")
    return who


# --- signed cookies --------------------------------------------------------------------------


class Signer:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _mac(self, *parts: str) -> str:
        msg = "\x1f".join(parts).encode()
        return base64.urlsafe_b64encode(hmac.new(self.secret, msg, hashlib.sha256).digest()).decode().rstrip("=")

    def session(self, name: str, generation: int = 0, now: float | None = None) -> str:
        """A session cookie for ``name`` at the user's session ``generation`` (see ``end_sessions``)."""
        expires = str(int((now or time.time()) + SESSION_SECONDS))
        user = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        gen = str(generation)
        return f"{user}.{gen}.{expires}.{self._mac('session', name, gen, expires)}"

    def session_user(self, cookie: str, now: float | None = None) -> tuple[str, int] | None:
        """The (name, generation) a genuine, unexpired session cookie carries, else None."""
        try:
            user, gen, expires, mac = cookie.split(".")
            name = base64.urlsafe_b64decode(user + "=" * (-len(user) % 4)).decode()
            if int(expires) < (now or time.time()) or not gen.isdigit() or len(gen) > 9:
                return None
        except (ValueError, UnicodeDecodeError):
            return None
        return (name, int(gen)) if hmac.compare_digest(mac, self._mac("session", name, gen, expires)) else None

    def csrf(self, browser: str) -> str:
        return self._mac("csrf", browser)


# --- the middleware --------------------------------------------------------------------------


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k:
                    out.setdefault(k, v)
    return out


# The bodies a page of another site can make a browser send without asking (no CORS preflight):
# only these need a CSRF token; anything else is refused by the routes or needs a preflight.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _form_like(scope: Scope) -> bool:
    kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return kind in FORM_TYPES


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1")
    return None


async def _send_json(send: Send, status: int, code: str, message: str, field: str | None, extra: list[tuple[bytes, bytes]] = []) -> None:
    import orjson

    from .errors import body

    payload = orjson.dumps(body(code, message, field))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *extra]})
    await send({"type": "http.response.body", "body": payload})


async def _send_page(send: Send, status: int, title: str, message: str, extra: list[tuple[bytes, bytes]] = [],
                     scope: Scope | None = None) -> None:
    """An error page in the site's layout (api.errors.error_html), before any route runs."""
    from starlette.requests import Request

    from .errors import error_html

    payload = error_html(status, message, Request(scope) if scope is not None else None, heading=title).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(payload)).encode()), *extra]})
    await send({"type": "http.response.body", "body": payload})


class AccessMiddleware:
    """Authenticates every request (when auth is on) and checks CSRF on every form post.

    Sets ``scope["state"]["principal"]`` (read by ``api.deps.principal``) and, for pages,
    ``scope["state"]["csrf_token"]`` (templates put it in a hidden field)."""

    def __init__(self, app: Any, store: AccessStore, signer: Signer, auth: bool, secure_cookies: bool = False,
                 allowed_hosts: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.store = store
        self.signer = signer
        self.auth = auth
        self.secure = "; Secure" if secure_cookies else ""
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        state = scope.setdefault("state", {})
        if not self.auth:
            refused = self._foreign(scope)
            if refused is not None:
                status, code, message, field = refused
                if path.startswith("/v1/") or path == "/v1":
                    await _send_json(send, status, code, message, field)
                else:
                    await _send_page(send, status, "请求被拒绝", message, scope=scope)
                return
        if path.startswith("/v1/") or path == "/v1":
            if self.auth:
                who = self._bearer(scope)
                if who is None:
                    await _send_json(send, 401, "unauthenticated", "须提供有效的 API 令牌（Authorization: Bearer …）",
                                     "Authorization", [(b"www-authenticate", b'Bearer realm="discretion"')])
                    return
                state["principal"] = who
            await self.app(scope, receive, send)
            return
        await self._page(scope, receive, send, path, state)

    def _foreign(self, scope: Scope) -> tuple[int, str, str, str] | None:
        """Without auth every caller is the local operator, so only this machine may call: a ``Host``
        that is not a loopback name is refused (DNS rebinding: a foreign site's name resolved to
        127.0.0.1), and so is a state-changing request whose ``Origin`` is not this service's own
        (a page of another site, or another local port, posting here). Clients that send no
        ``Origin`` (curl, scripts, the CLI) are not browsers on a foreign page and pass."""
        host = _header(scope, b"host")
        if host is not None and not is_loopback_name(host_name(host), self.allowed_hosts):
            return 400, "host_not_allowed", "未启用身份认证的服务只接受本机地址（localhost、127.0.0.1、[::1]）的请求", "Host"
        if scope["method"] in UNSAFE_METHODS:
            origin = _header(scope, b"origin")
            if origin is not None:
                netloc = urllib.parse.urlsplit(origin.strip()).netloc.lower()
                if not netloc or host is None or netloc != host.strip().lower():
                    return 403, "origin_not_allowed", "拒绝来自其他网站（Origin）的修改请求", "Origin"
        return None

    def _bearer(self, scope: Scope) -> Principal | None:
        value = _header(scope, b"authorization")
        if not value or not value.lower().startswith("bearer "):
            return None
        token = value[7:].strip()
        if not token or len(token) > 200:
            return None
        return self.store.principal_for_token(token)

    async def _page(self, scope: Scope, receive: Receive, send: Send, path: str, state: dict[str, Any]) -> None:
        cookies = _cookies(scope)
        browser = cookies.get(CSRF_COOKIE, "")
        new_cookies: list[tuple[bytes, bytes]] = []
        if not (16 <= len(browser) <= 64) or not browser.replace("-", "").replace("_", "").isalnum():
            browser = secrets.token_urlsafe(24)
            secure = self.secure or ("; Secure" if is_https(scope) else "")
            new_cookies.append((b"set-cookie", f"{CSRF_COOKIE}={browser}; Path=/; HttpOnly; SameSite=Strict{secure}".encode()))
        state["csrf_token"] = self.signer.csrf(browser)
        state["auth"] = self.auth
        if self.auth:
            session = self.signer.session_user(cookies.get(SESSION_COOKIE, ""))
            who = None if session is None else self.store.active_user(*session)
            if who is None:  # a monitor may call /healthz?detail=true with an admin's API token
                who = self._bearer(scope)
            if who is not None:
                state["principal"] = who
            elif any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN_PATHS):
                state["principal"] = ANONYMOUS
            else:
                if scope["method"] in ("GET", "HEAD"):
                    target = path + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
                    location = "/login?next=" + urllib.parse.quote(target, safe="")
                    await send({"type": "http.response.start", "status": 303,
                                "headers": [(b"location", location.encode()), (b"content-length", b"0"), *new_cookies]})
                    await send({"type": "http.response.body", "body": b""})
                else:
                    await _send_page(send, 401, "未登录", "请先登录。", new_cookies, scope=scope)
                return
        if scope["method"] in UNSAFE_METHODS and _form_like(scope):
            receive, ok = await self._csrf_ok(scope, receive, state["csrf_token"])
            if not ok:
                await _send_page(send, 403, "表单已失效", "表单校验失败（CSRF）：请返回上一页，刷新后重新提交。", new_cookies, scope=scope)
                return
        if not new_cookies:
            await self.app(scope, receive, send)
            return

        async def with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *new_cookies]}
            await send(message)

        await self.app(scope, receive, with_cookie)

    async def _csrf_ok(self, scope: Scope, receive: Receive, expected: str) -> tuple[Receive, bool]:
        """Read the (size-limited) body, find the CSRF field, and hand the body on unchanged."""
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        from starlette.requests import Request

        got = ""
        try:
            probe = Request(scope, replay)
            form = await probe.form()
            got = str(form.get(CSRF_FIELD) or "")
            await form.close()
        except Exception:  # malformed form bodies are refused like a missing token
            got = ""
        sent = False
        return replay, bool(got) and hmac.compare_digest(got, expected)
