"""The administration console over HTTP, logged in through the login form, on both databases."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from consoles import admin_console, login  # noqa: F401,E402 — fixtures
from sqlalchemy import func, select

from siaga112.bootstrap import build_context
from siaga112.models import admin_changes, sop_routes, sop_state
from siaga112.sop.loader import parse_sop
from siaga112.sop.reload import reload_if_changed

API = "/api/v1"
FIRE = "/konsol/admin/sop/jenis/FIRE-BLDG"
FIRE_AS_IS = {"name_id": "Kebakaran bangunan / permukiman", "name_en": "Structure fire",
              "priority": "1", "lead": "DAMKAR", "support": ["BPBD", "DINKES", "PLN"]}
P2_AS_IS = {"label_id": "Mendesak", "label_en": "Urgent", "ack_seconds": "180",
            "dispatch_seconds": "900"}


def reference_type(actor, code):
    return next(t for t in actor.get(f"{API}/reference/incident-types").json() if t["code"] == code)


def counts(ctx):
    """How many admin changes are recorded and the SOP revision: both untouched by a refusal."""
    with ctx.db.transaction(write=False) as conn:
        return (conn.execute(select(func.count()).select_from(admin_changes)).scalar_one(),
                conn.execute(select(sop_state.c.revision)).scalar_one())


def user_id(console, username):
    html = console.get(f"/konsol/admin/pengguna?q={username}").text
    return int(re.search(rf'id="user-(\d+)"[^>]*>\s*<td><b>{re.escape(username)}</b>', html).group(1))


# --- who may enter ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["call_taker", "commander", "damkar", "viewer"])
def test_only_administrators_enter(login, actor):
    console = login(actor)
    for url in ("/konsol/admin", "/konsol/admin/pengguna", "/konsol/admin/sop", "/konsol/admin/audit",
                "/konsol/admin/sop.yaml"):
        r = console.get(url)
        assert r.status_code == 403, url
        assert "Tidak berwenang" in r.text
    r = console.post("/konsol/admin/pengguna", {"username": "mallory", "role": "admin"})
    assert r.status_code == 403


def test_without_a_session_the_login_form_is_shown(client):
    r = client.get("/konsol/admin/dinas", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/konsol/admin/dinas"


def test_a_post_without_the_csrf_token_is_refused(admin_console, ctx):
    before = counts(ctx)
    for htmx in (True, False):
        r = admin_console.post("/konsol/admin/pengguna", {"username": "tanpa-token", "role": "viewer"},
                               htmx=htmx, csrf=False)
        assert r.status_code == 403
    r = admin_console.post("/konsol/admin/pengguna", {"username": "token-salah", "role": "viewer"},
                           headers={"X-CSRF-Token": "not-the-token"}, csrf=False)
    assert r.status_code == 403
    assert counts(ctx) == before
    assert "tanpa-token" not in admin_console.get("/konsol/admin/pengguna").text


# --- users and roles --------------------------------------------------------------------------


def test_creating_a_user_shows_the_password_once_and_it_works(admin_console, login, ctx):
    r = admin_console.post("/konsol/admin/pengguna", {
        "username": "operator7", "full_name": "Siti Aminah", "role": "call_taker", "agency_code": ""})
    assert r.status_code == 201
    assert r.headers["cache-control"] == "no-store"
    password = re.search(r"data-password>([^<]+)<", r.text).group(1)
    assert 'id="user-list"' in r.text  # the list beside the form is refreshed too
    # Shown once: the user's page afterwards does not carry it.
    uid = user_id(admin_console, "operator7")
    assert password not in admin_console.get(f"/konsol/admin/pengguna/{uid}").text
    newcomer = login("operator7", password)
    assert newcomer.landing == "/konsol/panggilan"

    audit = admin_console.get("/konsol/admin/audit?kind=user&target=operator7").text
    assert "user.created" in audit and "call_taker" in audit
    assert password not in audit


def test_a_new_user_is_validated_like_the_api(admin_console, ctx):
    before = counts(ctx)
    r = admin_console.post("/konsol/admin/pengguna", {"username": "petugas-baru", "role": "dispatcher"})
    assert r.status_code == 422
    assert "a dispatcher must be bound to an agency" in r.text
    r = admin_console.post("/konsol/admin/pengguna", {"username": "admin", "role": "viewer"})
    assert r.status_code == 422 and "already exists" in r.text
    r = admin_console.post("/konsol/admin/pengguna", {"username": "x y", "role": "viewer"})
    assert r.status_code == 422 and "username" in r.text
    r = admin_console.post("/konsol/admin/pengguna", {"username": "ok", "role": "viewer",
                                                      "agency_code": "NOPE"})
    assert r.status_code == 422 and "unknown agency" in r.text
    assert counts(ctx) == before


def test_search_and_filters(admin_console):
    html = admin_console.get("/konsol/admin/pengguna", htmx=True, params={"q": "dam"},
                             headers={"HX-Target": "user-list"}).text
    assert "<b>damkar</b>" in html and "<b>dlh</b>" not in html
    assert 'id="editor"' not in html  # only the list is swapped while typing
    html = admin_console.get("/konsol/admin/pengguna?role=dispatcher&agency_code=DLH").text
    assert "<b>dlh</b>" in html and "<b>damkar</b>" not in html


def test_disabling_a_user_ends_their_session_at_once(admin_console, login, actors):
    damkar = login("damkar")
    assert damkar.get("/konsol/dinas").status_code == 200
    uid = user_id(admin_console, "damkar")

    r = admin_console.post(f"/konsol/admin/pengguna/{uid}/nonaktifkan")
    assert r.status_code == 200
    assert "1 sesi konsol diakhiri" in r.text

    r = damkar.get("/konsol/dinas")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert damkar.client.post("/login", data={"username": "damkar", "password": "rahasia-112"}
                              ).status_code == 401
    # The API token was revoked with the disable: enabling the account again does not revive it.
    assert actors["damkar"].get(f"{API}/units").status_code == 401
    assert admin_console.post(f"/konsol/admin/pengguna/{uid}/aktifkan").status_code == 200
    assert actors["damkar"].get(f"{API}/units").status_code == 401
    # The ended session stays ended: enabling does not bring an old cookie back.
    assert damkar.get("/konsol/dinas").status_code == 303

    audit = admin_console.get("/konsol/admin/audit?target=damkar").text
    assert "user.disabled" in audit and "user.enabled" in audit
    assert "1 open session(s) ended" in audit


def test_changing_role_and_agency_applies_on_the_next_request(admin_console, login):
    viewer = login("viewer_damkar")
    assert viewer.get("/konsol/dinas").status_code == 200
    uid = user_id(admin_console, "viewer_damkar")
    r = admin_console.post(f"/konsol/admin/pengguna/{uid}", {"full_name": "Budi", "role": "dispatcher",
                                                           "agency_code": "DLH"})
    assert r.status_code == 200
    html = viewer.get("/konsol/dinas").text
    assert "DLH" in html
    audit = admin_console.get("/konsol/admin/audit?target=viewer_damkar").text
    assert "viewer" in audit and "dispatcher" in audit and "DAMKAR" in audit and "DLH" in audit


def test_reset_password_shows_a_new_one_and_ends_sessions(admin_console, login):
    polres = login("polres")
    uid = user_id(admin_console, "polres")
    r = admin_console.post(f"/konsol/admin/pengguna/{uid}/sandi")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    password = re.search(r"data-password>([^<]+)<", r.text).group(1)
    assert polres.get("/konsol/dinas").status_code == 303
    assert polres.client.post("/login", data={"username": "polres", "password": "rahasia-112"}
                              ).status_code == 401
    login("polres", password)


def test_administrators_cannot_lock_themselves_out(admin_console, ctx):
    uid = user_id(admin_console, "admin")
    before = counts(ctx)
    r = admin_console.post(f"/konsol/admin/pengguna/{uid}/nonaktifkan")
    assert r.status_code == 409 and "your own account" in r.text
    r = admin_console.post(f"/konsol/admin/pengguna/{uid}", {"role": "viewer"})
    assert r.status_code == 409
    assert counts(ctx) == before
    assert admin_console.get("/konsol/admin").status_code == 200


# --- agencies -----------------------------------------------------------------------------------


def test_agency_list_counts_leads_and_supports(admin_console):
    html = admin_console.get("/konsol/admin/dinas").text
    row = re.search(r'id="agency-DAMKAR".*?</tr>', html, re.S).group(0)
    assert 'data-leads="2"' in row  # FIRE-BLDG, ANIMAL
    assert re.search(r'data-supports="\d+"', row)


def test_an_agency_that_leads_cannot_be_deactivated(admin_console, actors, ctx):
    before = counts(ctx)
    r = admin_console.post("/konsol/admin/dinas/DAMKAR", {"name": "Damkar"})
    assert r.status_code == 422
    assert "DAMKAR cannot be deactivated: it leads ANIMAL, FIRE-BLDG" in r.text
    assert counts(ctx) == before
    assert reference_type(actors["call_taker"], "FIRE-BLDG")["lead"] == "DAMKAR"
    names = [a["code"] for a in actors["call_taker"].get(f"{API}/reference/agencies").json()]
    assert "DAMKAR" in names


def test_a_deactivated_agency_leaves_the_sop_and_comes_back(admin_console, actors, incident_body):
    # KODIM leads nothing and supports forest fires.
    r = admin_console.post("/konsol/admin/dinas/KODIM", {"name": "Kodim 0913/PPU"})
    assert r.status_code == 200
    assert "KODIM" not in reference_type(actors["call_taker"], "FIRE-LAND")["support"]
    codes = [a["code"] for a in actors["call_taker"].get(f"{API}/reference/agencies").json()]
    assert "KODIM" not in codes
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        type_code="FIRE-LAND", description="lahan gambut terbakar")).json()
    assert {a["agency_code"] for a in incident["assignments"]} == {"BPBD", "DAMKAR", "DLH"}

    r = admin_console.post("/konsol/admin/dinas/KODIM", {"name": "Kodim 0913/PPU", "active": "on"})
    assert r.status_code == 200
    assert "KODIM" in reference_type(actors["call_taker"], "FIRE-LAND")["support"]
    audit = admin_console.get("/konsol/admin/audit?kind=agency").text
    assert "agency.deactivated" in audit and "agency.activated" in audit
    assert "Komando Distrik Militer 0913/PPU" in audit and "Kodim 0913/PPU" in audit


# --- the SOP matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("change, reason", [
    ({"lead": ""}, "incident type FIRE-BLDG has no lead agency"),
    ({"lead": "NOPE"}, "lead agency NOPE is not a defined agency"),
    ({"support": ["BPBD", "GHOST"]}, "support agency GHOST is not a defined agency"),
    ({"support": ["DAMKAR", "BPBD"]}, "DAMKAR is the lead and must not also be in support"),
    ({"priority": "9"}, "priority 9 is not a defined priority"),
])
def test_an_invalid_type_change_is_refused_with_the_reason(admin_console, actors, ctx, change, reason):
    before = counts(ctx)
    r = admin_console.post(FIRE, {**FIRE_AS_IS, **change})
    assert r.status_code == 422
    assert reason in r.text
    assert "Perubahan ditolak" in r.text
    assert counts(ctx) == before
    fire = reference_type(actors["call_taker"], "FIRE-BLDG")
    assert (fire["lead"], fire["support"], fire["priority"]) == ("DAMKAR", ["BPBD", "DINKES", "PLN"], 1)
    with ctx.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(sop_routes)
                            .where(sop_routes.c.type_code == "FIRE-BLDG")).scalar_one() == 4


def test_shrinking_deadlines_as_priority_drops_is_refused(admin_console, actors, ctx):
    before = counts(ctx)
    r = admin_console.post("/konsol/admin/sop/prioritas/2", {**P2_AS_IS, "ack_seconds": "30"})
    assert r.status_code == 422
    assert ("priority 2 ack_seconds (30) is shorter than priority 1 ack_seconds (60): deadlines "
            "must not shrink as priority drops") in r.text
    r = admin_console.post("/konsol/admin/sop/prioritas/2", {**P2_AS_IS, "dispatch_seconds": "170"})
    assert r.status_code == 422 and "dispatch_seconds (170) is smaller than ack_seconds (180)" in r.text
    r = admin_console.post("/konsol/admin/sop/prioritas/2", {**P2_AS_IS, "ack_seconds": "soon"})
    assert r.status_code == 422 and "ack_seconds" in r.text
    assert counts(ctx) == before
    assert reference_type(actors["call_taker"], "FLOOD")["ack_seconds"] == 180


def test_a_valid_change_routes_the_next_incident_to_the_new_lead(admin_console, actors, ctx,
                                                                 incident_body):
    first = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    lead = {a["agency_code"] for a in first["assignments"] if a["role"] == "lead"}
    assert lead == {"DAMKAR"}

    r = admin_console.post(FIRE, {**FIRE_AS_IS, "lead": "BPBD", "support": ["DAMKAR", "DINKES"]})
    assert r.status_code == 200
    assert 'data-cell="FIRE-BLDG:BPBD" title="BPBD memimpin">L<' in r.text  # matrix refreshed
    assert "SOP tersimpan" in r.headers["HX-Trigger"]

    second = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    roles = {a["agency_code"]: a["role"] for a in second["assignments"]}
    assert roles == {"BPBD": "lead", "DAMKAR": "support", "DINKES": "support"}
    # The first incident keeps the routing it was created with.
    again = actors["call_taker"].get(f"{API}/incidents/{first['id']}").json()
    assert {a["agency_code"] for a in again["assignments"] if a["role"] == "lead"} == {"DAMKAR"}

    audit = admin_console.get("/konsol/admin/audit?kind=incident_type").text
    assert "incident_type.updated" in audit and "FIRE-BLDG" in audit
    assert "<del>DAMKAR</del>" in audit and "<ins>BPBD</ins>" in audit
    assert "user.created" not in admin_console.get("/konsol/admin/audit?kind=priority").text


def test_a_deadline_change_applies_to_new_assignments(admin_console, actors, incident_body):
    r = admin_console.post("/konsol/admin/sop/prioritas/1", {
        "label_id": "Darurat - mengancam jiwa", "label_en": "Emergency - life threatening",
        "ack_seconds": "90", "dispatch_seconds": "180"})
    assert r.status_code == 200
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    created = datetime.fromisoformat(incident["created_at"])
    due = datetime.fromisoformat(incident["assignments"][0]["ack_due_at"])
    assert round((due - created).total_seconds()) == 90


def test_other_server_processes_pick_up_the_change(admin_console, settings):
    other = build_context(settings, prepare=False)  # another worker on the same database
    try:
        assert other.sop.incident_types["FIRE-BLDG"].lead == "DAMKAR"
        assert reload_if_changed(other) is False
        admin_console.post(FIRE, {**FIRE_AS_IS, "lead": "BPBD", "support": ["DAMKAR"]})
        assert reload_if_changed(other) is True
        assert other.sop.incident_types["FIRE-BLDG"].lead == "BPBD"
        assert other.classifier.classify("rumah terbakar").type_code == "FIRE-BLDG"
    finally:
        other.db.dispose()


def test_the_exported_sop_passes_the_sop_check(admin_console, tmp_path):
    admin_console.post(FIRE, {**FIRE_AS_IS, "name_en": "Building fire", "support": ["BPBD"]})
    r = admin_console.get("/konsol/admin/sop.yaml")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    sop = parse_sop(r.text)
    fire = sop.incident_types["FIRE-BLDG"]
    assert (fire.name_en, fire.lead, fire.support) == ("Building fire", "DAMKAR", ("BPBD",))
    assert len(sop.agencies) == 16 and "kebakaran" in fire.keywords


def test_pages_render_in_english(admin_console):
    admin_console.client.get("/bahasa/en")
    html = admin_console.get("/konsol/admin/sop").text
    assert "Incident types and the SOP matrix" in html
    assert "Users and roles" in html


def test_a_file_sent_as_the_agency_name_is_refused_not_a_crash(admin_console, ctx):
    before = counts(ctx)
    r = admin_console.post("/konsol/admin/dinas/DLH", {"active": "on"},
                           files={"name": ("name.txt", b"Dinas Palsu", "text/plain")})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "name"]
    assert counts(ctx) == before
    assert "Dinas Palsu" not in admin_console.get("/konsol/admin/dinas").text
