"""Calls: every contact with the center, whatever its outcome; most never become incidents."""
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from siaga112.db import FREE_TEXT, UTCDateTime, metadata

CHANNELS = ("call", "sms", "whatsapp", "web", "app", "radio", "walk_in")
OUTCOMES = ("emergency", "information", "prank", "silent", "misdial", "out_of_area", "duplicate")

calls = Table(
    "calls", metadata,
    Column("id", String(36), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("caller_phone", String(32)),
    Column("caller_name", Text),
    Column("received_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("outcome", String(16), nullable=False),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("transferred_to", String(32)),
    Column("note", Text, info=FREE_TEXT),
    Column("taken_by", Integer, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("channel IN ('call','sms','whatsapp','web','app','radio','walk_in')",
                    name="channel"),
    CheckConstraint("outcome IN ('emergency','information','prank','silent','misdial',"
                    "'out_of_area','duplicate')", name="outcome"),
    Index("ix_calls_caller_phone_received_at", "caller_phone", "received_at"),
    Index("ix_calls_incident_id", "incident_id"),
    Index("ix_calls_received_at", "received_at"),
)
