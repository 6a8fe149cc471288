"""The call-taker's console: one screen from the first ring to the ticket read back."""
from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import FormData

from siaga112.auth.permissions import is_staff
from siaga112.auth.principal import Principal
from siaga112.calls import service as calls
from siaga112.calls.schemas import TRANSFER_TARGETS, CallCreate
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.deps import get_ctx
from siaga112.errors import Forbidden, InvalidField
from siaga112.handover import service as handovers
from siaga112.handover.schemas import HandoverCreate
from siaga112.inbound import service as reports
from siaga112.inbound.schemas import ReportClose, ReportVerify
from siaga112.incidents import intake, reads
from siaga112.incidents.duplicates import find_duplicates
from siaga112.incidents.schemas import IncidentCreate
from siaga112.interop.eidd import TARGET_NAMES
from siaga112.phone import normalise_phone
from siaga112.places.service import search_places
from siaga112.telephony import service as telephony
from siaga112.telephony.schemas import SessionOutcome
from siaga112.web.deps import page_principal
from siaga112.web.forms import blank_to_none, build, form_text, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(prefix="/konsol/panggilan", include_in_schema=False)

OUTCOMES = (  # outcome, shortcut (KeyboardEvent.code), Indonesian label
    ("information", "KeyI", "Informasi"),
    ("prank", "KeyP", "Prank / iseng"),
    ("silent", "KeyS", "Diam / tanpa suara"),
    ("misdial", "KeyM", "Salah sambung"),
    ("out_of_area", "KeyL", "Luar wilayah"),
)


def _call_taker(who: Principal = Depends(page_principal)) -> Principal:
    if not is_staff(who):
        raise Forbidden("halaman ini untuk operator 112")
    return who


@router.get("")
def new_call(request: Request, who: Principal = Depends(_call_taker), ctx: Context = Depends(get_ctx)):
    return pages_of(request).render(
        request, "calls/new_call.html", who=who, nav="calls", sop=ctx.sop, outcomes=OUTCOMES,
        transfer_targets=[(t, TARGET_NAMES.get(t, t)) for t in TRANSFER_TARGETS],
        form_key=str(uuid.uuid4()))


@router.get("/antrean")
def waiting(request: Request, who: Principal = Depends(_call_taker), ctx: Context = Depends(get_ctx)):
    """Calls ringing or answered but not yet recorded, and citizen reports waiting to be verified."""
    with ctx.db.transaction(write=False) as conn:
        # The waiting list shows no number or name, so it is no audited view.
        live = [s for s in telephony.list_sessions(ctx, who, conn=conn, state="ringing,answered",
                                                   limit=20, shows_caller=False)
                if not s.call_id and not s.incident_id]
        waiting_reports = reports.list_reports(ctx, who, conn=conn, status="waiting", limit=20,
                                               shows_reporter=False)
    return pages_of(request).render(request, "calls/_waiting.html", sessions=live,
                                    reports=waiting_reports, who=who)


@router.get("/sesi/{session_id}")
def call_session(session_id: str, who: Principal = Depends(_call_taker), ctx: Context = Depends(get_ctx)):
    """What the new-call screen fills in when a call is answered: the number and the phone's fix."""
    # A write: the caller's history it reads is audited.
    with ctx.db.transaction() as conn:
        s = telephony.get_session(ctx, who, session_id, conn=conn)
    loc = s.location
    return JSONResponse({"session_id": s.id, "phone": s.caller_phone or "", "blocked": s.blocked,
                         "location": None if loc is None or not loc.valid else
                         {"lat": loc.lat, "lon": loc.lon, "radius_m": loc.radius_m}})


@router.get("/laporan/{report_id}")
def citizen_report(report_id: str, who: Principal = Depends(_call_taker), ctx: Context = Depends(get_ctx)):
    """A waiting citizen report, to verify on the new-call form (an audited view: a write)."""
    with ctx.db.transaction() as conn:
        r = reports.get_report(ctx, who, report_id, conn=conn)
    return JSONResponse({"report_id": r.id, "ticket": r.ticket, "channel": r.channel,
                         "phone": r.reporter_phone or "", "name": r.reporter_name or "",
                         "description": r.text, "lat": r.lat, "lon": r.lon,
                         "address": r.address or "", "blocked": r.blocked})


