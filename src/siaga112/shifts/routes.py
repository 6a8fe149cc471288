"""Shift hand-overs: the API, the console page with its form, and the printable sheet."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData

from siaga112.auth.permissions import may_hand_over_shifts
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import RowId, current_principal, get_ctx
from siaga112.shifts import service
from siaga112.shifts.service import HandoffAcknowledge, HandoffCreate, HandoffRead
from siaga112.web.deps import page_principal
from siaga112.web.forms import build, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(tags=["shifts"])
API = "/api/v1/shift-handovers"


@router.get(API, response_model=list[HandoffRead])
def list_handoffs(who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.list_handoffs(ctx, who, conn=conn)


@router.post(API, status_code=201, response_model=HandoffRead)
def write_handoff(body: HandoffCreate, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.write_handoff(ctx, who, body, conn=conn)


@router.get(API + "/{handoff_id}", response_model=HandoffRead)
def get_handoff(handoff_id: RowId, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.get_handoff(ctx, who, handoff_id, conn=conn)


@router.post(API + "/{handoff_id}/acknowledge", response_model=HandoffRead)
def acknowledge(handoff_id: RowId, body: HandoffAcknowledge, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.acknowledge(ctx, who, handoff_id, body, conn=conn)


# ---- console -----------------------------------------------------------------------------

@router.get("/konsol/serah-terima", include_in_schema=False)
def handoff_page(request: Request, who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        handoffs = service.list_handoffs(ctx, who, conn=conn)
    return pages_of(request).render(request, "shifts/handoffs.html", who=who, nav="shifts", handoffs=handoffs,
                                    supervises=may_hand_over_shifts(who))


@router.post("/konsol/serah-terima", include_in_schema=False)
def handoff_write(request: Request, form: FormData = Depends(posted_form),
                  who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx)):
    data = build(HandoffCreate, {"notes": form.get("notes"), "todo": form.get("todo")})
    with ctx.db.transaction() as conn:
        service.write_handoff(ctx, who, data, conn=conn)
        handoffs = service.list_handoffs(ctx, who, conn=conn)
    return pages_of(request).render(request, "shifts/_list.html", who=who, handoffs=handoffs,
                                    supervises=True, status_code=201)


@router.post("/konsol/serah-terima/{handoff_id}/terima", include_in_schema=False)
def handoff_acknowledge(handoff_id: RowId, request: Request, form: FormData = Depends(posted_form),
                        who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx)):
    data = build(HandoffAcknowledge, {"note": form.get("note") or None})
    with ctx.db.transaction() as conn:
        service.acknowledge(ctx, who, handoff_id, data, conn=conn)
        handoffs = service.list_handoffs(ctx, who, conn=conn)
    return pages_of(request).render(request, "shifts/_list.html", who=who, handoffs=handoffs, supervises=True)


@router.get("/konsol/serah-terima/{handoff_id}/cetak", include_in_schema=False)
def handoff_print(handoff_id: RowId, request: Request, who: Principal = Depends(page_principal),
                  ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        handoff = service.get_handoff(ctx, who, handoff_id, conn=conn)
    return pages_of(request).render(request, "shifts/print.html", who=who, h=handoff)
