"""Public pages and API (no login): ticket tracking, the web report form, opting out of messages.

Nothing personal is ever shown here: the ticket page knows the stage, the incident type, the
lead agency and public notes. Every route is rate-limited per client address.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError

from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import DomainError
from siaga112.inbound.service import submit_web_report
from siaga112.notify.service import opt_out_ticket, tracking_url
from siaga112.public.ratelimit import PublicLimiter
from siaga112.public.schemas import PublicTicket, ReportReceipt, WebReportIn
from siaga112.public.service import normalise_ticket, public_ticket

router = APIRouter(tags=["public"])
WITA = ZoneInfo("Asia/Makassar")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
STATIC = Path(__file__).parent / "static"
# The page may run its own script (the location button) and nothing from elsewhere.
SECURITY_HEADERS = {
    "Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
}
FIELD_LABELS = {"description": "Keterangan", "phone": "Nomor HP", "name": "Nama", "address": "Alamat",
                "lat": "Lokasi", "lon": "Lokasi", "accuracy_m": "Lokasi", "notify": "Kabar"}


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, retry_after: float):
        super().__init__("Terlalu banyak permintaan. Coba lagi sebentar lagi.")
        self.retry_after = retry_after


def _wita(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(WITA)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M} WITA"


_env = Environment(loader=PackageLoader("siaga112.public", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_env.filters["wita"] = _wita


def limiter(request: Request) -> PublicLimiter:
    state = request.app.state
    found = getattr(state, "public_limiter", None)
    if found is None:
        settings = state.ctx.settings
        found = state.public_limiter = PublicLimiter(settings.public_rate_per_minute,
                                                     settings.public_misses_per_10_minutes)
    return found


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit(request: Request, *, lookup: bool = False) -> None:
    lim = limiter(request)
    key = _client(request)
    wait = lim.hit(key) or (lim.blocked_for_misses(key) if lookup else None)
    if wait is not None:
        raise TooManyRequests(wait)


def _html(name: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status_code,
                        headers=SECURITY_HEADERS)


def _too_many(exc: TooManyRequests, html: bool) -> Response:
    headers = {**SECURITY_HEADERS, "Retry-After": str(max(1, round(exc.retry_after)))}
    if html:
        return HTMLResponse(_env.get_template("pesan.html").render(
            judul="Terlalu banyak permintaan", pesan=exc.message), status_code=429, headers=headers)
    return JSONResponse({"detail": exc.message}, status_code=429, headers=headers)


def _lookup(request: Request, ctx: Context, ticket: str) -> PublicTicket | None:
    with ctx.db.transaction(write=False) as conn:
        found = public_ticket(ctx, ticket, conn=conn)
    if found is None:
        limiter(request).miss(_client(request))
    return found


@router.get("/api/v1/public/tickets/{ticket}", response_model=PublicTicket)
def ticket_api(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    """A ticket's stage and public notes, for the reporter (no login, no personal data)."""
    try:
        _limit(request, lookup=True)
    except TooManyRequests as exc:
        return _too_many(exc, html=False)
    found = _lookup(request, ctx, ticket)
    if found is None:
        return JSONResponse({"detail": "Tiket tidak ditemukan"}, status_code=404, headers=SECURITY_HEADERS)
    return JSONResponse(found.model_dump(mode="json"), headers=SECURITY_HEADERS)


