"""Audit trail bodies."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AuditEntryRead(BaseModel):
    entry: int
    # Place in the hash chain; null for the moment between commit and sealing (PostgreSQL).
    id: int | None
    at: datetime
    actor: str
    role: str | None
    agency_code: str | None
    action: str
    target_type: str
    target_id: str | None
    remote: str | None
    detail: dict
    hash: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None
