"""Telephony bodies: call events from the PBX, the live call a call-taker sees, and call KPIs."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from siaga112.calls.schemas import TRANSFER_TARGETS, CallerHistory, NonEmergencyOutcome
from siaga112.db import UtcMoment
from siaga112.incidents.schemas import Strict


class CallEventIn(Strict):
    """One event of one call, as the PBX (or the Asterisk bridge) reports it."""

    call_id: str = Field(min_length=1, max_length=160)
    event: Literal["ringing", "answered", "ended", "abandoned"]
    caller: str | None = Field(default=None, max_length=32)  # absent or withheld: unknown
    trunk: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=64)  # username of who answered
    at: UtcMoment | None = None


class AmlRead(BaseModel):
    id: int
    form: str
    received_at: datetime
    lat: float | None
    lon: float | None
    radius_m: float | None
    positioned_at: datetime | None
    confidence: int | None
    method: str | None
    valid: bool
    problems: list[str]


class CallSessionRead(BaseModel):
    id: str
    external_id: str
    trunk: str | None
    caller_phone: str | None
    state: str
    blocked: bool
    ringing_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    answered_by: str | None
    call_id: str | None
    incident_id: str | None
    answer_seconds: float | None
    duration_seconds: float | None
    location: AmlRead | None = None
    block: dict[str, Any] | None = None
    history: CallerHistory | None = None


class SessionOutcome(Strict):
    outcome: NonEmergencyOutcome
    incident_id: str | None = Field(default=None, max_length=36)
    transferred_to: Literal[TRANSFER_TARGETS] | None = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=2000)


class SessionLink(Strict):
    incident_id: str = Field(min_length=1, max_length=36)


class AmlAccepted(BaseModel):
    id: int
    valid: bool
    problems: list[str]
    call_session_id: str | None


class CallKpis(BaseModel):
    """NENA / NFPA / EENA call-answering figures over a period."""

    since: datetime
    until: datetime
    offered: int
    answered: int
    abandoned: int
    abandon_rate: float | None
    mean_answer_seconds: float | None
    answered_within_10s: float | None
    answered_within_15s: float | None
    answered_within_20s: float | None
    slowest_10pct_mean_seconds: float | None
    mean_duration_seconds: float | None
