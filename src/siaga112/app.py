"""create_app(settings): routers, error rendering, health and metrics."""
from __future__ import annotations

import asyncio
import gc
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from siaga112.admin.pages import router as admin_pages
from siaga112.audit.routes import router as audit_router
from siaga112.audit.service import audit_sealer
from siaga112.auth.routes import router as auth_router
from siaga112.blocks.routes import router as blocks_router
from siaga112.bootstrap import build_context
from siaga112.calls.pages import router as calls_pages
from siaga112.calls.routes import router as calls_router
from siaga112.config import Settings
from siaga112.context import Context
from siaga112.deps import client_address
from siaga112.dispatch.escalation import EscalationWorker
from siaga112.dispatch.pages import router as dispatch_pages
from siaga112.dispatch.routes import router as dispatch_router
from siaga112.errors import DomainError
from siaga112.events import PgListener
from siaga112.handover.routes import router as handover_router
from siaga112.inbound.routes import router as inbound_router
from siaga112.incidents.pages import router as incident_pages
from siaga112.incidents.routes import router as incidents_router
from siaga112.interop.webhooks import router as webhooks_router
from siaga112.live.hub import LiveHub
from siaga112.live.routes import router as live_router
from siaga112.logging import configure_logging
from siaga112.metrics import watch_loop_lag
from siaga112.notify.worker import NotificationWorker
from siaga112.open311.routes import router as open311_router
from siaga112.places.routes import router as places_router
from siaga112.public.routes import router as public_router
from siaga112.reference.routes import router as reference_router
from siaga112.security.headers import RejectNul, SecurityHeaders
from siaga112.security.scrape import may_scrape
from siaga112.sop.reload import sop_watcher
from siaga112.telephony.routes import router as telephony_router
from siaga112.units.routes import recommendations_router
from siaga112.units.routes import router as units_router
from siaga112.web.deps import LoginRequired
from siaga112.web.routes import router as web_router
from siaga112.web.templating import STATIC_DIR, Pages


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> FastAPI:
    """The whole service; `context` lets tests and the CLI share an already-prepared one."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    ctx = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync routes run in anyio's thread pool (40 threads by default). On two cores, forty
        # threads contending for the GIL and one SQLite writer mostly trade futexes; a few
        # threads keep the CPU busy and let the rest of the queue wait cheaply in the event loop.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        hub = LiveHub(ctx)
        app.state.hub = hub
        await hub.start()
        lag_probe = (asyncio.create_task(watch_loop_lag(settings.loop_lag_probe_seconds))
                     if settings.loop_lag_probe_seconds > 0 else None)
        listener = PgListener(ctx.db.url, ctx.bus) if not ctx.db.is_sqlite else None
        if listener:
            listener.start()
        worker = (EscalationWorker(ctx, settings.escalation_interval_seconds)
                  if settings.escalation_interval_seconds > 0 else None)
        if worker:
            worker.start()
        notifier = (NotificationWorker(ctx, settings.notify_interval_seconds)
                    if settings.notify_interval_seconds > 0 else None)
        if notifier:
            notifier.start()
        sealer = None if ctx.db.is_sqlite else audit_sealer(ctx, settings.audit_seal_interval_seconds)
        if sealer:
            sealer.start()
        watcher = (sop_watcher(ctx, settings.sop_reload_seconds)
                   if settings.sop_reload_seconds > 0 else None)
        if watcher:
            watcher.start()
        # Boundaries, classifier vocabulary and the app are built once and live forever; keeping
        # them out of the collector's generations shortens the GC pauses that make the p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if worker:
                worker.stop()
            if sealer:
                sealer.stop()
            if notifier:
                notifier.stop()
            if watcher:
                watcher.stop()
            if listener:
                listener.stop()
            if lag_probe:
                lag_probe.cancel()
            await hub.stop()
            if context is None:
                ctx.db.dispose()

    # FastAPI's own OpenTelemetry hooks are off: nothing here exports traces, and they cost CPU
    # on every request. Bodies over the limit are refused with 413 before they are parsed.
    app = FastAPI(title="Siaga 112 PPU", version="0.1.0", lifespan=lifespan,
                  max_body_size=settings.max_body_bytes,
                  telemetry={"tracing": False, "metrics": False, "logs": False,
                             "operation_spans": False},
                  description="Call Center Siaga 112, Kabupaten Penajam Paser Utara: intake, "
                              "SOP routing and dispatch.")
    app.state.ctx = ctx
    app.state.pages = Pages(timezone=ctx.sop.timezone, tile_url=settings.tile_url,
                            tile_attribution=settings.tile_attribution, gazetteer=ctx.gazetteer)
    for router in (incidents_router, dispatch_router, calls_router, units_router, reference_router,
                   live_router, recommendations_router, places_router, public_router, inbound_router,
                   webhooks_router, telephony_router, blocks_router, handover_router, open311_router,
                   auth_router, audit_router, web_router, calls_pages, dispatch_pages,
                   incident_pages, admin_pages):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(RejectNul)
    # Added last, so it wraps everything, 422s included.
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        headers = getattr(exc, "headers", None)
        if request.url.path.startswith("/api/"):
            return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)
        htmx = request.headers.get("HX-Request") == "true"
        if isinstance(exc, LoginRequired):
            if htmx:
                return Response(status_code=401, headers={"HX-Redirect": f"/login?next={exc.next_path}"})
            return RedirectResponse(f"/login?next={exc.next_path}", 303)
        if htmx:
            # The console shows this body in its error toast (app.js reads `detail`).
            return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)
        pages = app.state.pages
        titles = {403: "Tidak berwenang", 404: "Tidak ditemukan", 409: "Bentrok", 422: "Isian tidak valid"}
        return pages.render(request, "error.html", status_code=exc.status_code,
                            title=pages.gettext(request, titles.get(exc.status_code, "Kesalahan")),
                            message=exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes the rejected value ("input"); a rejected phone number or name is
        # personal data, so the answer names the field and the problem only.
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                                         "type": e.get("type", "value_error")}
                                        for e in exc.errors()]}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with ctx.db.transaction(write=False) as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 — any database failure means unhealthy
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": ctx.db.dialect})

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not may_scrape(ctx.settings, client_address(request), request.headers.get("authorization")):
            # The same answer whether a token was wrong or missing; nothing about the counters.
            return JSONResponse({"detail": "metrics need the metrics token or an allowed address"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
