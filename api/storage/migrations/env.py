"""Alembic environment, configured programmatically: the caller passes an open connection."""

from __future__ import annotations

from alembic import context

from api.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline SQL generation is not used
    raise RuntimeError("api.storage.migrations runs with a connection: api.storage.migrations.upgrade(engine)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
