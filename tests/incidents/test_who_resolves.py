"""Who may resolve an incident (issue 12: a pending DINKES dispatcher resolved a house fire and
freed DAMKAR's truck): the lead agency or the command centre, never a support agency."""
from __future__ import annotations

API = "/api/v1"


def test_a_support_agency_cannot_resolve_the_incident(actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    url = f"{API}/incidents/{fire['id']}"
    truck = next(u for u in actors["damkar"].get(f"{API}/units").json() if u["status"] == "available")
    assert actors["damkar"].post(f"{url}/assignments/DAMKAR/dispatch",
                                 json={"unit_id": truck["id"]}).status_code == 200
    refused = actors["dinkes"].post(f"{url}/status", json={"status": "resolved"})
    assert refused.status_code == 403, refused.text
    # DAMKAR's truck is still out on the fire.
    assert actors["damkar"].get(f"{API}/units/{truck['id']}").json()["status"] == "dispatched"
    assert actors["commander"].get(url).json()["status"] == "dispatched"
    # A support agency still reports being on scene.
    assert actors["dinkes"].post(f"{url}/assignments/DINKES/acknowledge").status_code == 200
    assert actors["dinkes"].post(f"{url}/status", json={"status": "on_scene"}).status_code == 200
    # The lead resolves it.
    assert actors["damkar"].post(f"{url}/status", json={"status": "resolved"}).status_code == 200


def test_the_command_centre_resolves_any_incident(actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    r = actors["commander"].post(f"{API}/incidents/{fire['id']}/status", json={"status": "resolved"})
    assert r.status_code == 200, r.text
