"""The consistency analytics' table of decided cases (``decided_cases``) with the indexes its SQL
aggregation reads, filled from the decisions already on the chain (api/storage/decided.py: the
same derivation as ``discretion analytics rebuild``). Derived data, not chained: the chain and its
hashes are untouched.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEYED = "reason_key IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "decided_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(40), nullable=False, unique=True),
        sa.Column("synthetic", sa.Boolean, nullable=False),
        sa.Column("decided_on", sa.Date, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("violation", sa.String(80), nullable=False),
        sa.Column("regime", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(80), nullable=False),
        sa.Column("edition", sa.String(80), nullable=False),
        sa.Column("handler", sa.String(64), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("legal_min", sa.BigInteger, nullable=True),
        sa.Column("legal_max", sa.BigInteger, nullable=True),
        sa.Column("band_min", sa.BigInteger, nullable=True),
        sa.Column("band_max", sa.BigInteger, nullable=True),
        sa.Column("recommended", sa.BigInteger, nullable=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=True),
        sa.Column("bin", sa.SmallInteger, nullable=True),
        sa.Column("side", sa.SmallInteger, nullable=False),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("reason_key", sa.BigInteger, nullable=True),
        sa.Column("features", sa.Text, nullable=False),
    )
    op.create_index("ix_decided_cases_cube", "decided_cases", ["synthetic", "violation", "handler", "bin", "side", "waived",
                                                              "decided_on", "jurisdiction", "edition", "month"])
    op.create_index("ix_decided_cases_month", "decided_cases", ["synthetic", "month", "side", "violation", "handler",
                                                               "decided_on", "jurisdiction", "edition"])
    op.create_index("ix_decided_cases_reasons", "decided_cases", ["synthetic", "violation", "reason_key", "decided_on", "handler",
                                                                 "jurisdiction", "edition"],
                    sqlite_where=sa.text(KEYED), postgresql_where=sa.text(KEYED))
    op.create_index("ix_decided_cases_like", "decided_cases", ["synthetic", "violation", "regime", "party", "features",
                                                              "decided_on"])
    from api.storage.decided import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("decided_cases")
