"""Service settings: embedded defaults (the shipped rulebooks, SQLite in the data directory),
overridable by environment.

Every command that opens the database (``serve``, ``db``, ``audit``, ``users``, ``tokens``,
``rulebooks approve|publish``) resolves it here, so it is the same database whichever folder the
command is started from: ``--database-url``, else ``DISCRETION_DATABASE_URL`` (or ``DATABASE_URL``),
else ``discretion.db`` in the data directory ``DISCRETION_HOME`` (default: the platform's user
data directory, e.g. ``~/.local/share/discretion`` on Linux).

The session secret (which signs login sessions and CSRF tokens) is never in the database: it is the
key file ``session.key`` in the data directory, or the file ``DISCRETION_SECRET_FILE`` names, even
when the database is PostgreSQL (``api/keyfile.py``).
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_FILE = "discretion.db"
SECRET_FILE = "session.key"


class DatabaseTimeouts(BaseSettings):
    """How long the service waits for its database, each wait bounded (docs/limits.md, "Storage").

    ``DISCRETION_DB_CONNECT_TIMEOUT_S``: connecting to PostgreSQL (libpq ``connect_timeout``, whole
    seconds, at least 2); ``DISCRETION_DB_STATEMENT_TIMEOUT_S``: one statement (PostgreSQL
    ``statement_timeout``); ``DISCRETION_DB_LOCK_TIMEOUT_S``: waiting for a lock (PostgreSQL
    ``lock_timeout``, SQLite ``busy_timeout``, the chain's file lock beside a SQLite database);
    ``DISCRETION_DB_POOL_TIMEOUT_S``: waiting for a free connection of the pool. A request waits for
    storage at most their sum (:attr:`request_s`); beyond it it is answered 503 ``storage_unavailable``."""

    model_config = SettingsConfigDict(env_prefix="DISCRETION_DB_", extra="ignore")

    connect_timeout_s: float = Field(default=5.0, gt=0, le=600)
    statement_timeout_s: float = Field(default=10.0, gt=0, le=600)
    lock_timeout_s: float = Field(default=5.0, gt=0, le=600)
    pool_timeout_s: float = Field(default=5.0, gt=0, le=600)

    @property
    def request_s(self) -> float:
        """The longest a request waits for storage, all waits together."""
        return self.connect_timeout_s + self.statement_timeout_s + self.lock_timeout_s + self.pool_timeout_s
# The fields a document number pattern may name (api/documents/numbers.py fills them in).
DOC_NUMBER_FIELDS = ("agency_short", "year", "serial", "case_number", "doc")
DEFAULT_DOC_NUMBER = "{case_number}"


def default_home() -> Path:
    """The platform's user data directory for discretion (``~/.local/share/discretion`` on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("discretion", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCRETION_", extra="ignore")

    home: Path = Field(default_factory=default_home)  # DISCRETION_HOME: where the data lives
    rulebooks: Path | None = None  # DISCRETION_RULEBOOKS; None: the shipped rulebooks
    database_url: str = ""  # DISCRETION_DATABASE_URL (or DATABASE_URL); empty: sqlite:///<home>/discretion.db
    database_timeouts: DatabaseTimeouts = Field(default_factory=DatabaseTimeouts)  # DISCRETION_DB_*_TIMEOUT_S
    max_body_bytes: int = 64 * 1024
    matcher: str = "durable"
    # DISCRETION_STORAGE=off: POST /v1/assessments answers without keeping a record. For the
    # storage benchmark only (benchmarks/test_storage.py): a service without records breaks the
    # full-process record the seed plan requires.
    storage: bool = True
    # DISCRETION_ECHO=1: POST /_echo answers its JSON body back, the baseline of the load benchmarks
    # (benchmarks/serving.py turns it on); otherwise it does not exist.
    echo: bool = False
    auth: bool = False  # DISCRETION_AUTH=1: API tokens and web login required; needed off loopback
    secure_cookies: bool = False  # DISCRETION_SECURE_COOKIES=1 behind an HTTPS proxy
    # DISCRETION_ALLOWED_HOSTS="name1,name2": Host names besides the loopback ones (localhost,
    # *.localhost, 127.0.0.0/8, ::1) that a service without auth answers; each must resolve to this
    # machine only. Everything else is refused (400 host_not_allowed: DNS rebinding).
    allowed_hosts: str = ""
    # DISCRETION_SECRET_FILE: the session secret's key file (owner-only, 0600); None: session.key in
    # the data directory. Every worker (and every machine serving the same users) must read the same one.
    secret_file: Path | None = None

    @field_validator("secret_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        """``DISCRETION_SECRET_FILE=`` (empty) means unset, not the current folder."""
        return None if isinstance(value, str) and not value.strip() else value
    # The case file's documents (api/documents, README "文书"): the bureau that issues them, its
    # document numbers, and where a party may seek review or sue (行政复议法第二十条第三款: a decision
    # that does not name the review body lets the 60 days run from when the party learns of it).
    agency_name: str = Field(default="", max_length=60)  # DISCRETION_AGENCY_NAME, e.g. 昆明市生态环境局
    agency_short: str = Field(default="", max_length=20)  # DISCRETION_AGENCY_SHORT, e.g. 昆 ({agency_short} of the number)
    doc_number_pattern: str = Field(default=DEFAULT_DOC_NUMBER, max_length=100)  # DISCRETION_DOC_NUMBER_PATTERN
    review_body: str = Field(default="", max_length=60)  # DISCRETION_REVIEW_BODY: 行政复议机关, e.g. 昆明市人民政府
    court: str = Field(default="", max_length=60)  # DISCRETION_COURT: 管辖的人民法院, e.g. 昆明市官渡区人民法院

    @field_validator("agency_name", "agency_short", "review_body", "court", "doc_number_pattern")
    @classmethod
    def _printable(cls, v: str) -> str:
        """One line of printable text (it is printed on documents, which cannot hold control characters)."""
        if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in v):
            raise ValueError("须为一行文字，不能含控制字符")
        return v.strip()

    @field_validator("doc_number_pattern")
    @classmethod
    def _known_fields(cls, v: str) -> str:
        """The number pattern names only the fields the documents fill in (DOC_NUMBER_FIELDS)."""
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(v) if name is not None]
        except ValueError as exc:
            raise ValueError(f"文号格式无效（{exc}）；花括号请写作 {{{{ 和 }}}}") from None
        for name, spec, conv in fields:
            if name not in DOC_NUMBER_FIELDS or spec or conv:
                raise ValueError(f"文号格式中的 {{{name}}} 不可用；可用：" + "、".join(f"{{{k}}}" for k in DOC_NUMBER_FIELDS))
        return v

    @property
    def host_names(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip())

    @model_validator(mode="after")
    def _absolute_home(self) -> Settings:
        """The data directory as an absolute path, and the default database inside it."""
        self.home = self.home.expanduser().resolve()
        if self.secret_file is not None:
            self.secret_file = self.secret_file.expanduser().absolute()
        if not self.database_url:
            self.database_url = self.home_database_url
        return self

    @property
    def home_database_url(self) -> str:
        """The default database: the SQLite file in the data directory."""
        return f"sqlite:///{self.home / DATABASE_FILE}"

    @property
    def secret_path(self) -> Path:
        """The key file of the session secret: ``DISCRETION_SECRET_FILE``, else ``session.key`` in the data directory."""
        return self.secret_file or self.home / SECRET_FILE

    @property
    def uses_home(self) -> bool:
        """Whether the database is the default SQLite file in the data directory."""
        return self.database_url == self.home_database_url


def load_settings() -> Settings:
    """This process's settings from the environment; creates the data directory (owner-only) when the
    database is the default file in it."""
    s = Settings()
    if "DISCRETION_DATABASE_URL" not in os.environ and os.environ.get("DATABASE_URL"):
        s = s.model_copy(update={"database_url": os.environ["DATABASE_URL"]})
    if s.uses_home and not s.home.is_dir():
        s.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return s


def database_url(explicit: str | None = None) -> str:
    """The database a command opens: ``explicit`` (its ``--database-url``), else the settings'."""
    return explicit or load_settings().database_url


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL names (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def database_location(url: str) -> str:
    """Where ``url`` points, for people: a SQLite file's absolute path, otherwise the URL with its
    password masked (without importing SQLAlchemy: ``serve`` prints it before anything else loads)."""
    if url.startswith("sqlite:///"):
        path = sqlite_file(url)
        return url if path is None else str(path.absolute())
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}"))
