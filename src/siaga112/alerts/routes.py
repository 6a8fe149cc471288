"""HTTP routes for public alerts: the API BPBD writes with, the CAP documents and the Atom feed
anyone may read, and the citizens' page /peringatan (Bahasa Indonesia, no login)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError

from siaga112.alerts import incoming, service
from siaga112.alerts.cap import CAP_MEDIA_TYPE
from siaga112.alerts.schemas import AlertCancel, AlertContent, AlertCreate, AlertRead
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.errors import NotFound
from siaga112.public.routes import REQUESTS, TOO_MANY
from siaga112.security.ratelimit import throttle
from siaga112.web.deps import page_principal
from siaga112.web.templating import pages_of

router = APIRouter(tags=["alerts"])


def _limit(request: Request) -> None:
    # The public reads share the citizens' pages' allowance per client address.
    throttle(request, REQUESTS, message=TOO_MANY)

API = "/api/v1/alerts"


@router.post(API, status_code=201, response_model=AlertRead)
def issue_alert(body: AlertCreate, idempotency_key: str | None = Header(default=None, max_length=64),
                who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """Sent again with the same Idempotency-Key, the alert is issued (and broadcast) once."""
    key = f"api:{who.user_id}:{idempotency_key}" if idempotency_key else None
    return _issue_once(ctx, who, body, key)


def _issue_once(ctx: Context, who: Principal, body: AlertCreate, key: str | None) -> AlertRead:
    try:
        with ctx.db.transaction() as conn:
            return service.issue_alert(ctx, who, body, conn=conn, request_key=key)
    except IntegrityError:
        # The same key committed by a concurrent request a moment earlier: that one stands.
        with ctx.db.transaction(write=False) as conn:
            earlier = service.already_sent(ctx, conn, key)
        if earlier is None:
            raise
        return earlier


@router.get(API, response_model=list[AlertRead])
def list_alerts(current: bool = False, limit: int = Query(default=100, ge=1, le=500),
                who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.list_alerts(ctx, conn=conn, current_only=current, limit=limit)


# Declared before /{alert_id}: "x.xml" must not be read as an id.
@router.get(API + "/{alert_id}.xml", response_class=Response)
def cap_document(alert_id: str, request: Request, ctx: Context = Depends(get_ctx)):
    """The alert as CAP 1.2 (public: an alert is for everyone)."""
    _limit(request)
    with ctx.db.transaction(write=False) as conn:
        body = service.cap_xml(ctx, alert_id, conn=conn)
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.get(API + "/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: str, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.get_alert(ctx, alert_id, conn=conn)


@router.post(API + "/{alert_id}/update", status_code=201, response_model=AlertRead)
def update_alert(alert_id: str, body: AlertContent, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.update_alert(ctx, who, alert_id, body, conn=conn)


@router.post(API + "/{alert_id}/cancel", status_code=201, response_model=AlertRead)
def cancel_alert(alert_id: str, body: AlertCancel, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.cancel_alert(ctx, who, alert_id, body, conn=conn)


@router.get("/alerts.atom", response_class=Response)
def alerts_feed(request: Request, ctx: Context = Depends(get_ctx)):
    _limit(request)
    with ctx.db.transaction(write=False) as conn:
        body = service.feed(ctx, conn=conn)
    return Response(body, media_type="application/atom+xml")


@router.get("/peringatan", response_class=HTMLResponse)
def alerts_page(request: Request, ctx: Context = Depends(get_ctx)):
    """The current alerts, for a phone screen."""
    _limit(request)
    with ctx.db.transaction(write=False) as conn:
        current = service.list_alerts(ctx, conn=conn, current_only=True)
    return pages_of(request).render(request, "alerts/peringatan.html", lang="id", alerts=current,
                                    kecamatan=ctx.gazetteer.places("kecamatan"))


@router.get("/peringatan/{code}", response_class=HTMLResponse)
def alert_page(code: str, request: Request, ctx: Context = Depends(get_ctx)):
    """One alert message, current or not (an SMS links here; an old link shows it was replaced)."""
    _limit(request)
    with ctx.db.transaction(write=False) as conn:
        try:
            alert = service.alert_by_code(ctx, code, conn=conn)
        except NotFound:
            return pages_of(request).render(request, "public/pesan.html", 404, lang="id",
                                            judul="Peringatan tidak ditemukan",
                                            pesan="Periksa kembali kode peringatan pada pesan Anda.")
        latest = service.latest_of(ctx, conn, alert.id)
    return pages_of(request).render(request, "alerts/peringatan_satu.html", lang="id", a=alert, latest=latest)


# ---- warnings received from other centres (BMKG) -------------------------------------------

@router.get("/api/v1/warnings")
def list_warnings(all_areas: bool = Query(default=False, alias="all"),
                  who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)) -> list[dict]:
    """Current warnings received as CAP; only those that touch PPU unless `all=true`."""
    with ctx.db.transaction(write=False) as conn:
        return incoming.current_warnings(ctx, who, conn=conn, ppu_only=not all_areas)


@router.post("/api/v1/warnings/{warning_id}/local-alert", status_code=201, response_model=AlertRead)
def warning_to_alert(warning_id: str, who: Principal = Depends(current_principal),
                     ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return incoming.make_local_alert(ctx, who, warning_id, conn=conn)


@router.post("/konsol/komando/peringatan-masuk/{warning_id}/lokal", include_in_schema=False)
def warning_to_alert_page(warning_id: str, request: Request, who: Principal = Depends(page_principal),
                          ctx: Context = Depends(get_ctx)):
    """The command centre's one-step button; answers with what replaces it."""
    with ctx.db.transaction() as conn:
        alert = incoming.make_local_alert(ctx, who, warning_id, conn=conn)
    return pages_of(request).render(request, "alerts/_warning_localised.html", who=who, alert=alert)
