"""People and machine clients, and their API tokens (stored as hashes only)."""
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from siaga112.auth.principal import Role, Scope
from siaga112.db import UTCDateTime, metadata

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", Text),
    Column("role", String(16), nullable=False),
    Column("agency_code", String(32), ForeignKey("agencies.code")),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Browser sessions created before either of these are no longer valid.
    Column("disabled_at", UTCDateTime),
    Column("password_changed_at", UTCDateTime),
    CheckConstraint("role IN (" + ",".join(f"'{r}'" for r in Role) + ")", name="role"),
    CheckConstraint("role != 'dispatcher' OR agency_code IS NOT NULL", name="dispatcher_agency"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    # full: whatever the user may do; read: GET only (dashboards, reporting tools).
    Column("scope", String(8), nullable=False, default="full", server_default="full"),
    CheckConstraint("scope IN (" + ",".join(f"'{s}'" for s in Scope) + ")", name="scope"),
)
