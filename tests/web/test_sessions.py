"""Logging in to the consoles: sessions, cookies, CSRF, landing pages, language."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from siaga112.models import users

LANDINGS = [("call_taker", "/konsol/panggilan"), ("damkar", "/konsol/dinas"),
            ("commander", "/konsol/komando"), ("admin", "/konsol/admin"),
            ("viewer", "/konsol/komando"), ("viewer_damkar", "/konsol/dinas")]


@pytest.mark.parametrize("name, landing", LANDINGS)
def test_each_role_lands_on_its_own_console(browse, name, landing):
    b = browse(name)
    assert b.client.get("/").headers["location"] == landing


def test_session_cookie_is_httponly_and_samesite(app):
    with TestClient(app, follow_redirects=False) as c:
        response = c.post("/login", data={"username": "damkar", "password": "rahasia-112"})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "siaga112_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_wrong_password_gives_no_session(app):
    with TestClient(app, follow_redirects=False) as c:
        response = c.post("/login", data={"username": "damkar", "password": "salah"})
        assert response.status_code == 401
        assert "siaga112_session" not in response.headers.get("set-cookie", "")
        assert "salah" in response.text.lower()  # the message: "Nama pengguna atau kata sandi salah."
        assert c.get("/konsol/dinas").status_code == 303


def test_machine_accounts_have_no_console(app):
    with TestClient(app, follow_redirects=False) as c:
        assert c.post("/login", data={"username": "telephony", "password": "rahasia-112"}).status_code == 401


def test_pages_without_session_redirect_to_login_and_back(app):
    with TestClient(app, follow_redirects=False) as c:
        response = c.get("/konsol/dinas")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/konsol/dinas"
        back = c.post("/login", data={"username": "damkar", "password": "rahasia-112",
                                      "next": "/konsol/dinas"})
        assert back.headers["location"] == "/konsol/dinas"


@pytest.mark.parametrize("evil", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(app, evil):
    with TestClient(app, follow_redirects=False) as c:
        response = c.post("/login", data={"username": "damkar", "password": "rahasia-112",
                                          "next": evil})
    assert response.headers["location"] == "/konsol/dinas"


def test_post_without_csrf_token_is_refused_and_writes_nothing(browse, actors, incident_body):
    incident = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    b = browse("damkar")
    refused = b.post(f"/konsol/insiden/{incident['id']}/terima", csrf=False)
    assert refused.status_code == 403
    wrong = b.post(f"/konsol/insiden/{incident['id']}/terima", headers={"X-CSRF-Token": "x" * 43},
                   csrf=False)
    assert wrong.status_code == 403
    after = actors["damkar"].get(f"/api/v1/incidents/{incident['id']}").json()
    assert {a["agency_code"]: a["status"] for a in after["assignments"]}["DAMKAR"] == "pending"
    assert b.post(f"/konsol/insiden/{incident['id']}/terima").status_code == 200


def test_logout_ends_the_session_for_good(browse):
    b = browse("damkar")
    cookie = b.client.cookies.get("siaga112_session")
    assert b.page("/konsol/dinas").status_code == 200
    assert b.post("/logout", data={"csrf_token": b.csrf}, csrf=False).status_code == 303
    b.client.cookies.set("siaga112_session", cookie)  # a copied cookie must not come back to life
    assert b.page("/konsol/dinas").status_code == 303


def test_disabled_user_is_out_at_once(browse, ctx):
    b = browse("damkar")
    assert b.page("/konsol/dinas").status_code == 200
    with ctx.db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "damkar").values(active=False))
    assert b.page("/konsol/dinas").status_code == 303


def test_session_reads_the_api_but_writes_only_with_the_csrf_header(browse, incident_body):
    b = browse("call_taker")
    assert b.client.get("/api/v1/reference/agencies").status_code == 200
    no_header = b.client.post("/api/v1/incidents", json=incident_body())
    assert no_header.status_code == 401
    with_header = b.client.post("/api/v1/incidents", json=incident_body(),
                                headers={"X-CSRF-Token": b.csrf})
    assert with_header.status_code == 201


def test_wrong_role_gets_the_forbidden_page(browse):
    b = browse("damkar")
    response = b.page("/konsol/panggilan")
    assert response.status_code == 403
    assert "operator 112" in response.text


def test_english_is_one_click_away(browse):
    b = browse("call_taker")
    assert "Panggilan baru" in b.page("/konsol/panggilan").text
    switch = b.client.get("/bahasa/en?kembali=/konsol/panggilan")
    assert switch.headers["location"] == "/konsol/panggilan"
    english = b.page("/konsol/panggilan").text
    assert "New call" in english and "Panggilan baru" not in english


def test_boundaries_are_served_for_the_map(app):
    with TestClient(app) as c:
        geo = c.get("/peta/batas.geojson").json()
    levels = {f["properties"]["level"] for f in geo["features"]}
    assert levels == {"kecamatan", "desa"}
    assert sum(f["properties"]["level"] == "kecamatan" for f in geo["features"]) == 4


def test_a_throttled_login_says_how_many_seconds_to_wait_and_the_owner_still_gets_in(app, ctx):
    ctx.settings.login_base_delay_seconds = 20
    with TestClient(app, follow_redirects=False) as c:
        for _ in range(ctx.settings.login_free_failures_per_pair):
            assert c.post("/login", data={"username": "commander", "password": "tebak"}).status_code == 401
        throttled = c.post("/login", data={"username": "commander", "password": "rahasia-112"})
        assert throttled.status_code == 429 and 18 <= int(throttled.headers["retry-after"]) <= 20
        assert "detik" in throttled.text and "menit" not in throttled.text
    # The commander, from her own desk (another address), is not held back by those failures.
    with TestClient(app, follow_redirects=False, client=("10.0.0.2", 50000)) as desk:
        assert desk.post("/login", data={"username": "commander", "password": "rahasia-112"}).status_code == 303
