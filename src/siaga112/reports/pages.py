"""The reports dashboard for the command centre and leadership: filters, KPI tiles, Chart.js
charts, incidents by desa on the PPU map, and, while the period includes now, live updates."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from siaga112.auth.permissions import may_view_command_centre
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.deps import get_ctx
from siaga112.errors import Forbidden, InvalidField
from siaga112.reports.dashboard import dashboard_data
from siaga112.reports.periods import period
from siaga112.web.deps import page_principal
from siaga112.web.templating import pages_of

router = APIRouter(include_in_schema=False)


def _leadership(who: Principal = Depends(page_principal)) -> Principal:
    if may_view_command_centre(who):
        return who
    raise Forbidden("halaman ini untuk pusat komando dan pimpinan")


def _today(ctx: Context) -> tuple[str, str]:
    tz = ZoneInfo(ctx.sop.timezone)
    today = datetime.now(tz).date()
    return today.isoformat(), (today + timedelta(days=1)).isoformat()


@router.get("/konsol/laporan")
def dashboard(request: Request, since: str | None = Query(default=None, alias="from", max_length=40),
              until: str | None = Query(default=None, alias="to", max_length=40),
              last: str | None = Query(default=None, alias="sampai", max_length=10),
              agency: str | None = Query(default=None, max_length=32),
              who: Principal = Depends(_leadership), ctx: Context = Depends(get_ctx)):
    # The form asks for the last day to include; the period's end is the midnight after it.
    if last and not until:
        try:
            until = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
        except ValueError:
            raise InvalidField("sampai", "give a date (YYYY-MM-DD)", source="query") from None
    if not since and not until:
        since, until = _today(ctx)
    start, end = period(ctx, since, until)
    tz = ZoneInfo(ctx.sop.timezone)
    last_day = (end - timedelta(seconds=1)).astimezone(tz).date()
    live = start <= utcnow() < end
    query = f"from={start.astimezone(tz).date().isoformat()}&to={end.astimezone(tz).date().isoformat()}"
    month = start.astimezone(tz).strftime("%Y-%m")
    return pages_of(request).render(
        request, "reports/dashboard.html", who=who, nav="reports", live=live,
        from_day=start.astimezone(tz).date().isoformat(), to_day=last_day.isoformat(),
        agency=agency or "", agencies=sorted(ctx.sop.agencies.values(), key=lambda a: a.name),
        data_url=f"/konsol/laporan/data.json?{query}" + (f"&agency={agency}" if agency else ""),
        csv_url=f"/api/v1/reports/incidents.csv?{query}" + (f"&agency_code={agency}" if agency else ""),
        monthly_url=f"/api/v1/reports/monthly?month={month}" + (f"&agency={agency}" if agency else ""))


@router.get("/konsol/laporan/data.json")
def dashboard_json(since: str | None = Query(default=None, alias="from", max_length=40),
                   until: str | None = Query(default=None, alias="to", max_length=40),
                   agency: str | None = Query(default=None, max_length=32),
                   who: Principal = Depends(_leadership), ctx: Context = Depends(get_ctx)):
    start, end = period(ctx, since, until)
    with ctx.db.transaction(write=False) as conn:
        return JSONResponse(dashboard_data(ctx, who, conn=conn, since=start, until=end, agency=agency or None))

