"""Access follows the case and the person (issue 13): a re-routed agency loses the incident, a
stream never shows what its owner's API hides, and a change to a user closes their streams at once."""
from __future__ import annotations

import threading

import httpx
import pytest

from siaga112.config import Settings


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # A long heartbeat: what ends a stream here must be the change itself, not the next heartbeat.
    return Settings(database_url=database_url, var_dir=tmp_path / "var", sse_heartbeat_seconds=60,
                    tile_url="")


def _create(actors, incident_body, **overrides) -> dict:
    r = actors["call_taker"].post("/api/v1/incidents", json=incident_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def test_rerouted_agency_loses_the_incident(actors, incident_body, open_stream):
    incident = _create(actors, incident_body)  # a house fire: DAMKAR leads
    damkar = actors["damkar"]
    assert damkar.get(f"/api/v1/incidents/{incident['id']}").json()["caller"]["phone"]
    stream = open_stream("damkar")
    r = actors["commander"].post(f"/api/v1/incidents/{incident['id']}/reroute",
                                 json={"type_code": "POLLUTION", "note": "bukan kebakaran"})
    assert r.status_code == 200, r.text
    # DAMKAR's pending assignment was cancelled: the incident is no longer its business.
    assert damkar.get(f"/api/v1/incidents/{incident['id']}").status_code == 404
    listed = damkar.get("/api/v1/incidents").json()["items"]
    assert incident["id"] not in [i["id"] for i in listed]
    note = damkar.post(f"/api/v1/incidents/{incident['id']}/notes",
                       json={"text": "kami tetap datang", "public": True})
    assert note.status_code == 404
    # The agency that now leads sees it, and later events reach DLH's stream but not DAMKAR's.
    dlh_stream = open_stream("dlh")
    assert actors["dlh"].get(f"/api/v1/incidents/{incident['id']}").status_code == 200
    actors["commander"].post(f"/api/v1/incidents/{incident['id']}/notes",
                             json={"text": "DLH menuju lokasi", "public": False})
    dlh_stream.until(lambda e: e["event"] == "incident.updated"
                     and e["data"].get("change") == "note")
    marker = _create(actors, incident_body)  # a later DAMKAR event, to know the stream caught up
    seen = stream.until(lambda e: e["data"].get("id") == marker["id"]
                        or e["data"].get("incident_id") == marker["id"])
    rerouted = [e for e in seen if incident["id"] in (e["data"].get("id"), e["data"].get("incident_id"))]
    assert rerouted == [], [(e["event"], e["data"].get("change")) for e in rerouted]


def test_incident_cancelled_as_a_whole_stays_visible_to_its_agencies(actors, incident_body):
    incident = _create(actors, incident_body)
    r = actors["commander"].post(f"/api/v1/incidents/{incident['id']}/status",
                                 json={"status": "cancelled", "note": "laporan ganda"})
    assert r.status_code == 200, r.text
    seen = actors["damkar"].get(f"/api/v1/incidents/{incident['id']}")
    assert seen.status_code == 200 and seen.json()["status"] == "cancelled"


def test_command_agency_dispatcher_stream_shows_only_what_its_api_shows(actors, incident_body,
                                                                        open_stream):
    bpbd = open_stream("bpbd")
    hidden = _create(actors, incident_body, type_code="VIOLENCE-WC",
                     description="Istri dipukul suami di rumah")
    assert actors["bpbd"].get(f"/api/v1/incidents/{hidden['id']}").status_code == 404
    shown = _create(actors, incident_body, type_code="FLOOD", description="Banjir setinggi lutut")
    seen = bpbd.until(lambda e: e["data"].get("id") == shown["id"])
    leaked = [e for e in seen if hidden["id"] in (e["data"].get("id"), e["data"].get("incident_id"))]
    assert leaked == []
    # Units too: the stream carries BPBD's own fleet only, as GET /units answers.
    units = actors["bpbd"].get("/api/v1/units").json()
    assert {u["agency_code"] for u in units} == {"BPBD"}
    damkar_unit = actors["commander"].get("/api/v1/units", params={"agency_code": "DAMKAR"}).json()[0]
    actors["commander"].post(f"/api/v1/units/{damkar_unit['id']}/position",
                             json={"lat": -1.25, "lon": 116.77})
    bpbd_unit = units[0]
    actors["commander"].post(f"/api/v1/units/{bpbd_unit['id']}/position",
                             json={"lat": -1.25, "lon": 116.77})
    seen = bpbd.until(lambda e: e["event"] == "unit.updated" and e["data"]["id"] == bpbd_unit["id"])
    assert [e for e in seen if e["event"] == "unit.updated" and e["data"]["agency_code"] != "BPBD"] == []


def _console_stream(base: str, username: str) -> tuple[httpx.Client, str, threading.Event]:
    """Log in as `username`, open the console's event stream; returns (client, csrf, ended)."""
    c = httpx.Client(base_url=base, follow_redirects=False)
    assert c.post("/login", data={"username": username, "password": "rahasia-112"}).status_code == 303
    page = c.get("/konsol").headers["location"]
    csrf = c.get(page).text.split('data-csrf="', 1)[1].split('"', 1)[0]
    connected, ended = threading.Event(), threading.Event()

    def read():
        with httpx.Client(base_url=base, cookies=c.cookies, timeout=httpx.Timeout(10, read=None)) as s:
            with s.stream("GET", "/api/v1/events") as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        connected.set()
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert connected.wait(10)
    return c, csrf, ended


def test_logout_closes_the_stream_at_once(live_server):
    c, csrf, ended = _console_stream(live_server, "damkar")
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    # The heartbeat is a minute away: only the logout itself can end the stream this soon.
    assert ended.wait(5)
    c.close()


def test_moving_a_dispatcher_to_another_agency_closes_their_stream(open_stream, actors, ctx):
    from sqlalchemy import select

    from siaga112.admin import service as admin
    from siaga112.admin.schemas import UserChange
    from siaga112.auth.principal import Principal
    from siaga112.models import users

    stream = open_stream("damkar")
    with ctx.db.transaction() as conn:
        admin_id, damkar_id = (conn.execute(select(users.c.id).where(users.c.username == name))
                               .scalar_one() for name in ("admin", "damkar"))
        admin.change_user(ctx, Principal(admin_id, "admin", "admin", None), damkar_id,
                          UserChange(role="dispatcher", agency_code="DLH"), conn=conn)
    stream._thread.join(timeout=5)
    assert not stream._thread.is_alive()
    # Reconnecting, the same token now carries DLH's scope.
    assert {u["agency_code"] for u in actors["damkar"].get("/api/v1/units").json()} == {"DLH"}


def test_password_change_closes_the_stream_at_once(open_stream, actors):
    stream = open_stream("dlh")
    r = actors["dlh"].post("/api/v1/auth/password",
                           json={"current_password": "rahasia-112", "new_password": "baru-sekali-112"})
    assert r.status_code in (200, 204), r.text
    stream._thread.join(timeout=5)
    assert not stream._thread.is_alive()


def test_enabling_again_revives_no_session_and_no_token(live_server, actors):
    c, _, _ = _console_stream(live_server, "dinkes")
    assert actors["admin"].post("/api/v1/auth/users/dinkes/disable").status_code == 200
    assert actors["admin"].post("/api/v1/auth/users/dinkes/enable").status_code == 200
    # The session and the token from before the disable stay dead: a login and a new token it is.
    assert c.get("/konsol/dinas").status_code in (303, 307)
    assert actors["dinkes"].get("/api/v1/incidents").status_code == 401
    c.close()


def test_password_reset_revokes_the_users_tokens(actors):
    assert actors["pln"].get("/api/v1/incidents").status_code == 200
    r = actors["admin"].post("/api/v1/auth/users/pln/password", json={"new_password": "lupa-sandi-112"})
    assert r.status_code == 204, r.text
    assert actors["pln"].get("/api/v1/incidents").status_code == 401


def test_declined_agency_that_a_reroute_leaves_out_loses_the_incident(actors, incident_body,
                                                                       open_stream):
    # The usual way a case is re-routed: the lead declines ("not ours"), the command centre
    # re-classifies. A house fire turns out to be a husband beating his wife: DAMKAR declined,
    # the new route (DP3AP2KB, POLRES, DINSOS, DINKES) does not name it.
    incident = _create(actors, incident_body)
    url = f"/api/v1/incidents/{incident['id']}"
    damkar = actors["damkar"]
    r = damkar.post(f"{url}/assignments/DAMKAR/decline", json={"reason": "bukan kebakaran"})
    assert r.status_code == 200, r.text
    stream = open_stream("damkar")
    r = actors["commander"].post(f"{url}/reroute",
                                 json={"type_code": "VIOLENCE-WC", "note": "KDRT, bukan kebakaran"})
    assert r.status_code == 200, r.text
    assert damkar.get(url).status_code == 404
    assert incident["id"] not in [i["id"] for i in damkar.get("/api/v1/incidents").json()["items"]]
    note = damkar.post(f"{url}/notes", json={"text": "kami tetap datang", "public": True})
    assert note.status_code == 404
    actors["commander"].post(f"{url}/notes", json={"text": "DP3A menghubungi korban", "public": False})
    marker = _create(actors, incident_body)  # a later DAMKAR event, to know the stream caught up
    seen = stream.until(lambda e: e["data"].get("id") == marker["id"]
                        or e["data"].get("incident_id") == marker["id"])
    leaked = [e for e in seen if incident["id"] in (e["data"].get("id"), e["data"].get("incident_id"))
              and e["data"].get("change") == "note"]
    assert leaked == [], [(e["event"], e["data"].get("change")) for e in leaked]


def test_a_rerouted_agency_reconnecting_from_the_start_gets_none_of_the_incident(
        actors, incident_body, open_stream):
    """Events name the agencies that took part when they were written: replayed after a re-route
    (a reconnect from an old Last-Event-ID) they must follow the incident as it is now."""
    incident = _create(actors, incident_body)  # a house fire: DAMKAR leads
    r = actors["commander"].post(f"/api/v1/incidents/{incident['id']}/reroute",
                                 json={"type_code": "POLLUTION", "note": "bukan kebakaran"})
    assert r.status_code == 200, r.text
    marker = _create(actors, incident_body)  # DAMKAR's own, to know the replay reached the end
    history = open_stream("damkar", last_event_id=0)
    seen = history.until(lambda e: e["event"] == "assignment.created"
                         and e["data"].get("incident_id") == marker["id"])
    replayed = [e["event"] for e in seen if incident["id"] in (e["data"].get("id"), e["data"].get("incident_id"))]
    assert replayed == []