@router.post("/api/v1/public/tickets/{ticket}/opt-out")
def ticket_opt_out_api(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    """No more SMS/WhatsApp messages about this ticket."""
    try:
        _limit(request, lookup=True)
    except TooManyRequests as exc:
        return _too_many(exc, html=False)
    if _lookup(request, ctx, ticket) is None:
        return JSONResponse({"detail": "Tiket tidak ditemukan"}, status_code=404)
    with ctx.db.transaction() as conn:
        stopped = opt_out_ticket(conn, normalise_ticket(ticket) or ticket)
    return {"ticket": normalise_ticket(ticket), "stopped": stopped}


@router.post("/api/v1/public/reports", response_model=ReportReceipt, status_code=201)
def report_api(body: WebReportIn, request: Request, ctx: Context = Depends(get_ctx)):
    """The web report form as JSON (the page at /lapor posts the same fields)."""
    try:
        _limit(request)
    except TooManyRequests as exc:
        return _too_many(exc, html=False)
    with ctx.db.transaction() as conn:
        report = submit_web_report(ctx, body, conn=conn)
    return JSONResponse({"ticket": report.ticket, "tracking_url": tracking_url(ctx.settings, report.ticket)},
                        status_code=201)


@router.get("/lacak", response_class=HTMLResponse, include_in_schema=False)
def track_form(request: Request, tiket: str | None = None):
    if tiket:
        ticket = normalise_ticket(tiket)
        if ticket is not None:
            return RedirectResponse(f"/lacak/{ticket}", status_code=303)
        return _html("lacak_cari.html", 422, tiket=tiket,
                     galat="Nomor tiket terdiri dari 8 huruf/angka, contoh K7MQ-3XD9.")
    return _html("lacak_cari.html")


@router.get("/lacak/{ticket}", response_class=HTMLResponse, include_in_schema=False)
def track_page(ticket: str, request: Request, baru: int = 0, ctx: Context = Depends(get_ctx)):
    try:
        _limit(request, lookup=True)
    except TooManyRequests as exc:
        return _too_many(exc, html=True)
    found = _lookup(request, ctx, ticket)
    if found is None:
        return _html("lacak_cari.html", 404, tiket=ticket,
                     galat="Tiket tidak ditemukan. Periksa kembali nomor tiket Anda.")
    return _html("lacak.html", t=found, baru=bool(baru), berhenti=False)


@router.post("/lacak/{ticket}/berhenti", response_class=HTMLResponse, include_in_schema=False)
def track_opt_out(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    try:
        _limit(request, lookup=True)
    except TooManyRequests as exc:
        return _too_many(exc, html=True)
    found = _lookup(request, ctx, ticket)
    if found is None:
        return _html("lacak_cari.html", 404, tiket=ticket, galat="Tiket tidak ditemukan.")
    with ctx.db.transaction() as conn:
        opt_out_ticket(conn, found.ticket)
    return _html("lacak.html", t=found, baru=False, berhenti=True)


@router.get("/lapor", response_class=HTMLResponse, include_in_schema=False)
def report_form():
    return _html("lapor.html", nilai={}, galat={})


def _form_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        field = str(err["loc"][0]) if err["loc"] else "description"
        if field == "phone":
            errors["phone"] = "Nomor HP tidak valid."
        elif field == "description":
            errors["description"] = "Ceritakan kejadiannya (minimal 3 huruf, maksimal 2000)."
        elif field in ("lat", "lon", "accuracy_m"):
            errors["lokasi"] = "Lokasi dari peramban tidak dapat dibaca; isi alamat saja."
        else:
            errors[field] = f"{FIELD_LABELS.get(field, field)} tidak valid."
    return errors


@router.post("/lapor", response_class=HTMLResponse, include_in_schema=False)
async def report_submit(request: Request, ctx: Context = Depends(get_ctx)):
    try:
        _limit(request)
    except TooManyRequests as exc:
        return _too_many(exc, html=True)
    raw = await request.body()
    fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    allowed = {k: v for k, v in fields.items() if k in WebReportIn.model_fields}
    for key in ("lat", "lon", "accuracy_m"):
        if not allowed.get(key):
            allowed.pop(key, None)
    try:
        data = WebReportIn.model_validate(allowed)
    except ValidationError as exc:
        return _html("lapor.html", 422, nilai=fields, galat=_form_errors(exc))

    def save():
        with ctx.db.transaction() as conn:
            return submit_web_report(ctx, data, conn=conn)

    report = await run_in_threadpool(save)
    return RedirectResponse(f"/lacak/{report.ticket}?baru=1", status_code=303)


@router.get("/lapor/lokasi.js", include_in_schema=False)
def location_script():
    return Response((STATIC / "lokasi.js").read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=3600"})
