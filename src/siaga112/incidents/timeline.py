"""The incident's timeline: what happened, when, by whom; public entries reach the reporter."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from siaga112.auth.principal import Principal
from siaga112.fastsql import FastInsert
from siaga112.models import timeline_entries

INSERT_TIMELINE = FastInsert(timeline_entries)
# Timeline text is read by people (and by the reporter, for public entries): words, not codes.
ROLE_WORDS = {"lead": "pemimpin", "support": "pendukung"}
STATUS_WORDS = {"new": "baru", "dispatched": "unit dikirim", "on_scene": "di lokasi",
                "resolved": "tertangani", "closed": "ditutup", "cancelled": "dibatalkan"}


def append_timeline(conn: Connection, incident_id: str, kind: str, *, who: Principal | None,
                    at: datetime, text: str | None = None, public: bool = False,
                    agency_code: str | None = None, data: dict | None = None) -> None:
    INSERT_TIMELINE.execute(conn, {
        "incident_id": incident_id, "at": at, "actor_id": who.user_id if who else None,
        "kind": kind, "text": text, "public": public, "agency_code": agency_code, "data": data})
