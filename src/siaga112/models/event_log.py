"""The event log: every state change as a row, written in the change's own transaction."""
from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from siaga112.db import JSONType, UTCDateTime, metadata

event_log = Table(
    "event_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("name", String(48), nullable=False),
    Column("incident_id", String(36)),
    # Space-delimited agency codes that may see this event (" DAMKAR BPBD "); empty = staff-wide.
    Column("agencies", Text, nullable=False, default=""),
    Column("data", JSONType, nullable=False),
    # Order of the live stream and the SSE `id:`. Given after commit (see events.sequence_events),
    # so a stream never passes an event that commits late.
    Column("position", BigInteger),
    Index("ix_event_log_incident_id", "incident_id"),
    Index("ix_event_log_position", "position", unique=True),
)
