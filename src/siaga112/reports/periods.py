"""Reporting periods as people give them: a date (midnight WITA) or a timestamp with its offset."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from siaga112.context import Context
from siaga112.errors import InvalidField

# A KPI request reads every row of its period; a longer one is a report to export, not a query.
MAX_PERIOD = timedelta(days=366)


def period_bound(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    """An ISO date (midnight WITA) or an ISO timestamp with its offset."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0), tz)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(name, "give a date (YYYY-MM-DD) or a timestamp with its offset",
                           source="query") from None
    if parsed.tzinfo is None:
        raise InvalidField(name, "a timestamp needs its offset, e.g. +08:00", source="query")
    if not 2000 <= parsed.year <= 2200:
        raise InvalidField(name, "a date between the years 2000 and 2200", source="query")
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
