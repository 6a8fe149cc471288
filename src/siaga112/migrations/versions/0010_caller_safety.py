"""caller safety: sensitive incident types, the call-taker's choice to send news to the caller;
assignments withdrawn by a re-route

Revision ID: 0010
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from siaga112.db import UTCDateTime

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

# The packaged SOP marks these; an installation loaded before this revision gets the same.
SENSITIVE = ("VIOLENCE-WC", "CRIME")


def upgrade() -> None:
    with op.batch_alter_table("incident_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sensitive", sa.Boolean, nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_caller", sa.Boolean))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", UTCDateTime(timezone=True)))
    types = sa.table("incident_types", sa.column("code", sa.String), sa.column("sensitive", sa.Boolean))
    op.execute(types.update().where(types.c.code.in_(SENSITIVE)).values(sensitive=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("notify_caller")
    with op.batch_alter_table("incident_types", schema=None) as batch_op:
        batch_op.drop_column("sensitive")
