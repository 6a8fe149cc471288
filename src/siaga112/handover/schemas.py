"""Hand-over bodies: an out-of-area call or incident transferred to another centre."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from siaga112.calls.schemas import TRANSFER_TARGETS
from siaga112.incidents.schemas import CallerIn, LocationIn, Strict


class HandoverCreate(Strict):
    """One of incident_id or report_id, or neither for a call that never became either."""

    target: Literal[TRANSFER_TARGETS]  # type: ignore[valid-type]
    incident_id: str | None = Field(default=None, max_length=36)
    report_id: str | None = Field(default=None, max_length=36)
    call_session_id: str | None = Field(default=None, max_length=36)
    caller: CallerIn | None = None
    location: LocationIn | None = None
    description: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_source(self) -> HandoverCreate:
        if self.incident_id and self.report_id:
            raise ValueError("report_id: give an incident or a report, not both")
        return self


class HandoverRead(BaseModel):
    id: str
    target: str
    call_id: str | None
    incident_id: str | None
    report_id: str | None
    call_session_id: str | None
    created_at: datetime
    document: dict[str, Any]
