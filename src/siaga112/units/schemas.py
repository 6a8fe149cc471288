"""Unit bodies of the API."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from siaga112.db import UtcMoment
from siaga112.incidents.schemas import Strict
from siaga112.models.status import UnitStatus

CapabilityName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class PositionRead(BaseModel):
    lat: float
    lon: float
    at: datetime
    # Older than SIAGA112_UNIT_POSITION_STALE_SECONDS: show it greyed, do not trust it for ETAs.
    stale: bool = False


class UnitRead(BaseModel):
    id: str
    call_sign: str
    agency_code: str
    kind: str
    status: UnitStatus
    incident_id: str | None
    position: PositionRead | None
    capabilities: list[str] = []
    home_station: str | None = None
    home_lat: float | None = None
    home_lon: float | None = None
    updated_at: datetime | None = None


class PositionIn(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: UtcMoment | None = None


class PositionReport(PositionIn):
    """One fix from an AVL gateway, naming the unit by id or by call sign."""

    unit_id: str | None = None
    call_sign: str | None = None

    @model_validator(mode="after")
    def _names_one_unit(self) -> PositionReport:
        if (self.unit_id is None) == (self.call_sign is None):
            raise ValueError("give exactly one of unit_id or call_sign")
        return self


class PositionBatch(Strict):
    positions: list[PositionReport] = Field(min_length=1, max_length=1000)


class PositionBatchResult(BaseModel):
    received: int
    # New rows in the trail (a resent fix is not stored twice).
    stored: int
    # Units whose latest position moved (an older fix than the stored one leaves it).
    updated: int


class TrailPoint(BaseModel):
    lat: float
    lon: float
    at: datetime


class StatusBody(Strict):
    status: UnitStatus
    note: str | None = Field(default=None, max_length=500)


class UnitCreate(Strict):
    call_sign: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$")
    agency_code: str = Field(min_length=2, max_length=32)
    kind: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    capabilities: list[CapabilityName] | None = Field(default=None, max_length=20)
    home_station: str | None = Field(default=None, max_length=200)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _home_is_a_point(self) -> UnitCreate:
        if (self.home_lat is None) != (self.home_lon is None):
            raise ValueError("home_lat and home_lon go together")
        return self


class UnitUpdate(Strict):
    call_sign: str | None = Field(default=None, min_length=2, max_length=32,
                                  pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$")
    kind: str | None = Field(default=None, min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    capabilities: list[CapabilityName] | None = Field(default=None, max_length=20)
    home_station: str | None = Field(default=None, max_length=200)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)


class Recommendation(BaseModel):
    unit_id: str
    call_sign: str
    # None when neither a fresh position nor a home station says where the unit is.
    eta_seconds: int | None
    distance_m: int | None
    kind: str
    # Share of the capabilities the incident type needs that this unit has (1.0 = all).
    capability_match: float
    missing_capabilities: list[str]
    # osrm: road travel time from the routing server; estimate: distance x road factor / speed.
    eta_source: Literal["osrm", "estimate"] | None
    # avl: a fresh position; home_station; stale_avl: an old position, the best there is.
    position_source: Literal["avl", "home_station", "stale_avl"] | None
    road_distance_m: int | None = None
