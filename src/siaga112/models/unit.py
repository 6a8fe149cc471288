"""Units (vehicles, teams) of each agency; a unit serves one incident at a time."""
from sqlalchemy import (
                        BigInteger,
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
)

from siaga112.db import JSONType, UTCDateTime, metadata
from siaga112.models.status import UnitStatus, check_constraint

units = Table(
    "units", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(32), ForeignKey("agencies.code"), nullable=False),
    Column("call_sign", String(32), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("incident_id", String(36), ForeignKey("incidents.id")),
    Column("home_station", Text),
    # Where the unit waits when it has no fresh AVL position (recommendations measure from here).
    Column("home_lat", Float),
    Column("home_lon", Float),
    # What the unit can do (fire_suppression, medical, water_rescue, ...), matched to the type.
    Column("capabilities", JSONType),
    Column("lat", Float),
    Column("lon", Float),
    Column("position_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(check_constraint(UnitStatus), name="status"),
    Index("ix_units_agency_status", "agency_code", "status"),
)

# The AVL trail: every position a unit reported (the latest is also kept on `units`).
unit_positions = Table(
    "unit_positions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # A gateway that resends a batch after a timeout must not double the trail.
    UniqueConstraint("unit_id", "at"),
)
