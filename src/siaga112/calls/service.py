"""Call actions: record a contact's outcome, link a second caller, read a number's history."""
from __future__ import annotations

import uuid

from sqlalchemy import Connection, func, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import readable_incidents, require_incident_creator, require_staff
from siaga112.auth.principal import Principal
from siaga112.calls.schemas import CallCreate, CallerHistory, CallRead, OpenIncidentBrief
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict
from siaga112.events.payloads import IncidentUpdated
from siaga112.incidents.announce import announce_incident
from siaga112.incidents.reads import load_visible
from siaga112.incidents.timeline import append_timeline
from siaga112.models import calls, incidents
from siaga112.models.status import OPEN_INCIDENT
from siaga112.phone import normalise_phone


def record_call(ctx: Context, who: Principal, data: CallCreate, *, conn: Connection) -> CallRead:
    """A contact that creates no incident; a duplicate is linked to the incident it reports."""
    require_incident_creator(who, "record calls")
    now = utcnow()
    if data.outcome == "duplicate" and data.incident_id is not None:
        incident = load_visible(ctx, who, data.incident_id, conn=conn)
        if incident.status not in OPEN_INCIDENT:
            raise Conflict(f"incident {incident.ticket} is {incident.status}; record a new one")
        append_timeline(conn, incident.id, "caller_linked", who=who, at=now,
                        text="penelepon lain melaporkan kejadian yang sama")
        conn.execute(update(incidents).where(incidents.c.id == incident.id).values(updated_at=now))
        announce_incident(ctx, conn, who, incident.id, IncidentUpdated, change="caller_linked")
    call_id = str(uuid.uuid4())
    values = dict(
        id=call_id, channel=data.channel, caller_phone=data.caller.phone if data.caller else None,
        caller_name=data.caller.name if data.caller else None, received_at=data.received_at or now,
        answered_at=data.answered_at, ended_at=data.ended_at or now, outcome=data.outcome,
        incident_id=data.incident_id, transferred_to=data.transferred_to, note=data.note,
        taken_by=who.user_id, created_at=now)
    conn.execute(insert(calls).values(**values))
    audit.record(conn, who, "call.recorded", "call", call_id,
                 detail={"outcome": data.outcome, "channel": data.channel,
                         **({"incident_id": data.incident_id} if data.incident_id else {})})
    return CallRead.model_validate(values)


def caller_history(ctx: Context, who: Principal, raw_phone: str, *, conn: Connection,
                   limit: int = 20) -> CallerHistory:
    """What the call-taker needs the moment a number rings: earlier calls, open incidents, pranks."""
    # Staff only: a gateway creates calls but has no business reading a number's past.
    require_staff(who, "read caller history")
    phone = normalise_phone(raw_phone)
    recent = conn.execute(select(calls).where(calls.c.caller_phone == phone)
                          .order_by(calls.c.received_at.desc()).limit(limit)).all()
    counts: dict[str, int] = dict(conn.execute(
        select(calls.c.outcome, func.count()).where(calls.c.caller_phone == phone)
        .group_by(calls.c.outcome)).all())
    open_rows = conn.execute(select(incidents.c.id, incidents.c.ticket, incidents.c.type_code,
                                    incidents.c.status, incidents.c.created_at)
                             .where(incidents.c.caller_phone == phone,
                                    incidents.c.status.in_(sorted(OPEN_INCIDENT)), readable_incidents(who))
                             .order_by(incidents.c.created_at.desc())).all()
    # The number itself never enters the audit trail; its keyed digest finds these entries.
    audit.record(conn, who, "caller.history_viewed", "caller",
                 audit.caller_ref(ctx.settings, phone),
                 detail={"calls": len(recent)})
    return CallerHistory(
        phone=phone,
        calls=[CallRead.model_validate(r, from_attributes=True) for r in recent],
        open_incidents=[OpenIncidentBrief.model_validate(r, from_attributes=True) for r in open_rows],
        outcome_counts={k: int(v) for k, v in counts.items()})
