"""Public pages and API (no login): ticket tracking, the web report form, opting out of messages.

Nothing personal is ever shown here: the ticket page knows the stage, the incident type, the
lead agency and public notes. Every route that reads or writes the database is rate-limited per
client address; the pages' stricter headers are a policy of `security/headers.py`.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import NotFound, TooManyRequests
from siaga112.inbound.service import submit_web_report
from siaga112.notify.service import tracking_url
from siaga112.public.schemas import PublicTicket, ReportReceipt, WebReportIn
from siaga112.public.service import normalise_ticket, opt_out, public_ticket
from siaga112.security.ratelimit import Allowance, refuse_if_spent, spend, throttle
from siaga112.web.forms import posted_form
from siaga112.web.templating import pages_of

router = APIRouter(tags=["public"])
STATIC = Path(__file__).parent / "static"
TOO_MANY = "Terlalu banyak permintaan. Coba lagi sebentar lagi."
# Every request spends from the first allowance; a lookup of a ticket that does not exist also
# from the second, much smaller one. Tickets have about 40 random bits: at ten misses per ten
# minutes an enumerator needs millennia for one hit.
REQUESTS = Allowance("public", "public_rate_per_minute")
MISSES = Allowance("public_misses", "public_misses_per_10_minutes", minutes=10)
FIELD_LABELS = {"description": "Keterangan", "phone": "Nomor HP", "name": "Nama", "address": "Alamat",
                "lat": "Lokasi", "lon": "Lokasi", "accuracy_m": "Lokasi", "notify": "Kabar"}


def _limit(request: Request, *, lookup: bool = False) -> None:
    throttle(request, REQUESTS, message=TOO_MANY)
    if lookup:
        refuse_if_spent(request, MISSES, message=TOO_MANY)


def _page(request: Request, name: str, status_code: int = 200, *, headers: dict | None = None,
          **context) -> HTMLResponse:
    # Bahasa Indonesia whatever language a staff member chose for the consoles in this browser.
    return pages_of(request).render(request, f"public/{name}", status_code, lang="id",
                                    headers=headers, **context)


def _page_limit(request: Request, *, lookup: bool = False) -> HTMLResponse | None:
    """The "too many requests" page, or None when this client may go on."""
    try:
        _limit(request, lookup=lookup)
    except TooManyRequests as exc:
        return _page(request, "pesan.html", 429, headers=exc.headers,
                     judul="Terlalu banyak permintaan", pesan=exc.message)
    return None


def _lookup(request: Request, ctx: Context, ticket: str) -> PublicTicket | None:
    with ctx.db.transaction(write=False) as conn:
        found = public_ticket(ctx, ticket, conn=conn)
    if found is None:
        spend(request, MISSES)
    return found


def _opt_out(request: Request, ctx: Context, ticket: str) -> tuple[PublicTicket | None, int]:
    with ctx.db.transaction() as conn:
        found, stopped = opt_out(ctx, ticket, conn=conn)
    if found is None:
        spend(request, MISSES)
    return found, stopped


@router.get("/api/v1/public/tickets/{ticket}", response_model=PublicTicket)
def ticket_api(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    """A ticket's stage and public notes, for the reporter (no login, no personal data)."""
    _limit(request, lookup=True)
    found = _lookup(request, ctx, ticket)
    if found is None:
        raise NotFound("Tiket tidak ditemukan")
    return found


@router.post("/api/v1/public/tickets/{ticket}/opt-out")
def ticket_opt_out_api(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    """No more SMS/WhatsApp messages about this ticket."""
    _limit(request, lookup=True)
    found, stopped = _opt_out(request, ctx, ticket)
    if found is None:
        raise NotFound("Tiket tidak ditemukan")
    return {"ticket": found.ticket, "stopped": stopped}


@router.post("/api/v1/public/reports", response_model=ReportReceipt, status_code=201)
def report_api(body: WebReportIn, request: Request, ctx: Context = Depends(get_ctx)):
    """The web report form as JSON (the page at /lapor posts the same fields)."""
    _limit(request)
    with ctx.db.transaction() as conn:
        report = submit_web_report(ctx, body, conn=conn)
    return ReportReceipt(ticket=report.ticket, tracking_url=tracking_url(ctx.settings, report.ticket))


@router.get("/lacak", response_class=HTMLResponse, include_in_schema=False)
def track_form(request: Request, tiket: str | None = None):
    if tiket:
        ticket = normalise_ticket(tiket)
        if ticket is not None:
            return RedirectResponse(f"/lacak/{ticket}", status_code=303)
        return _page(request, "lacak_cari.html", 422, tiket=tiket,
                     galat="Nomor tiket terdiri dari 8 huruf/angka, contoh K7MQ-3XD9.")
    return _page(request, "lacak_cari.html")


@router.get("/lacak/{ticket}", response_class=HTMLResponse, include_in_schema=False)
def track_page(ticket: str, request: Request, baru: int = 0, ctx: Context = Depends(get_ctx)):
    if (refused := _page_limit(request, lookup=True)) is not None:
        return refused
    found = _lookup(request, ctx, ticket)
    if found is None:
        return _page(request, "lacak_cari.html", 404, tiket=ticket,
                     galat="Tiket tidak ditemukan. Periksa kembali nomor tiket Anda.")
    return _page(request, "lacak.html", t=found, baru=bool(baru), berhenti=False)


@router.post("/lacak/{ticket}/berhenti", response_class=HTMLResponse, include_in_schema=False)
def track_opt_out(ticket: str, request: Request, ctx: Context = Depends(get_ctx)):
    if (refused := _page_limit(request, lookup=True)) is not None:
        return refused
    found, _ = _opt_out(request, ctx, ticket)
    if found is None:
        return _page(request, "lacak_cari.html", 404, tiket=ticket, galat="Tiket tidak ditemukan.")
    return _page(request, "lacak.html", t=found, baru=False, berhenti=True)


@router.get("/lapor", response_class=HTMLResponse, include_in_schema=False)
def report_form(request: Request):
    return _page(request, "lapor.html", nilai={}, galat={})


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
def report_submit(request: Request, form: FormData = Depends(posted_form),
                  ctx: Context = Depends(get_ctx)):
    if (refused := _page_limit(request)) is not None:
        return refused
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    allowed = {k: v for k, v in fields.items() if k in WebReportIn.model_fields}
    for key in ("lat", "lon", "accuracy_m"):
        if not allowed.get(key):
            allowed.pop(key, None)
    try:
        data = WebReportIn.model_validate(allowed)
    except ValidationError as exc:
        return _page(request, "lapor.html", 422, nilai=fields, galat=_form_errors(exc))
    with ctx.db.transaction() as conn:
        report = submit_web_report(ctx, data, conn=conn)
    return RedirectResponse(f"/lacak/{report.ticket}?baru=1", status_code=303)


@router.get("/lapor/lokasi.js", include_in_schema=False)
def location_script():
    return Response((STATIC / "lokasi.js").read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=3600"})
