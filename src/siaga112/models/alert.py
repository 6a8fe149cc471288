"""Public alerts (CAP 1.2 messages) and the citizens who asked to receive them for their area."""
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from siaga112.db import JSONType, UTCDateTime, metadata

MSG_TYPES = ("Alert", "Update", "Cancel")

# One row per CAP message. An update or a cancellation is a message of its own that references
# the one it replaces; the replaced one gets `superseded_at`, so "current" is one condition.
alerts = Table(
    "alerts", metadata,
    Column("id", String(36), primary_key=True),
    # Short and unguessable enough to print: the public page's and the SMS's link.
    Column("code", String(16), nullable=False, unique=True),
    Column("identifier", String(120), nullable=False, unique=True),
    Column("sender", String(120), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),     # CAP status: Actual | Exercise | Test
    Column("msg_type", String(8), nullable=False),
    Column("references_id", String(36), ForeignKey("alerts.id")),
    Column("superseded_at", UTCDateTime),
    Column("event", Text, nullable=False),
    Column("category", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("certainty", String(16), nullable=False),
    Column("response_type", String(16)),
    Column("headline", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("instruction", Text),
    Column("onset_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("area_desc", Text, nullable=False),
    # What the author chose: kecamatan and desa codes and a drawn polygon ([[lat, lon], ...]).
    Column("area_codes", JSONType, nullable=False),
    Column("polygon", JSONType),
    # Every desa the alert reaches (chosen codes expanded, the drawn area intersected): who hears it.
    Column("desa_codes", JSONType, nullable=False),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("note", Text),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("recipients", Integer, nullable=False, default=0),
    # The key of the form or request that issued it: sent twice (a double click, a retry), the
    # alert is issued and broadcast once.
    Column("request_key", String(80), unique=True),
    CheckConstraint("msg_type IN ('Alert','Update','Cancel')", name="msg_type"),
    Index("ix_alerts_sent_at", "sent_at"),
)

alert_subscriptions = Table(
    "alert_subscriptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),
    Column("channel", String(16), nullable=False),  # sms | whatsapp
    Column("area_code", String(16), nullable=False),  # a kecamatan or a desa
    Column("created_at", UTCDateTime, nullable=False),
    Column("opted_out_at", UTCDateTime),
    UniqueConstraint("phone", "channel", "area_code", name="uq_alert_subscriptions_phone"),
    Index("ix_alert_subscriptions_area_code", "area_code"),
)

# Warnings other centres publish as CAP (BMKG's weather and earthquake warnings), as received.
# One row per CAP message; an Update or Cancel marks the messages it references `replaced`.
incoming_warnings = Table(
    "incoming_warnings", metadata,
    Column("id", String(36), primary_key=True),
    Column("sender", String(200), nullable=False),
    Column("identifier", String(200), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("msg_type", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("event", Text, nullable=False),
    Column("headline", Text),
    Column("description", Text),
    Column("instruction", Text),
    Column("category", String(16)),
    Column("urgency", String(16)),
    Column("severity", String(16)),
    Column("certainty", String(16)),
    Column("onset_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("area_desc", Text),
    Column("polygons", JSONType),        # [[[lat, lon], ...], ...]
    Column("touches_ppu", Boolean, nullable=False),
    # The PPU kecamatan it reaches: where a local alert made from it applies.
    Column("kecamatan_codes", JSONType),
    Column("replaced_at", UTCDateTime),
    Column("local_alert_id", String(36), ForeignKey("alerts.id")),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("sender", "identifier", name="uq_incoming_warnings_sender"),
    Index("ix_incoming_warnings_received_at", "received_at"),
)
