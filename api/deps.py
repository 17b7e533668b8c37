"""Shared service state: the rulebooks, the engine and the store, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from discretion.engine.assessment import Engine
from discretion.errors import ForbiddenError, InputError
from discretion.rulebooks.loaded import RulebookSet

from .limits import duplicate_key
from .settings import Settings
from .storage import Store

if TYPE_CHECKING:
    from .storage.records import Records


@dataclass
class State:
    settings: Settings
    rulebooks: RulebookSet
    engine: Engine
    store: Store
    records: "Records | None" = None  # set by create_app: the rulebook set's hash, reproduction
    # api/reload.py: a reload replaces the whole State (never mutates it); these say which set it is
    rulebook_set: str = ""  # content hash of the loaded source files ("" until known)
    generation: int = 0  # the reload generation this set was loaded at (0: at start-up)


def current(request: Request) -> State:
    """The state serving this request (a reload replaces it whole)."""
    return request.app.state.discretion  # type: ignore[no-any-return]


async def state(request: Request) -> State:  # async: a sync dependency would hop to a thread pool per request
    return current(request)


ROLES = ("handler", "reviewer", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (web login) or an API token's owner. Never a party's personal data."""

    name: str
    role: str  # one of ROLES
    via: str = "local"  # "token", "session" or "local" (loopback without auth)


LOCAL = Principal(name="local", role="admin", via="local")
# With auth on, who calls an open path (/healthz, /login, /docs) without credentials: no role at all,
# so every ``require`` refuses it (only a service without auth makes its callers the local operator).
ANONYMOUS = Principal(name="", role="anonymous", via="none")


def caller(request: Request) -> Principal:
    """The authenticated caller, set on ``request.state.principal`` by the access layer
    (``api.auth``); on a loopback server running without auth, the local operator."""
    return getattr(request.state, "principal", None) or LOCAL


async def principal(request: Request) -> Principal:
    """:func:`caller` as a dependency."""
    return caller(request)


SUPERVISORS = ("reviewer", "admin")


def check_owner(who: Principal, made_by: str) -> None:
    """A handler may read, reproduce and decide only the assessments they made (``made_by``, the
    record's ``created_by``); reviewers and admins may all. 403 ``forbidden`` otherwise."""
    if who.role not in SUPERVISORS and made_by != who.name:
        raise ForbiddenError(message="承办人只能查看和处理本人的计算记录", field="id")


def require(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets only the given roles through (403 ``forbidden`` otherwise)."""

    async def check(request: Request) -> Principal:
        who = await principal(request)
        if who.role not in roles:
            raise ForbiddenError(message=f"当前角色（{who.role}）无权执行此操作，需要：{'、'.join(roles)}")
        return who

    return check


def refuse_duplicate_keys(raw: bytes) -> None:
    """422 ``duplicate_key`` when a JSON object of the body names a key twice."""
    if (key := duplicate_key(raw)) is not None:
        raise InputError(message=f"JSON 对象中的键重复：{key}", code="duplicate_key", field=key)


async def unique_keys(request: Request) -> None:
    """:func:`refuse_duplicate_keys` as a dependency, for the routes whose body FastAPI parses."""
    refuse_duplicate_keys(await request.body())
