"""What the reports dashboard (/konsol/laporan) draws: the KPIs of a period in the shapes its
charts and map need, for the regency or one agency."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.reports.kpi import kpi_reports
from siaga112.reports.monthly import daily_counts
from siaga112.reports.schemas import KpiGroup


def _hour(group: KpiGroup | None, hour: str) -> dict[str, Any]:
    calls = group.calls.total if group is not None and group.calls is not None else 0
    return {"hour": hour, "calls": calls, "incidents": group.incidents.total if group is not None else 0}


def dashboard_data(ctx: Context, who: Principal, *, conn: Connection, since: datetime, until: datetime,
                   agency: str | None) -> dict[str, Any]:
    """Totals, the daily trend, distributions by type and hour, compliance per agency, incidents per desa."""
    by = kpi_reports(ctx, who, conn=conn, since=since, until=until,
                     group_bys=["agency", "type", "hour", "desa"], agency=agency)
    tz = ZoneInfo(ctx.sop.timezone)
    hours = {g.key: g for g in by["hour"].groups}
    return {
        "from": since.isoformat(), "to": until.isoformat(), "agency": by["agency"].agency_scope,
        "totals": by["agency"].totals.model_dump(mode="json"),
        "daily": [{"day": d.isoformat(), "calls": c, "incidents": i}
                  for d, c, i in daily_counts(conn, since, until, tz, by["agency"].agency_scope)],
        "by_type": [{"key": g.key, "label": g.label, "incidents": g.incidents.total}
                    for g in sorted(by["type"].groups, key=lambda g: -g.incidents.total) if g.key],
        "by_hour": [_hour(hours.get(f"{h:02d}"), f"{h:02d}") for h in range(24)],
        "by_agency": [{"key": g.key, "label": g.label, "assignments": g.response.assignments,
                       "sla_compliance": g.response.sla_compliance, "judged": g.response.judged,
                       "on_time": g.response.on_time} for g in by["agency"].groups],
        "by_desa": {g.key: g.incidents.total for g in by["desa"].groups if g.key and g.incidents.total},
    }
