"""Adapter state: access log and last-served linkage positions.

Revision ID: 0001_adapter_state
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_adapter_state"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adapter_access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rpc", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(256), nullable=False),
        sa.Column("peer", sa.String(256), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(256), nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("record_ids", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(512), nullable=False),
    )
    op.create_index("ix_adapter_access_log_request_id", "adapter_access_log", ["request_id"])
    op.create_index("ix_adapter_access_log_at", "adapter_access_log", ["at"])
    op.create_table(
        "adapter_linkage_position",
        sa.Column("caller", sa.String(256), primary_key=True),
        sa.Column("watermark", sa.Text, nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records_served", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("adapter_linkage_position")
    op.drop_index("ix_adapter_access_log_at", table_name="adapter_access_log")
    op.drop_index("ix_adapter_access_log_request_id", table_name="adapter_access_log")
    op.drop_table("adapter_access_log")
