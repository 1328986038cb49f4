"""Identity index: records, tokens, persons, households, events, settings, sources.

Revision ID: identity_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "identity_sources",
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("watermark", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identity_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("local_record_id", sa.String(256), nullable=False),
        sa.Column("bloom_name", sa.LargeBinary, nullable=True),
        sa.Column("bloom_birth_date", sa.LargeBinary, nullable=True),
        sa.Column("bloom_id_number", sa.LargeBinary, nullable=True),
        sa.Column("bloom_other_id", sa.LargeBinary, nullable=True),
        sa.Column("bloom_residence_address", sa.LargeBinary, nullable=True),
        sa.Column("bloom_registered_address", sa.LargeBinary, nullable=True),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_year", sa.Integer, nullable=False),
        sa.Column("residence_mismatch", sa.Boolean, nullable=False),
        sa.Column("jurisdiction", sa.String(256), nullable=False),
        sa.Column("groups", sa.String(128), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("person_id", sa.String(32), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("department", "dataset", "local_record_id", name="uq_identity_records_key"),
    )
    op.create_index("ix_identity_records_person_id", "identity_records", ["person_id"])
    op.create_table(
        "identity_tokens",
        sa.Column(
            "record_id", sa.Integer, sa.ForeignKey("identity_records.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("token", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_identity_tokens_kind_token", "identity_tokens", ["kind", "token"])
    op.create_table(
        "identity_persons",
        sa.Column("person_id", sa.String(32), primary_key=True),
        sa.Column("household_id", sa.String(32), nullable=True),
        sa.Column("migrant", sa.Boolean, nullable=False),
        sa.Column("jurisdiction", sa.String(256), nullable=False),
        sa.Column("groups", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_identity_persons_household_id", "identity_persons", ["household_id"])
    op.create_table(
        "identity_households",
        sa.Column("household_id", sa.String(32), primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identity_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("before_ids", sa.Text, nullable=False),
        sa.Column("after_ids", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "identity_events",
        "identity_households",
        "identity_persons",
        "identity_tokens",
        "identity_records",
        "identity_sources",
        "identity_settings",
    ):
        op.drop_table(table)
