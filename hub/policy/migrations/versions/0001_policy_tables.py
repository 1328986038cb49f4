"""Policy versions, Casbin role assignments and the decision log.

Revision ID: policy_0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "policy_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_casbin_rule",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ptype", sa.String(255), nullable=False),
        *[sa.Column(f"v{i}", sa.String(255), nullable=True) for i in range(6)],
    )
    op.create_index("ix_policy_casbin_rule_ptype_v0", "policy_casbin_rule", ["ptype", "v0"])
    op.create_table(
        "policy_versions",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("proposed_by", sa.String(255), nullable=False),
        sa.Column("approved_by", sa.String(255), nullable=False, server_default=""),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("bundle_json", sa.Text, nullable=False),
        sa.Column("report_json", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "policy_decision_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("subject_department", sa.String(64), nullable=False),
        sa.Column("claimed_roles", sa.Text, nullable=False),
        sa.Column("assignments", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("justification_provided", sa.Boolean, nullable=False),
        sa.Column("person_ref", sa.String(64), nullable=False),
        sa.Column("person_jurisdiction", sa.String(128), nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("request_time", sa.String(40), nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        sa.Column("allow", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_decision_log")
    op.drop_table("policy_versions")
    op.drop_index("ix_policy_casbin_rule_ptype_v0", table_name="policy_casbin_rule")
    op.drop_table("policy_casbin_rule")
