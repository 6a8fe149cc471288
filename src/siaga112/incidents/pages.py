"""Console screens around one incident, and the command center's overview."""
from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from siaga112.alerts import incoming
from siaga112.audit import service as audit
from siaga112.auth.permissions import (
    commands,
    console_rights,
    is_staff,
    may_view_command_centre,
    own_assignment,
    scoped_agency,
)
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.deps import get_ctx
from siaga112.dispatch import service as dispatch
from siaga112.errors import Forbidden, InvalidField
from siaga112.incidents import overview as ov
from siaga112.incidents import reads
from siaga112.incidents import service as incidents
from siaga112.incidents.schemas import (
    DeclineBody,
    NoteCreate,
    ProgressBody,
    RerouteBody,
    RouteBody,
    StatusChange,
    SupportRequest,
)
from siaga112.models.status import (
    ACTIVE_ASSIGNMENT,
    AWAITING_ASSIGNMENT,
    INCIDENT_MOVES,
    AssignmentStatus,
    IncidentStatus,
    progress_moves,
)
from siaga112.public.service import normalise_ticket
from siaga112.sop.checklist import steps_for
from siaga112.units import service as units
from siaga112.web.deps import page_principal
from siaga112.web.forms import blank_to_none, build, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(include_in_schema=False)


def _commander(who: Principal = Depends(page_principal)) -> Principal:
    if may_view_command_centre(who):
        return who
    raise Forbidden("halaman ini untuk pusat komando")


def render_detail(request: Request, ctx: Context, who: Principal, incident_id: str, *,
                  status_code: int = 200, conn=None):
    """The incident panel: facts, assignments, the viewer's actions, SOP steps and timeline."""
    incident = reads.get_incident(ctx, who, incident_id, conn=conn, with_timeline=True)
    itype = ctx.sop.incident_types[incident.type_code]
    mine = own_assignment(who, incident.assignments)
    recommended = []
    if mine is not None and console_rights(who).dispatches and mine.status in AWAITING_ASSIGNMENT:
        recommended = units.rank_units(ctx, units.recommendation_request(
            ctx, who, incident_id, mine.agency_code, conn=conn, limit=8))
    # Only the units on this incident, not the whole fleet, for every panel refresh.
    call_signs = units.call_signs_of(who, [a.unit_id for a in incident.assignments if a.unit_id],
                                     conn=conn)
    if (incident.caller is not None and (incident.caller.phone or incident.caller.name)) \
            or incident.linked_calls:
        request.state.caller_shown = (incident.id, incident.ticket)
    return pages_of(request).render(
        request, "incidents/_detail.html", status_code=status_code, who=who, incident=incident,
        itype=itype, mine=mine, recommended=recommended, call_signs=call_signs,
        sop=ctx.sop, commander=commands(who), now=utcnow(),
        progress_moves=progress_moves(mine.status) if mine is not None else (),
        # Resolving or cancelling ends their work too: the question names them.
        still_working=[a.agency_code for a in incident.assignments if a.status in ACTIVE_ASSIGNMENT],
        completing_needs_reason=mine is not None and dispatch.completing_needs_reason(
            incident.priority, mine),
        # A unit's dispatch moves an incident to dispatched; by hand, the other legal moves.
        status_choices=[s for s in IncidentStatus if s in INCIDENT_MOVES[incident.status]
                        and s != IncidentStatus.DISPATCHED],
        steps=steps_for(ctx.sop, itype, incident.priority,
                        None if commands(who) else who.agency_code))


