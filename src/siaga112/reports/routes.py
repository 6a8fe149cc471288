"""HTTP routes for KPIs, exports and the monthly report: parse, call one action, answer."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.errors import InvalidField
from siaga112.reports import kpi
from siaga112.reports.schemas import GroupBy, KpiReport

router = APIRouter(prefix="/api/v1", tags=["reports"])

# A KPI request reads every row of its period; a longer one is a report to export, not a query.
MAX_PERIOD = timedelta(days=366)


def period_bound(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    """An ISO date (midnight WITA) or an ISO timestamp with its offset."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tz)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(name, "give a date (YYYY-MM-DD) or a timestamp with its offset",
                           source="query") from None
    if parsed.tzinfo is None:
        raise InvalidField(name, "a timestamp needs its offset, e.g. +08:00", source="query")
    return parsed


def period(ctx: Context, since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """[from, to): both named, or the last 30 days to now; 422 naming the field otherwise."""
    tz = ZoneInfo(ctx.sop.timezone)
    start, end = period_bound(since, "from", tz), period_bound(until, "to", tz)
    if start is None or end is None:
        raise InvalidField("from" if start is None else "to", "the period needs both from and to",
                           source="query")
    if end <= start:
        raise InvalidField("to", "must be after from", source="query")
    if end - start > MAX_PERIOD:
        raise InvalidField("to", "a period is at most 366 days", source="query")
    return start, end


@router.get("/kpi", response_model=KpiReport)
def read_kpi(since: str | None = Query(default=None, alias="from", max_length=40,
                                       description="YYYY-MM-DD (midnight WITA) or ISO timestamp"),
             until: str | None = Query(default=None, alias="to", max_length=40),
             group_by: GroupBy | None = None,
             who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    start, end = period(ctx, since, until)
    with ctx.db.transaction(write=False) as conn:
        return kpi.kpi_report(ctx, who, conn=conn, since=start, until=end, group_by=group_by)
