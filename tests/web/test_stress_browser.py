"""Consoles under stress (issue 12), in a real Chromium: what a tired operator's double click,
a lookup still running, or a dropped network must never do."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(180)
API = "/api/v1"


def _assignment(actors, incident_id: str, agency: str) -> dict:
    incident = actors["commander"].get(f"{API}/incidents/{incident_id}").json()
    return next(a for a in incident["assignments"] if a["agency_code"] == agency)


def _centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


# ------------------------------------------------------------------ (a) the double click

def test_a_double_click_on_acknowledge_never_completes_a_p1_fire(screen, actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=1)).json()
    d = screen("damkar")
    p = d.page
    p.click(f"[data-queue-ticket='{fire['ticket']}']")
    panel = f"[data-ticket='{fire['ticket']}']"
    p.wait_for_selector(f"{panel} button[data-key='Alt+KeyA']")
    x, y = _centre(p, f"{panel} button[data-key='Alt+KeyA']")
    # The first click acknowledges; the second lands where "Terima" was, the moment the panel
    # has been redrawn (a double click is two clicks ~150 ms apart; the swap takes less).
    p.mouse.click(x, y)
    p.wait_for_selector(f"{panel} .selected .status-acknowledged")
    p.mouse.click(x, y)
    expect(p.locator("#confirm-dialog")).not_to_be_visible()
    assert _assignment(actors, fire["id"], "DAMKAR")["status"] == "acknowledged"
    d.shot("after-double-click")

    # Completing on purpose asks, and for a P1 lead that never sent a unit, asks why.
    p.wait_for_selector("#detail:not([data-guarded])")
    p.click(f"{panel} button[data-finish]")
    dialog = p.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(p.locator("#confirm-reason-box")).to_be_visible()
    d.shot("confirm-completion")
    p.wait_for_selector("#confirm-dialog:not([data-guarded])")
    p.click("#confirm-ok")  # no reason yet: the dialog stays
    expect(dialog).to_be_visible()
    p.fill("#confirm-reason", "api dipadamkan warga sebelum unit berangkat")
    p.click("#confirm-ok")
    p.wait_for_selector(f"{panel} .selected .status-completed")
    assert _assignment(actors, fire["id"], "DAMKAR")["status"] == "completed"
    # ... and the command centre is told.
    flagged = actors["commander"].get(f"{API}/incidents", params={"attention": "true"}).json()
    assert fire["id"] in [i["id"] for i in flagged["items"]]
    assert not d.errors, d.errors


def test_cancelling_the_question_changes_nothing(screen, actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=1)).json()
    url = f"{API}/incidents/{fire['id']}/assignments/DAMKAR"
    assert actors["damkar"].post(f"{url}/acknowledge").status_code == 200
    d = screen("damkar")
    p = d.page
    p.click(f"[data-queue-ticket='{fire['ticket']}']")
    p.wait_for_selector("#detail button[data-finish]")
    p.wait_for_selector("#detail:not([data-guarded])")
    p.click("#detail button[data-finish]")
    expect(p.locator("#confirm-dialog")).to_be_visible()
    # The reason box has the focus: a stray Enter only writes a new line; Escape cancels.
    p.keyboard.press("Enter")
    expect(p.locator("#confirm-dialog")).to_be_visible()
    p.keyboard.press("Escape")
    expect(p.locator("#confirm-dialog")).not_to_be_visible()
    assert _assignment(actors, fire["id"], "DAMKAR")["status"] == "acknowledged"


# ------------------------------------------------------------------ (b) the ticket to read out

def test_the_ticket_card_always_belongs_to_the_call_just_handled(screen, actors, incident_body):
    from test_browser import _new_call

    earlier = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    ct = screen("call_taker")
    p = ct.page
    own = _new_call(ct, phone="081234500002", description="rumah terbakar api sudah besar", desa="petung")
    assert own != earlier["ticket"]

    # A second caller reports the earlier fire and is linked with Alt+1: its ticket is read out.
    p.keyboard.press("Alt+KeyN")
    p.keyboard.type("081234500003")
    p.fill("#lon", str(incident_body()["location"]["lon"]))
    p.fill("#lat", str(incident_body()["location"]["lat"]))
    p.keyboard.press("Tab")
    p.wait_for_selector(f"#duplicates li:has-text('{earlier['ticket']}') [data-key='Alt+Digit1']")
    # The lon and lat changes each ask for duplicates; the list the key acts on is the last one.
    # (Under a full suite the second answer replaced the list just after Alt+1 and the link was
    # lost: see the closing note of this stop.)
    expect(p.locator(".htmx-request")).to_have_count(0)
    p.keyboard.press("Alt+Digit1")
    expect(p.locator("#ticket")).to_have_text(earlier["ticket"])
    ct.shot("linked-caller-ticket")

    # A prank and a silent call afterwards: no ticket at all.
    for key, phone in (("Alt+KeyP", "081234500004"), ("Alt+KeyS", "081234500005")):
        p.keyboard.press("Alt+KeyN")
        p.keyboard.type(phone)
        p.keyboard.press(key)
        expect(p.locator("#ticket")).to_have_count(0)
        expect(p.locator("#phone")).to_have_value("")
    assert not ct.errors, ct.errors


# ------------------------------------------------------------------ (c) Ctrl+Enter during lookups

def _wait_until(page, condition, what: str, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(25)


def _incidents_described(actors, text: str) -> list[dict]:
    page = actors["commander"].get(f"{API}/incidents", params={"limit": 100}).json()
    return [i for i in page["items"] if i.get("description") == text]


def test_ctrl_enter_while_a_lookup_runs_is_queued_shown_and_saved(screen, actors):
    ct = screen("call_taker")
    p = ct.page
    held = []
    # The type suggestion is slow today: hold every answer until the test lets it go.
    p.route("**/konsol/panggilan/saran", lambda route: held.append(route))
    p.keyboard.press("Alt+KeyN")
    p.keyboard.type("081234500006")
    p.keyboard.press("Alt+KeyJ")
    p.keyboard.type("Jl. Provinsi km 9, dekat masjid")
    description = "pohon tumbang menutup jalan provinsi km 9"
    p.keyboard.press("Alt+KeyD")
    p.keyboard.type(description)
    _wait_until(p, lambda: held, "the suggestion lookup to start")
    p.keyboard.press("Control+Enter")
    expect(p.locator("#save-queued")).to_be_visible()  # the key was taken, and it says so
    ct.shot("save-queued")
    for route in held:
        route.continue_()
    p.unroute("**/konsol/panggilan/saran")
    p.wait_for_selector("#ticket")
    expect(p.locator("#save-queued")).to_be_hidden()
    assert len(_incidents_described(actors, description)) == 1
    assert not ct.errors, ct.errors


def test_ctrl_enter_saves_what_is_typed_when_a_lookup_never_ends(screen, actors):
    ct = screen("call_taker")
    p = ct.page
    held = []
    p.route("**/konsol/panggilan/saran", lambda route: held.append(route))
    p.keyboard.press("Alt+KeyJ")
    p.keyboard.type("Jl. Propinsi km 3")
    description = "kabel listrik putus menjuntai ke jalan"
    p.keyboard.press("Alt+KeyD")
    p.keyboard.type(description)
    _wait_until(p, lambda: held, "the suggestion lookup to start")
    p.keyboard.press("Control+Enter")
    p.wait_for_selector("#ticket", timeout=5000)
    assert len(_incidents_described(actors, description)) == 1
    for route in held:
        route.abort()


# ------------------------------------------------------------------ (d) offline

def test_offline_banner_and_calls_kept_in_the_browser_then_sent_once(screen, actors):
    import time

    ct = screen("call_taker")
    p = ct.page
    p.wait_for_selector("body[data-live-state=open]")
    cut = time.monotonic()
    ct.context.set_offline(True)
    p.wait_for_selector("#offline-banner:not([hidden])", timeout=3000)
    assert time.monotonic() - cut < 3.0
    ct.shot("offline")
    texts = ["rumah roboh tertimpa pohon, offline satu", "banjir masuk rumah warga, offline dua"]
    for n, text in enumerate(texts):
        p.keyboard.press("Alt+KeyN")
        p.keyboard.type(f"08123450001{n}")
        p.keyboard.press("Alt+KeyJ")
        p.keyboard.type(f"Jl. Nipah-Nipah RT 0{n + 1}")
        p.keyboard.press("Alt+KeyD")
        p.keyboard.type(text)
        p.keyboard.press("Control+Enter")
        expect(p.locator("#outbox-count")).to_have_text(str(n + 1))
    expect(p.locator("#outbox")).to_be_visible()
    ct.shot("offline-outbox")
    assert all(not _incidents_described(actors, t) for t in texts)

    ct.context.set_offline(False)
    p.wait_for_selector("#offline-banner[hidden]", state="attached", timeout=5000)
    expect(p.locator("#outbox")).to_be_hidden(timeout=10000)
    assert [len(_incidents_described(actors, t)) for t in texts] == [1, 1]
    # A reload (the page opened again later) finds nothing left to send, and sends nothing twice.
    p.reload()
    p.wait_for_selector("body[data-outbox='0']", state="attached")
    assert [len(_incidents_described(actors, t)) for t in texts] == [1, 1]


def test_offline_actions_are_refused_on_the_spot_and_countdowns_look_stale(screen, actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=1)).json()
    d = screen("damkar")
    p = d.page
    p.click(f"[data-queue-ticket='{fire['ticket']}']")
    p.wait_for_selector("#detail button[data-key='Alt+KeyA']")
    d.context.set_offline(True)
    p.wait_for_selector("#offline-banner:not([hidden])", timeout=3000)
    p.keyboard.press("Alt+KeyA")
    expect(p.locator("#toast")).to_be_visible()
    d.shot("offline-dispatcher")
    d.context.set_offline(False)
    p.wait_for_selector("#offline-banner[hidden]", state="attached", timeout=5000)
    assert _assignment(actors, fire["id"], "DAMKAR")["status"] == "pending"


# ------------------------------------------------------------------ out of area

def test_out_of_area_is_handed_over_from_the_console_and_no_centre_is_preselected(screen, actors):
    ct = screen("call_taker")
    p = ct.page
    assert p.input_value("#transferred_to") == ""
    p.keyboard.press("Alt+KeyN")
    p.keyboard.type("081234500020")
    p.keyboard.press("Alt+KeyD")
    p.keyboard.type("kebakaran gudang di Balikpapan Barat")
    p.keyboard.press("Alt+KeyL")  # no centre chosen yet: refused, nothing recorded
    expect(p.locator("#toast.error")).to_contain_text("Alt+G")
    assert actors["call_taker"].get(f"{API}/callers/081234500020").json()["calls"] == []
    p.keyboard.press("Alt+KeyG")
    p.select_option("#transferred_to", "BALIKPAPAN")
    p.keyboard.press("Alt+KeyL")
    expect(p.locator("#phone")).to_have_value("")
    handovers = actors["call_taker"].get(f"{API}/handovers").json()
    sent = [h for h in handovers if h["document"]["incidentComponent"]["description"]
            == "kebakaran gudang di Balikpapan Barat"]
    assert [h["target"] for h in sent] == ["BALIKPAPAN"]
    assert actors["call_taker"].get(f"{API}/callers/081234500020").json()["calls"][0]["transferred_to"] == "BALIKPAPAN"
    ct.shot("handed-over")
    assert not [e for e in ct.errors if "422" not in e], ct.errors  # the refusal above is a 422


# ------------------------------------------------------------------ a second caller

def test_a_second_caller_is_warned_of_by_address_alone_and_kept_on_the_incident(screen, actors, browse,
                                                                                incident_body):
    first = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        location={"address": "Jl. Sultan Hasanuddin, Kelurahan Nipah-Nipah"})).json()
    ct = screen("call_taker")
    p = ct.page
    p.keyboard.press("Alt+KeyN")
    p.keyboard.type("081234500030")
    p.keyboard.press("Alt+KeyD")
    p.keyboard.type("asap tebal dari rumah tetangga, api kelihatan")
    p.keyboard.press("Alt+KeyJ")
    p.keyboard.type("Nipah-Nipah RT 05")
    # The warning comes before any save, from the address alone.
    p.wait_for_selector(f"#duplicates li:has-text('{first['ticket']}')")
    ct.shot("duplicate-by-address")
    p.keyboard.press("Alt+Digit1")
    expect(p.locator("#ticket")).to_have_text(first["ticket"])

    panel = browse("commander").get(f"/konsol/insiden/{first['id']}").text
    assert "+6281234500030" in panel and "asap tebal dari rumah tetangga" in panel
    read = actors["damkar"].get(f"{API}/incidents/{first['id']}").json()  # the lead agency
    assert read["caller"] is not None
    # A support agency gets the situation, never the second caller's number.
    support = browse("dinkes").get(f"/konsol/insiden/{first['id']}").text
    assert "+6281234500030" not in support


# ------------------------------------------------------------------ informal places on the map

def test_an_informal_address_is_found_pinned_and_zoomed_on_the_map(screen):
    ct = screen("call_taker")
    p = ct.page
    p.wait_for_selector("#pick-map[data-boundaries]")
    p.keyboard.press("Alt+KeyW")
    p.keyboard.type("dekat masjid Al-Ikhlas, RT 05 Kelurahan Nipah-Nipah")
    p.wait_for_selector("#desa-results [data-pick-desa]")
    assert p.inner_text("#desa-results [data-pick-desa] strong") == "Nipah-Nipah"
    p.keyboard.press("ArrowDown")
    p.keyboard.press("Enter")
    p.wait_for_selector("#pick-map[data-pinned]")
    assert int(p.get_attribute("#pick-map", "data-zoom")) >= 14
    lat, lon = (float(v) for v in p.get_attribute("#pick-map", "data-pinned").split(","))
    assert abs(lat - -1.298) < 0.01 and abs(lon - 116.733) < 0.01
    assert p.locator("#pick-map .leaflet-marker-icon").count() == 1
    ct.shot("place-pinned")
    assert not ct.errors, ct.errors


# ------------------------------------------------------------------ the dispatcher's queue

def test_queue_order_new_rows_and_alt_1_opens_the_most_urgent_led_incident(screen, actors, incident_body):
    ct = actors["call_taker"]
    minor = ct.post(f"{API}/incidents", json=incident_body(priority=3)).json()
    # A land fire: P1, but BPBD leads and DAMKAR only supports.
    supported = ct.post(f"{API}/incidents", json=incident_body(type_code="FIRE-LAND")).json()
    led = ct.post(f"{API}/incidents", json=incident_body(priority=1)).json()
    d = screen("damkar")
    p = d.page
    p.wait_for_selector(f"[data-queue-ticket='{minor['ticket']}']")
    order = [r.get_attribute("data-queue-ticket") for r in p.query_selector_all("#queue tr[data-queue-ticket]")]
    # Priority first; among the P1s the earlier deadline (the land fire came first).
    assert order == [supported["ticket"], led["ticket"], minor["ticket"]]
    assert p.locator("#queue tr.unopened").count() == 3
    d.shot("queue-new-rows")
    p.keyboard.press("Alt+Digit1")
    p.wait_for_selector(f"#detail [data-ticket='{led['ticket']}']")
    expect(p.locator(f"[data-queue-ticket='{led['ticket']}']")).not_to_have_class("clickable unopened")
    # Still seen as opened after the queue refreshes.
    actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=4))
    p.wait_for_selector("#queue tr[data-queue-ticket] >> nth=3")
    expect(p.locator("#queue tr.unopened")).to_have_count(3)
    assert not d.errors, d.errors


# ------------------------------------------------------------------ the alarm

def test_the_alarm_repeats_while_a_p1_waits_and_says_when_sound_is_blocked(screen, actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=1)).json()
    d = screen("damkar")
    p = d.page
    p.wait_for_selector(f"[data-queue-ticket='{fire['ticket']}']")
    # No click or key yet: the browser holds the sound back, and the page says so.
    expect(p.locator("#sound-blocked")).to_be_visible()
    p.evaluate("document.body.dataset.alarmRepeatMs = '300'")
    start = int(p.get_attribute("body", "data-alarms") or 0)
    _wait_until(p, lambda: int(p.get_attribute("body", "data-alarms") or 0) >= start + 3, "the alarm to repeat",
                timeout=10)
    _wait_until(p, lambda: p.title().startswith("⚠"), "the tab title to flash")
    d.shot("alarm-repeating")
    p.click("#queue-title")
    expect(p.locator("#sound-blocked")).to_be_hidden()
    # Acknowledged: the alarm stops and the title is itself again.
    assert actors["damkar"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/acknowledge").status_code == 200
    p.wait_for_selector("body[data-urgent='0']", state="attached", timeout=5000)
    _wait_until(p, lambda: not p.title().startswith("⚠"), "the title to stop flashing")
    stopped = int(p.get_attribute("body", "data-alarms"))
    p.wait_for_timeout(1000)  # a second of quiet: three repeat periods with nothing to sound
    assert int(p.get_attribute("body", "data-alarms")) == stopped


# ------------------------------------------------------------------ the commander's panel

def test_the_commanders_incident_panel_opens_in_view(screen, actors, incident_body):
    opened = [actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=2)).json()
              for _ in range(14)]
    c = screen("commander")
    p = c.page
    last = opened[-1]  # newest: near the top of the open incidents, the panel far below
    p.wait_for_selector(f"#open-incidents tr:has-text('{last['ticket']}')")
    p.click(f"#open-incidents tr:has-text('{last['ticket']}')")
    p.wait_for_selector(f"#detail [data-ticket='{last['ticket']}']")
    # The panel's heading is on screen without scrolling by hand.
    _wait_until(p, lambda: p.locator(f"#detail [data-ticket='{last['ticket']}'] h2").is_visible()
                and 0 <= p.locator(f"#detail [data-ticket='{last['ticket']}'] h2").bounding_box()["y"] < 768,
                "the panel to come into view")
    c.shot("commander-panel-in-view")


# ------------------------------------------------------------------ ticket search

def test_staff_find_a_ticket_from_any_console(screen, actors, browse, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    c = screen("commander")
    p = c.page
    p.keyboard.press("Alt+KeyF")
    p.keyboard.type(fire["ticket"].lower().replace("-", " "))  # as read over the phone
    p.keyboard.press("Enter")
    p.wait_for_selector(f"#detail [data-ticket='{fire['ticket']}']")
    c.shot("ticket-search")
    assert browse("call_taker").page("/konsol/cari", params={"tiket": "ZZZZ-ZZZZ"}).status_code == 404
    # Agencies see their queue; the search is for the 112 floor and the command centre.
    assert browse("dlh").page("/konsol/cari", params={"tiket": fire["ticket"]}).status_code == 403
    assert not c.errors, c.errors


# ------------------------------------------------------------------ the unit board

def test_the_command_centre_sees_every_agencys_units_live(screen, actors):
    c = screen("commander")
    p = c.page
    p.wait_for_selector("body[data-live-state=open]")
    p.wait_for_selector("#unit-board [data-board-unit='DAMKAR-01']")
    agencies = {t.strip() for t in p.locator("#unit-board tbody tr td:nth-child(2)").all_inner_texts()}
    assert {"DAMKAR", "DINKES", "BPBD", "POLRES"} <= agencies
    unit = next(u for u in actors["damkar"].get(f"{API}/units").json() if u["call_sign"] == "DAMKAR-02")
    assert actors["damkar"].post(f"{API}/units/{unit['id']}/status", json={"status": "out_of_service"}).status_code == 200
    p.wait_for_selector("#unit-board [data-board-unit='DAMKAR-02'][data-unit-status='out_of_service']")
    assert "tidak beroperasi" in p.inner_text("#unit-board [data-board-unit='DAMKAR-02']")
    c.shot("unit-board")
    assert not c.errors, c.errors
