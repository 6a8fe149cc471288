"""escalation deadlines on assignments

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import siaga112.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_at", siaga112.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrival_due_at", siaga112.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrival_escalated_at", siaga112.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_assignments_ack_due_at", ["ack_due_at"], unique=False)
        batch_op.create_index("ix_assignments_arrival_due_at", ["arrival_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_arrival_due_at")
        batch_op.drop_index("ix_assignments_ack_due_at")
        batch_op.drop_column("arrival_escalated_at")
        batch_op.drop_column("arrival_due_at")
        batch_op.drop_column("escalated_at")
