"""Out of area: the call or incident is recorded as transferred, with an EIDD-style record."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import require_staff
from siaga112.auth.principal import Principal
from siaga112.calls.schemas import CallCreate
from siaga112.calls.service import record_call
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict, NotFound
from siaga112.handover.schemas import HandoverCreate, HandoverRead
from siaga112.inbound.schemas import ReportClose
from siaga112.inbound.service import close_report
from siaga112.incidents.reads import load_visible
from siaga112.incidents.service import set_incident_status
from siaga112.interop import eidd
from siaga112.interop.eidd import TARGET_NAMES
from siaga112.models import call_sessions, calls, citizen_reports, handovers, incident_types, timeline_entries
from siaga112.models.status import OPEN_INCIDENT, IncidentStatus


def _session(conn: Connection, session_id: str | None) -> Any:
    if not session_id:
        return None
    row = conn.execute(select(call_sessions).where(call_sessions.c.id == session_id)).first()
    if row is None:
        raise NotFound("call not found")
    return row


def _call_part(call_id: str | None, channel: str, phone: str | None, session: Any) -> dict[str, Any]:
    return {"callIdentifier": call_id, "callType": channel, "callbackNumber": phone,
            "trunk": session.trunk if session is not None else None,
            "callStartTimeStamp": session.ringing_at.isoformat() if session is not None else None,
            "answeredTimeStamp": (session.answered_at.isoformat()
                                  if session is not None and session.answered_at else None)}


def create_handover(ctx: Context, who: Principal, data: HandoverCreate, *, conn: Connection) -> HandoverRead:
    require_staff(who, "hand calls over")
    now = utcnow()
    handover_id = str(uuid.uuid4())
    session = _session(conn, data.call_session_id)
    reason = data.note or f"di luar wilayah PPU; dialihkan ke {TARGET_NAMES[data.target]}"
    call_id = incident_id = report_id = None
    incident_part: dict[str, Any] | None = None
    location: dict[str, Any] | None
    notes: list[dict[str, Any]] = []
    if data.incident_id:
        row = load_visible(ctx, who, data.incident_id, conn=conn, lock=True)
        if row.status not in OPEN_INCIDENT or row.status == "on_scene":
            raise Conflict(f"a {row.status} incident cannot be handed over")
        set_incident_status(ctx, conn, who, row, IncidentStatus.CANCELLED, now=now,
                            note=f"dialihkan ke {TARGET_NAMES[data.target]}")
        incident_id, tracking = row.id, row.ticket
        type_name = conn.execute(select(incident_types.c.name_en).where(
            incident_types.c.code == row.type_code)).scalar()
        incident_part = {"incidentTypeCode": row.type_code, "incidentTypeText": type_name,
                         "priority": row.priority, "createdTimeStamp": row.created_at.isoformat()}
        phone, name, channel, description = row.caller_phone, row.caller_name, row.channel, row.description
        location = {"latitude": row.lat, "longitude": row.lon, "civicAddressText": row.address,
                    "desaCode": row.desa_code, "kecamatanCode": row.kecamatan_code,
                    "source": row.location_source}
        call_id = conn.execute(select(calls.c.id).where(calls.c.incident_id == row.id)
                               .order_by(calls.c.received_at).limit(1)).scalar()
        notes = [{"noteText": t.text, "noteDateTime": t.at.isoformat()}
                 for t in conn.execute(select(timeline_entries.c.text, timeline_entries.c.at).where(
                     timeline_entries.c.incident_id == row.id, timeline_entries.c.kind == "note"))]
    elif data.report_id:
        report = conn.execute(select(citizen_reports).where(citizen_reports.c.id == data.report_id)).first()
        if report is None:
            raise NotFound("report not found")
        close_report(ctx, who, report.id, ReportClose(outcome="out_of_area", transferred_to=data.target,
                                                      note=data.note), conn=conn)
        report_id, tracking = report.id, report.ticket
        phone, name, channel, description = (report.reporter_phone, report.reporter_name,
                                             report.channel, report.text)
        location = {"latitude": report.lat, "longitude": report.lon, "civicAddressText": report.address,
                    "uncertaintyRadius": report.accuracy_m, "source": report.location_source}
    else:
        caller = data.caller
        if caller is None and session is not None and session.caller_phone:
            from siaga112.incidents.schemas import CallerIn

            caller = CallerIn(phone=session.caller_phone)
        call = record_call(ctx, who, CallCreate(
            channel="call", caller=caller, outcome="out_of_area", transferred_to=data.target,
            note=data.note, received_at=session.ringing_at if session is not None else None,
            answered_at=session.answered_at if session is not None else None), conn=conn)
        call_id, tracking = call.id, call.id
        phone, name = (caller.phone, caller.name) if caller else (None, None)
        channel, description = "call", data.description
        loc = data.location
        location = {"latitude": loc.lat, "longitude": loc.lon, "civicAddressText": loc.address} if loc else None
    if session is not None:
        conn.execute(update(call_sessions).where(call_sessions.c.id == session.id).values(
            call_id=call_id if call_id and not incident_id else session.call_id,
            incident_id=incident_id or session.incident_id, updated_at=now))
    document = eidd.build(
        handover_id=handover_id, target=data.target, at=now, reason=reason, tracking_id=tracking,
        incident=incident_part, call=_call_part(call_id, channel, phone, session),
        caller={"name": name, "phone": phone} if phone or name else None,
        location=location, description=description or data.description, notes=notes)
    conn.execute(insert(handovers).values(
        id=handover_id, target=data.target, call_id=call_id, incident_id=incident_id,
        report_id=report_id, call_session_id=session.id if session is not None else None,
        note=data.note, created_by=who.user_id, created_at=now, document=document))
    return get_handover(ctx, who, handover_id, conn=conn)


def _audit_view(ctx: Context, conn: Connection, who: Principal, found: HandoverRead) -> None:
    """The record names the caller (its EIDD person component): showing it is an audited view,
    named in the trail by the number's keyed digest (needs a write transaction)."""
    for person in found.document.get("personComponent") or []:
        if person.get("phone"):
            audit.record(conn, who, "handover.viewed", "caller",
                         audit.caller_ref(ctx.settings, person["phone"]), detail={"handover": found.id})
        elif person.get("name"):
            audit.record(conn, who, "handover.viewed", "handover", found.id)


def get_handover(ctx: Context, who: Principal, handover_id: str, *, conn: Connection) -> HandoverRead:
    """One hand-over with its caller: an audited view (needs a write transaction)."""
    require_staff(who, "read hand-overs")
    row = conn.execute(select(handovers).where(handovers.c.id == handover_id)).first()
    if row is None:
        raise NotFound("hand-over not found")
    found = HandoverRead.model_validate(row, from_attributes=True)
    _audit_view(ctx, conn, who, found)
    return found


def list_handovers(ctx: Context, who: Principal, *, conn: Connection, limit: int = 50) -> list[HandoverRead]:
    """Hand-overs, newest first; each caller shown is an audited view (a write transaction)."""
    require_staff(who, "read hand-overs")
    rows = conn.execute(select(handovers).order_by(handovers.c.created_at.desc()).limit(limit)).all()
    found = [HandoverRead.model_validate(r, from_attributes=True) for r in rows]
    for h in found:
        _audit_view(ctx, conn, who, h)
    return found
