"""An assessment computed offline by a terminal and uploaded: its ``offline`` object (when it was made,
the bundle's rulebook set, the result's sha256) as JSON. Nullable: records made otherwise keep none,
and their chain hashes stay what they were (api/storage/chain.py hashes it only when it is set).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("offline", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("offline")
