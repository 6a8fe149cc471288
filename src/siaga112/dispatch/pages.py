"""The agency dispatcher's console: the live queue and the incident panel."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData

from siaga112.auth.permissions import agency_of, is_agency_member
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.deps import get_ctx
from siaga112.dispatch.queue import agency_queue
from siaga112.dispatch.service import change_unit_status
from siaga112.errors import Forbidden
from siaga112.models.status import UNIT_MANUAL_MOVES
from siaga112.units import service as units
from siaga112.units.schemas import StatusBody
from siaga112.web.deps import page_principal
from siaga112.web.forms import blank_to_none, build, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(prefix="/konsol/dinas", include_in_schema=False)


def _agency_member(who: Principal = Depends(page_principal)) -> Principal:
    if is_agency_member(who):
        return who
    raise Forbidden("halaman ini untuk petugas dinas")


@router.get("")
def dispatcher(request: Request, who: Principal = Depends(_agency_member),
               ctx: Context = Depends(get_ctx)):
    agency = ctx.sop.agencies.get(agency_of(who))
    return pages_of(request).render(request, "dispatch/queue.html", who=who, nav="dispatch",
                                    agency=agency)


@router.get("/antrean")
def queue(request: Request, who: Principal = Depends(_agency_member), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        items = agency_queue(ctx, who, agency_of(who), conn=conn)
    return pages_of(request).render(request, "dispatch/_queue.html", items=items,
                                    sop=ctx.sop, now=utcnow())


def _render_units(request: Request, ctx: Context, who: Principal):
    with ctx.db.transaction(write=False) as conn:
        fleet = units.list_units(ctx, who, conn=conn, agency_code=who.agency_code)
    return pages_of(request).render(request, "dispatch/_units.html", fleet=fleet,
                                    moves=UNIT_MANUAL_MOVES,
                                    who=who)


@router.get("/unit")
def fleet(request: Request, who: Principal = Depends(_agency_member), ctx: Context = Depends(get_ctx)):
    return _render_units(request, ctx, who)


@router.post("/unit/{unit_id}/status")
def unit_status(unit_id: str, request: Request, who: Principal = Depends(_agency_member),
                ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    f = blank_to_none(form, "status", "note")
    with ctx.db.transaction() as conn:
        body = build(StatusBody, {"status": f["status"], "note": f["note"]})
        change_unit_status(ctx, who, unit_id, body.status, body.note, conn=conn)
    response = _render_units(request, ctx, who)
    response.headers["HX-Trigger"] = json.dumps(
        {"siaga-toast": pages_of(request).gettext(request, "Tersimpan")})
    return response
