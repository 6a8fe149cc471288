"""HTTP routes for calls and caller history."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from siaga112.auth.principal import Principal
from siaga112.calls import service
from siaga112.calls.schemas import CallCreate, CallerHistory, CallRead
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.errors import InvalidField
from siaga112.metrics import CALLS_RECORDED

router = APIRouter(prefix="/api/v1", tags=["calls"])


@router.post("/calls", response_model=CallRead, status_code=201)
def record_call(body: CallCreate, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        call = service.record_call(ctx, who, body, conn=conn)
    CALLS_RECORDED.labels(call.outcome).inc()
    return call


@router.get("/callers/{phone}", response_model=CallerHistory)
def caller_history(phone: str, who: Principal = Depends(current_principal),
                   ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:  # the view is audited
        try:
            return service.caller_history(ctx, who, phone, conn=conn)
        except ValueError as exc:
            raise InvalidField("phone", str(exc)) from None
