"""Units through the API: the registry, the status machine, AVL positions and their trail."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from siaga112.models import event_log, unit_positions

API = "/api/v1"


def create(actor, body):
    r = actor.post(f"{API}/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def unit_named(actor, call_sign):
    return next(u for u in actor.get(f"{API}/units").json() if u["call_sign"] == call_sign)


def iso(dt: datetime) -> str:
    return dt.isoformat()


def count(ctx, table) -> int:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ------------------------------------------------------------------ registry

def test_admin_registers_a_unit_with_capabilities_and_a_home_station(actors):
    admin = actors["admin"]
    body = {"call_sign": "DAMKAR-09", "agency_code": "DAMKAR", "kind": "fire_truck",
            "capabilities": ["fire_suppression", "ladder"], "home_station": "Pos Damkar Sepaku",
            "home_lat": -0.85, "home_lon": 116.72}
    r = admin.post(f"{API}/units", json=body)
    assert r.status_code == 201, r.text
    unit = r.json()
    assert unit["status"] == "available" and unit["capabilities"] == ["fire_suppression", "ladder"]
    assert unit["home_station"] == "Pos Damkar Sepaku" and unit["position"] is None
    assert unit_named(actors["damkar"], "DAMKAR-09")["id"] == unit["id"]
    # Same call sign twice, an unknown agency, a half home position: 422 naming the field.
    assert admin.post(f"{API}/units", json=body).json()["detail"][0]["loc"] == ["body", "call_sign"]
    bad = admin.post(f"{API}/units", json={**body, "call_sign": "X-1", "agency_code": "NOPE"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "agency_code"]
    assert admin.post(f"{API}/units", json={**body, "call_sign": "X-2", "home_lon": None}).status_code == 422
    # Only administrators keep the registry.
    assert actors["damkar"].post(f"{API}/units", json={**body, "call_sign": "X-3"}).status_code == 403
    edited = admin.client.patch(f"{API}/units/{unit['id']}", headers=admin.headers,
                                json={"capabilities": ["fire_suppression"], "home_station": "Pos baru"})
    assert edited.status_code == 200 and edited.json()["capabilities"] == ["fire_suppression"]
    assert edited.json()["home_lat"] == -0.85


def test_units_without_listed_capabilities_have_those_of_their_kind(actors):
    ambulance = actors["dinkes"].get(f"{API}/units").json()[0]
    assert ambulance["kind"] == "ambulance" and "medical" in ambulance["capabilities"]
    assert ambulance["home_station"].startswith("Demo:")


def test_units_of_other_agencies_are_not_found(actors):
    ambulance = actors["dinkes"].get(f"{API}/units").json()[0]
    assert actors["damkar"].get(f"{API}/units/{ambulance['id']}").status_code == 404
    assert actors["damkar"].post(f"{API}/units/{ambulance['id']}/status",
                                 json={"status": "out_of_service"}).status_code == 404
    assert actors["commander"].get(f"{API}/units/{ambulance['id']}").status_code == 200


# ------------------------------------------------------------------ status machine

def test_a_unit_goes_through_its_states_and_illegal_moves_answer_409(actors, incident_body, ctx):
    damkar = actors["damkar"]
    fire = create(actors["call_taker"], incident_body())
    unit = unit_named(damkar, "DAMKAR-01")
    url = f"{API}/units/{unit['id']}/status"
    # Dispatch goes through the assignment, never the status endpoint.
    r = damkar.post(url, json={"status": "dispatched"})
    assert r.status_code == 409 and "assignment" in r.json()["detail"]
    assert damkar.post(url, json={"status": "on_scene"}).status_code == 409
    assert damkar.post(url, json={"status": "flying"}).status_code == 422
    assert damkar.post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
                       json={"unit_id": unit["id"]}).status_code == 200

    # en_route and on_scene from the unit move the agency's assignment and the incident too.
    assert damkar.post(url, json={"status": "en_route"}).json()["status"] == "en_route"
    on_scene = damkar.post(url, json={"status": "on_scene", "note": "api di lantai dua"})
    assert on_scene.status_code == 200 and on_scene.json()["incident_id"] == fire["id"]
    incident = damkar.get(f"{API}/incidents/{fire['id']}").json()
    lead = next(a for a in incident["assignments"] if a["agency_code"] == "DAMKAR")
    assert lead["status"] == "on_scene" and incident["status"] == "on_scene"

    before = count(ctx, event_log)
    assert damkar.post(url, json={"status": "out_of_service"}).status_code == 409
    assert damkar.post(url, json={"status": "on_scene"}).status_code == 409
    assert count(ctx, event_log) == before  # refused moves announce nothing
    # Returning releases the unit from the incident; only then may it go out of service.
    returning = damkar.post(url, json={"status": "returning"}).json()
    assert returning["status"] == "returning" and returning["incident_id"] is None
    assert damkar.post(url, json={"status": "out_of_service", "note": "pompa rusak"}).status_code == 200
    assert damkar.post(url, json={"status": "available"}).json()["status"] == "available"
    # Viewers and other agencies do not drive units.
    assert actors["viewer"].post(url, json={"status": "out_of_service"}).status_code == 403
    assert actors["dlh"].post(url, json={"status": "out_of_service"}).status_code == 404
    kinds = [t["kind"] for t in actors["commander"].get(f"{API}/incidents/{fire['id']}").json()["timeline"]]
    assert "unit_returning" in kinds


def test_an_out_of_service_unit_cannot_be_dispatched(actors, incident_body):
    damkar = actors["damkar"]
    fire = create(actors["call_taker"], incident_body())
    unit = unit_named(damkar, "DAMKAR-02")
    assert damkar.post(f"{API}/units/{unit['id']}/status", json={"status": "out_of_service"}).status_code == 200
    r = damkar.post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch", json={"unit_id": unit["id"]})
    assert r.status_code == 409


def test_an_ambulance_transports_then_returns_and_is_free_again(actors, incident_body):
    dinkes = actors["dinkes"]
    crash = create(actors["call_taker"], incident_body(type_code="MED-EMERG", description="pingsan"))
    amb = unit_named(dinkes, "PSC119-01")
    url = f"{API}/units/{amb['id']}/status"
    assert dinkes.post(f"{API}/incidents/{crash['id']}/assignments/DINKES/dispatch",
                       json={"unit_id": amb["id"]}).status_code == 200
    for status in ("on_scene", "transporting"):
        r = dinkes.post(url, json={"status": status})
        assert r.status_code == 200 and r.json()["incident_id"] == crash["id"], r.text
    assert dinkes.post(url, json={"status": "available"}).json()["incident_id"] is None


def test_two_dispatchers_clicking_together_never_put_a_unit_on_two_incidents(live_server, tokens,
                                                                              incident_body):
    """Each round: two incidents, the same unit sent to both at the same instant; one wins."""
    headers = {name: {"Authorization": f"Bearer {tokens[name]}"} for name in ("damkar", "commander",
                                                                             "call_taker")}
    with httpx.Client(base_url=live_server, timeout=20) as http:
        unit = next(u for u in http.get(f"{API}/units", headers=headers["damkar"]).json()
                    if u["call_sign"] == "DAMKAR-R1")
        for _round in range(6):
            ids = [http.post(f"{API}/incidents", headers=headers["call_taker"],
                             json=incident_body(location={"lat": -1.25 - 0.01 * i, "lon": 116.76})).json()["id"]
                   for i in range(2)]
            barrier = threading.Barrier(2)

            def send(job):
                who, incident_id = job
                with httpx.Client(base_url=live_server, timeout=20) as own:
                    barrier.wait()  # noqa: B023 — runs within this round
                    return own.post(f"{API}/incidents/{incident_id}/assignments/DAMKAR/dispatch",
                                    headers=headers[who], json={"unit_id": unit["id"]})

            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(send, [("damkar", ids[0]), ("commander", ids[1])]))
            codes = sorted(r.status_code for r in results)
            assert codes == [200, 409], [r.text for r in results]
            winner = ids[[r.status_code for r in results].index(200)]
            loser = ids[1 - ids.index(winner)]
            now = http.get(f"{API}/units/{unit['id']}", headers=headers["damkar"]).json()
            assert now["status"] == "dispatched" and now["incident_id"] == winner
            lost = http.get(f"{API}/incidents/{loser}", headers=headers["commander"]).json()
            assert next(a for a in lost["assignments"] if a["agency_code"] == "DAMKAR")["unit_id"] is None
            # Free it for the next round.
            assert http.post(f"{API}/units/{unit['id']}/status", headers=headers["damkar"],
                             json={"status": "available"}).status_code == 200


def test_unit_changes_are_announced_on_the_live_stream(live_server, tokens, open_stream):
    damkar = open_stream("damkar")
    commander = open_stream("commander")
    dinkes = open_stream("dinkes")
    auth = {"Authorization": f"Bearer {tokens['damkar']}"}
    unit = next(u for u in httpx.get(f"{live_server}{API}/units", headers=auth).json()
                if u["call_sign"] == "DAMKAR-02")
    r = httpx.post(f"{live_server}{API}/units/{unit['id']}/status", headers=auth,
                   json={"status": "out_of_service"})
    assert r.status_code == 200
    for stream in (damkar, commander):
        seen = stream.until(lambda e: e["event"] == "unit.updated" and e["data"]["id"] == unit["id"])
        assert seen[-1]["data"]["status"] == "out_of_service"
    # Another agency's screen does not hear of it: its next event is its own.
    r = httpx.post(f"{live_server}{API}/units/{unit['id']}/status", headers=auth, json={"status": "available"})
    own = next(u for u in httpx.get(f"{live_server}{API}/units",
                                    headers={"Authorization": f"Bearer {tokens['dinkes']}"}).json())
    httpx.post(f"{live_server}{API}/units/{own['id']}/position", json={"lat": -1.26, "lon": 116.77},
               headers={"Authorization": f"Bearer {tokens['dinkes']}"}).raise_for_status()
    seen = dinkes.until(lambda e: e["event"] == "unit.updated")
    assert [e["data"]["id"] for e in seen] == [own["id"]]


# ------------------------------------------------------------------ positions

def test_positions_keep_the_newest_and_a_trail_and_old_ones_are_stale(actors, ctx):
    avl = actors["avl_damkar"]  # the integration role: DAMKAR's AVL gateway
    unit = unit_named(actors["damkar"], "DAMKAR-01")
    url = f"{API}/units/{unit['id']}/position"
    now = datetime.now(UTC)
    r = avl.post(url, json={"lat": -1.25, "lon": 116.77, "at": iso(now - timedelta(seconds=20))})
    assert r.status_code == 200 and r.json()["position"]["stale"] is False
    # An older fix arriving late goes to the trail but does not move the unit back.
    late = avl.post(url, json={"lat": -1.20, "lon": 116.70, "at": iso(now - timedelta(seconds=60))})
    assert late.json()["position"]["lat"] == -1.25
    # A resent fix is not stored twice.
    avl.post(url, json={"lat": -1.25, "lon": 116.77, "at": iso(now - timedelta(seconds=20))})
    trail = actors["damkar"].get(f"{API}/units/{unit['id']}/trail").json()
    assert [p["lat"] for p in trail] == [-1.20, -1.25]
    # Ten minutes without a fix: shown as stale.
    other = unit_named(actors["damkar"], "DAMKAR-02")
    old = avl.post(f"{API}/units/{other['id']}/position",
                   json={"lat": -1.3, "lon": 116.7, "at": iso(now - timedelta(minutes=10))})
    assert old.json()["position"]["stale"] is True
    assert unit_named(actors["damkar"], "DAMKAR-02")["position"]["stale"] is True
    # Bad input: 422 naming the field; the future is refused.
    assert avl.post(url, json={"lat": 95, "lon": 116.7}).status_code == 422
    future = avl.post(url, json={"lat": -1.2, "lon": 116.7, "at": iso(now + timedelta(hours=1))})
    assert future.status_code == 422 and future.json()["detail"][0]["loc"] == ["body", "at"]


def test_who_may_report_a_position(actors):
    unit = unit_named(actors["damkar"], "DAMKAR-01")
    url = f"{API}/units/{unit['id']}/position"
    body = {"lat": -1.25, "lon": 116.77}
    assert actors["damkar"].post(url, json=body).status_code == 200  # its own agency
    assert actors["dlh"].post(url, json=body).status_code == 404
    assert actors["call_taker"].post(url, json=body).status_code == 403
    assert actors["viewer"].post(url, json=body).status_code == 403


def test_a_gateway_batch_is_stored_whole_or_not_at_all(actors, ctx):
    avl = actors["avl_damkar"]
    damkar = unit_named(actors["damkar"], "DAMKAR-01")
    now = datetime.now(UTC)
    fixes = [{"call_sign": "DAMKAR-01", "lat": -1.25 + i * 0.001, "lon": 116.77,
              "at": iso(now - timedelta(seconds=30 - i))} for i in range(5)]
    fixes.append({"unit_id": damkar["id"], "lat": -1.30, "lon": 116.70, "at": iso(now - timedelta(seconds=60))})
    fixes.append({"call_sign": "DAMKAR-02", "lat": -1.26, "lon": 116.76, "at": iso(now)})
    before = count(ctx, unit_positions)
    bad = avl.post(f"{API}/units/positions", json={"positions": fixes + [
        {"call_sign": "NO-SUCH-UNIT", "lat": -1.2, "lon": 116.7}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "positions", "7", "call_sign"]
    assert count(ctx, unit_positions) == before
    r = avl.post(f"{API}/units/positions", json={"positions": fixes})
    assert r.status_code == 200 and r.json() == {"received": 7, "stored": 7, "updated": 2}
    assert unit_named(actors["damkar"], "DAMKAR-01")["position"]["lat"] == -1.246
    assert avl.post(f"{API}/units/positions", json={"positions": fixes}).json()["stored"] == 0
    # A dispatcher's or a gateway's batch may only name its own agency's units.
    other = {"call_sign": "PSC119-01", "lat": -1.26, "lon": 116.76, "at": iso(now)}
    for sender in ("damkar", "avl_damkar"):
        mixed = actors[sender].post(f"{API}/units/positions", json={"positions": [*fixes, other]})
        assert mixed.status_code == 422
    assert avl.post(f"{API}/units/positions", json={"positions": []}).status_code == 422
    both = {"unit_id": damkar["id"], "call_sign": "DAMKAR-01", "lat": -1.2, "lon": 116.7}
    assert avl.post(f"{API}/units/positions", json={"positions": [both]}).status_code == 422
