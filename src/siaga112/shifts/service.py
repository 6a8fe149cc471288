"""Writing and acknowledging a shift hand-over.

A hand-over takes a snapshot of the incidents open at that moment (the situation only, never a
caller), the outgoing supervisor's notes and the tasks for the next shift. The incoming
supervisor, someone else, acknowledges it once: a conditional UPDATE, so a double click or two
supervisors at once record one acknowledgement.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update

from siaga112.audit import service as audit
from siaga112.auth.permissions import may_hand_over_shifts, readable_incidents, require_shift_reader
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import inserted_id, load_row, utcnow
from siaga112.errors import Conflict, Forbidden
from siaga112.incidents.schemas import Strict
from siaga112.models import assignments, incidents, shift_handoffs, users
from siaga112.models.status import OPEN_INCIDENT


class HandoffCreate(Strict):
    notes: str = Field(min_length=1, max_length=4000)
    todo: str = Field(min_length=1, max_length=4000)


class HandoffAcknowledge(Strict):
    note: str | None = Field(default=None, max_length=1000)


class HandoffRead(BaseModel):
    id: int
    written_by: str
    written_at: Any
    notes: str
    todo: str
    open_incidents: list[dict[str, Any]]
    acknowledged_by: str | None
    acknowledged_at: Any
    acknowledgement_note: str | None


def _open_incidents(ctx: Context, who: Principal, conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.priority,
                               incidents.c.status, incidents.c.created_at, incidents.c.kecamatan_code)
                        .where(incidents.c.status.in_(sorted(OPEN_INCIDENT)), readable_incidents(who))
                        .order_by(incidents.c.priority, incidents.c.created_at).limit(500)).all()
    agencies: dict[str, list[str]] = {}
    if rows:
        for a in conn.execute(select(assignments.c.incident_id, assignments.c.agency_code, assignments.c.status)
                              .where(assignments.c.incident_id.in_([r.id for r in rows]))):
            agencies.setdefault(a.incident_id, []).append(f"{a.agency_code}: {a.status}")
    snapshot = []
    for r in rows:
        itype = ctx.sop.incident_types.get(r.type_code)
        place = ctx.gazetteer.place(r.kecamatan_code) if r.kecamatan_code else None
        snapshot.append({"id": r.id, "ticket": r.ticket, "type_code": r.type_code,
                         "type": itype.name_id if itype else r.type_code, "priority": r.priority,
                         "status": r.status, "created_at": r.created_at.isoformat(),
                         "kecamatan": place.name if place else None, "agencies": agencies.get(r.id, [])})
    return snapshot


def _read(conn: Connection, row: Any) -> HandoffRead:
    names = {user_id: name for user_id, name in conn.execute(select(users.c.id, users.c.username).where(
        users.c.id.in_([i for i in (row.written_by, row.acknowledged_by) if i is not None])))}
    return HandoffRead(id=row.id, written_by=names.get(row.written_by, "?"), written_at=row.written_at,
                       notes=row.notes, todo=row.todo, open_incidents=row.open_incidents,
                       acknowledged_by=names.get(row.acknowledged_by) if row.acknowledged_by else None,
                       acknowledged_at=row.acknowledged_at, acknowledgement_note=row.acknowledgement_note)


def write_handoff(ctx: Context, who: Principal, data: HandoffCreate, *, conn: Connection) -> HandoffRead:
    if not may_hand_over_shifts(who):
        raise Forbidden(f"role {who.role} may not hand over a shift")
    handoff_id = inserted_id(conn.execute(insert(shift_handoffs).values(
        written_by=who.user_id, written_at=utcnow(), notes=data.notes, todo=data.todo,
        open_incidents=_open_incidents(ctx, who, conn))))
    audit.record(conn, who, "shift.handed_over", "shift_handoff", str(handoff_id))
    return _read(conn, load_row(conn, shift_handoffs, handoff_id, missing="hand-over not found"))


def acknowledge(ctx: Context, who: Principal, handoff_id: int, data: HandoffAcknowledge, *,
                conn: Connection) -> HandoffRead:
    """The incoming supervisor takes the shift over."""
    if not may_hand_over_shifts(who):
        raise Forbidden(f"role {who.role} may not take over a shift")
    row = load_row(conn, shift_handoffs, handoff_id, missing="hand-over not found")
    if row.written_by == who.user_id:
        raise Conflict("the incoming supervisor acknowledges a hand-over, not the one who wrote it")
    changed = conn.execute(update(shift_handoffs).where(
        shift_handoffs.c.id == handoff_id, shift_handoffs.c.acknowledged_at.is_(None))
        .values(acknowledged_by=who.user_id, acknowledged_at=utcnow(), acknowledgement_note=data.note))
    if changed.rowcount != 1:
        raise Conflict("this hand-over was already acknowledged")
    audit.record(conn, who, "shift.taken_over", "shift_handoff", str(handoff_id))
    return _read(conn, load_row(conn, shift_handoffs, handoff_id, missing="hand-over not found"))


def list_handoffs(ctx: Context, who: Principal, *, conn: Connection, limit: int = 30) -> list[HandoffRead]:
    require_shift_reader(who)
    rows = conn.execute(select(shift_handoffs).order_by(shift_handoffs.c.written_at.desc()).limit(limit)).all()
    return [_read(conn, r) for r in rows]


def get_handoff(ctx: Context, who: Principal, handoff_id: int, *, conn: Connection) -> HandoffRead:
    require_shift_reader(who)
    return _read(conn, load_row(conn, shift_handoffs, handoff_id, missing="hand-over not found"))
