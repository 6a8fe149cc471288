"""HTTP routes for units."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from siaga112.auth.service import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.units import service
from siaga112.units.schemas import PositionIn, UnitRead

router = APIRouter(prefix="/api/v1/units", tags=["units"])


@router.get("", response_model=list[UnitRead])
def list_units(agency_code: str | None = None, status: str | None = None,
               who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.list_units(ctx, who, conn=conn, agency_code=agency_code, status=status)


@router.post("/{unit_id}/position", response_model=UnitRead)
def record_position(unit_id: str, body: PositionIn, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.record_position(ctx, who, unit_id, body.lat, body.lon, body.at, conn=conn)
