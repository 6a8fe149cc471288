"""Citizens and partner systems: inbound reports, live calls, phone locations, number blocks,
hand-overs to other centres, Open311 requests, and the notification outbox."""
from sqlalchemy import (
                        BigInteger,
                        Boolean,
                        CheckConstraint,
                        Column,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
                        text,
)

from siaga112.db import FREE_TEXT, PERSONAL, JSONType, UTCDateTime, metadata

REPORT_STATUSES = ("waiting", "verified", "closed")

# A report from SMS, WhatsApp or the web form; it waits for a call-taker to verify it into an
# incident or close it with an outcome.
citizen_reports = Table(
    "citizen_reports", metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket", String(16), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reporter_phone", String(32)),
    Column("reporter_name", Text),
    Column("text", Text, nullable=False, info=FREE_TEXT),
    Column("lat", Float),
    Column("lon", Float),
    Column("accuracy_m", Float),
    Column("address", Text),
    Column("location_source", String(16)),  # browser | whatsapp | aml | None
    # The number was blocked when the report came in: shown, marked, never dropped.
    Column("blocked", Boolean, nullable=False, default=False),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("outcome", String(16)),
    Column("close_note", Text, info=FREE_TEXT),
    Column("handled_by", Integer, ForeignKey("users.id")),
    Column("received_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    # Set when retention removed the reporter's data (privacy/retention.py).
    Column("anonymised_at", UTCDateTime),
    CheckConstraint("status IN ('waiting','verified','closed')", name="status"),
    CheckConstraint("channel IN ('sms','whatsapp','web')", name="channel"),
    Index("ix_citizen_reports_status_received_at", "status", "received_at"),
    Index("ix_citizen_reports_reporter_phone_received_at", "reporter_phone", "received_at"),
    Index("ix_citizen_reports_incident_id", "incident_id"),
)

# Every inbound message by its gateway id, so a gateway's retry never makes a second report.
inbound_messages = Table(
    "inbound_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(160), nullable=False),
    Column("kind", String(16), nullable=False),  # report | aml | opt_out | opt_in | status
    Column("report_id", String(36)),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_inbound_messages_channel_external_id"),
)

# Replay protection: a signed webhook's nonce is accepted once within the time window.
webhook_nonces = Table(
    "webhook_nonces", metadata,
    Column("integration", String(32), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False, index=True),
)

CALL_STATES = ("ringing", "answered", "ended", "abandoned")

# A call as the telephony sees it (ringing, answered, ended), for the screen pop and the KPIs;
# the call-taker's outcome is the `calls` row it links to.
call_sessions = Table(
    "call_sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("external_id", String(160), nullable=False, unique=True),
    Column("trunk", String(64)),
    Column("caller_phone", String(32)),
    Column("state", String(16), nullable=False),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("ringing_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("answered_by", Integer, ForeignKey("users.id")),
    Column("call_id", String(36), ForeignKey("calls.id")),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("aml_id", Integer),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("state IN ('ringing','answered','ended','abandoned')", name="state"),
    Index("ix_call_sessions_caller_phone_ringing_at", "caller_phone", "ringing_at"),
    Index("ix_call_sessions_ringing_at", "ringing_at"),
    Index("ix_call_sessions_state", "state"),
)

# Advanced Mobile Location (ETSI TS 103 625) as received; malformed ones are kept, flagged.
aml_locations = Table(
    "aml_locations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form", String(8), nullable=False),  # sms | https
    Column("phone", String(32)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("radius_m", Float),
    Column("positioned_at", UTCDateTime),
    Column("confidence", Integer),
    Column("method", String(16)),
    Column("valid", Boolean, nullable=False),
    Column("problems", JSONType, nullable=False),
    # The message with IMSI and IMEI removed (it still holds the number in the HTTPS form).
    Column("raw", Text, nullable=False, info=FREE_TEXT),
    Column("call_session_id", String(36)),
    Column("report_id", String(36)),
    Index("ix_aml_locations_phone_received_at", "phone", "received_at"),
)

BLOCK_STATUSES = ("proposed", "active", "released", "rejected", "expired")

number_blocks = Table(
    "number_blocks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, info=FREE_TEXT),
    Column("counts", JSONType, nullable=False),
    Column("proposed_at", UTCDateTime, nullable=False),
    Column("proposed_by", Integer, ForeignKey("users.id")),
    Column("confirmed_at", UTCDateTime),
    Column("confirmed_by", Integer, ForeignKey("users.id")),
    Column("expires_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("ended_by", Integer, ForeignKey("users.id")),
    Column("end_note", Text, info=FREE_TEXT),
    CheckConstraint("status IN ('proposed','active','released','rejected','expired')", name="status"),
    Index("ix_number_blocks_phone", "phone"),
    # At most one open (proposed or active) block per number, even when two sweeps race.
    Index("uq_number_blocks_open_phone", "phone", unique=True,
          postgresql_where=text("status IN ('proposed', 'active')"),
          sqlite_where=text("status IN ('proposed', 'active')")),
)

number_block_audit = Table(
    "number_block_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_id", Integer, ForeignKey("number_blocks.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, info=FREE_TEXT),
)

# A call or incident handed over to another centre (Balikpapan, Paser, IKN, 110 …), with the
# EIDD-style document as it was sent.
handovers = Table(
    "handovers", metadata,
    Column("id", String(36), primary_key=True),
    Column("target", String(32), nullable=False),
    Column("call_id", String(36), ForeignKey("calls.id")),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("report_id", String(36), ForeignKey("citizen_reports.id")),
    Column("call_session_id", String(36), ForeignKey("call_sessions.id")),
    Column("note", Text, info=FREE_TEXT),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    # The EIDD document holds the caller's number and name.
    Column("document", JSONType, nullable=False, info=PERSONAL),
    Column("anonymised_at", UTCDateTime),
)

open311_requests = Table(
    "open311_requests", metadata,
    Column("incident_id", String(36), ForeignKey("incidents.id"), primary_key=True),
    Column("service_code", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

# Who is told about a ticket's progress, and how.
notification_subscriptions = Table(
    "notification_subscriptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket", String(16), nullable=False),
    Column("report_id", String(36)),
    Column("incident_id", String(36)),
    Column("phone", String(32), nullable=False),
    Column("channel", String(16), nullable=False),  # sms | whatsapp
    Column("created_at", UTCDateTime, nullable=False),
    Column("opted_out_at", UTCDateTime),
    UniqueConstraint("ticket", "phone", "channel", name="uq_notification_subscriptions_ticket"),
    Index("ix_notification_subscriptions_incident_id", "incident_id"),
    Index("ix_notification_subscriptions_report_id", "report_id"),
)

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")

# Background work claims rows: a message is due at `due_at`, claimed by a conditional UPDATE
# with a lease (`claimed_until`), and a restart resumes whatever was not marked sent.
notification_outbox = Table(
    "notification_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("notification_subscriptions.id"), nullable=False),
    # One message per subscription and stage, however often the planner sees the change.
    Column("dedupe_key", String(96), nullable=False, unique=True),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("params", JSONType, nullable=False),
    Column("text", Text, nullable=False, info=FREE_TEXT),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("provider_id", String(160)),
    Column("last_error", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('pending','sending','sent','failed','cancelled')", name="status"),
    Index("ix_notification_outbox_status_due_at", "status", "due_at"),
)

notification_optouts = Table(
    "notification_optouts", metadata,
    Column("phone", String(32), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("via", String(16), nullable=False),
)

# How far the notification planner has read the event log (one row, claimed under a lock).
notification_cursor = Table(
    "notification_cursor", metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
