"""The reporter's ticket page and API, and the public web form: stages, and no personal data ever."""
from __future__ import annotations

import re
from datetime import UTC

from citizens_helpers import partner, settings, webhook  # noqa: F401  fixtures

API = "/api/v1"


def stage_of(client, ticket: str) -> dict:
    r = client.get(f"{API}/public/tickets/{ticket}")
    assert r.status_code == 200, r.text
    return r.json()


def test_ticket_follows_the_incident_through_every_stage(actors, client, incident_body):
    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    ticket, iid = inc["ticket"], inc["id"]
    body = stage_of(client, ticket)
    assert set(body) >= {"ticket", "status", "status_label", "updated_at", "public_notes"}
    assert body["status"] == "forwarded" and "Dinas Penanggulangan Kebakaran" in body["status_label"] + str(body["stages"])
    damkar = actors["damkar"]
    assert damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/acknowledge").status_code == 200
    assert stage_of(client, ticket)["status"] == "acknowledged"
    unit = damkar.get(f"{API}/units?agency_code=DAMKAR&status=available").json()[0]
    damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/dispatch", json={"unit_id": unit["id"]})
    assert stage_of(client, ticket)["status"] == "en_route"
    damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/progress", json={"status": "on_scene"})
    assert stage_of(client, ticket)["status"] == "on_scene"
    actors["commander"].post(f"{API}/incidents/{iid}/status", json={"status": "resolved"})
    done = stage_of(client, ticket)
    assert done["status"] == "closed" and done["status_label"] == "Selesai"
    assert [s["reached"] for s in done["stages"]] == [True] * 7
    # Read over the phone: lower case, no dash, spaces all find it.
    loose = ticket.lower().replace("-", " ")
    assert stage_of(client, loose)["ticket"] == ticket
    page = client.get(f"/lacak/{ticket}")
    assert page.status_code == 200 and "Unit tiba di lokasi" in page.text and ticket in page.text
    assert page.headers["cache-control"] == "no-store"


def test_public_views_never_show_personal_data(actors, client, incident_body):
    secret_bits = ["Wahyuningsih", "0812-7777-4321", "Gang Mawar nomor 17", "suami mabuk memukul",
                   "catatan internal rahasia"]
    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": secret_bits[1], "name": secret_bits[0]},
        description=f"Api besar, {secret_bits[3]}",
        location={"lat": -1.2563, "lon": 116.7684, "address": secret_bits[2]})).json()
    ct = actors["call_taker"]
    ct.post(f"{API}/incidents/{inc['id']}/notes", json={"text": secret_bits[4], "public": False})
    ct.post(f"{API}/incidents/{inc['id']}/notes", json={"text": "Petugas sudah menuju lokasi", "public": True})
    api = client.get(f"{API}/public/tickets/{inc['ticket']}").text
    html = client.get(f"/lacak/{inc['ticket']}").text
    assert "Petugas sudah menuju lokasi" in api and "Petugas sudah menuju lokasi" in html
    phone_forms = ["81277774321", "+6281277774321", "7777-4321", "7777 4321"]
    for text in (api, html, api.replace("\\/", "/")):
        for bit in secret_bits + phone_forms:
            assert bit not in text, bit
        assert not re.search(r"\+?62\d{8,}|08\d{8,}", text)


def test_unknown_tickets_answer_404_and_enumeration_is_throttled(actors, client, app):
    app.state.ctx.settings.public_misses_per_10_minutes = 3
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"):
        assert client.get(f"{API}/public/tickets/{guess}").status_code == 404
    blocked = client.get(f"{API}/public/tickets/DDDD-DDDD")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert client.get("/lacak/EEEE-EEEE").status_code == 429
    assert client.get(f"{API}/public/tickets/not a ticket!").status_code in (404, 429)


def test_requests_per_client_are_limited(client, app):
    app.state.ctx.settings.public_rate_per_minute = 5
    codes = [client.get(f"{API}/public/tickets/ZZZZ-ZZZ{n}").status_code for n in range(2, 9)]
    assert codes[-1] == 429 and 429 not in codes[:3]


