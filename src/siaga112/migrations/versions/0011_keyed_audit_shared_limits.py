"""keyed audit chain (entry MAC, hash algorithm), rate limits shared through the database,
retention marks on citizen reports and hand-overs

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from siaga112.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Sealing (PostgreSQL) may fill id, prev_hash and hash of an unsealed row, nothing else; the
# entry's MAC and its algorithm are written with the row and are as fixed as its content.
_SEAL_ONLY_PG = """
CREATE OR REPLACE FUNCTION audit_log_seal_only() RETURNS trigger AS $$
BEGIN
    IF OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.id IS NULL OR NEW.prev_hash IS NULL
       OR NEW.entry IS DISTINCT FROM OLD.entry OR NEW.at IS DISTINCT FROM OLD.at
       OR NEW.actor_id IS DISTINCT FROM OLD.actor_id OR NEW.actor IS DISTINCT FROM OLD.actor
       OR NEW.role IS DISTINCT FROM OLD.role OR NEW.agency_code IS DISTINCT FROM OLD.agency_code
       OR NEW.action IS DISTINCT FROM OLD.action OR NEW.target_type IS DISTINCT FROM OLD.target_type
       OR NEW.target_id IS DISTINCT FROM OLD.target_id OR NEW.remote IS DISTINCT FROM OLD.remote
       OR NEW.detail IS DISTINCT FROM OLD.detail OR NEW.hash_alg IS DISTINCT FROM OLD.hash_alg
       OR NEW.entry_mac IS DISTINCT FROM OLD.entry_mac THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

_SEAL_ONLY_PG_0006 = """
CREATE OR REPLACE FUNCTION audit_log_seal_only() RETURNS trigger AS $$
BEGIN
    IF OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.id IS NULL OR NEW.prev_hash IS NULL
       OR NEW.entry IS DISTINCT FROM OLD.entry OR NEW.at IS DISTINCT FROM OLD.at
       OR NEW.actor_id IS DISTINCT FROM OLD.actor_id OR NEW.actor IS DISTINCT FROM OLD.actor
       OR NEW.role IS DISTINCT FROM OLD.role OR NEW.agency_code IS DISTINCT FROM OLD.agency_code
       OR NEW.action IS DISTINCT FROM OLD.action OR NEW.target_type IS DISTINCT FROM OLD.target_type
       OR NEW.target_id IS DISTINCT FROM OLD.target_id OR NEW.remote IS DISTINCT FROM OLD.remote
       OR NEW.detail IS DISTINCT FROM OLD.detail THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    # Existing entries keep NULL here: they were chained with plain SHA-256 and still verify so.
    op.add_column("audit_log", sa.Column("hash_alg", sa.String(32)))
    op.add_column("audit_log", sa.Column("entry_mac", sa.String(64)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SEAL_ONLY_PG)
    op.create_table(
        "rate_limit_buckets",
        sa.Column("allowance", sa.String(32), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("allowance", "client", name="pk_rate_limit_buckets"),
    )
    op.create_index("ix_rate_limit_buckets_at", "rate_limit_buckets", ["at"])
    op.add_column("citizen_reports", sa.Column("anonymised_at", UTCDateTime(timezone=True)))
    op.add_column("handovers", sa.Column("anonymised_at", UTCDateTime(timezone=True)))


def _drop_column(table: str, column: str) -> None:
    # Not a batch (copy-and-rename) on SQLite: that would drop audit_log's append-only triggers.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop_column("handovers", "anonymised_at")
    _drop_column("citizen_reports", "anonymised_at")
    op.drop_index("ix_rate_limit_buckets_at", "rate_limit_buckets")
    op.drop_table("rate_limit_buckets")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SEAL_ONLY_PG_0006)
    _drop_column("audit_log", "entry_mac")
    _drop_column("audit_log", "hash_alg")
