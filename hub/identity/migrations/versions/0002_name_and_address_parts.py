"""Scheme pingan-link-v2: Bloom filters of surname, given name and address numbers.

Adds nullable columns, so the upgrade is instant and v1 rows stay readable;
the encodings themselves are not convertible (v2 keys are derived under the new
version label), so an index built with v1 is rebuilt by re-pulling every
department (docs/linkage.md, "Migrating from v1").

Revision ID: identity_0002
Revises: identity_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None

_COLUMNS = ("bloom_surname", "bloom_given_name", "bloom_address_numbers")


def upgrade() -> None:
    with op.batch_alter_table("identity_records") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.LargeBinary, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_records") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
