"""units: capabilities, home station position, AVL trail; landmarks

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import siaga112.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("capabilities", siaga112.db.JSONType, nullable=True))
    op.create_table(
        "unit_positions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("at", siaga112.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("received_at", siaga112.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_positions_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_positions")),
        sa.UniqueConstraint("unit_id", "at", name=op.f("uq_unit_positions_unit_id")),
    )
    op.create_table(
        "landmarks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=True),
        sa.Column("desa_code", sa.String(length=16), nullable=True),
        sa.Column("kecamatan_code", sa.String(length=16), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", siaga112.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", siaga112.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landmarks")),
        sa.UniqueConstraint("kind", "name", "desa_code", name=op.f("uq_landmarks_kind")),
    )
    op.create_index("ix_landmarks_updated_at", "landmarks", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_landmarks_updated_at", table_name="landmarks")
    op.drop_table("landmarks")
    op.drop_table("unit_positions")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("capabilities")
        batch_op.drop_column("home_lon")
        batch_op.drop_column("home_lat")
