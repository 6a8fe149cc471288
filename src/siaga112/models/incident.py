"""Incidents, their timeline, and the idempotency keys that keep a retried intake single."""
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
)

from siaga112.db import FREE_TEXT, JSONType, UTCDateTime, metadata
from siaga112.models.status import IncidentStatus, check_constraint

incidents = Table(
    "incidents", metadata,
    Column("id", String(36), primary_key=True),
    Column("ticket", String(16), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("type_code", String(32), ForeignKey("incident_types.code"), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("description", Text, nullable=False, info=FREE_TEXT),
    Column("channel", String(16), nullable=False),
    Column("caller_phone", String(32)),
    Column("caller_name", Text),
    Column("lat", Float),
    Column("lon", Float),
    # Grid cell of the position (see geo.cells): nearby incidents by index, on any database.
    Column("geo_cell", BigInteger),
    Column("address", Text),
    Column("desa_code", String(16)),
    Column("kecamatan_code", String(16)),
    Column("location_source", String(16)),  # point | desa | address | none
    Column("out_of_area", Boolean, nullable=False, default=False),
    Column("classified_type", String(32)),
    Column("classification_confidence", Float),
    Column("classification_alternatives", JSONType),
    # Why the command center must look at it: declined, out_of_area, unclassified, overdue.
    Column("attention", String(32)),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    # The call-taker's choice on the call: send the caller news of the ticket (True), never
    # (False), or the default (None: yes, except for sensitive types, which stay silent).
    Column("notify_caller", Boolean),
    # Set when retention removed the caller's data; statistics columns stay.
    Column("anonymised_at", UTCDateTime),
    CheckConstraint(check_constraint(IncidentStatus), name="status"),
    CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
    Index("ix_incidents_created_at_id", "created_at", "id"),
    Index("ix_incidents_status_created_at", "status", "created_at"),
    Index("ix_incidents_geo_cell_created_at", "geo_cell", "created_at"),
    Index("ix_incidents_caller_phone", "caller_phone"),
)

timeline_entries = Table(
    "timeline_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("agency_code", String(32)),
    Column("kind", String(32), nullable=False),
    Column("text", Text, info=FREE_TEXT),
    Column("public", Boolean, nullable=False, default=False),
    Column("data", JSONType),
    Index("ix_timeline_entries_incident_id_id", "incident_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    # No foreign key: the key is claimed, naming the incident, before that incident's row exists.
    Column("incident_id", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
