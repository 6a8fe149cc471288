"""Who leads an incident after the command centre asks a declined lead again, or re-routes one
whose lead has finished: the lead sees the caller, and the citizen's ticket page names it."""
from __future__ import annotations

API = "/api/v1"


def _fire(actors, incident_body) -> dict:
    r = actors["call_taker"].post(f"{API}/incidents", json=incident_body())
    assert r.status_code == 201, r.text
    return r.json()


def _roles(incident: dict) -> dict[str, tuple[str, str]]:
    return {a["agency_code"]: (a["role"], a["status"]) for a in incident["assignments"]}


def _agency_name(actors, code: str) -> str:
    agencies = actors["commander"].get(f"{API}/reference/agencies").json()
    return next(a["name"] for a in agencies if a["code"] == code)


def _public_agency(actors, ticket: str) -> str | None:
    r = actors["commander"].client.get(f"{API}/public/tickets/{ticket}")
    assert r.status_code == 200, r.text
    return r.json()["agency"]


def test_asking_a_declined_lead_again_keeps_it_the_lead(actors, incident_body):
    # DAMKAR leads a house fire, declines (no truck free), and the commander asks it again once a
    # truck is back: the support form is the only way to ask a declined agency again.
    fire = _fire(actors, incident_body)
    url = f"{API}/incidents/{fire['id']}"
    declined = actors["damkar"].post(f"{url}/assignments/DAMKAR/decline",
                                     json={"reason": "semua armada sedang keluar"})
    assert declined.status_code == 200, declined.text
    again = actors["commander"].post(f"{url}/assignments",
                                     json={"agency_code": "DAMKAR", "reason": "armada sudah kembali"})
    assert again.status_code < 300, again.text
    assert _roles(again.json())["DAMKAR"] == ("lead", "pending")
    assert [code for code, (role, _) in _roles(again.json()).items() if role == "lead"] == ["DAMKAR"]
    # The lead calls the caller back; the reporter's page says who handles it.
    assert actors["damkar"].get(url).json()["caller"] is not None
    assert _public_agency(actors, fire["ticket"]) == _agency_name(actors, "DAMKAR")


def test_rerouting_after_the_lead_finished_leaves_one_lead_the_new_types(actors, incident_body):
    # The fire turns out to be a land fire: BPBD leads FIRE-LAND, DAMKAR (done already) supports.
    fire = _fire(actors, incident_body)
    url = f"{API}/incidents/{fire['id']}"
    unit = actors["damkar"].get(f"{API}/units", params={"agency_code": "DAMKAR",
                                                          "status": "available"}).json()[0]
    for path, body in ((f"{url}/assignments/DAMKAR/dispatch", {"unit_id": unit["id"]}),
                       (f"{url}/assignments/DAMKAR/progress", {"status": "completed"})):
        r = actors["damkar"].post(path, json=body)
        assert r.status_code == 200, r.text
    rerouted = actors["commander"].post(f"{url}/reroute", json={"type_code": "FIRE-LAND"})
    assert rerouted.status_code == 200, rerouted.text
    roles = _roles(rerouted.json())
    assert roles["BPBD"] == ("lead", "pending")
    assert roles["DAMKAR"] == ("support", "completed")
    assert [code for code, (role, _) in roles.items() if role == "lead"] == ["BPBD"]
    assert _public_agency(actors, fire["ticket"]) == _agency_name(actors, "BPBD")
