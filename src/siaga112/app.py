"""create_app(settings): routers, error rendering, body limit, health and metrics."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from siaga112.bootstrap import build_context
from siaga112.calls.routes import router as calls_router
from siaga112.config import Settings
from siaga112.context import Context
from siaga112.dispatch.routes import router as dispatch_router
from siaga112.errors import DomainError
from siaga112.incidents.routes import router as incidents_router
from siaga112.logging import configure_logging
from siaga112.reference.routes import router as reference_router
from siaga112.units.routes import router as units_router


class BodyLimit:
    """Refuse request bodies over the limit with 413, declared or streamed, before parsing."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return await _too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send) -> None:
    body = b'{"detail":"request body too large"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> FastAPI:
    """The whole service; `context` lets tests and the CLI share an already-prepared one."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    ctx = context or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if context is None:
            ctx.db.dispose()

    app = FastAPI(title="Siaga 112 PPU", version="0.1.0", lifespan=lifespan,
                  description="Call Center Siaga 112, Kabupaten Penajam Paser Utara: intake, "
                              "SOP routing and dispatch.")
    app.state.ctx = ctx
    for router in (incidents_router, dispatch_router, calls_router, units_router, reference_router):
        app.include_router(router)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with ctx.db.transaction(write=False) as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 — any database failure means unhealthy
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": ctx.db.dialect})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
