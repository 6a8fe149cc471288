"""administration: audit of admin changes, SOP revision counter

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from siaga112.db import JSONType, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer,
                  sa.ForeignKey("users.id", name="fk_admin_changes_actor_id_users"), nullable=False),
        sa.Column("actor_username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_kind", sa.String(24), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("before", JSONType),
        sa.Column("after", JSONType),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_admin_changes_at", "admin_changes", ["at"])
    op.create_index("ix_admin_changes_target", "admin_changes", ["target_kind", "target"])
    sop_state = op.create_table(
        "sop_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True)),
    )
    op.bulk_insert(sop_state, [{"id": 1, "revision": 1, "changed_at": None}])


def downgrade() -> None:
    op.drop_table("sop_state")
    op.drop_index("ix_admin_changes_target", "admin_changes")
    op.drop_index("ix_admin_changes_at", "admin_changes")
    op.drop_table("admin_changes")
