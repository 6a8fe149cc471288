"""operations: the row /readyz rewrites to prove a write commits

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from siaga112.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "readiness_probe",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checked_at", UTCDateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("readiness_probe")
