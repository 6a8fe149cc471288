"""Agencies (OPD and partners) and the SOP matrix: priorities, incident types, lead/support routes."""
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, false

from siaga112.db import JSONType, UTCDateTime, metadata

agencies = Table(
    "agencies", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16)),  # operator | command | NULL
    Column("external", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
)

priorities = Table(
    "priorities", metadata,
    Column("level", Integer, primary_key=True),
    Column("label_id", Text, nullable=False),
    Column("label_en", Text, nullable=False),
    Column("ack_seconds", Integer, nullable=False),
    Column("dispatch_seconds", Integer, nullable=False),
    CheckConstraint("ack_seconds > 0 AND dispatch_seconds >= ack_seconds", name="deadlines"),
)

incident_types = Table(
    "incident_types", metadata,
    Column("code", String(32), primary_key=True),
    Column("name_id", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("priority", Integer, ForeignKey("priorities.level"), nullable=False),
    Column("keywords", JSONType, nullable=False, default=list),
    Column("active", Boolean, nullable=False, default=True),
    # Nothing goes to the caller unless the call-taker chose it on the call (see docs/security.md).
    Column("sensitive", Boolean, nullable=False, default=False, server_default=false()),
)

sop_routes = Table(
    "sop_routes", metadata,
    Column("type_code", String(32), ForeignKey("incident_types.code"), primary_key=True),
    Column("agency_code", String(32), ForeignKey("agencies.code"), primary_key=True),
    Column("role", String(8), nullable=False),  # lead | support
    Column("position", Integer, nullable=False, default=0),
    CheckConstraint("role IN ('lead', 'support')", name="role"),
)

# One row: bumped by every SOP change, so each server process notices it and reloads its SOP.
sop_state = Table(
    "sop_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("changed_at", UTCDateTime),
)
