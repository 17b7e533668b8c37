"""Builds the FastAPI application: JSON API v1, offline docs, the web form, the reviewers' pages."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from discretion import __version__
from discretion.engine.assessment import Engine
from discretion.rulebooks import tree
from discretion.rulebooks.loaded import RulebookSet

from . import errors
from .auth import AccessMiddleware, AccessStore, Signer
from .deps import State
from .keyfile import session_secret
from .limits import BodyLimit
from .pages import daily as daily_page
from .pages import consistency as consistency_page
from .pages import form, login, replay, results, review
from .reload import starting_set
from .routes import admin, analytics, assessments, daily, documents, health, violations
from .security import SecurityHeaders
from .settings import Settings, load_settings
from .storage import Store
from .storage.records import Records, snapshot_files

STATIC = Path(__file__).resolve().parent / "static"
# Swagger UI from local files only, started by static/docs.js (no inline script: see api/security.py).
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>discretion API 文档</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" href="/static/swagger/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


# Rulebooks loaded and compiled by ``discretion serve`` before it forks its workers (see preload):
# (tree, matcher, the set, its engine, its source files as loaded).
_preloaded: tuple[Path | None, str, RulebookSet, Engine, dict[str, bytes]] | None = None


def preload(settings: Settings) -> RulebookSet:
    """Load and compile every rulebook in this process, for the workers it is about to fork: each
    worker's :func:`create_app` takes them over instead of reading the files again, and they share
    the pages (frozen out of the cyclic collector, so that collections do not copy them). The
    supervisor keeps them: a worker restarted while the files are broken may serve them again."""
    global _preloaded
    rs = tree.load(settings.rulebooks)
    files = snapshot_files(rs)  # refused if the files changed while loading
    _preloaded = (settings.rulebooks, settings.matcher, rs, Engine(rs, settings.matcher), files)
    gc.freeze()  # without a collection first: it would cost more (~0.15 s) than the little garbage it frees
    return rs


def _take_preloaded(settings: Settings) -> tuple[RulebookSet, Engine, dict[str, bytes]] | None:
    """The preloaded set (this process's copy, once), if it was loaded from the same tree with the same matcher."""
    global _preloaded
    got, _preloaded = _preloaded, None
    if got is None or got[:2] != (settings.rulebooks, settings.matcher):
        return None
    return got[2], got[3], got[4]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Load and compile every rulebook once (a broken one stops here, whole, unless a worker restarted
    after a reload serves the last good set: api/reload.starting_set), then build the app."""
    settings = settings or load_settings()
    # compiles every ruleset (or takes the preloaded ones); the engine registers each on first use
    rs, engine, files, start_attempt = starting_set(settings, _take_preloaded(settings))
    app = FastAPI(
        title="discretion 生态环境行政处罚裁量计算 API",
        version=__version__,
        description="云南省生态环境行政处罚裁量计算。JSON API v1：违法行为目录、案件计算、按日连续处罚。",
        docs_url=None,
        redoc_url=None,
    )
    # migrates the schema first (locked: safe with several workers); refuses a database it could not write
    store = Store(settings.database_url, timeouts=settings.database_timeouts)
    app.state.start_attempt = start_attempt
    app.state.discretion = State(settings=settings, rulebooks=rs, engine=engine, store=store,
                                 records=Records(store, rs, engine, settings.matcher, files))
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC / "swagger" / "favicon-32x32.png", media_type="image/png")

    for module in (health, violations, assessments, documents, daily, analytics, admin):  # the JSON API v1
        app.include_router(module.router)
    if settings.echo:
        app.include_router(health.echo_router)
    for page in (login, form, results, daily_page, review, replay, consistency_page):  # pages: the web form, login, the reviewers' pages
        app.include_router(page.router)
    _install_access(app, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(errors.StorageGuard)  # 503 for a storage failure raised anywhere inside (the access checks too)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, refusals included
    # The rulebooks and compiled rules live as long as the process: move them out of the cyclic
    # collector's reach, and collect the young generation less often. Each request allocates many
    # short-lived objects; without this, collections that walk every rulebook object cost more
    # than a third of the service's throughput (measured with wrk).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    return app


def _install_access(app: FastAPI, settings: Settings) -> None:
    """Authentication (when on) and CSRF checks on form posts, in front of every route."""
    store = AccessStore(app.state.discretion.store.engine, chain=app.state.discretion.store)
    signer = Signer(session_secret(settings.secret_path))  # the key file, never the database
    app.state.access = SimpleNamespace(store=store, signer=signer, auth=settings.auth, secure_cookies=settings.secure_cookies)
    app.add_middleware(AccessMiddleware, store=store, signer=signer, auth=settings.auth, secure_cookies=settings.secure_cookies,
                       allowed_hosts=settings.host_names)
