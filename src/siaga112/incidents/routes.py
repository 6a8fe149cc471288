"""HTTP routes for incidents: thin, one action each."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Response

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import UtcMoment
from siaga112.deps import current_principal, get_ctx
from siaga112.incidents import intake, reads, service
from siaga112.incidents.schemas import (
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    NoteCreate,
    RerouteBody,
    RouteBody,
    StatusChange,
)
from siaga112.metrics import INCIDENTS_CREATED

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.post("", status_code=201, response_model=IncidentRead)
def create_incident(body: IncidentCreate,
                    idempotency_key: str | None = Header(default=None, max_length=255),
                    who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        result = intake.create_incident(ctx, who, body, conn=conn, idempotency_key=idempotency_key)
    if result.created:
        INCIDENTS_CREATED.labels(result.incident.type_code, result.incident.channel).inc()
    # Serialised here rather than re-validated by FastAPI: the model was just built by the service.
    return Response(result.incident.model_dump_json(), media_type="application/json",
                    status_code=201 if result.created else 200)


@router.get("", response_model=IncidentPage)
def list_incidents(status: str | None = None, agency_code: str | None = None,
                   type_code: str | None = None, attention: bool | None = None,
                   since: UtcMoment | None = None, limit: int = Query(default=50, ge=1, le=500),
                   cursor: str | None = None, who: Principal = Depends(current_principal),
                   ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return reads.list_incidents(ctx, who, conn=conn, status=status, agency_code=agency_code,
                                      type_code=type_code, attention=attention, since=since,
                                      limit=limit, cursor=cursor)


@router.get("/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: str, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    return reads.read_incident(ctx, who, incident_id)


@router.post("/{incident_id}/status", response_model=IncidentRead)
def change_status(incident_id: str, body: StatusChange, who: Principal = Depends(current_principal),
                  ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.change_status(ctx, who, incident_id, body.status, body.note, conn=conn)


@router.post("/{incident_id}/notes", response_model=IncidentRead, status_code=201)
def add_note(incident_id: str, body: NoteCreate, who: Principal = Depends(current_principal),
             ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.add_note(ctx, who, incident_id, body.text, body.public, conn=conn)


@router.post("/{incident_id}/reroute", response_model=IncidentRead)
def reroute(incident_id: str, body: RerouteBody, who: Principal = Depends(current_principal),
            ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.reroute(ctx, who, incident_id, body.type_code, body.priority, body.note,
                               conn=conn)


@router.post("/{incident_id}/route", response_model=IncidentRead)
def route(incident_id: str, body: RouteBody, who: Principal = Depends(current_principal),
          ctx: Context = Depends(get_ctx)):
    """The command centre: make an agency the lead, add it as support, or take it off."""
    with ctx.db.transaction() as conn:
        return service.route_to_agency(ctx, who, incident_id, body.agency_code, body.action,
                                       body.note, conn=conn)
