"""create_app(settings): routers, error rendering, health and metrics."""
from __future__ import annotations

import asyncio
import gc
from contextlib import asynccontextmanager

import anyio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import exc as sa_exc

from siaga112.admin.pages import router as admin_pages
from siaga112.alerts.pages import router as alert_pages
from siaga112.alerts.routes import router as alerts_router
from siaga112.audit.routes import router as audit_router
from siaga112.auth.routes import router as auth_router
from siaga112.background import start_background, start_sop_watcher, stop_all
from siaga112.blocks.routes import router as blocks_router
from siaga112.bootstrap import build_context
from siaga112.calls.pages import router as calls_pages
from siaga112.calls.routes import router as calls_router
from siaga112.config import Settings
from siaga112.context import Context
from siaga112.db import DatabaseFailure, postgresql_connect_args
from siaga112.deps import client_address
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
from siaga112.notify.service import public_links_unset
from siaga112.open311.routes import router as open311_router
from siaga112.ops.failures import as_domain_error
from siaga112.ops.guard import RequestGuard
from siaga112.ops.health import check_health, check_ready
from siaga112.ops.observe import RequestObserver, queue_depth_sampler
from siaga112.ops.protocol import HeaderDeadlineProtocol
from siaga112.places.routes import router as places_router
from siaga112.public.routes import router as public_router
from siaga112.reference.routes import router as reference_router
from siaga112.reports.pages import router as report_pages
from siaga112.reports.routes import router as reports_router
from siaga112.security.headers import RejectNul, SecurityHeaders
from siaga112.security.scrape import may_scrape
from siaga112.shifts.routes import router as shifts_router
from siaga112.telephony.routes import router as telephony_router
from siaga112.units.routes import recommendations_router
from siaga112.units.routes import router as units_router
from siaga112.web.deps import LoginRequired
from siaga112.web.routes import router as web_router
from siaga112.web.templating import STATIC_DIR, Pages

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> FastAPI:
    """The whole service; `context` lets tests and the CLI share an already-prepared one."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    HeaderDeadlineProtocol.header_timeout = settings.header_timeout_seconds
    ctx = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync routes run in anyio's thread pool (40 threads by default). On two cores, forty
        # threads contending for the GIL and one SQLite writer mostly trade futexes; a few
        # threads keep the CPU busy and let the rest of the queue wait cheaply in the event loop.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        if public_links_unset(settings):
            log.warning("public_base_url_unset", links_go_to=settings.public_base_url,
                        hint="set SIAGA112_PUBLIC_BASE_URL to the address citizens open (https://...)")
        hub = LiveHub(ctx)
        app.state.hub = hub
        await hub.start()
        lag_probe = (asyncio.create_task(watch_loop_lag(settings.loop_lag_probe_seconds))
                     if settings.loop_lag_probe_seconds > 0 else None)
        listener = (PgListener(ctx.db.url, ctx.bus, connect_args=postgresql_connect_args(ctx.db.timeout))
                    if not ctx.db.is_sqlite else None)
        if listener:
            listener.start()
        jobs = start_background(ctx) if settings.background_workers else []
        watcher = start_sop_watcher(ctx)
        depths = queue_depth_sampler(ctx)
        depths.start()
        # Boundaries, classifier vocabulary and the app are built once and live forever; keeping
        # them out of the collector's generations shortens the GC pauses that make the p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            stop_all(jobs)
            depths.stop()
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
                   reports_router, alerts_router, auth_router, audit_router, web_router, calls_pages, dispatch_pages,
                   incident_pages, admin_pages, report_pages, shifts_router,
                   alert_pages):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(RejectNul)
    app.add_middleware(RequestGuard, timeout=settings.request_timeout_seconds,
                       report_timeout=settings.report_timeout_seconds)
    # Added last, so it wraps everything, 422s included.
    app.add_middleware(SecurityHeaders, tile_url=settings.tile_url)
    # Outermost: the request id is in every log line, the guard's answers included.
    app.add_middleware(RequestObserver)

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
        titles = {403: "Tidak berwenang", 404: "Tidak ditemukan", 409: "Bentrok", 422: "Isian tidak valid",
                  503: "Layanan sementara tidak tersedia", 507: "Penyimpanan penuh"}
        return pages.render(request, "error.html", status_code=exc.status_code,
                            title=pages.gettext(request, titles.get(exc.status_code, "Kesalahan")),
                            message=exc.message)

    @app.exception_handler(sa_exc.DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    @app.exception_handler(DatabaseFailure)
    async def _database_failure(request: Request, exc: Exception) -> Response:
        answer = as_domain_error(exc, path=request.url.path)
        if answer is None:
            raise exc
        if "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/"):
            return await _domain_error(request, answer)  # a person at a console: a page in words
        return JSONResponse(answer.body(), status_code=answer.status_code, headers=answer.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes the rejected value ("input"); a rejected phone number or name is
        # personal data, so the answer names the field and the problem only.
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                                         "type": e.get("type", "value_error")}
                                        for e in exc.errors()]}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        check_health(ctx)
        return JSONResponse({"status": "ok", "database": ctx.db.dialect})

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        check_ready(ctx)
        return JSONResponse({"status": "ready", "database": ctx.db.dialect})

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not may_scrape(ctx.settings, client_address(request), request.headers.get("authorization")):
            # The same answer whether a token was wrong or missing; nothing about the counters.
            return JSONResponse({"detail": "metrics need the metrics token or an allowed address"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
