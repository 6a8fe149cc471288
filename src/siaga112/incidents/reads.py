"""Reading incidents: one with its timeline, or a page of them, only as far as the reader may see."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from siaga112.audit import service as audit
from siaga112.auth.permissions import readable_incidents, sees_caller, sees_other_agencies_notes
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.errors import InvalidField, NotFound
from siaga112.incidents.schemas import (
    AssignmentRead,
    CallerRead,
    ClassificationRead,
    IncidentPage,
    IncidentRead,
    LinkedCallRead,
    LocationRead,
    TimelineEntryRead,
)
from siaga112.models import assignments, calls, incidents, timeline_entries, users


def to_read(who: Principal, row: Any, assignment_rows: list[Any],
             timeline_rows: list[Any] | None = None, *, caller: bool = True,
             linked_rows: list[Any] | None = None) -> IncidentRead:
    roles = {a.agency_code: a.role for a in assignment_rows}
    show_caller = caller and sees_caller(who, roles)
    confidence = row.classification_confidence
    return IncidentRead(
        id=row.id, ticket=row.ticket, status=row.status, type_code=row.type_code,
        priority=row.priority, description=row.description, channel=row.channel,
        kecamatan_code=row.kecamatan_code, desa_code=row.desa_code,
        location=LocationRead(lat=row.lat, lon=row.lon, address=row.address,
                              desa_code=row.desa_code, kecamatan_code=row.kecamatan_code,
                              source=row.location_source, out_of_area=row.out_of_area),
        caller=CallerRead(phone=row.caller_phone, name=row.caller_name) if show_caller else None,
        classification=None if confidence is None else ClassificationRead(
            type_code=row.classified_type, confidence=confidence,
            alternatives=list(row.classification_alternatives or [])),
        assignments=[AssignmentRead.model_validate(a, from_attributes=True) for a in assignment_rows],
        attention=row.attention, created_at=row.created_at, updated_at=row.updated_at,
        closed_at=row.closed_at,
        linked_calls=None if linked_rows is None or not show_caller else [
            LinkedCallRead(at=c.received_at, phone=c.caller_phone, name=c.caller_name, said=c.note)
            for c in linked_rows],
        timeline=None if timeline_rows is None else [
            TimelineEntryRead(at=t.at, kind=t.kind, text=t.text, public=t.public,
                              agency_code=t.agency_code, actor=t.username) for t in timeline_rows])


def assignment_rows(conn: Connection, incident_ids: list[str]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {i: [] for i in incident_ids}
    if incident_ids:
        for a in conn.execute(select(assignments).where(assignments.c.incident_id.in_(incident_ids))
                              .order_by(assignments.c.id)):
            rows[a.incident_id].append(a)
    return rows


def load_visible(ctx: Context, who: Principal, incident_id: str, *, conn: Connection,
                 lock: bool = False) -> Any:
    """The incident row if `who` may see it; 404 otherwise, whether it exists or not."""
    query = select(incidents).where(incidents.c.id == incident_id, readable_incidents(who))
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=incidents)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("incident not found")
    return row


def get_incident(ctx: Context, who: Principal, incident_id: str, *, conn: Connection,
                 with_timeline: bool = False) -> IncidentRead:
    row = load_visible(ctx, who, incident_id, conn=conn)
    timeline = None
    if with_timeline:
        query = (select(timeline_entries, users.c.username)
                 .outerjoin(users, users.c.id == timeline_entries.c.actor_id)
                 .where(timeline_entries.c.incident_id == incident_id)
                 .order_by(timeline_entries.c.id))
        if not sees_other_agencies_notes(who):
            # Notes of other agencies stay theirs; public entries and routing are shared.
            query = query.where(or_(timeline_entries.c.kind != "note", timeline_entries.c.public,
                                    timeline_entries.c.agency_code == who.agency_code))
        timeline = list(conn.execute(query).all())
    linked = None
    if with_timeline:
        linked = list(conn.execute(select(calls.c.received_at, calls.c.caller_phone, calls.c.caller_name,
                                          calls.c.note)
                                   .where(calls.c.incident_id == incident_id, calls.c.outcome == "duplicate")
                                   .order_by(calls.c.received_at)).all())
    return to_read(who, row, assignment_rows(conn, [incident_id])[incident_id], timeline,
                   linked_rows=linked)


def read_incident(ctx: Context, who: Principal, incident_id: str) -> IncidentRead:
    """One incident with its timeline; a view that shows the caller is audited before it is shown."""
    with ctx.db.transaction(write=False) as conn:
        incident = get_incident(ctx, who, incident_id, conn=conn, with_timeline=True)
    if incident.caller is not None and (incident.caller.phone or incident.caller.name):
        with ctx.db.transaction() as conn:
            audit.record(conn, who, "incident.viewed", "incident", incident_id,
                         detail={"ticket": incident.ticket})
    return incident


def _encode_cursor(created_at: datetime, incident_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{incident_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, incident_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, incident_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidField("cursor", "malformed cursor") from None


def list_incidents(ctx: Context, who: Principal, *, conn: Connection, status: str | None = None,
                   agency_code: str | None = None, type_code: str | None = None,
                   attention: bool | None = None, since: datetime | None = None,
                   limit: int = 50, cursor: str | None = None) -> IncidentPage:
    """Newest first, only what `who` may see, paged by an opaque cursor."""
    query = select(incidents).where(readable_incidents(who))
    if status:
        query = query.where(incidents.c.status.in_(status.split(",")))
    if type_code:
        query = query.where(incidents.c.type_code == type_code)
    if attention is not None:
        query = query.where(incidents.c.attention.is_not(None) if attention
                            else incidents.c.attention.is_(None))
    if since is not None:
        query = query.where(incidents.c.created_at >= since)
    if agency_code:
        query = query.where(incidents.c.id.in_(
            select(assignments.c.incident_id).where(assignments.c.agency_code == agency_code)))
    if cursor:
        at, last_id = _decode_cursor(cursor)
        query = query.where(or_(incidents.c.created_at < at,
                                and_(incidents.c.created_at == at, incidents.c.id < last_id)))
    rows = conn.execute(query.order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
                        .limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    by_incident = assignment_rows(conn, [r.id for r in page])
    # Lists never carry the caller: a queue or map needs the situation, and each view of a
    # caller's identity is then one audited read of one incident (read_incident).
    return IncidentPage(items=[to_read(who, r, by_incident[r.id], caller=False) for r in page],
                        next_cursor=_encode_cursor(page[-1].created_at, page[-1].id) if more else None)


def find_by_ticket(ctx: Context, who: Principal, ticket: str, *, conn: Connection) -> str | None:
    """The id of the incident with this ticket, if `who` may see it."""
    return conn.execute(select(incidents.c.id).where(incidents.c.ticket == ticket,
                                                     readable_incidents(who))).scalar()
