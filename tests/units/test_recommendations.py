"""Which unit to send: the agency's available units ranked by capability, then arrival time,
with road times from an OSRM server on loopback, and the estimate when it fails or is slow."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from siaga112.config import Settings

API = "/api/v1"
FIRE = {"lat": -1.2563, "lon": 116.7684}  # Kelurahan Penajam


@dataclass
class FakeOsrm:
    """A tiny OSRM `table` service: durations per origin, looked up by rounded coordinate."""

    url: str = ""
    mode: str = "ok"  # ok | error | hang
    durations: dict[tuple[float, float], float | None] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def osrm():
    fake = FakeOsrm()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's naming
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            coords = [tuple(float(x) for x in c.split(",")) for c in
                      parts.path.removeprefix("/table/v1/driving/").split(";")]
            fake.requests.append({"path": parts.path, "coords": coords, **query})
            if fake.mode == "hang":
                fake.release.wait(10)
            if fake.mode == "error":
                self.send_response(500)
                self.end_headers()
                return
            sources = [int(i) for i in query["sources"].split(";")]
            rows = [fake.durations.get((round(coords[i][1], 4), round(coords[i][0], 4))) for i in sources]
            body = {"code": "Ok", "durations": [[d] for d in rows],
                    "distances": [[None if d is None else d * 10] for d in rows],
                    "sources": [{"location": list(coords[i])} for i in sources],
                    "destinations": [{"location": list(coords[0])}]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # shutdown() waits for the serving loop to look up, every poll_interval (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(database_url, tmp_path, osrm, request):
    """Settings with the routing server; tests marked `no_osrm` run without one."""
    url = None if request.node.get_closest_marker("no_osrm") else osrm.url
    return Settings(database_url=database_url, var_dir=tmp_path / "var", osrm_url=url,
                    osrm_timeout_seconds=0.5, osrm_retry_seconds=0)


def fire_incident(actors, incident_body, **location):
    r = actors["call_taker"].post(f"{API}/incidents", json=incident_body(location=location or dict(FIRE)))
    assert r.status_code == 201, r.text
    return r.json()


def place(actors, call_sign, lat, lon):
    unit = next(u for u in actors["commander"].get(f"{API}/units").json() if u["call_sign"] == call_sign)
    r = actors["commander"].post(f"{API}/units/{unit['id']}/position", json={
        "lat": lat, "lon": lon, "at": datetime.now(UTC).isoformat()})
    assert r.status_code == 200, r.text
    return unit


def recommend(actor, incident, agency="DAMKAR", **params):
    return actor.get(f"{API}/incidents/{incident['id']}/assignments/{agency}/recommendations", params=params)


@pytest.mark.no_osrm
def test_nearest_capable_available_units_first_by_estimate(actors, incident_body):
    fire = fire_incident(actors, incident_body)
    place(actors, "DAMKAR-01", -1.30, 116.77)   # ~4.8 km south
    place(actors, "DAMKAR-02", -1.26, 116.77)   # ~0.5 km
    place(actors, "DAMKAR-R1", -1.2565, 116.7686)  # next door, but a rescue team: no pump
    r = recommend(actors["damkar"], fire)
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert [u["call_sign"] for u in ranked] == ["DAMKAR-02", "DAMKAR-01", "DAMKAR-R1"]
    best = ranked[0]
    assert best["eta_source"] == "estimate" and best["position_source"] == "avl"
    assert 400 < best["distance_m"] < 600
    # Distance x 1.4 road factor at 40 km/h.
    assert abs(best["eta_seconds"] - best["distance_m"] * 1.4 / (40 / 3.6)) <= 1
    assert ranked[2]["capability_match"] == 0 and ranked[2]["missing_capabilities"] == ["fire_suppression"]
    # A busy unit is not offered.
    actors["damkar"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
                          json={"unit_id": ranked[0]["unit_id"]})
    assert [u["call_sign"] for u in recommend(actors["damkar"], fire).json()] == ["DAMKAR-01", "DAMKAR-R1"]


@pytest.mark.no_osrm
def test_without_a_fresh_position_the_home_station_counts(actors, incident_body):
    fire = fire_incident(actors, incident_body)
    ranked = recommend(actors["commander"], fire).json()
    assert {u["position_source"] for u in ranked} == {"home_station"}
    assert all(u["eta_seconds"] is not None for u in ranked)


@pytest.mark.no_osrm
def test_recommendations_are_scoped_like_the_incident(actors, incident_body):
    fire = fire_incident(actors, incident_body)
    assert recommend(actors["dlh"], fire).status_code == 404            # cannot see the incident
    assert recommend(actors["damkar"], fire, agency="DLH").status_code == 404  # no such assignment
    assert recommend(actors["dinkes"], fire, agency="DAMKAR").status_code == 403  # not its agency
    assert recommend(actors["dinkes"], fire, agency="DINKES").status_code == 200


@pytest.mark.no_osrm
def test_an_agency_viewer_sees_no_other_agencys_fleet(actors, incident_body):
    # DAMKAR's read-only viewer may not list DINKES's ambulances (GET /units 404), and DAMKAR's
    # own dispatcher may not read their recommendations (403): neither may the viewer.
    fire = fire_incident(actors, incident_body)
    viewer = actors["viewer_damkar"]
    assert viewer.get(f"{API}/units", params={"agency_code": "DINKES"}).status_code == 404
    assert recommend(actors["damkar"], fire, agency="DINKES").status_code == 403
    assert recommend(viewer, fire, agency="DAMKAR").status_code == 200
    assert recommend(viewer, fire, agency="DINKES").status_code == 403
    assert recommend(actors["viewer"], fire, agency="DINKES").status_code == 200


def test_road_times_from_osrm_reorder_the_units(actors, incident_body, osrm):
    fire = fire_incident(actors, incident_body)
    place(actors, "DAMKAR-01", -1.30, 116.77)
    place(actors, "DAMKAR-02", -1.26, 116.77)
    # Across the water the near one is a long drive round; the far one has a straight road.
    osrm.durations = {(-1.30, 116.77): 300.0, (-1.26, 116.77): 1500.0}
    ranked = recommend(actors["damkar"], fire).json()
    assert [u["call_sign"] for u in ranked[:2]] == ["DAMKAR-01", "DAMKAR-02"]
    assert [u["eta_seconds"] for u in ranked[:2]] == [300, 1500]
    assert ranked[0]["eta_source"] == "osrm" and ranked[0]["road_distance_m"] == 3000
    request = osrm.requests[-1]
    # The incident is the one destination, the units the sources, in OSRM's lon,lat order.
    assert request["destinations"] == "0" and request["coords"][0] == (116.7684, -1.2563)
    # A unit OSRM cannot route (null) keeps its estimate.
    assert ranked[2]["eta_source"] == "estimate"


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_when_osrm_fails_or_is_slow_the_estimate_answers(actors, incident_body, osrm, mode):
    fire = fire_incident(actors, incident_body)
    place(actors, "DAMKAR-01", -1.30, 116.77)
    place(actors, "DAMKAR-02", -1.26, 116.77)
    osrm.mode = mode
    r = recommend(actors["damkar"], fire)
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert osrm.requests, "OSRM was not asked"
    assert [u["call_sign"] for u in ranked[:2]] == ["DAMKAR-02", "DAMKAR-01"]
    assert {u["eta_source"] for u in ranked} == {"estimate"}


@pytest.mark.no_osrm
def test_for_a_life_threatening_case_help_at_hand_beats_full_kit_far_away(actors, incident_body):
    # Issue 12: a fully equipped unit 40 km away ranked above an able unit next door.
    crash = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        type_code="TRAFFIC-ACC", priority=1, description="tabrakan motor, korban terjepit")).json()
    far = place(actors, "PSC119-01", -0.95, 116.80)       # ~34 km north, in Sepaku
    place(actors, "PSC119-02", -1.2565, 116.7686)  # next door
    # The far ambulance carries extrication gear too: everything a crash needs.
    admin = actors["admin"]
    assert admin.client.patch(f"{API}/units/{far['id']}", headers=admin.headers, json={
        "capabilities": ["medical", "patient_transport", "extrication"]}).status_code == 200
    ranked = recommend(actors["dinkes"], crash, agency="DINKES").json()
    assert [u["call_sign"] for u in ranked[:2]] == ["PSC119-02", "PSC119-01"]
    assert ranked[0]["capability_match"] == 0.5 and ranked[1]["capability_match"] == 1
    assert ranked[0]["eta_seconds"] < 60 < 1800 < ranked[1]["eta_seconds"]

    # Not urgent: the unit that can do everything still comes first.
    minor = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        type_code="TRAFFIC-ACC", priority=3, description="motor senggolan, luka ringan")).json()
    ranked = recommend(actors["dinkes"], minor, agency="DINKES").json()
    assert ranked[0]["call_sign"] == "PSC119-01"
