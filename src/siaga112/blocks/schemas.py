"""Number block bodies."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from siaga112.incidents.schemas import Strict


class BlockAuditRead(BaseModel):
    action: str
    at: datetime
    note: str | None
    actor: str | None


class BlockRead(BaseModel):
    id: int
    phone: str
    status: str
    reason: str
    counts: dict[str, int]
    proposed_at: datetime
    confirmed_at: datetime | None
    expires_at: datetime | None
    ended_at: datetime | None
    audit: list[BlockAuditRead]


class BlockPropose(Strict):
    phone: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=3, max_length=500)


class BlockDecision(Strict):
    note: str | None = Field(default=None, max_length=500)


class BlockRelease(Strict):
    note: str = Field(min_length=3, max_length=500)
