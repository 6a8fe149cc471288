"""Citizen report bodies: what gateways send, and what the call-taker's queue reads and does."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from siaga112.calls.schemas import TRANSFER_TARGETS
from siaga112.db import UtcMoment
from siaga112.incidents.schemas import TYPE_CODE, LocationIn, Strict


class SmsIn(Strict):
    """An HTTP SMS gateway's delivery of one inbound SMS."""

    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    message_id: str = Field(min_length=1, max_length=160)
    received_at: UtcMoment | None = None


class ReportRead(BaseModel):
    id: str
    ticket: str
    channel: str
    status: str
    reporter_phone: str | None
    reporter_name: str | None
    text: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    address: str | None
    location_source: str | None
    blocked: bool
    incident_id: str | None
    outcome: str | None
    received_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ReportPage(BaseModel):
    items: list[ReportRead]


class ReportVerify(Strict):
    """Verify into a new incident (fields override the report's), or link to an open one."""

    incident_id: str | None = Field(default=None, max_length=36)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    type_code: str | None = Field(default=None, pattern=TYPE_CODE)
    priority: int | None = Field(default=None, ge=1, le=4)
    location: LocationIn | None = None


class ReportClose(Strict):
    outcome: Literal["information", "prank", "silent", "misdial", "out_of_area"]
    transferred_to: Literal[TRANSFER_TARGETS] | None = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=2000)


class InboundResult(BaseModel):
    kind: Literal["report", "aml", "opt_out", "opt_in", "alert_opt_in", "ignored"]
    ticket: str | None = None
    report_id: str | None = None
    duplicate: bool = False
    aml_valid: bool | None = None
