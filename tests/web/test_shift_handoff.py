"""The shift hand-over in the console: written by the outgoing supervisor in Chromium, taken over
by the incoming one with one press, and printed."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(180)
API = "/api/v1/shift-handovers"
BODY = {"notes": "Banjir Sepaku masih dipantau BPBD.", "todo": "Hubungi PLN soal tiang roboh di Waru."}


def test_the_printable_sheet(actors, incident_body, browse):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    handoff = actors["commander"].post(API, json=BODY).json()
    sheet = browse("call_taker").page(f"/konsol/serah-terima/{handoff['id']}/cetak")
    assert sheet.status_code == 200
    assert fire["ticket"] in sheet.text and BODY["todo"] in sheet.text and "Belum diterima" in sheet.text
    assert "081234567890" not in sheet.text and "Budi" not in sheet.text


def test_a_supervisor_hands_over_and_the_next_takes_over(screen, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    outgoing = screen("commander")
    p = outgoing.page
    p.goto(outgoing.base_url + "/konsol/serah-terima")
    p.fill("#handoff-notes", BODY["notes"])
    p.fill("#handoff-todo", BODY["todo"])
    p.click("#handoff-form button[type=submit]")
    card = p.locator("[data-handoff]").first
    expect(card).to_contain_text("Insiden terbuka: 1")
    expect(card).to_have_attribute("data-acknowledged", "no")
    assert card.locator("button").count() == 0  # not for the one who wrote it
    outgoing.shot("shift-handoff-written")

    incoming = screen("admin")
    q = incoming.page
    q.goto(incoming.base_url + "/konsol/serah-terima")
    q.fill("[data-handoff] input[name=note]", "Diterima lengkap.")
    q.click("[data-handoff] button[type=submit]")
    expect(q.locator("[data-handoff]").first).to_have_attribute("data-acknowledged", "yes")
    expect(q.locator("[data-handoff]").first).to_contain_text("Diterima oleh admin")
    handoff_id = q.locator("[data-handoff]").first.get_attribute("data-handoff")
    q.goto(incoming.base_url + f"/konsol/serah-terima/{handoff_id}/cetak")
    expect(q.locator("#handoff-incidents")).to_contain_text(fire["ticket"])
    q.emulate_media(media="print")
    assert q.locator(".topbar").is_hidden()  # the sheet prints without the console's bar
    incoming.shot("shift-handoff-print")
    assert outgoing.errors == [] and incoming.errors == []
