"""HTTP routes for the call-taker's queue of citizen reports (SMS, WhatsApp, web form)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.inbound import service
from siaga112.inbound.schemas import ReportClose, ReportRead, ReportVerify

router = APIRouter(prefix="/api/v1/citizen-reports", tags=["citizen reports"])


@router.get("", response_model=list[ReportRead])
def list_reports(status: str | None = Query(default="waiting", description="waiting,verified,closed"),
                 limit: int = Query(default=100, ge=1, le=500),
                 who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    # A write: each reporter shown is an audited view.
    with ctx.db.transaction() as conn:
        return service.list_reports(ctx, who, conn=conn, status=status, limit=limit)


@router.get("/{report_id}", response_model=ReportRead)
def get_report(report_id: str, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.get_report(ctx, who, report_id, conn=conn)


@router.post("/{report_id}/verify", response_model=ReportRead)
def verify(report_id: str, body: ReportVerify, who: Principal = Depends(current_principal),
           ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.verify_report(ctx, who, report_id, body, conn=conn)


@router.post("/{report_id}/close", response_model=ReportRead)
def close(report_id: str, body: ReportClose, who: Principal = Depends(current_principal),
          ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.close_report(ctx, who, report_id, body, conn=conn)
