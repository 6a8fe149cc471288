"""HTTP routes for an agency's assignment on an incident."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.dispatch import service
from siaga112.incidents.schemas import DeclineBody, DispatchBody, IncidentRead, ProgressBody, SupportRequest
from siaga112.models.status import AssignmentStatus

router = APIRouter(prefix="/api/v1/incidents/{incident_id}/assignments", tags=["assignments"])


@router.post("/{agency_code}/acknowledge", response_model=IncidentRead)
def acknowledge(incident_id: str, agency_code: str, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.acknowledge(ctx, who, incident_id, agency_code, conn=conn)


@router.post("/{agency_code}/dispatch", response_model=IncidentRead)
def dispatch(incident_id: str, agency_code: str, body: DispatchBody,
             who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.dispatch_unit(ctx, who, incident_id, agency_code, body.unit_id, conn=conn)


@router.post("/{agency_code}/progress", response_model=IncidentRead)
def progress(incident_id: str, agency_code: str, body: ProgressBody,
             who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.progress(ctx, who, incident_id, agency_code, AssignmentStatus(body.status),
                                body.note, conn=conn)


@router.post("/{agency_code}/decline", response_model=IncidentRead)
def decline(incident_id: str, agency_code: str, body: DeclineBody,
            who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.decline(ctx, who, incident_id, agency_code, body.reason, conn=conn)


@router.post("", response_model=IncidentRead, status_code=201)
def request_support(incident_id: str, body: SupportRequest,
                    who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.request_support(ctx, who, incident_id, body.agency_code, body.reason, conn=conn)
