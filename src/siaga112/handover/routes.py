"""HTTP routes for hand-overs to other centres and their EIDD-style export."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.handover import service
from siaga112.handover.schemas import HandoverCreate, HandoverRead

router = APIRouter(prefix="/api/v1/handovers", tags=["hand-overs"])


@router.post("", response_model=HandoverRead, status_code=201)
def create(body: HandoverCreate, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.create_handover(ctx, who, body, conn=conn)


@router.get("", response_model=list[HandoverRead])
def list_handovers(limit: int = Query(default=50, ge=1, le=500), who: Principal = Depends(current_principal),
                   ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:  # an audited view
        return service.list_handovers(ctx, who, conn=conn, limit=limit)


@router.get("/{handover_id}", response_model=HandoverRead)
def get(handover_id: str, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:  # an audited view
        return service.get_handover(ctx, who, handover_id, conn=conn)


@router.get("/{handover_id}/eidd")
def export(handover_id: str, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """The EIDD-style JSON document, as a download to send to the receiving centre."""
    with ctx.db.transaction() as conn:  # an audited view
        found = service.get_handover(ctx, who, handover_id, conn=conn)
    return Response(json.dumps(found.document, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="eidd-{handover_id}.json"'})
