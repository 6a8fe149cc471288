"""Request and response bodies of the incident API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siaga112.db import UtcMoment
from siaga112.models.status import AssignmentStatus, IncidentStatus
from siaga112.phone import normalise_phone

Channel = Literal["call", "sms", "whatsapp", "web", "app", "radio", "walk_in"]
TYPE_CODE = r"^[A-Z][A-Z0-9-]{0,31}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, v: object) -> object:
        # PostgreSQL text cannot hold NUL; refused here it is a 422 naming the field, not a 500.
        if isinstance(v, str) and "\x00" in v:
            raise ValueError("NUL characters are not allowed")
        return v


class CallerIn(Strict):
    phone: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalise_phone(v)


class LocationIn(Strict):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    desa_code: str | None = Field(default=None, max_length=16, pattern=r"^[0-9.]+$")

    @model_validator(mode="after")
    def _something_given(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        if self.lat is None and not self.desa_code and not self.address:
            raise ValueError("give lat/lon, desa_code or address")
        return self


class IncidentCreate(Strict):
    channel: Channel = "call"
    caller: CallerIn | None = None
    description: str = Field(min_length=1, max_length=4000)
    type_code: str | None = Field(default=None, pattern=TYPE_CODE)
    priority: int | None = Field(default=None, ge=1, le=4)
    location: LocationIn
    received_at: UtcMoment | None = None
    answered_at: UtcMoment | None = None
    # The call-taker asked the caller: true = send news of the ticket (SMS/WhatsApp), false =
    # never; absent = yes, except for the SOP's sensitive types, which stay silent.
    notify_caller: bool | None = None


class ClassificationRead(BaseModel):
    type_code: str
    confidence: float
    alternatives: list[str]


class AssignmentRead(BaseModel):
    agency_code: str
    role: Literal["lead", "support"]
    status: AssignmentStatus
    ack_due_at: datetime
    acknowledged_at: datetime | None = None
    dispatched_at: datetime | None = None
    on_scene_at: datetime | None = None
    completed_at: datetime | None = None
    unit_id: str | None = None
    decline_reason: str | None = None


class DuplicateRead(BaseModel):
    id: str
    ticket: str
    type_code: str
    distance_m: int
    minutes_ago: int


class CallerRead(BaseModel):
    phone: str | None
    name: str | None


class LinkedCallRead(BaseModel):
    """A later caller linked to the incident: who called and what they said."""

    at: datetime
    phone: str | None
    name: str | None
    said: str | None


class LocationRead(BaseModel):
    lat: float | None
    lon: float | None
    address: str | None
    desa_code: str | None
    kecamatan_code: str | None
    source: str | None
    out_of_area: bool


class TimelineEntryRead(BaseModel):
    at: datetime
    kind: str
    text: str | None
    public: bool
    agency_code: str | None
    actor: str | None


class IncidentRead(BaseModel):
    id: str
    ticket: str
    status: IncidentStatus
    type_code: str
    priority: int
    description: str
    channel: str
    kecamatan_code: str | None
    desa_code: str | None
    location: LocationRead
    caller: CallerRead | None
    classification: ClassificationRead | None
    assignments: list[AssignmentRead]
    possible_duplicates: list[DuplicateRead] = []
    attention: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    timeline: list[TimelineEntryRead] | None = None
    # Later callers about the same event, with the timeline, for those who see the caller.
    linked_calls: list[LinkedCallRead] | None = None


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    next_cursor: str | None


class StatusChange(Strict):
    status: IncidentStatus
    note: str | None = Field(default=None, max_length=2000)


class NoteCreate(Strict):
    text: str = Field(min_length=1, max_length=4000)
    public: bool = False


class DispatchBody(Strict):
    unit_id: str = Field(min_length=1, max_length=36)


class DeclineBody(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class ProgressBody(Strict):
    # Spelled out (an enum-member Literal makes pydantic's 422 print Python reprs); a test
    # checks these are models.status.PROGRESS_STEPS.
    status: Literal["en_route", "on_scene", "completed"]
    note: str | None = Field(default=None, max_length=2000)


class RerouteBody(Strict):
    type_code: str = Field(pattern=TYPE_CODE)
    priority: int | None = Field(default=None, ge=1, le=4)
    note: str | None = Field(default=None, max_length=2000)


class RouteBody(Strict):
    """The command centre routes to one agency: lead, add (as support) or remove."""

    agency_code: str = Field(min_length=1, max_length=32)
    action: Literal["lead", "add", "remove"]
    note: str | None = Field(default=None, max_length=2000)


class SupportRequest(Strict):
    agency_code: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=3, max_length=2000)


class ClassifyRequest(Strict):
    description: str = Field(min_length=1, max_length=4000)
