"""Inbound webhooks of partner systems: SMS gateway, WhatsApp Cloud API, telephony, AML.

Every one is signed (see interop/signing.py). The signature and time window are checked before
any transaction opens; the nonce is claimed in the same transaction as what the webhook writes,
so a refused request writes nothing and a failed one can be retried.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection

from siaga112.context import Context
from siaga112.deps import get_ctx
from siaga112.errors import InvalidField
from siaga112.inbound.schemas import InboundResult, SmsIn
from siaga112.inbound.service import receive_message
from siaga112.interop import aml as aml_parser
from siaga112.interop.signing import (
    HEADER_SIGNATURE,
    META_SIGNATURE,
    WebhookRejected,
    check_meta_freshness,
    check_meta_signature,
    check_signature,
    claim_nonce,
)
from siaga112.interop.whatsapp import Notification, read_webhook
from siaga112.phone import normalise_phone
from siaga112.telephony.aml import record_aml
from siaga112.telephony.schemas import AmlAccepted, CallEventIn
from siaga112.telephony.service import call_event

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
M = TypeVar("M", bound=BaseModel)


class _AmlSms(BaseModel):
    """An AML SMS handed on by a gateway that keeps AML apart from other SMS."""

    from_: str | None = Field(default=None, alias="from", max_length=32)
    text: str = Field(min_length=1, max_length=2000)


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        # No input echoed back: it may hold a caller's number.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _run(ctx: Context, integration: str, nonce: str, action: Callable[[Connection], Any]) -> Any:
    with ctx.db.transaction() as conn:
        claim_nonce(conn, integration, nonce)
        return action(conn)


@router.post("/sms", response_model=InboundResult)
async def sms_webhook(request: Request, ctx: Context = Depends(get_ctx)):
    """One inbound SMS: a report (or more of a waiting one), an AML text, or BERHENTI/MULAI."""
    body = await request.body()
    nonce = check_signature(ctx.settings, "sms", request.headers, body)
    msg = _parse(SmsIn, body)
    return await run_in_threadpool(_run, ctx, "sms", nonce, lambda conn: receive_message(
        ctx, conn, channel="sms", raw_phone=msg.from_, text=msg.text, external_id=msg.message_id,
        received_at=msg.received_at))


@router.get("/whatsapp", response_class=PlainTextResponse, include_in_schema=False)
def whatsapp_handshake(mode: str = Query(alias="hub.mode", default=""),
                       token: str = Query(alias="hub.verify_token", default=""),
                       challenge: str = Query(alias="hub.challenge", default=""),
                       ctx: Context = Depends(get_ctx)):
    """Meta's subscription check: echo the challenge when the verify token matches."""
    expected = ctx.settings.whatsapp_verify_token
    if mode != "subscribe" or not expected or token != expected:
        raise WebhookRejected("whatsapp", "bad_verify_token")
    return challenge


@router.post("/whatsapp")
async def whatsapp_webhook(request: Request, ctx: Context = Depends(get_ctx)):
    """WhatsApp Cloud API notifications: text and location messages become reports."""
    body = await request.body()
    # Verify first, then parse: nothing of an unsigned body is read.
    ours = HEADER_SIGNATURE in request.headers or META_SIGNATURE not in request.headers
    if ours:
        nonce = check_signature(ctx.settings, "whatsapp", request.headers, body)
    else:
        check_meta_signature(ctx.settings, request.headers, body)
    notification = _parse(Notification, body)
    try:
        messages, statuses, times = read_webhook(notification)
    except ValueError as exc:
        raise InvalidField("entry", str(exc)) from None
    if not ours:
        nonce = check_meta_freshness(ctx.settings, body, times)

    def act(conn: Connection) -> dict:
        results = [receive_message(ctx, conn, channel="whatsapp", raw_phone=m.phone, text=m.text,
                                   external_id=m.id, name=m.name, lat=m.lat, lon=m.lon,
                                   address=m.address) for m in messages]
        return {"messages": [r.model_dump() for r in results], "statuses": statuses}

    return await run_in_threadpool(_run, ctx, "whatsapp", nonce, act)


@router.post("/telephony")
async def telephony_webhook(request: Request, ctx: Context = Depends(get_ctx)):
    """A call's ringing / answered / ended / abandoned, from the PBX or the Asterisk bridge."""
    body = await request.body()
    nonce = check_signature(ctx.settings, "telephony", request.headers, body)
    event = _parse(CallEventIn, body)
    row = await run_in_threadpool(_run, ctx, "telephony", nonce, lambda conn: call_event(ctx, conn, event))
    return {"session_id": row.id, "state": row.state, "blocked": row.blocked}


@router.post("/aml", response_model=AmlAccepted, status_code=202)
async def aml_webhook(request: Request, ctx: Context = Depends(get_ctx)):
    """Advanced Mobile Location: the HTTPS form (urlencoded), or the SMS form as JSON
    `{"from": "+62…", "text": "A\\"ML=1;…"}`. Malformed messages are kept and flagged."""
    body = await request.body()
    nonce = check_signature(ctx.settings, "aml", request.headers, body)
    if request.headers.get("content-type", "").startswith("application/json"):
        msg = _parse(_AmlSms, body)
        fix = aml_parser.parse_sms(msg.text)
        raw_phone = msg.from_
    else:
        fix = aml_parser.parse_https(body)
        raw_phone = fix.phone
    phone = None
    if raw_phone:
        try:
            phone = normalise_phone(raw_phone)
        except ValueError:
            fix.problems.append("number: not a phone number")
    fix.phone = phone

    def act(conn: Connection) -> AmlAccepted:
        aml_id, session_id = record_aml(ctx, conn, fix, phone=phone)
        return AmlAccepted(id=aml_id, valid=fix.valid, problems=fix.problems, call_session_id=session_id)

    result = await run_in_threadpool(_run, ctx, "aml", nonce, act)
    return JSONResponse(result.model_dump(), status_code=202)

