"""Live calls from the telephony: screen pop for who answers, the phone's own location, KPIs.

The PBX reports each call's ringing, answered, ended (or abandoned) by webhook. Events may
arrive twice or out of order; each is applied once and a call never goes back a state.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import require_call_kpi_reader, require_staff
from siaga112.auth.principal import Principal
from siaga112.blocks.service import active_block, block_note, consider_number
from siaga112.calls.schemas import CallCreate
from siaga112.calls.service import caller_history, record_call
from siaga112.context import Context
from siaga112.db import load_row, utcnow
from siaga112.errors import Conflict, InvalidField
from siaga112.events import record_event
from siaga112.events.payloads import CallAnswered, CallEnded, CallRinging, CallSessionChange
from siaga112.incidents.reads import load_visible
from siaga112.incidents.schemas import CallerIn
from siaga112.models import aml_locations, call_sessions, users
from siaga112.phone import mask_phone, normalise_phone
from siaga112.telephony.schemas import AmlRead, CallEventIn, CallKpis, CallSessionRead, SessionOutcome

_ORDER = {"ringing": 0, "answered": 1, "ended": 2, "abandoned": 2}


def _phone_or_none(raw: str | None) -> str | None:
    """Withheld and unparseable numbers are recorded as unknown, never refused: it is a 112 call."""
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except ValueError:
        return None


def _summary(row: Any) -> dict[str, Any]:
    return {"session_id": row.id, "trunk": row.trunk, "state": row.state, "blocked": row.blocked,
            "caller_masked": mask_phone(row.caller_phone), "ringing_at": row.ringing_at,
            "answered_at": row.answered_at, "ended_at": row.ended_at}


def call_event(ctx: Context, conn: Connection, ev: CallEventIn) -> Any:
    """Apply one telephony event; returns the session row as it now stands."""
    at = ev.at or utcnow()
    query = select(call_sessions).where(call_sessions.c.external_id == ev.call_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        phone = _phone_or_none(ev.caller)
        blocked = active_block(conn, phone, now=at) is not None
        session_id = str(uuid.uuid4())
        conn.execute(call_sessions.insert().values(
            id=session_id, external_id=ev.call_id, trunk=ev.trunk, caller_phone=phone,
            state="ringing", blocked=blocked, ringing_at=at, updated_at=utcnow()))
        row = conn.execute(select(call_sessions).where(call_sessions.c.id == session_id)).one()
        record_event(conn, ctx.db, CallRinging(**_summary(row)))
        if phone:
            consider_number(ctx, conn, phone, now=at)
    if ev.event == "ringing" or _ORDER[ev.event] <= _ORDER[row.state]:
        return row  # a repeat or a late event: the call is already past it
    values: dict[str, Any] = {"updated_at": utcnow()}
    payload: type[CallSessionChange] = CallEnded
    extra: dict[str, Any] = {}
    if ev.event == "answered":
        agent_id = None
        if ev.agent:
            agent_id = conn.execute(select(users.c.id).where(users.c.username == ev.agent)).scalar()
            if agent_id is None:
                raise InvalidField("agent", "unknown agent username")
        values.update(state="answered", answered_at=at, answered_by=agent_id)
        payload, extra = CallAnswered, {"answered_by": ev.agent}
    elif ev.event in ("ended", "abandoned"):
        # Hung up before anyone answered: abandoned, whatever the PBX called it.
        state = "ended" if row.state == "answered" and ev.event == "ended" else "abandoned"
        values.update(state=state, ended_at=at)
    conn.execute(update(call_sessions).where(call_sessions.c.id == row.id).values(**values))
    row = conn.execute(select(call_sessions).where(call_sessions.c.id == row.id)).one()
    record_event(conn, ctx.db, payload(**_summary(row), **extra))
    return row


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else round((b - a).total_seconds(), 3)


def _read(conn: Connection, row: Any) -> CallSessionRead:
    agent = None
    if row.answered_by:
        agent = conn.execute(select(users.c.username).where(users.c.id == row.answered_by)).scalar()
    location = None
    if row.aml_id:
        aml = conn.execute(select(aml_locations).where(aml_locations.c.id == row.aml_id)).first()
        if aml is not None:
            location = AmlRead.model_validate(aml, from_attributes=True)
    return CallSessionRead(
        id=row.id, external_id=row.external_id, trunk=row.trunk, caller_phone=row.caller_phone,
        state=row.state, blocked=row.blocked, ringing_at=row.ringing_at, answered_at=row.answered_at,
        ended_at=row.ended_at, answered_by=agent, call_id=row.call_id, incident_id=row.incident_id,
        answer_seconds=_seconds(row.ringing_at, row.answered_at),
        duration_seconds=_seconds(row.answered_at, row.ended_at), location=location)


def _load(conn: Connection, session_id: str, *, lock: bool = False) -> Any:
    return load_row(conn, call_sessions, session_id, missing="call not found", lock=lock)


def get_session(ctx: Context, who: Principal, session_id: str, *, conn: Connection) -> CallSessionRead:
    """The new-call screen: the number, its history and any block, and the phone's position."""
    require_staff(who, "read calls")
    row = _load(conn, session_id)
    read = _read(conn, row)
    if row.caller_phone:
        read.history = caller_history(ctx, who, row.caller_phone, conn=conn)
        read.block = block_note(conn, row.caller_phone)
    return read


