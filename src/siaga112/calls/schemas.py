"""Call bodies: contacts that end without a new incident, and a caller's history."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from siaga112.db import UtcMoment
from siaga112.incidents.schemas import CallerIn, Channel, Strict

NonEmergencyOutcome = Literal["information", "prank", "silent", "misdial", "out_of_area", "duplicate"]
TRANSFER_TARGETS = ("BALIKPAPAN", "PASER", "IKN", "KUKAR", "110", "113", "115", "119")


class CallCreate(Strict):
    channel: Channel = "call"
    caller: CallerIn | None = None
    outcome: NonEmergencyOutcome
    incident_id: str | None = Field(default=None, max_length=36)
    transferred_to: Literal[TRANSFER_TARGETS] | None = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=2000)
    received_at: UtcMoment | None = None
    answered_at: UtcMoment | None = None
    ended_at: UtcMoment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CallCreate:
        if self.outcome == "duplicate" and not self.incident_id:
            raise ValueError("incident_id: a duplicate call names the incident it belongs to")
        if self.outcome != "duplicate" and self.incident_id:
            raise ValueError("incident_id: only a duplicate call is linked to an incident")
        if self.transferred_to and self.outcome != "out_of_area":
            raise ValueError("transferred_to: only an out_of_area call is transferred")
        return self


class CallRead(BaseModel):
    id: str
    channel: str
    caller_phone: str | None
    outcome: str
    incident_id: str | None
    transferred_to: str | None
    received_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


class OpenIncidentBrief(BaseModel):
    id: str
    ticket: str
    type_code: str
    status: str
    created_at: datetime


class CallerHistory(BaseModel):
    phone: str
    calls: list[CallRead]
    open_incidents: list[OpenIncidentBrief]
    outcome_counts: dict[str, int]