@router.get("/konsol/insiden/{incident_id}")
def detail(incident_id: str, request: Request, who: Principal = Depends(page_principal),
           ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        response = render_detail(request, ctx, who, incident_id, conn=conn)
    _audit_caller_view(request, ctx, who)
    return response


def _audit_caller_view(request: Request, ctx: Context, who: Principal, conn=None) -> None:
    """A panel that showed the caller's number or name is a view of personal data: audited."""
    shown = getattr(request.state, "caller_shown", None)
    if shown is None:
        return
    if conn is None:
        with ctx.db.transaction() as own:
            _audit_caller_view(request, ctx, who, own)
        return
    incident_id, ticket = shown
    audit.record(conn, who, "incident.viewed", "incident", incident_id, detail={"ticket": ticket})


ACTIONS = {"terima", "kirim", "progres", "tolak", "bantuan", "catatan", "status", "alihkan", "rute"}


@router.post("/konsol/insiden/{incident_id}/{action}")
def act(incident_id: str, action: str, request: Request,
        who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx),
        form: FormData = Depends(posted_form)):
    """One console action on the incident, then the refreshed panel."""
    if action not in ACTIONS:
        raise InvalidField("action", f"unknown action {action!r}")
    f = blank_to_none(form, "agency_code", "unit_id", "status", "note", "reason", "text",
                      "type_code", "priority")
    agency = f["agency_code"] or who.agency_code or ""
    with ctx.db.transaction() as conn:
        if action == "terima":
            dispatch.acknowledge(ctx, who, incident_id, agency, conn=conn)
        elif action == "kirim":
            if not f["unit_id"]:
                raise InvalidField("unit_id", "pilih unit yang dikirim")
            dispatch.dispatch_unit(ctx, who, incident_id, agency, f["unit_id"], conn=conn)
        elif action == "progres":
            body = build(ProgressBody, {"status": f["status"], "note": f["note"]})
            dispatch.progress(ctx, who, incident_id, agency, AssignmentStatus(body.status), body.note,
                              conn=conn)
        elif action == "tolak":
            body = build(DeclineBody, {"reason": f["reason"]})
            dispatch.decline(ctx, who, incident_id, agency, body.reason, conn=conn)
        elif action == "bantuan":
            body = build(SupportRequest, {"agency_code": f["agency_code"], "reason": f["reason"]})
            dispatch.request_support(ctx, who, incident_id, body.agency_code, body.reason, conn=conn)
        elif action == "catatan":
            body = build(NoteCreate, {"text": f["text"], "public": form.get("public") == "on"})
            incidents.add_note(ctx, who, incident_id, body.text, body.public, conn=conn)
        elif action == "rute":
            body = build(RouteBody, {"agency_code": f["agency_code"], "action": form.get("route"),
                                     "note": f["note"]})
            incidents.route_to_agency(ctx, who, incident_id, body.agency_code, body.action, body.note,
                                      conn=conn)
        elif action == "status":
            body = build(StatusChange, {"status": f["status"], "note": f["note"]})
            incidents.change_status(ctx, who, incident_id, body.status, body.note, conn=conn)
        else:
            body = build(RerouteBody, {"type_code": f["type_code"], "priority": f["priority"],
                                       "note": f["note"]})
            incidents.reroute(ctx, who, incident_id, body.type_code, body.priority, body.note,
                              conn=conn)
        response = render_detail(request, ctx, who, incident_id, conn=conn)
        _audit_caller_view(request, ctx, who, conn)
    message = pages_of(request).gettext(request, "Tersimpan")
    response.headers["HX-Trigger"] = json.dumps({"siaga-toast": message})
    return response


@router.get("/konsol/komando")
def command_center(request: Request, who: Principal = Depends(_commander),
                   ctx: Context = Depends(get_ctx)):
    return pages_of(request).render(request, "incidents/command.html", who=who, nav="command",
                                    sop=ctx.sop)


@router.get("/konsol/komando/ringkasan")
def command_summary(request: Request, who: Principal = Depends(_commander),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        counts = ov.overview(ctx, who, conn=conn, since=utcnow() - timedelta(hours=24))
        escalated = ov.escalations(ctx, who, conn=conn)
        open_page = reads.list_incidents(ctx, who, conn=conn, status="new,dispatched,on_scene",
                                             limit=100)
        warnings = incoming.current_warnings(ctx, who, conn=conn)
        # Every agency's units, for the command centre's board; the ticket each one serves.
        fleet = units.list_units(ctx, who, conn=conn)
        serving = {i.id: i.ticket for i in open_page.items}
    return pages_of(request).render(request, "incidents/_command_summary.html", counts=counts,
                                    fleet=fleet, serving=serving,
                                    escalations=escalated, open_incidents=open_page.items,
                                    warnings=warnings, sop=ctx.sop, now=utcnow())


@router.get("/konsol/peta/insiden.json")
def map_data(who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx)):
    agency = scoped_agency(who, None)
    with ctx.db.transaction(write=False) as conn:
        features = ov.map_features(ctx, who, conn=conn, agency_code=agency)
        if may_view_command_centre(who):
            # Warnings received from BMKG that reach PPU, drawn under the incidents.
            features["features"] = incoming.warning_features(ctx, who, conn=conn) + features["features"]
    return JSONResponse(features)


@router.get("/konsol/cari")
def find_ticket(request: Request, tiket: str = "", who: Principal = Depends(page_principal),
                ctx: Context = Depends(get_ctx)):
    """Staff find an incident by the ticket a caller reads out, from any console."""
    if not is_staff(who):
        raise Forbidden("pencarian tiket untuk staf 112 dan pusat komando")
    ticket = normalise_ticket(tiket)
    found = None
    if ticket is not None:
        with ctx.db.transaction(write=False) as conn:
            found = reads.find_by_ticket(ctx, who, ticket, conn=conn)
    return pages_of(request).render(request, "incidents/ticket_search.html", who=who, nav=None,
                                    query=tiket, incident_id=found,
                                    status_code=200 if found else 404)
