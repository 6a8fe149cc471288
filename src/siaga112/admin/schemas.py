"""What the administration forms accept; SOP rules are checked by the SOP checker, not here."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from siaga112.auth.principal import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyUpdate(Strict):
    name: str = Field(min_length=1, max_length=200)
    active: bool


class UserCreate(Strict):
    # Letters, digits and . _ - : what people type at the login form without surprises.
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    full_name: str | None = Field(default=None, max_length=200)
    role: Role
    agency_code: str | None = Field(default=None, max_length=32)


class UserChange(Strict):
    full_name: str | None = Field(default=None, max_length=200)
    role: Role
    agency_code: str | None = Field(default=None, max_length=32)


class IncidentTypeUpdate(Strict):
    name_id: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    priority: int
    lead: str | None = Field(default=None, max_length=32)
    support: list[str] = Field(default_factory=list, max_length=40)


class PriorityUpdate(Strict):
    label_id: str = Field(min_length=1, max_length=200)
    label_en: str = Field(min_length=1, max_length=200)
    ack_seconds: int
    dispatch_seconds: int
