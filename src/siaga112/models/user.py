"""People and machine clients, and their API tokens (stored as hashes only)."""
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text

from siaga112.db import UTCDateTime, metadata

ROLES = ("admin", "call_taker", "commander", "dispatcher", "viewer", "integration")

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
    CheckConstraint("role IN ('admin','call_taker','commander','dispatcher','viewer','integration')",
                    name="role"),
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
)
