"""The SOP in the database: written from a validated file at first start, read back as a `Sop`."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from siaga112.db import utcnow
from siaga112.models import agencies, incident_types, priorities, sop_routes, sop_state
from siaga112.sop.schemas import Agency, IncidentType, Priority, Sop

# Regency facts that are not editable rows; kept with the SOP version they came from.
_REGENCY_DEFAULTS = {"regency_code": "64.09", "regency_name": "Penajam Paser Utara",
                     "timezone": "Asia/Makassar", "bbox": (116.35, -1.60, 117.05, -0.75)}


def sop_is_loaded(conn: Connection) -> bool:
    return bool(conn.execute(select(func.count()).select_from(incident_types)).scalar_one())


def store_sop(conn: Connection, sop: Sop) -> None:
    """Write a validated SOP into empty tables (first start)."""
    conn.execute(insert(priorities), [
        {"level": p.level, "label_id": p.label_id, "label_en": p.label_en,
         "ack_seconds": p.ack_seconds, "dispatch_seconds": p.dispatch_seconds}
        for p in sop.priorities.values()])
    conn.execute(insert(agencies), [
        {"code": a.code, "name": a.name, "role": a.role, "external": a.external, "active": True}
        for a in sop.agencies.values()])
    conn.execute(insert(incident_types), [
        {"code": t.code, "name_id": t.name_id, "name_en": t.name_en, "priority": t.priority,
         "keywords": list(t.keywords), "active": True, "sensitive": t.sensitive}
        for t in sop.incident_types.values()])
    routes = []
    for t in sop.incident_types.values():
        if t.lead:
            routes.append({"type_code": t.code, "agency_code": t.lead, "role": "lead", "position": 0})
        routes += [{"type_code": t.code, "agency_code": a, "role": "support", "position": i + 1}
                   for i, a in enumerate(t.support)]
    if routes:
        conn.execute(insert(sop_routes), routes)


def read_sop(conn: Connection, *, base: Sop | None = None) -> Sop:
    """The SOP as stored; regency facts come from `base` (the file) when given."""
    prios = {r.level: Priority(r.level, r.label_id, r.label_en, r.ack_seconds, r.dispatch_seconds)
             for r in conn.execute(select(priorities).order_by(priorities.c.level))}
    agency_rows = conn.execute(select(agencies).where(agencies.c.active.is_(True))
                               .order_by(agencies.c.code)).all()
    ags = {r.code: Agency(r.code, r.name, r.role, r.external) for r in agency_rows}
    routes: dict[str, list] = {}
    for r in conn.execute(select(sop_routes).order_by(sop_routes.c.type_code, sop_routes.c.position)):
        routes.setdefault(r.type_code, []).append(r)
    types = {}
    for r in conn.execute(select(incident_types).where(incident_types.c.active.is_(True))
                          .order_by(incident_types.c.code)):
        rs = routes.get(r.code, [])
        # A lead is kept even if its agency is inactive, so validation names the problem; a
        # deactivated supporting agency's routes lie dormant until it is active again.
        lead = next((x.agency_code for x in rs if x.role == "lead"), None)
        support = tuple(x.agency_code for x in rs if x.role == "support" and x.agency_code in ags)
        types[r.code] = IncidentType(r.code, r.name_id, r.name_en, r.priority, lead, support,
                                     tuple(r.keywords or ()), bool(r.sensitive))
    command = next((a.code for a in ags.values() if a.role == "command"), "BPBD")
    facts: dict[str, Any] = _REGENCY_DEFAULTS if base is None else {
        "regency_code": base.regency_code, "regency_name": base.regency_name,
        "timezone": base.timezone, "bbox": base.bbox}
    return Sop(version=base.version if base else 1, command_agency=command, priorities=prios,
               agencies=ags, incident_types=types, **facts)


def sop_revision(conn: Connection) -> int:
    """The stored SOP's revision; every change bumps it (0 before migration 0008)."""
    value = conn.execute(select(sop_state.c.revision).where(sop_state.c.id == 1)).scalar()
    return int(value or 0)


def bump_sop_revision(conn: Connection) -> int:
    """Take the SOP for a change: bump its revision, holding the row until commit.

    On PostgreSQL the row lock orders concurrent administrators, so each reads the SOP as the
    previous one left it (read-then-write takes a lock); SQLite's BEGIN IMMEDIATE already does.
    """
    row = conn.execute(update(sop_state).where(sop_state.c.id == 1)
                       .values(revision=sop_state.c.revision + 1, changed_at=utcnow())
                       .returning(sop_state.c.revision)).first()
    if row is None:
        conn.execute(insert(sop_state).values(id=1, revision=2, changed_at=utcnow()))
        return 2
    return int(row.revision)
