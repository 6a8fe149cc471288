"""Units (vehicles, teams) of each agency; a unit serves one incident at a time."""
from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, String, Table, Text

from siaga112.db import UTCDateTime, metadata

UNIT_STATUSES = ("available", "dispatched", "en_route", "on_scene", "transporting", "returning",
                 "out_of_service")

units = Table(
    "units", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(32), ForeignKey("agencies.code"), nullable=False),
    Column("call_sign", String(32), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("home_station", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("position_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('available','dispatched','en_route','on_scene','transporting',"
                    "'returning','out_of_service')", name="status"),
    Index("ix_units_agency_status", "agency_code", "status"),
)
