"""Public bodies: the ticket a reporter follows and the web report form. No personal data out."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from siaga112.incidents.schemas import Strict
from siaga112.phone import normalise_phone


class PublicNote(BaseModel):
    at: datetime
    text: str


class PublicStage(BaseModel):
    code: str
    label: str
    reached: bool
    at: datetime | None


class PublicTicket(BaseModel):
    ticket: str
    status: str
    status_label: str
    updated_at: datetime
    public_notes: list[PublicNote]
    stages: list[PublicStage]
    type_label: str | None = None
    agency: str | None = None


class WebReportIn(Strict):
    """The public web form (also accepted as JSON on /api/v1/public/reports)."""

    description: str = Field(min_length=3, max_length=2000)
    phone: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    notify: Literal["sms", "whatsapp", "none"] = "sms"

    @field_validator("phone", "name", "address", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return None if v is None else normalise_phone(v)

    @model_validator(mode="after")
    def _pair(self) -> WebReportIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        return self


class ReportReceipt(BaseModel):
    ticket: str
    tracking_url: str
