"""The case's identity on an assessment record: the case (案号, party, address, place of the
violation) as JSON, and its number and party name for the list's search. Nullable: records made
before keep no case, and their chain hashes stay what they were (api/storage/chain.py hashes these
columns only when they are set).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("case_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("case_number", sa.String(64), nullable=True))
        batch.add_column(sa.Column("case_party", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("case_party")
        batch.drop_column("case_number")
        batch.drop_column("case_json")