@router.get("/riwayat")
def history(request: Request, phone: str = "", who: Principal = Depends(_call_taker),
            ctx: Context = Depends(get_ctx)):
    pages = pages_of(request)
    if not phone.strip():
        return HTMLResponse("")
    try:
        normalise_phone(phone)
    except ValueError as exc:
        return pages.render(request, "calls/_history.html", history=None, error=str(exc))
    # A write transaction: the view is audited. A read one that writes fails with "database is
    # locked" on SQLite when a call's webhook writes at the same moment.
    with ctx.db.transaction() as conn:
        found = calls.caller_history(ctx, who, phone, conn=conn)
    return pages.render(request, "calls/_history.html", history=found, error=None)


@router.post("/saran")
def suggestion(request: Request, who: Principal = Depends(_call_taker),
               ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    text = form_text(form, "description")
    if not text:
        return HTMLResponse("")
    result = ctx.classifier.classify(text[:4000])
    itype = ctx.sop.incident_types.get(result.type_code)
    if itype is None or not itype.lead:
        itype = ctx.sop.incident_types["OTHER"]
    return pages_of(request).render(request, "calls/_suggestion.html", result=result, itype=itype,
                                    sop=ctx.sop)


@router.get("/wilayah")
def wilayah(request: Request, desa_q: str = "", who: Principal = Depends(_call_taker),
            ctx: Context = Depends(get_ctx)):
    """The search box over landmarks, desa/kelurahan and kecamatan names."""
    query = desa_q.strip()[:100]
    if not query:
        return HTMLResponse("")
    with ctx.db.transaction(write=False) as conn:
        found = search_places(ctx, who, query, conn=conn, limit=8)
    return pages_of(request).render(request, "calls/_wilayah.html", places=found)


@router.get("/duplikat")
def duplicates(request: Request, who: Principal = Depends(_call_taker), ctx: Context = Depends(get_ctx)):
    q = request.query_params
    lat, lon = _float(q.get("lat")), _float(q.get("lon"))
    if (lat is None or lon is None) and q.get("desa_code"):
        lat, lon = ctx.gazetteer.desa_centroid(q["desa_code"]) or (None, None)
    if (lat is None or lon is None) and q.get("address", "").strip():
        # Only an address typed: the place it names, as intake would locate it.
        place = ctx.gazetteer.match_address(q["address"][:500])
        if place is not None:
            lat, lon = place.lat, place.lon
    type_code = q.get("type_code") or "OTHER"
    if type_code not in ctx.sop.incident_types:
        type_code = "OTHER"
    with ctx.db.transaction(write=False) as conn:
        found = find_duplicates(ctx, conn, type_code=type_code, lat=lat, lon=lon,
                                          now=utcnow())
    return pages_of(request).render(request, "calls/_duplicates.html", duplicates=found)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _caller(form) -> dict | None:
    fields = blank_to_none(form, "phone", "caller_name")
    if not fields["phone"] and not fields["caller_name"]:
        return None
    return {"phone": fields["phone"], "name": fields["caller_name"]}


def _saved(message: str, **extra) -> dict[str, str]:
    # htmx turns this header into events: the form resets, the toast reads the message.
    return {"HX-Trigger": json.dumps({"call-saved": extra, "siaga-toast": message})}


@router.post("/hasil")
def record_outcome(request: Request, who: Principal = Depends(_call_taker),
                   ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    """A call that is not a new emergency: one key, one row."""
    fields = blank_to_none(form, "outcome", "channel", "transferred_to", "incident_id", "note",
                           "call_session_id", "report_id")
    if fields["outcome"] == "duplicate" and not fields["note"]:
        # A second caller's own words stay with the incident they are linked to.
        fields["note"] = blank_to_none(form, "description")["description"]
    if fields["outcome"] != "out_of_area":
        fields["transferred_to"] = None
    elif not fields["transferred_to"]:
        # No centre is preselected: a call sent to the wrong centre is a call lost.
        raise InvalidField("transferred_to", "pilih pusat 112 tujuan pengalihan (Alt+G)")
    outcome = {"outcome": fields["outcome"], "transferred_to": fields["transferred_to"],
               "note": fields["note"]}
    linked = None
    with ctx.db.transaction() as conn:
        if fields["outcome"] == "out_of_area":
            # Handed over: the receiving centre gets the EIDD record (what was typed goes with it),
            # and the call, report or PBX session is closed with it.
            text = blank_to_none(form, "description", "address")
            handovers.create_handover(ctx, who, build(HandoverCreate, {
                "target": fields["transferred_to"], "report_id": fields["report_id"],
                "call_session_id": fields["call_session_id"],
                "caller": None if fields["report_id"] else _caller(form),
                "description": text["description"], "note": fields["note"],
                "location": {"address": text["address"]} if text["address"] else None}), conn=conn)
        elif fields["report_id"]:
            # A citizen report: a duplicate joins the incident, anything else closes it.
            if fields["outcome"] == "duplicate":
                reports.verify_report(ctx, who, fields["report_id"],
                                      build(ReportVerify, {"incident_id": fields["incident_id"]}),
                                      conn=conn)
            else:
                reports.close_report(ctx, who, fields["report_id"], build(ReportClose, outcome),
                                     conn=conn)
        elif fields["call_session_id"]:
            # A call the PBX told us about: its ring and answer times go with the outcome.
            telephony.record_outcome(ctx, who, fields["call_session_id"], build(
                SessionOutcome, {**outcome, "incident_id": fields["incident_id"]}), conn=conn)
        else:
            calls.record_call(ctx, who, build(CallCreate, {
                **outcome, "channel": fields["channel"] or "call", "caller": _caller(form),
                "incident_id": fields["incident_id"]}), conn=conn)
        if fields["outcome"] == "duplicate" and fields["incident_id"]:
            linked = reads.get_incident(ctx, who, fields["incident_id"], conn=conn)
    label = dict((o, label) for o, _, label in OUTCOMES).get(fields["outcome"] or "", "Duplikat")
    pages = pages_of(request)
    message = pages.gettext(request, "Panggilan dicatat") + f": {pages.gettext(request, label)}"
    # The "read this ticket" card always belongs to the call just handled: the linked incident's
    # ticket for a second caller, and nothing for a prank, a silent call or a transfer. The form
    # is cleared after the card is swapped in (the link button itself lives in the cleared part).
    response = pages.render(request, "calls/_linked.html", incident=linked)
    response.headers["HX-Trigger-After-Swap"] = _saved(message, outcome=fields["outcome"])["HX-Trigger"]
    return response


@router.post("/insiden")
def create_incident(request: Request, who: Principal = Depends(_call_taker),
                    ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    """An emergency: the incident is created, routed and its ticket shown to read out."""
    f = blank_to_none(form, "channel", "description", "type_code", "priority", "lat", "lon",
                      "address", "desa_code", "form_key", "call_session_id", "report_id",
                      "notify_caller")
    location = {"lat": f["lat"], "lon": f["lon"], "address": f["address"], "desa_code": f["desa_code"]}
    body = build(IncidentCreate, {
        "channel": f["channel"] or "call", "caller": _caller(form), "description": f["description"],
        "type_code": f["type_code"], "priority": f["priority"], "location": location,
        "notify_caller": f["notify_caller"]})
    # The form's own key makes a double Ctrl+Enter (or a retry after a timeout) one incident.
    key = f"console:{f['form_key']}" if f["form_key"] else None
    created = True
    with ctx.db.transaction() as conn:
        if f["report_id"]:
            verified = reports.verify_report(ctx, who, f["report_id"], ReportVerify(
                description=body.description, type_code=body.type_code, priority=body.priority,
                location=body.location), conn=conn)
            assert verified.incident_id is not None, "a verified report has its incident"
            incident = reads.get_incident(ctx, who, verified.incident_id, conn=conn)
        else:
            result = intake.create_incident(ctx, who, body, conn=conn, idempotency_key=key)
            incident, created = result.incident, result.created
            if f["call_session_id"]:
                telephony.link_incident(ctx, who, f["call_session_id"], incident.id, conn=conn)
    pages = pages_of(request)
    response = pages.render(request, "calls/_created.html", incident=incident, sop=ctx.sop,
                            status_code=201 if created else 200)
    response.headers.update(_saved(pages.gettext(request, "Insiden dibuat") + f": {incident.ticket}",
                                   ticket=incident.ticket, form_key=str(uuid.uuid4())))
    return response

