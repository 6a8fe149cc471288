"""event stream positions assigned after commit

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_event_log_position", ["position"], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        # One writer at a time: on SQLite rows commit in id order, so the position is the id.
        op.execute("CREATE TRIGGER event_log_position AFTER INSERT ON event_log "
                   "BEGIN UPDATE event_log SET position = NEW.id WHERE id = NEW.id; END")
    op.execute("UPDATE event_log SET position = id WHERE position IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS event_log_position")
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index("ix_event_log_position")
        batch_op.drop_column("position")
