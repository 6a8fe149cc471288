"""Open311 GeoReport v2 endpoints under /open311/v2, in XML (the GeoReport default) and JSON.

Errors follow the GeoReport convention: HTTP 400/403/404 with `[{"code": …, "description": …}]`
(`<errors><error><code/><description/></error></errors>` in XML), the description naming the field.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from siaga112.auth.service import principal_for_token
from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import Unauthorized
from siaga112.open311 import service
from siaga112.open311.service import Open311Error
from siaga112.security.ratelimit import Allowance, throttle

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])


FORMATS = ("json", "xml")
# GeoReport v2's XML: a list is its root element holding one element per item.
XML_NAMES = {"services": ("services", "service"), "definition": (None, "service_definition"),
             "requests": ("service_requests", "request"), "errors": ("errors", "error")}


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif isinstance(value, list):
        if name == "attributes":
            return  # no service here has attributes
        child.text = ", ".join(str(v) for v in value)
    elif value is not None:
        child.text = str(value)


def _answer(fmt: str, data: Any, kind: str, status_code: int = 200) -> Response:
    """The same data as JSON or as GeoReport XML."""
    if fmt != "xml":
        return JSONResponse(data, status_code=status_code)
    root_name, item_name = XML_NAMES[kind]
    items = data if isinstance(data, list) else [data]
    root = ET.Element(root_name) if root_name else None
    for item in items:
        element = ET.SubElement(root, item_name) if root is not None else ET.Element(item_name)
        for key, value in item.items():
            _xml_value(element, key, value)
        if root is None:
            root = element
    body = ET.tostring(root if root is not None else ET.Element(root_name or item_name), encoding="utf-8",
                       xml_declaration=True)
    return Response(body, status_code=status_code, media_type="application/xml; charset=utf-8")


def _error(exc: Open311Error, fmt: str = "json") -> Response:
    return _answer(fmt if fmt in FORMATS else "json", [{"code": exc.status, "description": exc.description}],
                   "errors", exc.status)


def _known_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(400, "the format is xml or json")


@router.get("/services.{fmt}")
def list_services(fmt: str, ctx: Context = Depends(get_ctx)):
    try:
        _known_format(fmt)
    except Open311Error as exc:
        return _error(exc, fmt)
    return _answer(fmt, [{"service_code": s.code, "service_name": s.name, "description": s.description,
                          "metadata": False, "type": "realtime", "keywords": s.keywords, "group": s.group}
                         for s in service.services(ctx)], "services")


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, ctx: Context = Depends(get_ctx)):
    try:
        _known_format(fmt)
        found = service.service_by_code(ctx, code)
    except Open311Error as exc:
        return _error(exc, fmt)
    return _answer(fmt, {"service_code": found.code, "attributes": []}, "definition")


@router.post("/requests.{fmt}")
async def create_request(fmt: str, request: Request, ctx: Context = Depends(get_ctx)):
    """Form-encoded (as GeoReport v2 specifies) or JSON; `api_key` is an integration's API token."""
    raw = await request.body()
    try:
        _known_format(fmt)
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
        return _error(exc, fmt)
    return _answer(fmt, [created], "requests", 201)


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must carry a time zone offset")
    # The year 1 or 9999 is valid ISO but no date in UTC, or none 90 days before (the default
    # window): a stranger's query string must not reach the database as an overflow.
    try:
        in_utc = parsed.astimezone(UTC)
    except OverflowError:
        raise Open311Error(400, f"{name} is out of range") from None
    if in_utc.year < 1970:
        raise Open311Error(400, f"{name} is out of range")
    return in_utc


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
        _known_format(fmt)
        if status not in (None, "open", "closed"):
            raise Open311Error(400, "status is open or closed")
        start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    except Open311Error as exc:
        return _error(exc, fmt)
    ids = [i.strip().upper() for i in service_request_id.split(",")] if service_request_id else None
    with ctx.db.transaction(write=False) as conn:
        found = service.find_requests(ctx, conn=conn, ids=ids, service_code=service_code, status=status,
                                      start=start, end=end, page=page, page_size=page_size)
    return _answer(fmt, found, "requests")


@router.get("/requests/{request_id}.{fmt}")
def get_request(request: Request, request_id: str, fmt: str, ctx: Context = Depends(get_ctx)):
    throttle(request, PUBLIC_READS)
    try:
        _known_format(fmt)
    except Open311Error as exc:
        return _error(exc, fmt)
    with ctx.db.transaction(write=False) as conn:
        found = service.find_requests(ctx, conn=conn, ids=[request_id.upper()])
    if not found:
        return _error(Open311Error(404, "service_request_id not found"), fmt)
    return _answer(fmt, found, "requests")