def list_sessions(ctx: Context, who: Principal, *, conn: Connection, state: str | None,
                  limit: int = 50, shows_caller: bool = True) -> list[CallSessionRead]:
    """Calls, newest first. Each caller number shown is an audited view (a write transaction);
    the call-taker's waiting list, which shows no number, passes `shows_caller=False`."""
    require_staff(who, "read calls")
    query = select(call_sessions)
    if state:
        query = query.where(call_sessions.c.state.in_(state.split(",")))
    rows = conn.execute(query.order_by(call_sessions.c.ringing_at.desc()).limit(limit)).all()
    if shows_caller:
        for r in rows:
            if r.caller_phone:
                audit.record(conn, who, "call_session.viewed", "caller",
                             audit.caller_ref(ctx.settings, r.caller_phone), detail={"session": r.id})
    return [_read(conn, r) for r in rows]


def record_outcome(ctx: Context, who: Principal, session_id: str, data: SessionOutcome, *,
                   conn: Connection) -> CallSessionRead:
    """The call-taker's outcome for a call that made no new incident, with the PBX's times."""
    require_staff(who, "record calls")
    row = _load(conn, session_id, lock=True)
    if row.call_id or row.incident_id:
        raise Conflict("this call already has its outcome")
    caller = CallerIn(phone=row.caller_phone) if row.caller_phone else None
    call = record_call(ctx, who, CallCreate(
        channel="call", caller=caller, outcome=data.outcome, incident_id=data.incident_id,
        transferred_to=data.transferred_to, note=data.note, received_at=row.ringing_at,
        answered_at=row.answered_at, ended_at=row.ended_at), conn=conn)
    conn.execute(update(call_sessions).where(call_sessions.c.id == row.id)
                 .values(call_id=call.id, updated_at=utcnow()))
    if data.outcome in ("prank", "silent"):
        consider_number(ctx, conn, row.caller_phone)
    return _read(conn, _load(conn, row.id))


def link_incident(ctx: Context, who: Principal, session_id: str, incident_id: str, *,
                  conn: Connection) -> CallSessionRead:
    """The call became (or joined) this incident."""
    require_staff(who, "record calls")
    row = _load(conn, session_id, lock=True)
    load_visible(ctx, who, incident_id, conn=conn)
    if row.incident_id and row.incident_id != incident_id:
        raise Conflict("this call is linked to another incident")
    conn.execute(update(call_sessions).where(call_sessions.c.id == row.id)
                 .values(incident_id=incident_id, updated_at=utcnow()))
    return _read(conn, _load(conn, row.id))


def kpis(ctx: Context, who: Principal, *, conn: Connection, since: datetime,
         until: datetime) -> CallKpis:
    """Answer times and abandonment over calls that rang in [since, until)."""
    # The 112 floor's answer times are no agency's: staff and viewers of everything only.
    require_call_kpi_reader(who)
    rows = conn.execute(select(call_sessions.c.state, call_sessions.c.ringing_at,
                               call_sessions.c.answered_at, call_sessions.c.ended_at)
                        .where(call_sessions.c.ringing_at >= since, call_sessions.c.ringing_at < until,
                               call_sessions.c.state.in_(("ended", "abandoned", "answered")))).all()
    waits = sorted((r.answered_at - r.ringing_at).total_seconds() for r in rows if r.answered_at)
    durations = [(r.ended_at - r.answered_at).total_seconds() for r in rows if r.answered_at and r.ended_at]
    abandoned = sum(1 for r in rows if r.state == "abandoned")
    offered = len(rows)

    def share(limit: float) -> float | None:
        return round(sum(1 for w in waits if w <= limit) / len(waits), 4) if waits else None

    slowest = waits[-max(1, math.ceil(len(waits) / 10)):] if waits else []
    return CallKpis(
        since=since, until=until, offered=offered, answered=len(waits), abandoned=abandoned,
        abandon_rate=round(abandoned / offered, 4) if offered else None,
        mean_answer_seconds=round(sum(waits) / len(waits), 3) if waits else None,
        answered_within_10s=share(10), answered_within_15s=share(15), answered_within_20s=share(20),
        slowest_10pct_mean_seconds=round(sum(slowest) / len(slowest), 3) if slowest else None,
        mean_duration_seconds=round(sum(durations) / len(durations), 3) if durations else None)
