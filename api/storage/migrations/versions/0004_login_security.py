"""The session secret out of the database.

The ``session_secret`` row of ``service_keys`` is deleted: the secret now lives in an owner-only
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
    op.execute(sa.text("DELETE FROM service_keys WHERE name = 'session_secret'"))


def downgrade() -> None:
    pass  # the secret stays in the key file; the older code makes a new one in the table
