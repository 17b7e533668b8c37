"""Login throttling: failed logins counted in the database, per name tried and per client address.

The counters are rows of ``login_failures`` (migration 0004), so every worker process, and every
machine on one PostgreSQL database, sees the same counts. Thresholds:

- **per name**: :data:`ACCOUNT_LIMIT` (5) failed logins of one name within :data:`WINDOW_SECONDS`
  (15 minutes) lock it: no password is checked for that name until fewer than 5 of its failures lie
  within the last 15 minutes (at most 15 minutes after the one that locked it) or an admin runs
  ``discretion users unlock NAME``; while it holds, not even the right password opens the name. A
  name that no user has is counted and locked the same way, so the answer never says whether an
  account exists.
- **per client address**: :data:`ADDRESS_LIMIT` (20) failed logins from one address within the
  same 15 minutes stop every login from it the same way (``discretion users unlock --address``
  lifts it). An IPv6 address counts by its /64 network (what one subscriber gets); behind a
  reverse proxy on this machine the address is the one the proxy sends in ``X-Forwarded-For``
  (uvicorn believes it from 127.0.0.1 and ::1 only, ``FORWARDED_ALLOW_IPS``).

A refused login answers 429 with ``Retry-After`` (``login_locked``, field ``name``; or
``login_rate_limited``) and is not counted itself, so the lock lifts when the window says.

An attempt is written down *before* its password is checked and removed again if it succeeds, so
logins racing in several workers cannot together check more passwords than the limits allow.
A successful login forgets the failures of its name (not those of its address: one's own account
must not wash out an address's guesses at others).
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import time
from collections.abc import Callable

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import Engine

from discretion.errors import TooManyAttemptsError

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_SECONDS = 15 * 60
NAME, ADDRESS = "name", "address"  # the two kinds of counted subject


def address_key(host: str | None) -> str:
    """The subject a client address is counted as: an IPv4 address itself (an IPv4-mapped IPv6 one
    too), an IPv6 address by its /64 network, anything else (a test client's name) as given."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def minutes(seconds: int) -> int:
    """Seconds as whole minutes, rounded up (at least 1), for messages."""
    return max(1, math.ceil(seconds / 60))


def _wait(times: list[int], limit: int, now: int) -> int:
    """Seconds until fewer than ``limit`` of ``times`` (ms, ascending) lie within the window."""
    return max(1, math.ceil((times[len(times) - limit] + WINDOW_SECONDS * 1000 - now) / 1000))


class LoginThrottle:
    """The failed-login counters of one database. ``clock`` (seconds since the epoch) is for tests."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        from .storage import schema

        self.engine = engine
        self.table = schema.login_failures
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def admit(self, name: str, address: str) -> str:
        """Write down an attempt to log in as ``name`` from ``address`` (an :func:`address_key`) and
        return its id, or raise :class:`TooManyAttemptsError` (writing nothing down) when the name
        or the address has had too many failures within the window."""
        t = self.table
        now = self._now()
        since = now - WINDOW_SECONDS * 1000
        attempt = secrets.token_hex(8)
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.at_ms <= since))  # failures older than the window count no more
            conn.execute(insert(t), [{"attempt": attempt, "kind": NAME, "subject": name, "at_ms": now},
                                     {"attempt": attempt, "kind": ADDRESS, "subject": address, "at_ms": now}])
        with self.engine.connect() as conn:  # after the commit: sees every attempt committed before this one
            rows = conn.execute(select(t.c.kind, t.c.at_ms).where(
                t.c.at_ms > since, t.c.attempt != attempt,
                or_(and_(t.c.kind == NAME, t.c.subject == name), and_(t.c.kind == ADDRESS, t.c.subject == address)),
            ).order_by(t.c.at_ms)).all()
        by_name = [at for kind, at in rows if kind == NAME]
        by_address = [at for kind, at in rows if kind == ADDRESS]
        locked = len(by_name) >= ACCOUNT_LIMIT
        limited = len(by_address) >= ADDRESS_LIMIT
        if not (locked or limited):
            return attempt
        self._forget(attempt)
        wait = max(_wait(by_name, ACCOUNT_LIMIT, now) if locked else 0, _wait(by_address, ADDRESS_LIMIT, now) if limited else 0)
        if limited:
            raise TooManyAttemptsError(code="login_rate_limited", retry_after=wait, message=(
                f"此网络地址的登录失败次数过多，已暂停登录：请 {minutes(wait)} 分钟后再试。"))
        raise TooManyAttemptsError(code="login_locked", field="name", retry_after=wait, message=(
            f"该用户名的登录失败次数过多，已暂停登录：请 {minutes(wait)} 分钟后再试，"
            "或请管理员解除锁定。"))

    def _forget(self, attempt: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.attempt == attempt))

    def succeeded(self, attempt: str, name: str) -> None:
        """The attempt was a correct login: it is no failure, and the name's failures are forgotten."""
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(or_(t.c.attempt == attempt, and_(t.c.kind == NAME, t.c.subject == name))))

    def unlock(self, name: str) -> int:
        """Forget the failed logins of ``name`` (an admin lifting its lock); returns how many."""
        return self._clear(NAME, name)

    def unlock_address(self, address: str) -> int:
        """Forget the failed logins from ``address`` (any form :func:`address_key` takes); returns how many."""
        return self._clear(ADDRESS, address_key(address))

    def _clear(self, kind: str, subject: str) -> int:
        t = self.table
        with self.engine.begin() as conn:
            return int(conn.execute(delete(t).where(t.c.kind == kind, t.c.subject == subject)).rowcount)

    def locked(self) -> dict[str, int]:
        """The names locked now, each with the seconds until its lock lifts by itself."""
        t = self.table
        now = self._now()
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.subject, t.c.at_ms).where(
                t.c.kind == NAME, t.c.at_ms > now - WINDOW_SECONDS * 1000).order_by(t.c.at_ms)).all()
        times: dict[str, list[int]] = {}
        for subject, at in rows:
            times.setdefault(subject, []).append(at)
        return {name: _wait(ts, ACCOUNT_LIMIT, now) for name, ts in times.items() if len(ts) >= ACCOUNT_LIMIT}
