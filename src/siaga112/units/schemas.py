"""Unit bodies of the API."""
from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from siaga112.incidents.schemas import Strict


class PositionRead(BaseModel):
    lat: float
    lon: float
    at: datetime


class UnitRead(BaseModel):
    id: str
    call_sign: str
    agency_code: str
    kind: str
    status: str
    incident_id: str | None
    position: PositionRead | None


class PositionIn(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: AwareDatetime | None = None
