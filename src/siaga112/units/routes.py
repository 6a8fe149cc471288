"""HTTP routes for units: registry, status, AVL positions and recommendations."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import UtcMoment
from siaga112.deps import current_principal, get_ctx
from siaga112.dispatch.service import change_unit_status
from siaga112.units import service
from siaga112.units.schemas import (
    PositionBatch,
    PositionBatchResult,
    PositionIn,
    Recommendation,
    StatusBody,
    TrailPoint,
    UnitCreate,
    UnitRead,
    UnitUpdate,
)

router = APIRouter(prefix="/api/v1/units", tags=["units"])
recommendations_router = APIRouter(prefix="/api/v1/incidents/{incident_id}/assignments",
                                   tags=["assignments"])


@router.get("", response_model=list[UnitRead])
def list_units(agency_code: str | None = None, status: str | None = None,
               who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.list_units(ctx, who, conn=conn, agency_code=agency_code, status=status)


@router.post("", response_model=UnitRead, status_code=201)
def create_unit(body: UnitCreate, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.create_unit(ctx, who, body, conn=conn)


@router.post("/positions", response_model=PositionBatchResult)
def record_positions(body: PositionBatch, who: Principal = Depends(current_principal),
                     ctx: Context = Depends(get_ctx)):
    """Bulk AVL: up to 1,000 fixes, each naming its unit by `unit_id` or `call_sign`."""
    with ctx.db.transaction() as conn:
        return service.record_positions(ctx, who, body, conn=conn)


@router.get("/{unit_id}", response_model=UnitRead)
def get_unit(unit_id: str, who: Principal = Depends(current_principal),
             ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.get_unit(ctx, who, unit_id, conn=conn)


@router.patch("/{unit_id}", response_model=UnitRead)
def update_unit(unit_id: str, body: UnitUpdate, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.update_unit(ctx, who, unit_id, body, conn=conn)


@router.post("/{unit_id}/status", response_model=UnitRead)
def change_status(unit_id: str, body: StatusBody, who: Principal = Depends(current_principal),
                  ctx: Context = Depends(get_ctx)):
    """Move the unit along its state machine; an illegal move answers 409."""
    with ctx.db.transaction() as conn:
        return change_unit_status(ctx, who, unit_id, body.status, body.note, conn=conn)


@router.post("/{unit_id}/position", response_model=UnitRead)
def record_position(unit_id: str, body: PositionIn, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.record_position(ctx, who, unit_id, body.lat, body.lon, body.at, conn=conn)


@router.get("/{unit_id}/trail", response_model=list[TrailPoint])
def trail(unit_id: str, since: UtcMoment | None = None, until: UtcMoment | None = None,
          limit: int = Query(500, ge=1, le=5000), who: Principal = Depends(current_principal),
          ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.trail(ctx, who, unit_id, conn=conn, since=since, until=until, limit=limit)


@recommendations_router.get("/{agency_code}/recommendations", response_model=list[Recommendation])
def recommendations(incident_id: str, agency_code: str, limit: int = Query(50, ge=1, le=500),
                    who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """The agency's available units, best first (capability match, then arrival time)."""
    with ctx.db.transaction(write=False) as conn:
        request = service.recommendation_request(ctx, who, incident_id, agency_code, conn=conn,
                                                 limit=limit)
    # Ranked outside the transaction: it may wait on the routing server.
    return service.rank_units(ctx, request)

