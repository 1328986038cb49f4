"""Witness state: the newest hub checkpoint this adapter has verified, per origin.

Revision ID: 0002_witness_checkpoint
Revises: 0001_adapter_state
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_witness_checkpoint"
down_revision = "0001_adapter_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adapter_checkpoint",
        sa.Column("origin", sa.String(256), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("adapter_checkpoint")
