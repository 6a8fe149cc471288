"""HTTP routes for KPIs, exports and the monthly report: parse, call one action, answer."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.reports import exports, kpi, monthly
from siaga112.reports.periods import period
from siaga112.reports.schemas import GroupBy, KpiReport
from siaga112.web.templating import pages_of

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/kpi", response_model=KpiReport)
def read_kpi(since: str | None = Query(default=None, alias="from", max_length=40,
                                       description="YYYY-MM-DD (midnight WITA) or ISO timestamp"),
             until: str | None = Query(default=None, alias="to", max_length=40),
             group_by: GroupBy | None = None, agency: str | None = Query(default=None, max_length=32),
             who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    start, end = period(ctx, since, until)
    with ctx.db.transaction(write=False) as conn:
        return kpi.kpi_report(ctx, who, conn=conn, since=start, until=end, group_by=group_by, agency=agency)


@router.get("/reports/incidents.csv", response_class=Response)
def incidents_csv(since: str | None = Query(default=None, alias="from", max_length=40),
                  until: str | None = Query(default=None, alias="to", max_length=40),
                  status: str | None = Query(default=None, max_length=120),
                  agency_code: str | None = Query(default=None, max_length=32),
                  type_code: str | None = Query(default=None, max_length=32),
                  kecamatan_code: str | None = Query(default=None, max_length=16),
                  desa_code: str | None = Query(default=None, max_length=16),
                  channel: str | None = Query(default=None, max_length=16),
                  who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """The incidents of a period that the asker may see, filtered, as CSV (UTF-8 with BOM, so a
    spreadsheet opens the place names right)."""
    start, end = period(ctx, since, until)
    with ctx.db.transaction(write=False) as conn:
        body = exports.incidents_csv(ctx, who, conn=conn, since=start, until=end, status=status,
                                     agency_code=agency_code, type_code=type_code,
                                     kecamatan_code=kecamatan_code, desa_code=desa_code, channel=channel)
    name = f"insiden-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


@router.get("/reports/monthly", response_class=Response)
def monthly_report(request: Request, month: str = Query(max_length=7, description="YYYY-MM"),
                   agency: str | None = Query(default=None, max_length=32),
                   format: Literal["xlsx", "pdf"] = "xlsx",
                   who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """The month's report for the regency, or for one agency, as XLSX or PDF (Bahasa Indonesia)."""
    with ctx.db.transaction(write=False) as conn:
        report = monthly.build(ctx, who, conn=conn, month=month, agency=agency)
    if format == "pdf":
        body = monthly.to_pdf(report, pages_of(request).envs["id"])
    else:
        body = monthly.to_xlsx(report)
    name = f"laporan-siaga112-{month}{'-' + report.agency if report.agency else ''}.{format}"
    return Response(body, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
