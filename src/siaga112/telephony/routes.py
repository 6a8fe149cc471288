"""HTTP routes for live calls: the new-call screen, outcomes, the phone's location, KPIs."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import UtcMoment, utcnow
from siaga112.deps import current_principal, get_ctx
from siaga112.telephony import service
from siaga112.telephony.schemas import CallKpis, CallSessionRead, SessionLink, SessionOutcome

router = APIRouter(prefix="/api/v1/call-sessions", tags=["telephony"])


@router.get("", response_model=list[CallSessionRead])
def list_sessions(state: str | None = Query(default=None, description="e.g. ringing,answered"),
                  limit: int = Query(default=50, ge=1, le=500),
                  who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    # A write: each caller number shown is an audited view.
    with ctx.db.transaction() as conn:
        return service.list_sessions(ctx, who, conn=conn, state=state, limit=limit)


@router.get("/kpis", response_model=CallKpis)
def kpis(since: UtcMoment | None = None, until: UtcMoment | None = None,
         who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    until = until or utcnow()
    since = since or until - timedelta(days=1)
    with ctx.db.transaction(write=False) as conn:
        return service.kpis(ctx, who, conn=conn, since=since, until=until)


@router.get("/{session_id}", response_model=CallSessionRead)
def get_session(session_id: str, who: Principal = Depends(current_principal),
                ctx: Context = Depends(get_ctx)):
    # A write: showing the caller's history is a view of personal data, and audited.
    with ctx.db.transaction() as conn:
        return service.get_session(ctx, who, session_id, conn=conn)


@router.post("/{session_id}/outcome", response_model=CallSessionRead)
def record_outcome(session_id: str, body: SessionOutcome, who: Principal = Depends(current_principal),
                   ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.record_outcome(ctx, who, session_id, body, conn=conn)


@router.post("/{session_id}/incident", response_model=CallSessionRead)
def link_incident(session_id: str, body: SessionLink, who: Principal = Depends(current_principal),
                  ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.link_incident(ctx, who, session_id, body.incident_id, conn=conn)
