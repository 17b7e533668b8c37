"""Login throttling in the database (api/throttle.py), on SQLite and PostgreSQL: the counts every
worker shares, the lock's window, the admin's unlock, and racing attempts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.auth import AccessStore
from api.storage import make_engine
from api.storage.migrations import upgrade
from api.throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_SECONDS, address_key
from discretion.errors import NotFoundError, TooManyAttemptsError

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0  # a fixed "now" (seconds since the epoch) for the stores' clocks


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def add_user(db_url: str, name: str, password: str) -> None:
    """A handler account, added as the CLI adds one (through the records' chain writer)."""
    from api.storage import Store

    store = Store(db_url)
    try:
        AccessStore(store.engine, chain=store).add_user(name, "handler", password)
    finally:
        store.close()


@pytest.fixture
def workers(db_url: str) -> Iterator[tuple[AccessStore, AccessStore, Clock]]:
    """Two access stores on one database, each with its own engine and connections (as two worker
    processes have), sharing a clock the test moves."""
    engines = [make_engine(db_url), make_engine(db_url)]
    upgrade(engines[0])
    clock = Clock()
    stores = [AccessStore(e) for e in engines]
    for s in stores:
        s.throttle.clock = clock
    add_user(db_url, "li", "right-password")
    try:
        yield stores[0], stores[1], clock
    finally:
        for e in engines:
            e.dispose()


def test_failures_in_one_worker_lock_the_name_in_another(workers: tuple[AccessStore, AccessStore, Clock]) -> None:
    """Failures counted by two workers add up: after five in all, the other worker refuses even the right password."""
    one, two, _ = workers
    for i in range(ACCOUNT_LIMIT):
        assert (one if i % 2 else two).login("li", "wrong-password", "10.0.0.1") is None
    for store in (one, two):
        with pytest.raises(TooManyAttemptsError) as refused:
            store.login("li", "right-password", "10.0.0.2")
        assert refused.value.code == "login_locked" and refused.value.field == "name"
        assert 0 < refused.value.retry_after <= WINDOW_SECONDS


def test_failures_in_separate_processes_add_up(db_url: str) -> None:
    """Five processes (as the service's workers are) each fail once; a sixth process is refused the right password."""
    add_user(db_url, "li", "right-password")
    code = ("import sys\n"
            "from api.auth import AccessStore\n"
            "from api.storage import make_engine\n"
            "from discretion.errors import TooManyAttemptsError\n"
            "engine = make_engine(sys.argv[1])\n"
            "try:\n"
            "    print('in' if AccessStore(engine).login('li', sys.argv[2], '10.0.0.1') else 'refused')\n"
            "except TooManyAttemptsError as exc:\n"
            "    print(exc.code)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(password: str) -> str:
        done = subprocess.run([sys.executable, "-c", code, db_url, password], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    procs = [subprocess.Popen([sys.executable, "-c", code, db_url, "wrong-password"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(ACCOUNT_LIMIT)]
    assert [p.communicate(timeout=120)[0].strip() for p in procs] == ["refused"] * ACCOUNT_LIMIT
    assert run("right-password") == "login_locked"


def test_the_lock_lifts_when_the_window_has_passed(workers: tuple[AccessStore, AccessStore, Clock]) -> None:
    """Five failures lock the name for at most the window; Retry-After says how long, and refusals do not extend it."""
    one, _, clock = workers
    for _ in range(ACCOUNT_LIMIT):
        one.login("li", "wrong-password", "10.0.0.1")
        clock.now += 60
    clock.now -= 60  # the fifth failure was "now"
    with pytest.raises(TooManyAttemptsError) as refused:
        one.login("li", "right-password", "10.0.0.1")
    assert refused.value.retry_after == WINDOW_SECONDS - (ACCOUNT_LIMIT - 1) * 60  # when the first failure leaves
    clock.now += 30
    with pytest.raises(TooManyAttemptsError):  # a refused attempt is not counted: the lock does not move
        one.login("li", "right-password", "10.0.0.1")
    clock.now += refused.value.retry_after - 30
    who = one.login("li", "right-password", "10.0.0.1")
    assert who is not None and who.name == "li"


def test_an_admin_unlock_lifts_the_lock_in_every_worker(workers: tuple[AccessStore, AccessStore, Clock]) -> None:
    """`unlock` forgets the name's failures: the other worker lets the right password in at once."""
    one, two, _ = workers
    for _ in range(ACCOUNT_LIMIT):
        one.login("li", "wrong-password", "10.0.0.1")
    assert one.throttle.locked().keys() == {"li"}
    assert one.unlock("li") == ACCOUNT_LIMIT
    assert one.throttle.locked() == {}
    assert two.login("li", "right-password", "10.0.0.1") is not None
    with pytest.raises(NotFoundError):
        one.unlock("nobody")


def test_too_many_failures_from_one_address_stop_every_name_from_it(workers: tuple[AccessStore, AccessStore, Clock]) -> None:
    """Twenty failures from one address (each name tried once) stop even a right password from there, not from elsewhere."""
    one, two, _ = workers
    for i in range(ADDRESS_LIMIT):
        assert (one, two)[i % 2].login(f"guess-{i}", "wrong-password", "192.0.2.7") is None
    with pytest.raises(TooManyAttemptsError) as refused:
        two.login("li", "right-password", "192.0.2.7")
    assert refused.value.code == "login_rate_limited" and refused.value.field is None
    assert one.login("li", "right-password", "192.0.2.8") is not None
    assert one.throttle.unlock_address("192.0.2.7") == ADDRESS_LIMIT
    assert two.login("li", "right-password", "192.0.2.7") is not None


def test_a_successful_login_forgets_the_names_failures_but_not_the_addresss(
        workers: tuple[AccessStore, AccessStore, Clock]) -> None:
    """Logging in clears the name's count (four more failures do not lock it); the address still counts them."""
    one, _, _ = workers
    for _ in range(ACCOUNT_LIMIT - 1):
        one.login("li", "wrong-password", "198.51.100.1")
    assert one.login("li", "right-password", "198.51.100.1") is not None
    for _ in range(ACCOUNT_LIMIT - 1):
        assert one.login("li", "wrong-password", "198.51.100.1") is None
    assert one.login("li", "right-password", "198.51.100.1") is not None
    for i in range(ADDRESS_LIMIT - 2 * (ACCOUNT_LIMIT - 1)):
        one.login(f"other-{i}", "wrong-password", "198.51.100.1")
    with pytest.raises(TooManyAttemptsError) as refused:
        one.login("li", "right-password", "198.51.100.1")
    assert refused.value.code == "login_rate_limited"


def test_racing_attempts_check_no_more_passwords_than_the_limit(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve wrong passwords sent at once through six workers: at most five are checked, the rest refused."""
    engines = [make_engine(db_url) for _ in range(6)]
    upgrade(engines[0])
    stores = [AccessStore(e) for e in engines]
    add_user(db_url, "li", "right-password")
    checked: list[str] = []
    import api.auth

    real = api.auth.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(api.auth, "verify_password", counting)
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt(store: AccessStore) -> None:
        start.wait()
        try:
            outcomes.append("refused" if store.login("li", "wrong-password", "203.0.113.9") is None else "in")
        except TooManyAttemptsError:
            outcomes.append("throttled")

    threads = [threading.Thread(target=attempt, args=(stores[i % 6],)) for i in range(12)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for e in engines:
            e.dispose()
    assert len(outcomes) == 12
    assert len(checked) == outcomes.count("refused") <= ACCOUNT_LIMIT
    assert outcomes.count("throttled") >= 12 - ACCOUNT_LIMIT


@pytest.mark.parametrize("host,key", [
    ("203.0.113.9", "203.0.113.9"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("testclient", "testclient"),
    (None, "unknown"),
])
def test_addresses_are_counted_by_subscriber(host: str | None, key: str) -> None:
    """An IPv4 address counts as itself; an IPv6 address by its /64, so one subscriber cannot rotate through its block."""
    assert address_key(host) == key


@pytest.mark.parametrize("name", ["li\x00", "l i", "x" * 65, "li\n"])
def test_a_name_no_user_can_have_is_refused_without_touching_the_database(
        workers: tuple[AccessStore, AccessStore, Clock], name: str) -> None:
    """A name with a NUL byte, white space or over 64 characters is refused like a wrong password, not a server error."""
    one, _, _ = workers
    for _ in range(ACCOUNT_LIMIT + 1):
        assert one.login(name, "right-password", "10.0.0.1") is None
    assert one.login("li", "right-password", "10.0.0.1") is not None
