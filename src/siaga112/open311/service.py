"""Open311 GeoReport v2 for non-emergency complaints (roads, water, waste).

A service request becomes an incident of the mapped type at priority 4, routed under the SOP
and tracked like any other; its `service_request_id` is the incident's ticket, so the reporter
can also follow it at /lacak/{ticket}. Requests are read back without personal data: no
description, address, name, phone or e-mail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Connection, insert, select

from siaga112.auth.permissions import may_create_incidents, token_writes
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.incidents.intake import create_incident
from siaga112.incidents.schemas import CallerIn, IncidentCreate, LocationIn
from siaga112.models import agencies, incidents, open311_requests, timeline_entries


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    type_code: str
    group: str
    keywords: str


SERVICES = (
    Service("jalan-rusak", "Jalan / jembatan rusak", "Jalan berlubang, amblas, jembatan rusak atau putus, drainase",
            "ROAD-DAMAGE", "Jalan", "jalan, lubang, jembatan, drainase"),
    Service("air-bersih", "Gangguan air bersih", "Air PDAM mati atau keruh, pipa bocor atau pecah",
            "WATER-OUTAGE", "Air", "air, pdam, pipa, bocor"),
    Service("sampah", "Sampah dan pencemaran", "Sampah menumpuk, limbah, bau menyengat, sungai tercemar",
            "POLLUTION", "Lingkungan", "sampah, limbah, pencemaran"),
)
PRIORITY = 4


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def services(ctx: Context) -> list[Service]:
    """The services whose incident type the SOP knows."""
    return [s for s in SERVICES if s.type_code in ctx.sop.incident_types]


def service_by_code(ctx: Context, code: str | None) -> Service:
    for s in services(ctx):
        if s.code == code:
            return s
    raise Open311Error(404 if code else 400, f"service_code {code!r} not found" if code
                       else "service_code is required")


class ServiceRequestIn(BaseModel):
    """A GeoReport v2 POST (form fields or JSON). Fields we do not use (email, device_id,
    media_url, attributes) are ignored; a field of the wrong kind is a 400 naming it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    service_code: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    address_string: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    api_key: str | None = Field(default=None, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: None if v == "" else v for k, v in data.items()}
        return data

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL refuses NUL in text: it would be a database error (500) at the insert.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


def parse_request(data: Any) -> ServiceRequestIn:
    """The POSTed fields as a model; Open311Error(400) naming the first bad field."""
    try:
        if isinstance(data, bytes | str):
            return ServiceRequestIn.model_validate_json(data)
        return ServiceRequestIn.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        if error["type"] == "json_invalid":
            raise Open311Error(400, "body is not JSON") from None
        if error["type"] == "model_type":
            raise Open311Error(400, "body must be an object") from None
        field = ".".join(str(p) for p in error["loc"]) or "body"
        raise Open311Error(400, f"{field}: {error['msg']}") from None


def create_request(ctx: Context, who: Principal, fields: ServiceRequestIn, *,
                   conn: Connection) -> dict[str, Any]:
    if not may_create_incidents(who):
        raise Open311Error(403, "api_key may not create service requests")
    if not token_writes(who):
        raise Open311Error(403, "api_key is read-only")
    service = service_by_code(ctx, fields.service_code)
    lat, lon = fields.lat, fields.long
    address = fields.address_string
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long go together")
    if lat is None and not address:
        raise Open311Error(400, "lat/long or address_string is required")
    description = fields.description or service.name
    name = " ".join(x for x in (fields.first_name, fields.last_name) if x) or None
    caller = None
    if fields.phone:
        try:
            caller = CallerIn(phone=fields.phone, name=name)
        except ValueError:
            raise Open311Error(400, "phone is not a valid phone number") from None
    result = create_incident(ctx, who, IncidentCreate(
        channel="app", caller=caller, description=description, type_code=service.type_code,
        priority=PRIORITY, location=LocationIn(lat=lat, lon=lon, address=address)), conn=conn)
    conn.execute(insert(open311_requests).values(incident_id=result.incident.id, service_code=service.code,
                                                 created_at=utcnow()))
    return {"service_request_id": result.incident.ticket,
            "service_notice": "Laporan diterima dan diteruskan ke instansi terkait.", "account_id": None}


def _public_coordinate(value: float | None, decimals: int) -> float | None:
    # The list is public: a rounded point shows the street, not the reporter's doorstep.
    return None if value is None else round(value, decimals)


def _row_to_request(conn: Connection, row: Any, service: Service | None, decimals: int) -> dict[str, Any]:
    note = conn.execute(select(timeline_entries.c.text).where(
        timeline_entries.c.incident_id == row.id, timeline_entries.c.kind == "note",
        timeline_entries.c.public).order_by(timeline_entries.c.id.desc()).limit(1)).scalar()
    lead = conn.execute(select(agencies.c.name).select_from(agencies).where(
        agencies.c.code == _lead(conn, row.id))).scalar()
    return {
        "service_request_id": row.ticket,
        "status": "open" if row.status in ("new", "dispatched", "on_scene") else "closed",
        "status_notes": note, "service_name": service.name if service else None,
        "service_code": row.service_code, "agency_responsible": lead,
        "requested_datetime": row.created_at.isoformat(), "updated_datetime": row.updated_at.isoformat(),
        "expected_datetime": None, "lat": _public_coordinate(row.lat, decimals),
        "long": _public_coordinate(row.lon, decimals),
    }


def _lead(conn: Connection, incident_id: str) -> str | None:
    from siaga112.models import assignments

    return conn.execute(select(assignments.c.agency_code).where(
        assignments.c.incident_id == incident_id, assignments.c.role == "lead")).scalar()


def find_requests(ctx: Context, *, conn: Connection, ids: list[str] | None = None,
                  service_code: str | None = None, status: str | None = None,
                  start: datetime | None = None, end: datetime | None = None,
                  page: int = 1, page_size: int | None = None) -> list[dict[str, Any]]:
    """Public service requests, newest first, a page at a time (GeoReport: 90 days back from
    `end` unless `start` says otherwise); sensitive types are never listed."""
    size = page_size or ctx.settings.open311_page_size
    query = (select(incidents.c.id, incidents.c.ticket, incidents.c.status, incidents.c.lat,
                    incidents.c.lon, incidents.c.created_at, incidents.c.updated_at,
                    open311_requests.c.service_code)
             .join(open311_requests, open311_requests.c.incident_id == incidents.c.id))
    sensitive = [t.code for t in ctx.sop.incident_types.values() if t.sensitive]
    if sensitive:
        query = query.where(incidents.c.type_code.not_in(sensitive))
    if not ids and start is None:
        start = (end or utcnow()) - timedelta(days=90)
    if ids:
        query = query.where(incidents.c.ticket.in_(ids[:size]))
    if service_code:
        query = query.where(open311_requests.c.service_code.in_(service_code.split(",")))
    if status == "open":
        query = query.where(incidents.c.status.in_(("new", "dispatched", "on_scene")))
    elif status == "closed":
        query = query.where(incidents.c.status.in_(("resolved", "closed", "cancelled")))
    if start:
        query = query.where(incidents.c.created_at >= start)
    if end:
        query = query.where(incidents.c.created_at <= end)
    by_code = {s.code: s for s in SERVICES}
    rows = conn.execute(query.order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
                        .limit(size).offset((page - 1) * size)).all()
    decimals = ctx.settings.open311_coordinate_decimals
    return [_row_to_request(conn, r, by_code.get(r.service_code), decimals) for r in rows]
