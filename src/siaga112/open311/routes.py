"""Open311 GeoReport v2 endpoints (JSON format) under /open311/v2.

Errors follow the GeoReport convention: HTTP 400/403/404 with `[{"code": …, "description": …}]`,
the description naming the field.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from siaga112.auth.service import principal_for_token
from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import Unauthorized
from siaga112.open311 import service
from siaga112.open311.service import Open311Error
from siaga112.security.ratelimit import Allowance, throttle

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])


def _error(exc: Open311Error) -> JSONResponse:
    return JSONResponse([{"code": exc.status, "description": exc.description}], status_code=exc.status)


def _json_only(fmt: str) -> None:
    if fmt != "json":
        raise Open311Error(400, "only the json format is offered")


@router.get("/services.{fmt}")
def list_services(fmt: str, ctx: Context = Depends(get_ctx)):
    try:
        _json_only(fmt)
    except Open311Error as exc:
        return _error(exc)
    return [{"service_code": s.code, "service_name": s.name, "description": s.description,
             "metadata": False, "type": "realtime", "keywords": s.keywords, "group": s.group}
            for s in service.services(ctx)]


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, ctx: Context = Depends(get_ctx)):
    try:
        _json_only(fmt)
        found = service.service_by_code(ctx, code)
    except Open311Error as exc:
        return _error(exc)
    return {"service_code": found.code, "attributes": []}


@router.post("/requests.{fmt}")
async def create_request(fmt: str, request: Request, ctx: Context = Depends(get_ctx)):
    """Form-encoded (as GeoReport v2 specifies) or JSON; `api_key` is an integration's API token."""
    raw = await request.body()
    try:
        _json_only(fmt)
        if request.headers.get("content-type", "").startswith("application/json"):
            fields = service.parse_request(raw)
        else:
            fields = service.parse_request(dict(parse_qsl(raw.decode("utf-8", "replace"),
                                                          keep_blank_values=True)))
        key = fields.api_key or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not key:
            raise Open311Error(403, "api_key is required")

        def act():
            with ctx.db.transaction(write=False) as conn:
                try:
                    who, _ = principal_for_token(conn, key)
                except Unauthorized:
                    raise Open311Error(403, "api_key is not valid") from None
            with ctx.db.transaction() as conn:
                return service.create_request(ctx, who, fields, conn=conn)

        created = await run_in_threadpool(act)
    except Open311Error as exc:
        return _error(exc)
    return JSONResponse([created], status_code=201)


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must carry a time zone offset")
    return parsed


# Open311 reads are public: they share the citizens' pages' allowance per address.
PUBLIC_READS = Allowance("public", "public_rate_per_minute")


@router.get("/requests.{fmt}")
def list_requests(request: Request, fmt: str, service_request_id: str | None = None,
                  service_code: str | None = None, start_date: str | None = None,
                  end_date: str | None = None, status: str | None = None,
                  page: int = Query(1, ge=1, le=10_000),
                  page_size: int | None = Query(None, ge=1, le=200),
                  ctx: Context = Depends(get_ctx)):
    """Public service requests, newest first, paged (`page`, `page_size`), coordinates rounded."""
    throttle(request, PUBLIC_READS)
    try:
        _json_only(fmt)
        if status not in (None, "open", "closed"):
            raise Open311Error(400, "status is open or closed")
        start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    except Open311Error as exc:
        return _error(exc)
    ids = [i.strip().upper() for i in service_request_id.split(",")] if service_request_id else None
    with ctx.db.transaction(write=False) as conn:
        return service.find_requests(ctx, conn=conn, ids=ids, service_code=service_code, status=status,
                                     start=start, end=end, page=page, page_size=page_size)


@router.get("/requests/{request_id}.{fmt}")
def get_request(request: Request, request_id: str, fmt: str, ctx: Context = Depends(get_ctx)):
    throttle(request, PUBLIC_READS)
    try:
        _json_only(fmt)
    except Open311Error as exc:
        return _error(exc)
    with ctx.db.transaction(write=False) as conn:
        found = service.find_requests(ctx, conn=conn, ids=[request_id.upper()])
    if not found:
        return _error(Open311Error(404, "service_request_id not found"))
    return found