def test_web_form_with_browser_location_makes_a_waiting_report(actors, client):
    page = client.get("/lapor")
    assert page.status_code == 200 and "Kirim laporan" in page.text and "lokasi.js" in page.text
    r = client.post("/lapor", data={"description": "Pohon tumbang menutup jalan", "phone": "0812 3333 4444",
                                    "name": "Rina", "address": "dekat masjid", "lat": "-1.2563",
                                    "lon": "116.7684", "accuracy_m": "15", "notify": "whatsapp"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/lacak/")
    ticket = r.headers["location"].split("/")[2].split("?")[0]
    shown = client.get(r.headers["location"])
    assert "Laporan Anda sudah kami terima" in shown.text and "Rina" not in shown.text
    assert stage_of(client, ticket)["status"] == "received"
    queue = actors["call_taker"].get(f"{API}/citizen-reports").json()
    assert len(queue) == 1
    report = queue[0]
    assert report["ticket"] == ticket and report["channel"] == "web"
    assert (report["lat"], report["lon"], report["accuracy_m"]) == (-1.2563, 116.7684, 15)
    assert report["reporter_phone"] == "+6281233334444" and report["location_source"] == "browser"


def test_web_form_rejects_bad_input_and_writes_nothing(actors, client):
    r = client.post("/lapor", data={"description": "ada banjir", "phone": "12"})
    assert r.status_code == 422 and "Nomor HP tidak valid" in r.text and "ada banjir" in r.text
    r = client.post(f"{API}/public/reports", json={"description": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "description"]
    assert actors["call_taker"].get(f"{API}/citizen-reports").json() == []
    ok = client.post(f"{API}/public/reports", json={"description": "Jalan amblas di Sepaku"})
    assert ok.status_code == 201 and ok.json()["tracking_url"].endswith(ok.json()["ticket"])


def test_ticket_search_form_redirects_to_the_ticket(client):
    assert client.get("/lacak").status_code == 200
    r = client.get("/lacak?tiket=k7mq3xd9", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/lacak/K7MQ-3XD9"
    assert client.get("/lacak?tiket=000").status_code == 422


def test_public_pages_and_answers_carry_the_citizens_header_policy(actors, client, app, incident_body):
    from siaga112.security.headers import CSP, PUBLIC_CSP

    ticket = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()["ticket"]
    answers = [client.get("/lacak"), client.get(f"/lacak/{ticket}"), client.get("/lapor"),
               client.get("/lacak?tiket=k7mq3xd9", follow_redirects=False),
               client.post("/lapor", data={"description": "x"}),
               client.get(f"{API}/public/tickets/{ticket}"), client.get(f"{API}/public/tickets/AAAA-AAAA"),
               client.post(f"{API}/public/reports", json={"description": "x"}),
               client.post(f"{API}/public/tickets/{ticket}/opt-out")]
    for r in answers:
        assert r.headers["content-security-policy"] == PUBLIC_CSP, r.url
        assert r.headers["referrer-policy"] == "no-referrer", r.url  # the ticket is in the path
        assert r.headers["x-robots-tag"] == "noindex", r.url
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    # The location script may be cached; the consoles keep their own policy.
    assert client.get("/lapor/lokasi.js").headers["cache-control"] == "public, max-age=3600"
    assert client.get("/login").headers["content-security-policy"] == CSP
    assert client.get("/lacakan").headers["content-security-policy"] == CSP  # not a public path


def test_every_public_route_is_under_the_citizens_policy():
    from siaga112.public.routes import router
    from siaga112.security.headers import PUBLIC_PATHS

    paths = {route.path for route in router.routes}
    assert len(paths) >= 6
    for path in paths:
        assert any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS), path


def test_throttled_answers_are_in_indonesian_with_retry_after(client, app):
    app.state.ctx.settings.public_misses_per_10_minutes = 1
    assert client.get(f"{API}/public/tickets/AAAA-AAAA").status_code == 404
    api = client.get(f"{API}/public/tickets/BBBB-BBBB")
    page = client.get("/lacak/CCCC-CCCC")
    assert api.status_code == page.status_code == 429
    assert api.json()["detail"] == "Terlalu banyak permintaan. Coba lagi sebentar lagi."
    assert "<h1>Terlalu banyak permintaan</h1>" in page.text and '<html lang="id">' in page.text
    # One miss per ten minutes: the next is allowed in about ten minutes, never sooner.
    assert 590 <= int(api.headers["retry-after"]) <= 600
    assert int(page.headers["retry-after"]) >= 590


def test_limits_are_per_client_address_and_follow_the_rate_limit_switch(client, app):
    from fastapi.testclient import TestClient

    app.state.ctx.settings.public_misses_per_10_minutes = 1
    client.get(f"{API}/public/tickets/AAAA-AAAA")
    assert client.get(f"{API}/public/tickets/BBBB-BBBB").status_code == 429
    with TestClient(app, client=("10.0.0.2", 50000)) as neighbour:
        assert neighbour.get(f"{API}/public/tickets/BBBB-BBBB").status_code == 404
    # Load tests send everything from one address: the one switch turns every limit off.
    app.state.ctx.settings.rate_limits = False
    assert client.get(f"{API}/public/tickets/BBBB-BBBB").status_code == 404


def test_ticket_page_is_in_indonesian_whatever_the_console_language(actors, client, ctx, incident_body):
    from datetime import datetime

    from sqlalchemy import update

    from siaga112.models import incidents

    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    # A time in August: Babel writes "Agu" in Indonesian and "Aug" in English.
    at = datetime(2024, 8, 17, 1, 5, tzinfo=UTC)
    with ctx.db.transaction() as conn:
        conn.execute(update(incidents).where(incidents.c.id == inc["id"]).values(created_at=at))
    client.cookies.set("siaga112_lang", "en")
    page = client.get(f"/lacak/{inc['ticket']}")
    assert page.status_code == 200 and "17 Agu 2024 09:05 WITA" in page.text  # UTC+8
    assert "Aug" not in page.text and "Diperbarui" in page.text
