"""Incident actions: intake, reading, status, notes and re-routing under the SOP."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from siaga112.audit import service as audit
from siaga112.auth.permissions import (COMMAND_ROLES, CREATE_ROLES, readable_incidents,
                                       require_role, sees_caller)
from siaga112.auth.service import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.fastsql import FastInsert, InsertBatch
from siaga112.errors import Conflict, Forbidden, InvalidField, NotFound
from siaga112.geo.cells import cell_of, cells_within, degrees_around
from siaga112.geo.distance import distance_m
from siaga112.units.service import announce_unit
from siaga112.events import EventName, event_row, record_event, record_events
from siaga112.incidents.schemas import (AssignmentRead, CallerRead, ClassificationRead,
                                        DuplicateRead, IncidentCreate, IncidentPage, IncidentRead,
                                        LocationRead, TimelineEntryRead)
from siaga112.models import (assignments, calls, idempotency_keys, incidents, timeline_entries,
                             units, users)

OPEN_STATUSES = ("new", "dispatched", "on_scene")
TERMINAL_ASSIGNMENT = ("completed", "declined", "cancelled")
INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"dispatched", "on_scene", "resolved", "cancelled"}),
    "dispatched": frozenset({"on_scene", "resolved", "cancelled"}),
    "on_scene": frozenset({"resolved"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
# Types a second caller may describe differently for the same event (fire seen as smoke, a crash
# seen as a traffic jam); besides these, types sharing a lead agency count as related.
RELATED_FAMILIES = (
    {"FIRE-BLDG", "FIRE-LAND", "POWER"},
    {"TRAFFIC-ACC", "TRAFFIC-DISRUPT", "MED-EMERG"},
    {"FLOOD", "LANDSLIDE", "STORM-TREE", "WATER-RESCUE"},
    {"CRIME", "PUBLIC-ORDER", "VIOLENCE-WC"},
)
# Crockford-like alphabet without 0/O, 1/I/L: unambiguous when read over the phone.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_INSERT_INCIDENT = FastInsert(incidents)
_INSERT_CALL = FastInsert(calls)
_INSERT_ASSIGNMENT = FastInsert(assignments)
_INSERT_TIMELINE = FastInsert(timeline_entries)


@dataclass(frozen=True)
class IntakeResult:
    incident: IncidentRead
    created: bool


def new_ticket() -> str:
    """Eight random characters (~40 bits): short to read aloud, infeasible to guess."""
    chars = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def related_types(ctx: Context, type_code: str) -> set[str] | None:
    """Type codes that may describe the same event; None means any (OTHER is not yet known)."""
    if type_code == "OTHER":
        return None
    sop_types = ctx.sop.incident_types
    lead = sop_types[type_code].lead
    related = {type_code, "OTHER"}
    related |= {t.code for t in sop_types.values() if lead and t.lead == lead}
    for family in RELATED_FAMILIES:
        if type_code in family:
            related |= family
    return related


def audience(ctx: Context, agency_codes: Iterable[str]) -> set[str]:
    """Agencies that see an incident's events: those assigned, and always the command agency."""
    return {*agency_codes, ctx.sop.command_agency}


def _hash_request(data: IncidentCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Hot-path statements built once with bound parameters, so each request hits SQLAlchemy's cache.
_TICKET_TAKEN = select(incidents.c.id).where(incidents.c.ticket == bindparam("ticket"))
_NEARBY_OPEN = (select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.lat,
                       incidents.c.lon, incidents.c.created_at)
                .where(incidents.c.geo_cell.in_(bindparam("cells", expanding=True)),
                       incidents.c.created_at >= bindparam("since"),
                       incidents.c.lat.between(bindparam("lat0"), bindparam("lat1")),
                       incidents.c.lon.between(bindparam("lon0"), bindparam("lon1")),
                       # `status || ''` keeps SQLite's planner, which has no statistics on a new
                       # database, off the status index: the grid index is the selective one.
                       (incidents.c.status + "").in_(OPEN_STATUSES)))
