"""The record a recomputation supersedes (修改后重新计算): the id of the earlier assessment a new one
replaces. Nullable: records made before (and every first version) have none, and their chain hashes
stay what they were (api/storage/chain.py hashes the column only when it is set). Unique: a record
is replaced at most once (the writer checks it first under the chain lock and names the newer one).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("supersedes", sa.String(32), nullable=True))
        batch.create_index("ux_assessments_supersedes", ["supersedes"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_index("ux_assessments_supersedes")
        batch.drop_column("supersedes")
