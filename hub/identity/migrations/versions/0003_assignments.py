"""Person assignments in their own narrow table, ``identity_assignments``.

Until now the person id and confidence were columns of ``identity_records``, whose
rows also carry twelve Bloom filters (about 1 KB a record). Every resolution rewrote
every record's row to store its assignment: about a gigabyte at a million records,
most of a stored ``resolve()``'s extra time over the resolver's own (docs/benchmarks.md,
"identity scale, stored path"). The assignment table holds 3 narrow columns, and a
resolution writes only the assignments that changed.

Existing assignments are copied over (deleted records have none), then the two
columns and their index are dropped.

Revision ID: identity_0003
Revises: identity_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_assignments",
        sa.Column(
            "record_id", sa.Integer, sa.ForeignKey("identity_records.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
    )
    op.execute(
        "INSERT INTO identity_assignments (record_id, person_id, confidence) "
        "SELECT id, person_id, confidence FROM identity_records WHERE person_id IS NOT NULL AND deleted = false"
    )
    op.create_index("ix_identity_assignments_person_id", "identity_assignments", ["person_id"])
    op.drop_index("ix_identity_records_person_id", table_name="identity_records")
    # Native ALTER TABLE ... DROP COLUMN (PostgreSQL; SQLite >= 3.35): batch mode would copy
    # the table through a temporary one, which the native form does not need.
    op.execute("ALTER TABLE identity_records DROP COLUMN person_id")
    op.execute("ALTER TABLE identity_records DROP COLUMN confidence")


def downgrade() -> None:
    with op.batch_alter_table("identity_records") as batch:
        batch.add_column(sa.Column("person_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float, nullable=True))
    op.execute(
        "UPDATE identity_records SET "
        "person_id = (SELECT a.person_id FROM identity_assignments a WHERE a.record_id = identity_records.id), "
        "confidence = (SELECT a.confidence FROM identity_assignments a WHERE a.record_id = identity_records.id)"
    )
    op.create_index("ix_identity_records_person_id", "identity_records", ["person_id"])
    op.drop_index("ix_identity_assignments_person_id", table_name="identity_assignments")
    op.drop_table("identity_assignments")
