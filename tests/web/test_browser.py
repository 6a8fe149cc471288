"""The consoles in a real headless Chromium, as people use them at 1366x768."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.timeout(180)


def _new_call(ct, *, phone: str, description: str, desa: str) -> str:
    """Keyboard only, from the number to the ticket read back."""
    p = ct.page
    p.keyboard.press("Alt+KeyN")
    p.keyboard.type(phone)
    p.keyboard.press("Alt+KeyD")
    p.keyboard.type(description)
    p.wait_for_selector("#suggestion [data-suggest-type]")
    p.keyboard.press("Alt+KeyW")
    p.keyboard.type(desa)
    p.wait_for_selector("#desa-results [data-pick-desa]")
    p.keyboard.press("ArrowDown")
    p.keyboard.press("Enter")
    assert p.evaluate("document.activeElement.id") == "address"
    p.keyboard.type("dekat masjid, RT 04")
    ct.shot("call-form-filled")
    p.keyboard.press("Control+Enter")
    p.wait_for_selector("#ticket")
    return p.inner_text("#ticket").strip()


def test_incident_flows_from_call_taker_to_agency_and_command_live(screen, actors):
    damkar, dlh, commander = screen("damkar"), screen("dlh"), screen("commander")
    for s in (damkar, dlh, commander):
        s.page.wait_for_selector("body[data-live-state=open]")
    ct = screen("call_taker")

    ticket = _new_call(ct, phone="081234500001", description="rumah terbakar api sudah besar",
                       desa="petung")
    shown_at = time.monotonic()
    ct.shot("ticket")

    # The DAMKAR dispatcher's open page shows it without a reload, within a second.
    row = damkar.page.wait_for_selector(f"[data-queue-ticket='{ticket}']", timeout=1000)
    assert time.monotonic() - shown_at < 1.0
    assert int(damkar.page.evaluate("document.body.dataset.alarms || '0'")) >= 1  # P1 sounds
    damkar.shot("queue")
    row.click()
    damkar.page.wait_for_selector(f"[data-ticket='{ticket}']")
    damkar.page.keyboard.press("Alt+KeyA")
    damkar.page.wait_for_selector(f"[data-ticket='{ticket}'] .selected .status-acknowledged")
    damkar.page.click(f"[data-ticket='{ticket}'] [data-recommended='DAMKAR-01'] button")
    damkar.page.wait_for_selector(f"[data-ticket='{ticket}'] .selected .status-dispatched")
    damkar.shot("incident-dispatched")

    # The commander's map and counts follow.
    commander.page.wait_for_selector(f"#command-map[data-marker-states*='{ticket}:dispatched']")
    commander.page.wait_for_selector("#agency-load")
    # The counts come with the summary, refreshed on its own request after the map's: poll.
    expect(commander.page.locator("[data-count=dispatched] b")).to_have_text("1")
    commander.shot("map")

    # A DLH dispatcher never sees it, not in the queue and not on the map.
    dlh.page.wait_for_selector("#queue .empty")
    dlh.page.wait_for_selector("#agency-map[data-marker-count]")
    assert ticket not in dlh.page.content()
    dlh.shot("queue-empty")

    for s in (damkar, dlh, commander, ct):
        assert not s.errors, f"{s.name}: {s.errors}"


def test_a_prank_call_takes_one_key(screen, actors):
    ct = screen("call_taker")
    p = ct.page
    p.keyboard.type("081299990000")
    p.wait_for_selector("#history h2")
    p.keyboard.press("Alt+KeyP")
    p.wait_for_selector("#toast:not([hidden])")
    assert "Prank" in p.inner_text("#toast")
    assert p.input_value("#phone") == ""  # ready for the next call
    assert p.evaluate("document.activeElement.id") == "phone"
    history = actors["call_taker"].get("/api/v1/callers/081299990000").json()
    assert history["outcome_counts"] == {"prank": 1}
    ct.shot("after-prank")
    assert not ct.errors


def test_script_in_a_description_is_shown_as_text(screen, actors, incident_body):
    payload = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> asap"
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body(description=payload)).json()
    d = screen("damkar")
    d.page.click(f"[data-queue-ticket='{fire['ticket']}']")
    d.page.wait_for_selector(".description")
    assert d.page.inner_text(".description") == payload
    assert d.page.evaluate("window.pwned === undefined")
    d.shot("script-payload")


def test_map_works_with_no_tile_server(app, screen, actors, incident_body):
    # A tile URL on a closed loopback port: every tile fails, the map must still draw.
    for env in app.state.pages.envs.values():
        env.globals["tile_url"] = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    c = screen("commander")
    c.page.wait_for_selector("#command-map[data-boundaries]")
    c.page.wait_for_selector(f"#command-map[data-marker-tickets*='{fire['ticket']}']")
    assert int(c.page.get_attribute("#command-map", "data-boundaries")) > 50
    c.shot("map-without-tiles")


def test_english_console(screen):
    ct = screen("call_taker")
    ct.page.click("a[hreflang=en]")
    ct.page.wait_for_selector("text=New call")
    ct.shot("english")


def test_answered_call_pops_up_on_the_call_takers_screen(screen, live_server):
    import httpx
    from web_helpers import post_webhook

    ct = screen("call_taker")
    ct.page.wait_for_selector("body[data-live-state=open]")
    with httpx.Client(base_url=live_server) as c:
        for event in ("ringing", "answered"):
            assert post_webhook(c, "telephony", {"call_id": "pbx-pop", "event": event,
                                                 "caller": "081277778888",
                                                 "agent": "call_taker"}).status_code < 300
    # Playwright's expect polls from its own isolated world; the page's CSP forbids eval.
    expect(ct.page.locator("#phone")).to_have_value("+6281277778888")
    ct.page.wait_for_selector("#history h2")
    assert ct.page.evaluate("document.activeElement.id") == "description"
    ct.shot("screen-pop")
    assert not ct.errors


def test_the_call_taker_chooses_whether_the_caller_gets_texts(screen, ctx):
    """A sensitive case (domestic violence) is silent unless the call-taker chooses on the call."""
    from sqlalchemy import select

    from siaga112.models import incidents

    ct = screen("call_taker")
    p = ct.page
    choice = p.locator("#notify_caller")
    expect(choice).to_be_visible()
    assert "kecuali jenis sensitif" in choice.inner_text()
    p.select_option("#notify_caller", "true")
    ticket = _new_call(ct, phone="081234500077", description="istri dipukul suami di rumah",
                       desa="petung")
    with ctx.db.transaction(write=False) as conn:
        chosen = conn.execute(select(incidents.c.notify_caller)
                              .where(incidents.c.ticket == ticket)).scalar_one()
    assert chosen is True
    assert not ct.errors, ct.errors
