"""The reports dashboard in a real Chromium: tiles and Chart.js charts from the recorded
timestamps, the agency filter, incidents by desa on the map, and live updates for today."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kpi_history import PENAJAM_DESA, SEPAKU_DESA, seed_day

pytestmark = pytest.mark.timeout(180)


def test_the_commander_reads_the_months_figures_and_filters_by_agency(screen, ctx):
    with ctx.db.transaction() as conn:
        seed_day(conn)
    commander = screen("commander")
    p = commander.page
    p.goto(commander.base_url + "/konsol/laporan?from=2026-11-01&sampai=2026-11-30")
    p.wait_for_selector("#report[data-state=ready]")
    # The figures of tests/reports/test_kpi.py over November: 8 calls, 3 incidents.
    assert p.inner_text("[data-tile=calls]") == "8" and p.inner_text("[data-tile=incidents]") == "3"
    assert p.inner_text("[data-tile=dispatch60]") == "50%"
    charts = p.evaluate("""['chart-trend', 'chart-sla', 'chart-types', 'chart-hours'].map(id => {
        const c = Chart.getChart(document.getElementById(id));
        return c ? [c.data.labels.length, c.data.datasets.map(d => d.data.reduce((a, b) => a + (b || 0), 0))] : null; })""")
    assert charts[0] == [30, [8, 3]]                      # every day of November; calls, incidents
    assert charts[1][0] == 3                               # DAMKAR, BPBD, DINKES
    assert charts[2] == [2, [3]]                           # FIRE-BLDG twice, FLOOD once
    assert charts[3] == [24, [8, 3]]
    expect(p.locator("#report-map")).to_have_attribute("data-shaded", f"{PENAJAM_DESA} {SEPAKU_DESA}")
    commander.shot("reports-dashboard")
    assert commander.errors == []

    p.select_option("select[name=agency]", "DAMKAR")
    p.click(".report-filters button[type=submit]")
    p.wait_for_url("**agency=DAMKAR**")
    p.wait_for_selector("#report[data-state=ready]")
    assert p.inner_text("[data-tile=incidents]") == "2" and p.inner_text("[data-tile=calls]") == "—"
    assert p.evaluate("Chart.getChart(document.getElementById('chart-sla')).data.labels.length") == 1


def test_today_is_live(screen, actors, incident_body):
    commander = screen("commander")
    p = commander.page
    p.goto(commander.base_url + "/konsol/laporan")
    p.wait_for_selector("#report[data-state=ready]")
    p.wait_for_selector("body[data-live-state=open]")
    assert p.inner_text("[data-tile=incidents]") == "0"
    r = actors["call_taker"].post("/api/v1/incidents", json=incident_body())
    assert r.status_code == 201
    # Without a reload: the event stream brings the change and the tiles follow.
    expect(p.locator("[data-tile=incidents]")).to_have_text("1", timeout=10_000)
    expect(p.locator("#report-map")).to_have_attribute("data-shaded", r.json()["desa_code"])


def test_the_dashboard_is_for_the_command_centre_and_leadership(browse):
    assert browse("call_taker").page("/konsol/laporan").status_code == 403
    assert browse("damkar").page("/konsol/laporan").status_code == 403
    assert browse("viewer").page("/konsol/laporan").status_code == 200
    bad = browse("commander").page("/konsol/laporan?from=2026-11-05&sampai=2026-11-01")
    assert bad.status_code == 422
