"""Databases for the storage and records tests: every such test runs on SQLite and on PostgreSQL.

PostgreSQL is ``DISCRETION_TEST_POSTGRES`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
the CI database). Each database handed out is fresh: a new SQLite file, or a new schema (put first
on the connection's search_path) that is dropped at the end of the session. When PostgreSQL is
unreachable its tests fail if ``CI`` is set and are skipped otherwise.

The fixtures ``databases`` (this class, per session) and ``db_url`` (a fresh database of each
backend) are in conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

POSTGRES = os.environ.get("DISCRETION_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


class Databases:
    """Hands out fresh, empty database URLs; drops the PostgreSQL schemas at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schemas: list[str] = []
        self._admin: Engine | None = None
        self._pg_error: str | None = None
        self._pg_checked = False

    def _postgres(self) -> Engine:
        if not self._pg_checked:
            self._pg_checked = True
            engine = create_engine(POSTGRES, pool_pre_ping=True)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                self._admin = engine
            except Exception as exc:  # any failure means: not reachable
                engine.dispose()
                self._pg_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if self._admin is None:
            msg = f"PostgreSQL unreachable at {POSTGRES} ({self._pg_error})"
            if os.environ.get("CI"):
                pytest.fail(msg)
            pytest.skip(msg)
        return self._admin

    def new(self, backend: str) -> str:
        if backend == "sqlite":
            folder = self.tmp / secrets.token_hex(4)
            return f"sqlite:///{folder}/records.db"
        admin = self._postgres()
        schema = f"discretion_test_{os.getpid()}_{secrets.token_hex(4)}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        return f"{POSTGRES}?options=-csearch_path%3D{schema}"

    def close(self) -> None:
        if self._admin is not None:
            with self._admin.begin() as conn:
                for schema in self.schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            self._admin.dispose()



class TcpProxy:
    """A TCP proxy on loopback to a local database server that a test can make hang or refuse.

    ``forward``: every connection is relayed (new ones and the ones open); ``stall``: new connections
    are accepted and then never answered, and the open ones stop relaying (a server or network that
    hangs; the bytes are held and relayed once forwarding again); ``refuse``: nothing listens on the
    port any more and the open connections are reset (a server that is down). Loopback only."""

    def __init__(self, target: tuple[str, int]) -> None:
        import threading

        assert target[0] in ("127.0.0.1", "::1", "localhost"), "loopback only"
        self.target = target
        self.mode = "forward"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._listen()

    def _listen(self) -> None:
        import threading

        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
                if self.mode != "forward":
                    continue  # accepted, never answered
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    client.close()
                    continue
                self._sockets.append(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        import time

        try:
            while data := src.recv(65536):
                while self.mode == "stall":
                    time.sleep(0.02)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def stall(self) -> None:
        self.mode = "stall"

    def refuse(self) -> None:
        """Stop listening and reset every open connection."""
        import struct

        with self._lock:
            self.mode = "refuse"
            self._listener.close()
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    s.close()
            self._sockets.clear()

    def forward(self) -> None:
        """Relay again (listening anew on the same port after :meth:`refuse`)."""
        with self._lock:
            if self.mode == "refuse":
                self._listener = socket.create_server(("127.0.0.1", self.port))
                self._listen()
            self.mode = "forward"

    def close(self) -> None:
        self.refuse()


def postgres_via(proxy_port: int, url: str) -> str:
    """``url`` (a PostgreSQL URL to 127.0.0.1:5432 or another local port) through a local proxy's port."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(host="127.0.0.1", port=proxy_port).render_as_string(hide_password=False)
