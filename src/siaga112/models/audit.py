"""The audit trail and the login attempts that throttling counts."""
from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from siaga112.db import UTCDateTime, metadata

# Append-only (a trigger refuses UPDATE and DELETE) and hash-chained: `hash` covers the row's
# content and `prev_hash`, so an edited, deleted or inserted row breaks the chain at that point.
# `id` is given by the writer (last id + 1, under the chain lock), so ids have no gaps either.
audit_log = Table(
    "audit_log", metadata,
    # Insertion order; the chain's own order is `id`, given when the entry is sealed.
    Column("entry", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("id", Integer, unique=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Integer),
    Column("actor", String(64), nullable=False),
    Column("role", String(16)),
    Column("agency_code", String(32)),
    Column("action", String(48), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(64)),
    Column("remote", String(64)),
    # Canonical JSON text (sorted keys), hashed exactly as stored; never personal data.
    Column("detail", Text, nullable=False, default="{}"),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    # NULL: an entry chained before the chain was keyed, hash = plain SHA-256 (still verified).
    # "hmac-sha256:<key id>": hash and entry_mac are HMACs with the audit key of that id, which
    # lives outside the database (docs/security.md), so nobody with only database access can
    # write an entry that verifies.
    Column("hash_alg", String(32)),
    # HMAC of the entry's content, written with the row: on PostgreSQL the row is chained later
    # by the sealer, which must not lend its key to a row an intruder inserted.
    Column("entry_mac", String(64)),
    Index("ix_audit_log_actor_entry", "actor", "entry"),
    Index("ix_audit_log_action_entry", "action", "entry"),
    Index("ix_audit_log_target_entry", "target_id", "entry"),
    Index("ix_audit_log_at", "at"),
)

# One row per password check, so every process counts the same failures.
login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("remote", String(64), nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_remote_at", "remote", "at"),
)

# Request allowances per client (security/ratelimit.py): one token bucket per allowance and
# client address, shared by every process and node.
rate_limit_buckets = Table(
    "rate_limit_buckets", metadata,
    Column("allowance", String(32), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
)
