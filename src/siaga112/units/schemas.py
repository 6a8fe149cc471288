"""Unit bodies of the API."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

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
    at: datetime | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("timestamp needs a UTC offset")
        return v
