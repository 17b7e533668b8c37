"""同案同罚 at a province's decade (issue 17): the consistency page over one million synthetic decided
cases answers within 2 s (target), on SQLite and on PostgreSQL.

The million rows are written by ``discretion analytics synth --n 1000000 --seed 1`` (synthetic,
marked so; ~3,500 synthetic cases assessed by the engine, decided by 40 synthetic handlers). Writing
them takes minutes, so the SQLite file is kept between runs under ``$TMPDIR/discretion-bench-consistency``
(named by row count, seed and schema revision; delete it to write it again) and the PostgreSQL schema
``discretion_bench_consistency_<n>_<revision>`` is kept too (``VACUUM ANALYZE`` after writing, so
that index-only scans apply); ``BENCH_CONSISTENCY_DROP=1`` drops it at the end.
``BENCH_CONSISTENCY_N`` sets another row count.

One round is one ``GET /review/consistency?data=synthetic`` through the ASGI app in this process
(TestClient, no network): the three SQL aggregations, the figures, the three SVG charts (drawn in
every round: the charts the service keeps are forgotten first) and the HTML; the same for the JSON report, a filtered page and the like cases of one record. The CPU
seconds of the process per page are reported beside the wall time: this VM's two cores are
shared, and the wall time grows with what else runs (the load average is recorded too).
"""

from __future__ import annotations

import contextlib
import os
import resource
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from benchmarks.test_storage import POSTGRES, _postgres_schema

ENFORCE = os.environ.get("BENCH_ENFORCE", "") not in ("", "0")
N = int(os.environ.get("BENCH_CONSISTENCY_N", "1000000"))
SEED = 1
TARGET_S = 2.0
ROUNDS = int(os.environ.get("BENCH_CONSISTENCY_ROUNDS", "5"))
PAGE = "/review/consistency?data=synthetic"
Record = Callable[..., None]


def _synth(url: str) -> None:
    from api import cli

    rc = cli.main(["analytics", "synth", "--n", str(N), "--seed", str(SEED), "--database-url", url])
    assert rc == 0


def _rows(url: str) -> int:
    from sqlalchemy import func, select

    from api.storage import make_engine
    from api.storage.schema import decided_cases

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(decided_cases)
                                    .where(decided_cases.c.synthetic.is_(True))).scalar_one())
    finally:
        engine.dispose()


def _sqlite() -> str:
    from api.storage.migrations import known_head

    folder = Path(tempfile.gettempdir()) / "discretion-bench-consistency"
    folder.mkdir(exist_ok=True)
    path = folder / f"decided-{N}-seed{SEED}-rev{known_head()}.db"
    url = f"sqlite:///{path}"
    if not path.exists() or _rows(url) != N:
        for p in folder.glob(path.name + "*"):
            p.unlink()
        _synth(url)
    return url


@contextlib.contextmanager
def _postgres() -> Iterator[str | None]:
    """The kept schema holding the N rows (written, then vacuumed and analysed, when it does not), or None."""
    from sqlalchemy import create_engine, text

    from api.storage.migrations import known_head

    schema = f"discretion_bench_consistency_{N}_{known_head()}"
    with _postgres_schema(schema, drop=bool(os.environ.get("BENCH_CONSISTENCY_DROP"))) as url:
        if url is not None and _rows(url) != N:
            admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                _synth(url)
                with admin.connect() as conn:  # index-only scans need the visibility map
                    conn.execute(text(f'VACUUM ANALYZE "{schema}".decided_cases'))
            finally:
                admin.dispose()
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The service (no auth: the local operator is an admin) on a database holding N synthetic decided cases."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url: str | None = _sqlite()
        else:
            url = stack.enter_context(_postgres())
            if url is None:
                pytest.skip(f"PostgreSQL unreachable at {POSTGRES}")
        os.environ.setdefault("DISCRETION_ALLOWED_HOSTS", "testserver")
        c = stack.enter_context(TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=True))
        assert c.get("/v1/analytics/consistency", params={"data": "synthetic"}).json()["bureau"]["cases"] == N
        c.backend = request.param  # type: ignore[attr-defined]
        yield c


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def _measure(benchmark: Any, client: Any, path: str, record: Record, name: str, check: Callable[[Any], None]) -> None:
    from discretion.review import analytics_chart
    cpu: list[float] = []

    def one() -> Any:
        analytics_chart.clear()  # every round draws its charts (the service keeps the last ones drawn)
        before = _cpu()
        r = client.get(path)
        cpu.append(_cpu() - before)
        return r

    r = benchmark.pedantic(one, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert r.status_code == 200, r.text[:500]
    check(r)
    st = benchmark.stats.stats
    load = os.getloadavg()[0]
    figures = {"rows": N, "median_s": round(st.median, 3), "max_s": round(st.max, 3),
               "cpu_s": round(sorted(cpu)[len(cpu) // 2], 3), "target_s": TARGET_S, "load_avg": round(load, 1)}
    benchmark.extra_info.update(figures)
    record(f"{name}[{client.backend}]", **figures)
    if ENFORCE and name == "page":
        assert st.median <= TARGET_S, figures


@pytest.mark.benchmark(group="consistency-page")
def test_the_consistency_page_over_a_million_decided_cases(benchmark: Any, client: Any, record: Record) -> None:
    """The whole page (aggregation, figures, three charts, HTML) over N synthetic decided cases."""
    _measure(benchmark, client, PAGE, record, "page",
             lambda r: r.text.count("<svg") == 3 or pytest.fail("three charts expected"))


@pytest.mark.benchmark(group="consistency-api")
def test_the_consistency_report_over_a_million_decided_cases(benchmark: Any, client: Any, record: Record) -> None:
    """GET /v1/analytics/consistency?data=synthetic (the figures without the charts)."""
    _measure(benchmark, client, "/v1/analytics/consistency?data=synthetic", record, "api",
             lambda r: r.json()["bureau"]["cases"] == N or pytest.fail("every case counted"))


@pytest.mark.benchmark(group="consistency-filtered")
def test_a_filtered_page_with_a_handler_beside_the_bureau(benchmark: Any, client: Any, record: Record) -> None:
    """One violation group, one year, one synthetic handler beside the bureau."""
    path = PAGE + "&group=水污染防治法&from=2025-01-01&to=2025-12-31&handler=合成承办人05"
    _measure(benchmark, client, path, record, "filtered", lambda r: None)


@pytest.mark.benchmark(group="consistency-like")
def test_the_like_cases_of_one_record_among_a_million(benchmark: Any, client: Any, record: Record) -> None:
    """GET /v1/analytics/consistency/like/SYN-1-<k>: the ten nearest decided cases of one record."""
    ref = f"SYN-{SEED}-{N // 2 + 1}"
    _measure(benchmark, client, f"/v1/analytics/consistency/like/{ref}", record, "like",
             lambda r: len(r.json()["like"]) == 10 or pytest.fail("ten like cases"))