_NEARBY_OPEN_OF_TYPES = _NEARBY_OPEN.where(incidents.c.type_code.in_(bindparam("types", expanding=True)))
_IDEMPOTENCY_ROW = select(idempotency_keys.c.request_hash, idempotency_keys.c.incident_id).where(
    idempotency_keys.c.user_id == bindparam("user_id"), idempotency_keys.c.key == bindparam("key"))
# RETURNING, not rowcount: psycopg reports -1 for INSERT .. ON CONFLICT through SQLAlchemy.
_CLAIM_KEY = {
    name: dialect.insert(idempotency_keys).on_conflict_do_nothing()
    .returning(idempotency_keys.c.key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _claim_idempotency_key(conn: Connection, who: Principal, key: str, request_hash: str,
                           incident_id: str) -> str | None:
    """Reserve the key for the incident about to be made, or return the one an earlier request made.

    On PostgreSQL a racing second INSERT waits for the first transaction and then sees its row,
    so two concurrent retries never both create; on SQLite writers are serialised already.
    """
    inserted = conn.execute(_CLAIM_KEY[conn.dialect.name], {
        "user_id": who.user_id, "key": key, "request_hash": request_hash, "incident_id": incident_id,
        "created_at": utcnow()})
    if inserted.first() is not None:
        return None
    row = conn.execute(_IDEMPOTENCY_ROW, {"user_id": who.user_id, "key": key}).one()
    if row.request_hash != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request body")
    return row.incident_id


def _resolve_location(ctx: Context, loc: Any) -> dict[str, Any]:
    gaz = ctx.gazetteer
    lat, lon, desa, source, out_of_area = loc.lat, loc.lon, None, "none", False
    kecamatan = None
    if loc.desa_code:
        place = gaz.place(loc.desa_code)
        if place is None or place.level != "desa":
            raise InvalidField(("location", "desa_code"), f"unknown desa/kelurahan code {loc.desa_code!r}")
        desa = place.code
    if lat is not None:
        located = gaz.locate(lat, lon)
        source = "point"
        if not located.inside_regency:
            out_of_area = True
        elif desa is None:
            desa = located.desa_code
    elif desa is not None:
        lat, lon = gaz.desa_centroid(desa)
        source = "desa"
    elif loc.address:
        place = gaz.match_address(loc.address)
        if place is not None:
            lat, lon, source = place.lat, place.lon, "address"
            desa = place.code if place.level == "desa" else None
            kecamatan = place.kecamatan_code
    if desa is not None:
        kecamatan = desa.rsplit(".", 1)[0]
    return {"lat": lat, "lon": lon, "address": loc.address, "desa_code": desa,
            "kecamatan_code": kecamatan, "location_source": source, "out_of_area": out_of_area}


def find_duplicates(ctx: Context, conn: Connection, *, type_code: str, lat: float | None,
                    lon: float | None, now: datetime, exclude_id: str | None = None) -> list[DuplicateRead]:
    """Open incidents of a related type within the radius and time window, nearest first."""
    if lat is None or lon is None:
        return []
    radius = ctx.settings.duplicate_radius_m
    since = now - timedelta(minutes=ctx.settings.duplicate_window_minutes)
    related = related_types(ctx, type_code)
    dlat, dlon = degrees_around(lat, radius)
    params = {"cells": cells_within(lat, lon, radius), "since": since, "lat0": lat - dlat,
              "lat1": lat + dlat, "lon0": lon - dlon, "lon1": lon + dlon}
    if related is None:
        rows = conn.execute(_NEARBY_OPEN, params)
    else:
        rows = conn.execute(_NEARBY_OPEN_OF_TYPES, {**params, "types": sorted(related)})
    # In a flood hundreds of open incidents share a few cells: rank plain tuples and build the
    # response for the ten shown only (measured in bench/duplicates.py).
    near = []
    for row in rows:
        if row.id == exclude_id:
            continue
        d = round(distance_m(lat, lon, row.lat, row.lon))
        if d <= radius:
            near.append((d, now - row.created_at, row))
    near.sort(key=lambda x: (x[0], x[1]))
    return [DuplicateRead(id=row.id, ticket=row.ticket, type_code=row.type_code, distance_m=d,
                          minutes_ago=int(age.total_seconds() // 60)) for d, age, row in near[:10]]


def append_timeline(conn: Connection, incident_id: str, kind: str, *, who: Principal | None,
                    at: datetime, text: str | None = None, public: bool = False,
                    agency_code: str | None = None, data: dict | None = None) -> None:
    _INSERT_TIMELINE.execute(conn, {
        "incident_id": incident_id, "at": at, "actor_id": who.user_id if who else None,
        "kind": kind, "text": text, "public": public, "agency_code": agency_code, "data": data})


def create_incident(ctx: Context, who: Principal, data: IncidentCreate, *, conn: Connection,
                    idempotency_key: str | None = None) -> IntakeResult:
    """Record an emergency: classify, place, route under the SOP, link the call, announce."""
    require_role(who, CREATE_ROLES, "create incidents")
    incident_id = str(uuid.uuid4())
    if idempotency_key is not None:
        earlier = _claim_idempotency_key(conn, who, idempotency_key, _hash_request(data), incident_id)
        if earlier is not None:
            incident = get_incident(ctx, who, earlier, conn=conn)
            if incident.caller is not None:
                audit.record(conn, who, "incident.viewed", "incident", earlier,
                             detail={"replayed": True})
            return IntakeResult(incident, created=False)

    sop = ctx.sop
    now = utcnow()
    classification = ctx.classifier.classify(data.description)
    attention = None
    if data.type_code is not None:
        itype = sop.incident_types.get(data.type_code)
        if itype is None:
            raise InvalidField("type_code", f"unknown incident type {data.type_code!r}")
        if not itype.lead:
            raise InvalidField("type_code", f"{data.type_code} is not an emergency type; record the "
                               "call with its outcome instead (POST /api/v1/calls)")
    else:
        itype = sop.incident_types.get(classification.type_code)
        if itype is None or not itype.lead:
            itype = sop.incident_types["OTHER"]
        if itype.code == "OTHER":
            attention = "unclassified"
    priority = data.priority or itype.priority
    place = _resolve_location(ctx, data.location)
    if place["out_of_area"]:
        attention = "out_of_area"
    # Other incidents' tickets are for staff; a gateway sees only what it created.
    duplicates = find_duplicates(ctx, conn, type_code=itype.code, lat=place["lat"],
                                 lon=place["lon"], now=now) if who.sees_everything else []

    ticket = new_ticket()
    while conn.execute(_TICKET_TAKEN, {"ticket": ticket}).first():
        ticket = new_ticket()
    caller = data.caller
    rows = InsertBatch()
    rows.add(_INSERT_INCIDENT, dict(
        id=incident_id, ticket=ticket, status="new", type_code=itype.code, priority=priority,
        description=data.description, channel=data.channel,
        caller_phone=caller.phone if caller else None, caller_name=caller.name if caller else None,
        geo_cell=None if place["lat"] is None else cell_of(place["lat"], place["lon"]),
        classified_type=classification.type_code,
        classification_confidence=classification.confidence,
        classification_alternatives=list(classification.alternatives),
        attention=attention, created_by=who.user_id, created_at=now, updated_at=now, **place))
    rows.add(_INSERT_CALL, dict(
        id=str(uuid.uuid4()), channel=data.channel, caller_phone=caller.phone if caller else None,
        caller_name=caller.name if caller else None, received_at=data.received_at or now,
        answered_at=data.answered_at, outcome="out_of_area" if place["out_of_area"] else "emergency",
        incident_id=incident_id, taken_by=who.user_id, created_at=now))

    routes = [] if place["out_of_area"] else route_for(ctx, itype.code)
    ack_due = now + timedelta(seconds=sop.priorities[priority].ack_seconds)
    rows.add(_INSERT_ASSIGNMENT, [
        {"incident_id": incident_id, "agency_code": code, "role": role, "status": "pending",
         "ack_due_at": ack_due, "created_at": now, "updated_at": now} for code, role in routes])
    entries = [{"incident_id": incident_id, "at": now, "actor_id": who.user_id, "kind": "created",
                "text": f"{itype.code} P{priority}", "public": True, "agency_code": None,
                "data": {"ticket": ticket}}]
    if routes:
        entries.append({"incident_id": incident_id, "at": now, "actor_id": who.user_id,
                        "kind": "routed", "text": ", ".join(f"{c} ({r})" for c, r in routes),
                        "public": False, "agency_code": None, "data": None})
    rows.add(_INSERT_TIMELINE, entries)
    assignment_reads = [AssignmentRead(agency_code=c, role=r, status="pending", ack_due_at=ack_due)
                        for c, r in routes]
    incident = IncidentRead(
        id=incident_id, ticket=ticket, status="new", type_code=itype.code, priority=priority,
        description=data.description, channel=data.channel, kecamatan_code=place["kecamatan_code"],
        desa_code=place["desa_code"],
        location=LocationRead(lat=place["lat"], lon=place["lon"], address=place["address"],
                              desa_code=place["desa_code"], kecamatan_code=place["kecamatan_code"],
                              source=place["location_source"], out_of_area=place["out_of_area"]),
        caller=CallerRead(phone=caller.phone, name=caller.name) if caller else None,
        classification=ClassificationRead(type_code=classification.type_code,
                                          confidence=classification.confidence,
                                          alternatives=list(classification.alternatives)),
        assignments=assignment_reads, possible_duplicates=duplicates, attention=attention,
        created_at=now, updated_at=now, closed_at=None)
    events = [event_row(EventName.INCIDENT_CREATED, event_summary(incident), incident_id=incident_id,
                        agencies=audience(ctx, (c for c, _ in routes)))]
    events += [event_row(EventName.ASSIGNMENT_CREATED,
                         {"incident_id": incident_id, "ticket": ticket, "priority": priority,
                          "type_code": itype.code, **a.model_dump(mode="json")},
                         incident_id=incident_id, agencies={a.agency_code, sop.command_agency})
               for a in assignment_reads]
    record_events(conn, ctx.db, events, batch=rows)
    rows.write(conn)
    audit.record(conn, who, "incident.created", "incident", incident_id,
                 detail={"ticket": ticket, "type_code": itype.code, "channel": data.channel})
    return IntakeResult(incident, created=True)


def route_for(ctx: Context, type_code: str) -> list[tuple[str, str]]:
    """(agency, role) pairs the SOP names for a type: the lead first, then support."""
    itype = ctx.sop.incident_types[type_code]
    if not itype.lead:
        return []
    return [(itype.lead, "lead"), *((a, "support") for a in itype.support if a != itype.lead)]


def event_summary(incident: IncidentRead) -> dict[str, Any]:
    """What an event says about an incident: the situation, never the caller."""
    return {
        "id": incident.id, "ticket": incident.ticket, "status": incident.status,
        "type_code": incident.type_code, "priority": incident.priority,
        "kecamatan_code": incident.kecamatan_code, "desa_code": incident.desa_code,
        "lat": incident.location.lat, "lon": incident.location.lon,
        "attention": incident.attention,
        "assignments": [{"agency_code": a.agency_code, "role": a.role, "status": a.status,
                         "ack_due_at": a.ack_due_at.isoformat()} for a in incident.assignments],
        "updated_at": incident.updated_at.isoformat(),
    }


def _to_read(who: Principal, row: Any, assignment_rows: list[Any],
             timeline_rows: list[Any] | None = None, *, caller: bool = True) -> IncidentRead:
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
        timeline=None if timeline_rows is None else [
            TimelineEntryRead(at=t.at, kind=t.kind, text=t.text, public=t.public,
                              agency_code=t.agency_code, actor=t.username) for t in timeline_rows])


def _assignment_rows(conn: Connection, incident_ids: list[str]) -> dict[str, list[Any]]:
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
        if not who.sees_everything:
            # Notes of other agencies stay theirs; public entries and routing are shared.
            query = query.where(or_(timeline_entries.c.kind != "note", timeline_entries.c.public,
                                    timeline_entries.c.agency_code == who.agency_code))
        timeline = conn.execute(query).all()
    return _to_read(who, row, _assignment_rows(conn, [incident_id])[incident_id], timeline)


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
    by_incident = _assignment_rows(conn, [r.id for r in page])
    # Lists never carry the caller: a queue or map needs the situation, and each view of a
    # caller's identity is then one audited read of one incident (read_incident).
    return IncidentPage(items=[_to_read(who, r, by_incident[r.id], caller=False) for r in page],
                        next_cursor=_encode_cursor(page[-1].created_at, page[-1].id) if more else None)


def announce_incident(ctx: Context, conn: Connection, who: Principal, incident_id: str,
                      name: EventName, extra: dict[str, Any] | None = None) -> IncidentRead:
    """Record an incident-level event with the incident as it now stands."""
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one()
    assignment_rows = _assignment_rows(conn, [incident_id])[incident_id]
    current = _to_read(who, row, assignment_rows)
    record_event(conn, ctx.db, name, {**event_summary(current), **(extra or {})},
                 incident_id=incident_id, agencies=audience(ctx, (a.agency_code for a in assignment_rows)))
    return current


def set_incident_status(ctx: Context, conn: Connection, who: Principal, row: Any, new_status: str,
                        *, now: datetime, note: str | None = None) -> None:
    """Move the incident along its state machine, settling assignments and units at the end."""
    if new_status == row.status:
        raise Conflict(f"incident is already {new_status}")
    if new_status not in INCIDENT_TRANSITIONS[row.status]:
        raise Conflict(f"cannot go from {row.status} to {new_status}")
    values: dict[str, Any] = {"status": new_status, "updated_at": now}
    if new_status in ("closed", "cancelled"):
        values["closed_at"] = now
        values["attention"] = None
    changed = conn.execute(update(incidents).where(incidents.c.id == row.id,
                                                   incidents.c.status == row.status).values(**values))
    if changed.rowcount != 1:
        raise Conflict("the incident changed meanwhile; reload and try again")
    if new_status in ("resolved", "closed", "cancelled"):
        freed = _settle_assignments(conn, row.id, now=now, cancelled=new_status == "cancelled")
        for unit_id in freed:
            announce_unit(ctx, conn, unit_id)
    append_timeline(conn, row.id, "status", who=who, at=now, public=True,
                    text=f"{row.status} → {new_status}" + (f": {note}" if note else ""),
                    agency_code=who.agency_code, data={"from": row.status, "to": new_status})
    announce_incident(ctx, conn, who, row.id, EventName.INCIDENT_STATUS_CHANGED,
                      {"previous_status": row.status})


def _settle_assignments(conn: Connection, incident_id: str, *, now: datetime,
                        cancelled: bool) -> list[str]:
    """Close the work still open when an incident ends, and free its units (their ids)."""
    working = ("dispatched", "en_route", "on_scene")
    conn.execute(update(assignments).where(
        assignments.c.incident_id == incident_id, assignments.c.status.in_(("pending", "acknowledged")))
        .values(status="cancelled", updated_at=now))
    conn.execute(update(assignments).where(
        assignments.c.incident_id == incident_id, assignments.c.status.in_(working))
        .values(status="cancelled" if cancelled else "completed",
                completed_at=None if cancelled else now, updated_at=now))
    freed = list(conn.execute(select(units.c.id).where(units.c.incident_id == incident_id)).scalars())
    if freed:
        conn.execute(update(units).where(units.c.id.in_(freed))
                     .values(status="available", incident_id=None, updated_at=now))
    return freed


def change_status(ctx: Context, who: Principal, incident_id: str, new_status: str,
                  note: str | None, *, conn: Connection) -> IncidentRead:
    """Status by hand: staff any legal move; an assigned agency may report on scene or resolved."""
    row = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    if who.role not in ("commander", "admin", "call_taker"):
        if who.role != "dispatcher" or new_status not in ("on_scene", "resolved"):
            raise Forbidden(f"role {who.role} may not set an incident {new_status}")
        own = conn.execute(select(assignments.c.status).where(
            assignments.c.incident_id == incident_id,
            assignments.c.agency_code == who.agency_code)).scalar_one_or_none()
        if own in (None, "declined", "cancelled"):
            raise Forbidden(f"{who.agency_code} no longer works on this incident")
    set_incident_status(ctx, conn, who, row, new_status, now=utcnow(), note=note)
    audit.record(conn, who, "incident.status_changed", "incident", incident_id,
                 detail={"from": row.status, "to": new_status})
    return get_incident(ctx, who, incident_id, conn=conn)


def add_note(ctx: Context, who: Principal, incident_id: str, text: str, public: bool, *,
             conn: Connection) -> IncidentRead:
    """A note on the timeline; public notes are what the reporter sees on the ticket page."""
    if who.role in ("viewer", "integration"):
        raise Forbidden(f"role {who.role} may not add notes")
    load_visible(ctx, who, incident_id, conn=conn)
    now = utcnow()
    append_timeline(conn, incident_id, "note", who=who, at=now, text=text, public=public,
                    agency_code=who.agency_code)
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(updated_at=now))
    announce_incident(ctx, conn, who, incident_id, EventName.INCIDENT_UPDATED,
                      {"change": "note", "public": public})
    audit.record(conn, who, "incident.note_added", "incident", incident_id, detail={"public": public})
    return get_incident(ctx, who, incident_id, conn=conn, with_timeline=True)


def reroute(ctx: Context, who: Principal, incident_id: str, type_code: str, priority: int | None,
            note: str | None, *, conn: Connection) -> IncidentRead:
    """The command center re-classifies: assignments follow the SOP route of the new type."""
    require_role(who, COMMAND_ROLES, "re-route incidents")
    row = load_visible(ctx, who, incident_id, conn=conn, lock=True)
    if row.status not in OPEN_STATUSES:
        raise Conflict(f"a {row.status} incident cannot be re-routed")
    itype = ctx.sop.incident_types.get(type_code)
    if itype is None or not itype.lead:
        raise InvalidField("type_code", f"unknown or non-emergency incident type {type_code!r}")
    now = utcnow()
    new_priority = priority or row.priority
    wanted = dict(route_for(ctx, type_code))
    existing = {a.agency_code: a for a in _assignment_rows(conn, [incident_id])[incident_id]}
    ack_due = now + timedelta(seconds=ctx.sop.priorities[new_priority].ack_seconds)
    for code, a in existing.items():
        if code not in wanted and a.status in ("pending", "acknowledged"):
            conn.execute(update(assignments).where(assignments.c.id == a.id)
                         .values(status="cancelled", updated_at=now))
        elif code in wanted and a.status in ("declined", "cancelled"):
            # A declined agency stays declined; the commander asks it again explicitly.
            if a.status == "cancelled":
                conn.execute(update(assignments).where(assignments.c.id == a.id).values(
                    role=wanted[code], status="pending", ack_due_at=ack_due, acknowledged_at=None,
                    dispatched_at=None, on_scene_at=None, completed_at=None, unit_id=None,
                    escalated_at=None, arrival_due_at=None, arrival_escalated_at=None,
                    updated_at=now))
        elif code in wanted and a.role != wanted[code]:
            conn.execute(update(assignments).where(assignments.c.id == a.id)
                         .values(role=wanted[code], updated_at=now))
    new_codes = [c for c in wanted if c not in existing]
    if new_codes:
        _INSERT_ASSIGNMENT.execute(conn, [
            {"incident_id": incident_id, "agency_code": c, "role": wanted[c], "status": "pending",
             "ack_due_at": ack_due, "created_at": now, "updated_at": now} for c in new_codes])
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
        type_code=type_code, priority=new_priority, attention=None, out_of_area=False,
        updated_at=now))
    append_timeline(conn, incident_id, "rerouted", who=who, at=now,
                    text=f"{row.type_code} P{row.priority} → {type_code} P{new_priority}"
                    + (f": {note}" if note else ""),
                    agency_code=who.agency_code, data={"agencies": sorted(wanted)})
    for c in new_codes:
        record_event(conn, ctx.db, EventName.ASSIGNMENT_CREATED,
                     {"incident_id": incident_id, "ticket": row.ticket, "agency_code": c,
                      "role": wanted[c], "status": "pending", "priority": new_priority,
                      "type_code": type_code, "ack_due_at": ack_due.isoformat()},
                     incident_id=incident_id, agencies={c, ctx.sop.command_agency})
    announce_incident(ctx, conn, who, incident_id, EventName.INCIDENT_UPDATED, {"change": "rerouted"})
    audit.record(conn, who, "incident.rerouted", "incident", incident_id, detail={
        "from": f"{row.type_code} P{row.priority}", "to": f"{type_code} P{new_priority}"})
    return get_incident(ctx, who, incident_id, conn=conn)
