"""The identity index's tables (SQLAlchemy Core), all prefixed ``identity_``.

Only encodings, pointers and derived flags are stored: HMAC tokens, Bloom
filters, (department, dataset, local record id), person assignments, person and household ids,
merge/split history. The schema is created and upgraded by the Alembic
migrations in ``hub/identity/migrations`` (version table
``alembic_version_identity``); this module mirrors it for queries.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

VERSION_TABLE = "alembic_version_identity"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()

settings = sa.Table(
    "identity_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sources = sa.Table(
    "identity_sources",
    metadata,
    sa.Column("department", sa.String(64), primary_key=True),
    sa.Column("watermark", sa.Text, nullable=False, default=""),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

records = sa.Table(
    "identity_records",
    metadata,
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
    # identity_0002 (scheme pingan-link-v2)
    sa.Column("bloom_surname", sa.LargeBinary, nullable=True),
    sa.Column("bloom_given_name", sa.LargeBinary, nullable=True),
    sa.Column("bloom_address_numbers", sa.LargeBinary, nullable=True),
    sa.Column("sex", sa.String(1), nullable=False, default=""),
    sa.Column("birth_year", sa.Integer, nullable=False, default=0),
    sa.Column("residence_mismatch", sa.Boolean, nullable=False, default=False),
    sa.Column("jurisdiction", sa.String(256), nullable=False, default=""),
    sa.Column("groups", sa.String(128), nullable=False, default=""),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("department", "dataset", "local_record_id", name="uq_identity_records_key"),
)

# identity_0003: a record's person, apart from its wide row of filters, so that a resolution
# writes only the assignments that changed (a deleted record has none once resolved).
assignments = sa.Table(
    "identity_assignments",
    metadata,
    sa.Column("record_id", sa.Integer, sa.ForeignKey("identity_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Index("ix_identity_assignments_person_id", "person_id"),
)

tokens = sa.Table(
    "identity_tokens",
    metadata,
    sa.Column("record_id", sa.Integer, sa.ForeignKey("identity_records.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("token", sa.LargeBinary(32), nullable=False),
    sa.Index("ix_identity_tokens_kind_token", "kind", "token"),
)

persons = sa.Table(
    "identity_persons",
    metadata,
    sa.Column("person_id", sa.String(32), primary_key=True),
    sa.Column("household_id", sa.String(32), nullable=True, index=True),
    sa.Column("migrant", sa.Boolean, nullable=False, default=False),
    sa.Column("jurisdiction", sa.String(256), nullable=False, default=""),
    sa.Column("groups", sa.String(128), nullable=False, default=""),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

households = sa.Table(
    "identity_households",
    metadata,
    sa.Column("household_id", sa.String(32), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

events = sa.Table(
    "identity_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("before_ids", sa.Text, nullable=False),
    sa.Column("after_ids", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def migrate(engine: sa.Engine) -> None:
    """Bring the identity tables to the newest migration (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
