"""The session secret out of the database, and failed logins counted in it (api/throttle.py).

- ``login_failures``: one row per failed login and kind of subject (the name tried, the client
  address), so every worker sees the same counts.
- The ``session_secret`` row of ``service_keys`` is deleted: the secret now lives in an owner-only
  key file (api/keyfile.py). A new secret is made there at the next start, so every web session
  issued before the upgrade ends once (users log in again); the old secret, which may sit in
  database backups, signs nothing any more. A downgrade does not bring it back (the older code
  makes a new one in the table).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("attempt", sa.String(16), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_login_failures_subject", "login_failures", ["kind", "subject", "at_ms"])
    op.create_index("ix_login_failures_at_ms", "login_failures", ["at_ms"])
    op.execute(sa.text("DELETE FROM service_keys WHERE name = 'session_secret'"))


def downgrade() -> None:
    op.drop_index("ix_login_failures_at_ms", table_name="login_failures")
    op.drop_index("ix_login_failures_subject", table_name="login_failures")
    op.drop_table("login_failures")
