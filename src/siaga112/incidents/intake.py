"""Intake: a call becomes an incident, classified, placed, routed under the SOP and announced."""
from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from siaga112.audit import service as audit
from siaga112.auth.permissions import require_incident_creator, sees_duplicates
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.dispatch.assignments import assignment_event
from siaga112.errors import Conflict, InvalidField
from siaga112.events import event_of, record_events
from siaga112.events.payloads import AssignmentCreated, IncidentCreated
from siaga112.fastsql import FastInsert, InsertBatch
from siaga112.geo.cells import cell_of
from siaga112.incidents.announce import audience, situation
from siaga112.incidents.duplicates import find_duplicates
from siaga112.incidents.reads import get_incident
from siaga112.incidents.schemas import (
    AssignmentRead,
    CallerRead,
    ClassificationRead,
    IncidentCreate,
    IncidentRead,
    LocationRead,
)
from siaga112.incidents.timeline import INSERT_TIMELINE, ROLE_WORDS
from siaga112.models import assignments, calls, idempotency_keys, incidents

# Crockford-like alphabet without 0/O, 1/I/L: unambiguous when read over the phone.
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


_INSERT_INCIDENT = FastInsert(incidents)


_INSERT_CALL = FastInsert(calls)


_INSERT_ASSIGNMENT = FastInsert(assignments)


@dataclass(frozen=True)
class IntakeResult:
    incident: IncidentRead
    created: bool


def new_ticket() -> str:
    """Eight random characters (~40 bits): short to read aloud, infeasible to guess."""
    chars = "".join(secrets.choice(TICKET_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _hash_request(data: IncidentCreate) -> str:
    # A body without the caller choice hashes as it did before the field existed.
    canonical = json.dumps(data.model_dump(mode="json", exclude={"notify_caller"}
                                           if data.notify_caller is None else None),
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Hot-path statements built once with bound parameters, so each request hits SQLAlchemy's cache.
_TICKET_TAKEN = select(incidents.c.id).where(incidents.c.ticket == bindparam("ticket"))


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
    elif desa is not None and (centroid := gaz.desa_centroid(desa)) is not None:
        lat, lon = centroid
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


def create_incident(ctx: Context, who: Principal, data: IncidentCreate, *, conn: Connection,
                    idempotency_key: str | None = None) -> IntakeResult:
    """Record an emergency: classify, place, route under the SOP, link the call, announce."""
    require_incident_creator(who)
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
                                 lon=place["lon"], now=now) if sees_duplicates(who) else []

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
        attention=attention, created_by=who.user_id, created_at=now, updated_at=now,
        notify_caller=data.notify_caller, **place))
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
                        "kind": "routed", "text": ", ".join(f"{c} ({ROLE_WORDS[r]})" for c, r in routes),
                        "public": False, "agency_code": None, "data": None})
    rows.add(INSERT_TIMELINE, entries)
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
    events = [event_of(IncidentCreated(**situation(incident)), incident_id=incident_id,
                       agencies=audience(ctx, (c for c, _ in routes)))]
    events += [assignment_event(ctx, incident, a, AssignmentCreated, at=now)
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
