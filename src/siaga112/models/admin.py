"""What administrators changed: who, when, what, and the values before and after."""
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from siaga112.db import JSONType, UTCDateTime, metadata

admin_changes = Table(
    "admin_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor_id", Integer, ForeignKey("users.id"), nullable=False),
    # Kept as written, so the record still reads right if the account is renamed later.
    Column("actor_username", String(64), nullable=False),
    Column("action", String(48), nullable=False),
    Column("target_kind", String(24), nullable=False),  # agency | user | incident_type | priority
    Column("target", String(64), nullable=False),
    Column("before", JSONType),
    Column("after", JSONType),
    Column("note", Text),
)
Index("ix_admin_changes_target", admin_changes.c.target_kind, admin_changes.c.target)
