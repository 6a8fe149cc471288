"""Shift hand-over log: what one shift leaves to the next, acknowledged by the incoming supervisor."""
from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text

from siaga112.db import JSONType, UTCDateTime, metadata

shift_handoffs = Table(
    "shift_handoffs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("written_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("written_at", UTCDateTime, nullable=False),
    Column("notes", Text, nullable=False),
    Column("todo", Text, nullable=False),
    # The incidents open when it was written (ticket, type, priority, status, agencies): the
    # situation as handed over, kept even after they close. No caller data.
    Column("open_incidents", JSONType, nullable=False),
    Column("acknowledged_by", Integer, ForeignKey("users.id")),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledgement_note", Text),
    Index("ix_shift_handoffs_written_at", "written_at"),
)
