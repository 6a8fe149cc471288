"""An agency's live queue: its assignments on open incidents, most urgent first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from siaga112.auth.permissions import sees_all_incidents
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.errors import NotFound
from siaga112.models import assignments, incidents, units
from siaga112.models.status import OPEN_INCIDENT

ACTIVE_ASSIGNMENT = ("pending", "acknowledged", "dispatched", "en_route", "on_scene")


@dataclass(frozen=True)
class QueueItem:
    incident_id: str
    ticket: str
    type_code: str
    priority: int
    incident_status: str
    desa_code: str | None
    kecamatan_code: str | None
    address: str | None
    created_at: datetime
    role: str
    status: str
    ack_due_at: datetime
    arrival_due_at: datetime | None
    call_sign: str | None


def agency_queue(ctx: Context, who: Principal, agency_code: str, *, conn: Connection,
                 limit: int = 200) -> list[QueueItem]:
    """Most urgent first: priority, then the time left on the running deadline (acknowledge
    while pending, arrive while a unit is on its way), then age, oldest first."""
    if not sees_all_incidents(who) and who.agency_code != agency_code:
        raise NotFound("no such agency in your scope")
    rows = conn.execute(
        select(incidents.c.id, incidents.c.ticket, incidents.c.type_code, incidents.c.priority,
               incidents.c.status.label("incident_status"), incidents.c.desa_code,
               incidents.c.kecamatan_code, incidents.c.address, incidents.c.created_at,
               assignments.c.role, assignments.c.status, assignments.c.ack_due_at,
               assignments.c.arrival_due_at, units.c.call_sign)
        .join(assignments, assignments.c.incident_id == incidents.c.id)
        .outerjoin(units, units.c.id == assignments.c.unit_id)
        .where(assignments.c.agency_code == agency_code,
               assignments.c.status.in_(ACTIVE_ASSIGNMENT),
               incidents.c.status.in_(sorted(OPEN_INCIDENT)))
        .order_by(incidents.c.priority, incidents.c.created_at)
        .limit(limit)).all()
    items = [QueueItem(incident_id=r.id, ticket=r.ticket, type_code=r.type_code,
                      priority=r.priority, incident_status=r.incident_status,
                      desa_code=r.desa_code, kecamatan_code=r.kecamatan_code, address=r.address,
                      created_at=r.created_at, role=r.role, status=r.status,
                      ack_due_at=r.ack_due_at, arrival_due_at=r.arrival_due_at,
                      call_sign=r.call_sign) for r in rows]
    return sorted(items, key=lambda i: (i.priority, _due(i) or datetime.max.replace(tzinfo=UTC),
                                        i.created_at))


def _due(item: QueueItem) -> datetime | None:
    """The deadline the agency is racing now, if any."""
    if item.status == "pending":
        return item.ack_due_at
    if item.status in ("dispatched", "en_route"):
        return item.arrival_due_at
    return None
