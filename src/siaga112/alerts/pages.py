"""The public-alerts screen of the command centre: write an alert for chosen kecamatan and desa
or an area drawn on the map, and update or withdraw the current ones.

Every form carries a key made when the page was drawn: the same form sent twice (a double
click, a resent request) issues one alert and one broadcast."""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from siaga112.alerts import service
from siaga112.alerts.schemas import AlertCancel, AlertContent, AlertCreate
from siaga112.auth.permissions import may_issue_alerts, may_open_alerts_console
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import Forbidden
from siaga112.web.deps import page_principal
from siaga112.web.forms import FormInvalid, build, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(include_in_schema=False)
PAGE = "/konsol/peringatan"
CATEGORIES = [("Met", "Cuaca"), ("Geo", "Geologi (gempa, longsor)"), ("Fire", "Kebakaran"),
              ("Env", "Lingkungan (asap, pencemaran)"), ("Transport", "Transportasi, jalan"),
              ("Safety", "Keselamatan umum"), ("Health", "Kesehatan"), ("Infra", "Listrik, air"),
              ("Rescue", "Pencarian dan pertolongan"), ("Security", "Keamanan"), ("Other", "Lainnya")]
SEVERITIES = [("Extreme", "Sangat berbahaya"), ("Severe", "Berbahaya"), ("Moderate", "Sedang"),
              ("Minor", "Ringan")]
URGENCIES = [("Immediate", "Segera"), ("Expected", "Dalam waktu dekat"), ("Future", "Nanti")]
RESPONSES = [("", "—"), ("Evacuate", "Mengungsi"), ("Shelter", "Berlindung"), ("Prepare", "Bersiap"),
             ("Avoid", "Hindari wilayah"), ("Monitor", "Pantau informasi")]


def _viewer(who: Principal = Depends(page_principal), ctx: Context = Depends(get_ctx)) -> Principal:
    if may_open_alerts_console(who, ctx.sop.command_agency):
        return who
    raise Forbidden("halaman ini untuk pusat komando dan BPBD")


def _done() -> Response:
    # A full reload: the list shows the new message and the form gets a fresh key.
    return Response(status_code=204, headers={"HX-Redirect": PAGE})


def _expires(ctx: Context, value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(ctx.sop.timezone))
    except ValueError:
        raise FormInvalid([("expires", "tanggal dan jam tidak valid")]) from None


@router.get(PAGE)
def alerts_console(request: Request, who: Principal = Depends(_viewer), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        current = service.list_alerts(ctx, conn=conn, current_only=True)
    places = ctx.gazetteer.places()
    return pages_of(request).render(
        request, "alerts/console.html", who=who, nav="alerts", alerts=current,
        issues=may_issue_alerts(who, ctx.sop.command_agency), form_key=str(uuid.uuid4()),
        kecamatan=[p for p in places if p.level == "kecamatan"],
        desa={k.code: [p for p in places if p.level == "desa" and p.kecamatan_code == k.code]
              for k in places if k.level == "kecamatan"},
        categories=CATEGORIES, severities=SEVERITIES, urgencies=URGENCIES, responses=RESPONSES,
        tile_url=ctx.settings.tile_url)


@router.post(PAGE)
def issue_from_console(form: FormData = Depends(posted_form), who: Principal = Depends(_viewer),
                       ctx: Context = Depends(get_ctx)):
    try:
        polygon = json.loads(str(form.get("polygon") or "null"))
    except ValueError:
        raise FormInvalid([("polygon", "gambar wilayah tidak terbaca")]) from None
    data = build(AlertCreate, {
        "event": form.get("event") or None, "category": form.get("category") or None,
        "urgency": form.get("urgency") or "Expected", "severity": form.get("severity") or "Moderate",
        "certainty": "Observed", "response_type": form.get("response_type") or None,
        "headline": form.get("headline") or None, "description": form.get("description") or None,
        "instruction": form.get("instruction") or None, "expires": _expires(ctx, str(form.get("expires") or "")),
        "areas": {"codes": [str(c) for c in form.getlist("codes")], "polygon": polygon}})
    key = str(form.get("form_key") or "")[:64]
    with ctx.db.transaction() as conn:
        service.issue_alert(ctx, who, data, conn=conn, request_key=f"console:{key}" if key else None)
    return _done()


@router.post(PAGE + "/{alert_id}/perbarui")
def update_from_console(alert_id: str, form: FormData = Depends(posted_form), who: Principal = Depends(_viewer),
                        ctx: Context = Depends(get_ctx)):
    given = {k: form.get(k) for k in ("headline", "instruction", "severity") if form.get(k)}
    data = build(AlertContent, given)
    with ctx.db.transaction() as conn:
        service.update_alert(ctx, who, alert_id, data, conn=conn)
    return _done()


@router.post(PAGE + "/{alert_id}/cabut")
def cancel_from_console(alert_id: str, form: FormData = Depends(posted_form), who: Principal = Depends(_viewer),
                        ctx: Context = Depends(get_ctx)):
    data = build(AlertCancel, {"note": form.get("note") or ""})
    with ctx.db.transaction() as conn:
        service.cancel_alert(ctx, who, alert_id, data, conn=conn)
    return _done()
