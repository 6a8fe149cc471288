"""CSV of a filtered incident list: what a spreadsheet needs, and nobody's personal data.

The columns are the situation and its timestamps; the caller, the description (which often names
people) and addresses stay out, so an export can be mailed to an office without a leak.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from siaga112.auth.permissions import readable_incidents
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.errors import InvalidField
from siaga112.models import assignments, incidents
from siaga112.reports.kpi import CHANNEL_LABELS

# A bigger list is a monthly report, not a CSV; the limit keeps one request bounded.
MAX_ROWS = 50_000
COLUMNS = ["tiket", "dibuat (WITA)", "status", "kode jenis", "jenis kejadian", "prioritas", "saluran",
           "kecamatan", "desa/kelurahan", "OPD pemimpin", "OPD pendukung", "diterima OPD (WITA)",
           "unit dikirim (WITA)", "tiba di lokasi (WITA)", "ditutup (WITA)"]


def incidents_csv(ctx: Context, who: Principal, *, conn: Connection, since: datetime, until: datetime,
                  status: str | None = None, agency_code: str | None = None, type_code: str | None = None,
                  kecamatan_code: str | None = None, desa_code: str | None = None,
                  channel: str | None = None) -> str:
    """The incidents `who` may see, created in [since, until) and matching the filters, oldest first."""
    query = select(incidents.c.id, incidents.c.ticket, incidents.c.created_at, incidents.c.status,
                   incidents.c.type_code, incidents.c.priority, incidents.c.channel,
                   incidents.c.kecamatan_code, incidents.c.desa_code, incidents.c.closed_at).where(
        readable_incidents(who), incidents.c.created_at >= since, incidents.c.created_at < until)
    if status:
        query = query.where(incidents.c.status.in_(status.split(",")))
    for column, value in ((incidents.c.type_code, type_code), (incidents.c.kecamatan_code, kecamatan_code),
                          (incidents.c.desa_code, desa_code), (incidents.c.channel, channel)):
        if value:
            query = query.where(column == value)
    if agency_code:
        query = query.where(incidents.c.id.in_(
            select(assignments.c.incident_id).where(assignments.c.agency_code == agency_code)))
    rows = conn.execute(query.order_by(incidents.c.created_at, incidents.c.id).limit(MAX_ROWS + 1)).all()
    if len(rows) > MAX_ROWS:
        raise InvalidField("from", f"more than {MAX_ROWS} incidents: choose a shorter period or filter",
                           source="query")
    work: dict[str, list[Any]] = defaultdict(list)
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 500):
        for a in conn.execute(select(assignments.c.incident_id, assignments.c.agency_code, assignments.c.role,
                                     assignments.c.acknowledged_at, assignments.c.dispatched_at,
                                     assignments.c.on_scene_at)
                              .where(assignments.c.incident_id.in_(ids[start:start + 500]))):
            work[a.incident_id].append(a)
    tz = ZoneInfo(ctx.sop.timezone)

    def wita(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else ""

    def first(values: list[datetime | None]) -> str:
        return wita(min((v for v in values if v), default=None))

    def place(code: str | None) -> str:
        found = ctx.gazetteer.place(code) if code else None
        return found.name if found else ""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rows:
        mine = work.get(r.id, [])
        itype = ctx.sop.incident_types.get(r.type_code)
        writer.writerow([
            r.ticket, wita(r.created_at), r.status, r.type_code, itype.name_id if itype else "", r.priority,
            CHANNEL_LABELS.get(r.channel, r.channel), place(r.kecamatan_code), place(r.desa_code),
            " ".join(a.agency_code for a in mine if a.role == "lead"),
            " ".join(a.agency_code for a in mine if a.role == "support"),
            first([a.acknowledged_at for a in mine]), first([a.dispatched_at for a in mine]),
            first([a.on_scene_at for a in mine]), wita(r.closed_at)])
    return out.getvalue()
