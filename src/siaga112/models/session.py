"""Browser sessions, kept server-side so an administrator can end one at once."""
from sqlalchemy import Column, ForeignKey, Integer, String, Table

from siaga112.db import UTCDateTime, metadata

web_sessions = Table(
    "web_sessions", metadata,
    # The cookie carries 256 random bits; only their SHA-256 is stored, like API tokens.
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("remote_addr", String(64)),
)
