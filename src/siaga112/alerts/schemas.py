"""Alert bodies: what BPBD writes, and what anyone may read back (never personal data)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from siaga112.db import UtcMoment
from siaga112.incidents.schemas import Strict

# CAP 1.2 value lists (OASIS CAP 1.2, section 3.2.2).
Category = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
                   "Infra", "CBRNE", "Other"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
ResponseType = Literal["Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                       "AllClear", "None"]
AlertStatus = Literal["Actual", "Exercise", "Test"]


class AreaIn(Strict):
    codes: list[str] = Field(default_factory=list, max_length=60,
                             description="kecamatan or desa codes, e.g. 64.09.04 or 64.09.04.1005")
    polygon: list[list[float]] | None = Field(default=None, description="[[lat, lon], ...] drawn on the map")


class AlertContent(Strict):
    """What an alert says. Left out when raised from an incident: worded from its type and place."""

    event: str | None = Field(default=None, min_length=3, max_length=120)
    category: Category | None = None
    urgency: Urgency = "Expected"
    severity: Severity = "Moderate"
    certainty: Certainty = "Likely"
    response_type: ResponseType | None = None
    headline: str | None = Field(default=None, min_length=5, max_length=160)
    description: str | None = Field(default=None, min_length=5, max_length=2000)
    instruction: str | None = Field(default=None, max_length=1000)
    onset: UtcMoment | None = None
    expires: UtcMoment | None = None
    areas: AreaIn | None = None
    status: AlertStatus = "Actual"
    broadcast: bool = True

    @field_validator("onset", "expires")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        # A year a database column cannot hold once turned to UTC is a typo, not a warning.
        if value is not None and not 2000 <= value.year <= 2200:
            raise ValueError("a date between the years 2000 and 2200")
        return value


class AlertCreate(AlertContent):
    incident_id: str | None = Field(default=None, max_length=36)


class AlertCancel(Strict):
    note: str = Field(min_length=3, max_length=500)
    broadcast: bool = True


class AlertRead(BaseModel):
    id: str
    code: str
    identifier: str
    msg_type: str
    status: str
    sent_at: datetime
    references: str | None
    superseded_at: datetime | None
    current: bool
    event: str
    category: str
    urgency: str
    severity: str
    certainty: str
    response_type: str | None
    headline: str
    description: str
    instruction: str | None
    onset_at: datetime | None
    expires_at: datetime | None
    area_desc: str
    area_codes: list[str]
    polygon: list[list[float]] | None
    desa_codes: list[str]
    incident_ticket: str | None
    recipients: int
    cap_url: str
    page_url: str


class AlertSubscriptionIn(Strict):
    phone: str = Field(min_length=6, max_length=32)
    channel: Literal["sms", "whatsapp"] = "sms"
    area_code: str = Field(min_length=5, max_length=16)
