"""The commander routes to agencies directly, the type untouched (issue 12: the only way was to
misclassify, and the citizen's page then showed the wrong type)."""
from __future__ import annotations

API = "/api/v1"


def _roles(incident: dict) -> dict[str, tuple[str, str]]:
    return {a["agency_code"]: (a["role"], a["status"]) for a in incident["assignments"]}


def test_the_commander_changes_the_lead_adds_and_removes_agencies(actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    url = f"{API}/incidents/{fire['id']}/route"
    commander = actors["commander"]

    r = commander.post(url, json={"agency_code": "BPBD", "action": "lead", "note": "kebakaran meluas"})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["type_code"] == "FIRE-BLDG"  # unchanged
    assert _roles(after)["BPBD"][0] == "lead" and _roles(after)["DAMKAR"][0] == "support"
    assert [a for a in after["assignments"] if a["role"] == "lead"] == \
        [a for a in after["assignments"] if a["agency_code"] == "BPBD"]
    public = commander.client.get(f"{API}/public/tickets/{fire['ticket']}").json()
    assert public["agency"] == next(a["name"] for a in commander.get(f"{API}/reference/agencies").json()
                                    if a["code"] == "BPBD")

    added = commander.post(url, json={"agency_code": "POLRES", "action": "add"})
    assert _roles(added.json())["POLRES"] == ("support", "pending")
    assert commander.post(url, json={"agency_code": "POLRES", "action": "add"}).status_code == 409

    removed = commander.post(url, json={"agency_code": "PLN", "action": "remove"})
    assert _roles(removed.json())["PLN"][1] == "cancelled"
    # The lead cannot just be taken off: another must lead first.
    assert commander.post(url, json={"agency_code": "BPBD", "action": "remove"}).status_code == 409
    # Back to DAMKAR, which is still working on it as support.
    back = commander.post(url, json={"agency_code": "DAMKAR", "action": "lead"}).json()
    assert (_roles(back)["DAMKAR"][0], _roles(back)["BPBD"][0]) == ("lead", "support")


def test_removing_an_agency_frees_its_unit_and_only_the_command_centre_routes(actors, incident_body):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    url = f"{API}/incidents/{fire['id']}"
    truck = next(u for u in actors["dinkes"].get(f"{API}/units").json() if u["status"] == "available")
    assert actors["dinkes"].post(f"{url}/assignments/DINKES/dispatch",
                                 json={"unit_id": truck["id"]}).status_code == 200
    assert actors["damkar"].post(f"{url}/route", json={"agency_code": "DINKES", "action": "remove"}).status_code == 403
    bad = actors["commander"].post(f"{url}/route", json={"agency_code": "DISKOMINFO", "action": "add"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "agency_code"
    r = actors["commander"].post(f"{url}/route", json={"agency_code": "DINKES", "action": "remove"})
    assert r.status_code == 200, r.text
    assert actors["dinkes"].get(f"{API}/units/{truck['id']}").json()["status"] == "available"
