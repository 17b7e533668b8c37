"""Records with SQLAlchemy 2 (SQLite by default, PostgreSQL via DATABASE_URL), chained by hash.

Every record (an assessment, an officer's decision) is appended to one sequence: it gets the next
``seq``, the ``prev_id`` and ``prev_hash`` of the record before it, and
``hash = sha256(prev_hash || canonical bytes of its content)``. Altering, inserting or deleting a
row breaks the chain where it happened (:meth:`Store.verify`, ``discretion audit verify``).
There is no update or delete path for records.

The modules, lowest first (each imports only those above it):

- ``failures``: when the database counts as unavailable (503 ``storage_unavailable``), and bounded waits on it;
- ``database``: engines with the pragmas and timeouts the chain needs (SQLite, PostgreSQL), the file
  locks, and the check that the service can write;
- ``schema``: the tables (made by the Alembic migrations in ``migrations/``, run on start-up and
  by ``discretion db upgrade``);
- ``snapshots``: content-addressed copies of rulebook source files;
- ``rows``: record ids, the row of an assessment or decision to append, a stored row as the API shows it;
- ``chain``: the canonical content of a record, its hash, and :func:`chain.verify` over the whole chain;
- ``decided``: the consistency analytics' row of a decided case (derived from the chained
  assessment and decision; rebuilt and checked against them), and synthetic rows;
- ``writer``: the group-commit writer thread that appends to the chain (and writes a decision's
  analytics row in the same transaction);
- ``store``: :class:`Store`, the writer plus reading, snapshots and verification;
- ``records``: the service's record keeping on a store (the rulebook set's hash, reproduction,
  the officer's decision check);
- ``analytics``: the consistency analytics' SQL aggregation over ``decided_cases`` (counts only).

``migrations`` imports ``database`` (its locks) and, in ``env.py``, ``schema``; nothing it
imports imports it back.
"""

from __future__ import annotations

from .database import make_engine
from .rows import new_id
from .store import Store

__all__ = ["Store", "make_engine", "new_id"]
