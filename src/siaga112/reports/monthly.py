"""The monthly report for the regency or one agency, as an XLSX workbook and a printable PDF,
in Bahasa Indonesia. Its figures are the KPIs of docs/kpi.md over the calendar month (WITA)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import Connection, exists, select

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import InvalidField
from siaga112.models import assignments, calls, incidents
from siaga112.reports import charts
from siaga112.reports.kpi import kpi_reports
from siaga112.reports.schemas import Durations, KpiGroup

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass
class MonthlyReport:
    title: str
    month_label: str
    scope_label: str
    since: datetime
    until: datetime
    totals: KpiGroup
    by_agency: list[KpiGroup]
    by_type: list[KpiGroup]
    by_kecamatan: list[KpiGroup]
    daily: list[tuple[date, int, int]]   # day, calls, incidents
    generated_at: datetime
    agency: str | None

    @property
    def last_moment(self) -> datetime:
        return self.until - timedelta(seconds=1)


def month_period(ctx: Context, month: str) -> tuple[datetime, datetime]:
    found = MONTH.match(month or "")
    if not found or not 2000 <= int(found[1]) <= 2200:
        raise InvalidField("month", "give the month as YYYY-MM (years 2000 to 2200)", source="query")
    tz = ZoneInfo(ctx.sop.timezone)
    first = date(int(found[1]), int(found[2]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return datetime.combine(first, time(0), tz), datetime.combine(following, time(0), tz)


def build(ctx: Context, who: Principal, *, conn: Connection, month: str, agency: str | None) -> MonthlyReport:
    since, until = month_period(ctx, month)
    figures = kpi_reports(ctx, who, conn=conn, since=since, until=until,
                          group_bys=["agency", "type", "kecamatan"], agency=agency)
    scope = figures["agency"].agency_scope
    tz = ZoneInfo(ctx.sop.timezone)
    month_label = format_date(since.date(), "MMMM yyyy", locale="id")
    scope_label = ctx.sop.agencies[scope].name if scope else ctx.sop.regency_name
    return MonthlyReport(
        title=f"Laporan Bulanan Call Center Siaga 112 — {month_label}", month_label=month_label,
        scope_label=scope_label, since=since, until=until, totals=figures["agency"].totals,
        by_agency=figures["agency"].groups, by_type=figures["type"].groups,
        by_kecamatan=figures["kecamatan"].groups, daily=daily_counts(conn, since, until, tz, scope),
        generated_at=utcnow(), agency=scope)


def daily_counts(conn: Connection, since: datetime, until: datetime, tz: ZoneInfo,
           scope: str | None) -> list[tuple[date, int, int]]:
    """Calls and incidents per day of the month (WITA)."""
    days = [(since + timedelta(days=n)).date() for n in range((until - since).days)]
    counts = {d: [0, 0] for d in days}
    incident_query = select(incidents.c.created_at).where(incidents.c.created_at >= since,
                                                          incidents.c.created_at < until)
    if scope is not None:
        incident_query = incident_query.where(exists(select(assignments.c.id).where(
            assignments.c.incident_id == incidents.c.id, assignments.c.agency_code == scope)))
    else:
        for (at,) in conn.execute(select(calls.c.received_at).where(calls.c.received_at >= since,
                                                                    calls.c.received_at < until)):
            counts[at.astimezone(tz).date()][0] += 1
    for (at,) in conn.execute(incident_query):
        counts[at.astimezone(tz).date()][1] += 1
    return [(d, c[0], c[1]) for d, c in counts.items()]


# ------------------------------------------------------------------ how numbers read

def share(value: float | None) -> str:
    return "—" if value is None else format_decimal(value * 100, "#,##0.0", locale="id") + " %"


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    whole = int(round(value))
    if whole < 120:
        return f"{whole} dtk"
    if whole < 7200:
        return f"{whole // 60} mnt {whole % 60} dtk"
    return f"{whole // 3600} jam {whole % 3600 // 60} mnt"


def mean(d: Durations) -> str:
    return seconds(d.mean_seconds)


# ------------------------------------------------------------------ XLSX

def to_xlsx(report: MonthlyReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)
    summary = book.active
    summary.title = "Ringkasan"
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([report.scope_label])
    summary.append([])
    summary.append(["Ukuran", "Nilai", "Keterangan"])
    for cell in summary[4]:
        cell.font = bold
    t = report.totals
    rows: list[tuple[str, Any, str, str | None]] = []
    if t.calls is not None:
        c = t.calls
        rows += [("Jumlah panggilan", c.total, "semua kontak", None),
                 ("Panggilan palsu (iseng, salah sambung, diam)", c.false_call_share, "", "0.0%"),
                 ("Panggilan palsu tanpa panggilan diam", c.false_call_share_excluding_silent, "", "0.0%"),
                 ("Rata-rata waktu jawab (detik)", c.answer.mean_seconds, "EENA", "0.0"),
                 ("Dijawab ≤ 10 detik", c.answered_within_10s, "NFPA 1225: 90 %", "0.0%"),
                 ("Dijawab ≤ 15 detik", c.answered_within_15s, "NENA: 90 %", "0.0%"),
                 ("Dijawab ≤ 20 detik", c.answered_within_20s, "NENA: 95 %", "0.0%")]
        rows += [(f"Panggilan: {o}", n, "", None) for o, n in c.by_outcome.items()]
    rows += [("Jumlah kejadian", t.incidents.total, "", None),
             ("Rata-rata waktu proses, jawab → unit dikirim (detik)", t.incidents.processing.mean_seconds, "", "0.0"),
             ("Unit dikirim ≤ 60 detik", t.incidents.dispatched_within_60s, "NFPA 1225: 90 %", "0.0%"),
             ("Rata-rata waktu respons OPD (detik)", t.response.acknowledgement.mean_seconds, "", "0.0"),
             ("Kepatuhan tenggat SOP", t.response.sla_compliance, "", "0.0%"),
             ("Rata-rata waktu tiba di lokasi (detik)", t.response.arrival.mean_seconds, "", "0.0"),
             ("Rata-rata waktu sampai ditutup (detik)", t.incidents.closing.mean_seconds, "", "0.0")]
    for label, value, note, number_format in rows:
        summary.append([label, value, note])
        if number_format:
            summary.cell(row=summary.max_row, column=2).number_format = number_format
    summary.column_dimensions["A"].width = 52
    summary.column_dimensions["B"].width = 14
    summary.column_dimensions["C"].width = 20

    def table(title: str, header: list[str], body: list[list[Any]], formats: dict[int, str]) -> None:
        sheet = book.create_sheet(title)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = bold
        for row in body:
            sheet.append(row)
            for column, number_format in formats.items():
                sheet.cell(row=sheet.max_row, column=column).number_format = number_format
        sheet.column_dimensions["A"].width = 44
        for letter in "BCDEFG":
            sheet.column_dimensions[letter].width = 16

    table("Per OPD", ["OPD", "Penugasan", "Rata-rata respons (dtk)", "Dinilai", "Tepat waktu",
                      "Kepatuhan SOP", "Rata-rata tiba (dtk)"],
          [[g.label, g.response.assignments, g.response.acknowledgement.mean_seconds, g.response.judged,
            g.response.on_time, g.response.sla_compliance, g.response.arrival.mean_seconds]
           for g in report.by_agency], {3: "0.0", 6: "0.0%", 7: "0.0"})
    table("Per jenis", ["Jenis kejadian", "Kejadian", "Rata-rata proses (dtk)", "Dikirim ≤ 60 dtk",
                        "Rata-rata sampai ditutup (dtk)"],
          [[g.label, g.incidents.total, g.incidents.processing.mean_seconds, g.incidents.dispatched_within_60s,
            g.incidents.closing.mean_seconds] for g in report.by_type], {3: "0.0", 4: "0.0%", 5: "0.0"})
    table("Per kecamatan", ["Kecamatan", "Panggilan", "Kejadian", "Panggilan palsu", "Kepatuhan SOP"],
          [[g.label, g.calls.total if g.calls else None, g.incidents.total,
            g.calls.false_call_share if g.calls else None, g.response.sla_compliance]
           for g in report.by_kecamatan], {4: "0.0%", 5: "0.0%"})
    table("Harian", ["Tanggal", "Panggilan", "Kejadian"], [[d, c, i] for d, c, i in report.daily],
          {1: "DD/MM/YYYY"})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ PDF

def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    # The report is self-contained: WeasyPrint must never reach out for a font, image or sheet.
    raise ValueError(f"the monthly report loads nothing from outside ({url})")


def to_pdf(report: MonthlyReport, env: Any) -> bytes:
    from weasyprint import HTML

    html = env.get_template("reports/monthly.html").render(
        r=report, share=share, seconds=seconds, mean=mean,
        daily_chart=charts.daily_columns([(f"{d.day}", c, i) for d, c, i in report.daily]),
        sla_chart=charts.horizontal_bars(
            [(g.label, g.response.sla_compliance, share(g.response.sla_compliance)) for g in report.by_agency],
            scale_max=1.0),
        type_chart=charts.horizontal_bars(
            [(g.label, g.incidents.total, str(g.incidents.total))
             for g in sorted(report.by_type, key=lambda g: -g.incidents.total)[:12] if g.key is not None],
            colour=charts.SECOND))
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
