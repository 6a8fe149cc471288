"""Assignments: one per agency an incident is routed to, each with its own status and deadline."""
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from siaga112.db import FREE_TEXT, UTCDateTime, metadata
from siaga112.models.status import AssignmentStatus, check_constraint

assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("agency_code", String(32), ForeignKey("agencies.code"), nullable=False),
    Column("role", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("ack_due_at", UTCDateTime, nullable=False, index=True),
    Column("acknowledged_at", UTCDateTime),
    Column("dispatched_at", UTCDateTime),
    Column("on_scene_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("unit_id", String(36), ForeignKey("units.id")),
    # Deadlines are rows, not timers: the escalation worker claims them by conditional UPDATE.
    Column("escalated_at", UTCDateTime),
    Column("arrival_due_at", UTCDateTime, index=True),
    Column("arrival_escalated_at", UTCDateTime),
    Column("decline_reason", Text, info=FREE_TEXT),
    # Set when a re-route took the incident away from the agency: from then on the incident is
    # not the agency's to see (auth.permissions.follows_incident); cleared if it is asked again.
    Column("withdrawn_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("incident_id", "agency_code", name="uq_assignments_incident_agency"),
    CheckConstraint("role IN ('lead','support')", name="role"),
    CheckConstraint(check_constraint(AssignmentStatus), name="status"),
    Index("ix_assignments_agency_status", "agency_code", "status"),
    Index("ix_assignments_status_ack_due_at", "status", "ack_due_at"),
)
