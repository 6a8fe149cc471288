"""The command centre's public-alerts screen in Chromium: an alert for a kecamatan (a double
click issues one), one for an area drawn on the map, and a withdrawal."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(180)


def _fill(p, *, event: str, headline: str) -> None:
    p.fill("#alert-form input[name=event]", event)
    p.fill("#alert-form input[name=headline]", headline)
    p.fill("#alert-form textarea[name=description]", "Air sungai naik sejak pagi.")
    p.fill("#alert-form input[name=instruction]", "Warga bantaran sungai bersiap mengungsi.")


def test_bpbd_issues_draws_and_withdraws_alerts(screen, actors):
    commander = screen("commander")
    p = commander.page
    p.goto(commander.base_url + "/konsol/peringatan")
    _fill(p, event="Banjir", headline="Banjir di Kecamatan Sepaku")
    p.check("#alert-form input[name=codes][value='64.09.04']")
    p.dblclick("#alert-form button[type=submit]")  # a double click
    expect(p.locator("#current-alerts [data-alert]")).to_have_count(1)
    alerts = actors["commander"].get("/api/v1/alerts").json()
    assert len(alerts) == 1 and alerts[0]["area_desc"] == "Kecamatan Sepaku"

    # An area drawn on the map: four clicks around the middle of the map.
    p.wait_for_selector("#alert-map[data-ready=yes]")
    the_map = p.locator("#alert-map")
    the_map.scroll_into_view_if_needed()
    box = the_map.bounding_box()
    cx, cy = box["width"] / 2, box["height"] / 2
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        the_map.click(position={"x": cx + dx, "y": cy + dy})
    expect(p.locator("#alert-polygon-count")).to_have_attribute("data-points", "4")
    _fill(p, event="Kabut asap", headline="Kabut asap kebakaran lahan")
    commander.shot("alerts-console-drawn")
    p.click("#alert-form button[type=submit]")
    expect(p.locator("#current-alerts [data-alert]")).to_have_count(2)
    drawn = next(a for a in actors["commander"].get("/api/v1/alerts").json() if a["event"] == "Kabut asap")
    assert drawn["area_desc"] == "wilayah yang ditandai pada peta" and len(drawn["polygon"]) == 4

    # Withdraw the flood alert.
    flood = p.locator("#current-alerts [data-alert]", has_text="Banjir di Kecamatan Sepaku")
    flood.locator("summary", has_text="Cabut").click()
    flood.locator("input[name=note]").fill("Air sudah surut.")
    flood.locator("button.danger").click()
    expect(p.locator("#current-alerts [data-alert]")).to_have_count(1)
    assert commander.errors == []


def test_who_opens_the_alerts_screen(browse):
    assert browse("damkar").page("/konsol/peringatan").status_code == 403
    assert browse("call_taker").page("/konsol/peringatan").status_code == 403
    viewer = browse("viewer").page("/konsol/peringatan")
    assert viewer.status_code == 200 and "alert-form" not in viewer.text
    assert "alert-form" in browse("bpbd").page("/konsol/peringatan").text
