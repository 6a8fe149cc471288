"""Completing the lead of an urgent incident that never had a unit: a reason, and the command
centre is told (issue 12: a double click completed DAMKAR's lead on a P1 fire, unnoticed)."""
from __future__ import annotations

import httpx

API = "/api/v1"


def _fire(actors, incident_body, **overrides) -> dict:
    r = actors["call_taker"].post(f"{API}/incidents", json=incident_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def _damkar(incident: dict) -> dict:
    return next(a for a in incident["assignments"] if a["agency_code"] == "DAMKAR")


def test_completing_a_p1_lead_with_no_unit_needs_a_reason(actors, incident_body):
    fire = _fire(actors, incident_body, priority=1)
    url = f"{API}/incidents/{fire['id']}/assignments/DAMKAR"
    assert actors["damkar"].post(f"{url}/acknowledge").status_code == 200
    refused = actors["damkar"].post(f"{url}/progress", json={"status": "completed"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "note"
    blank = actors["damkar"].post(f"{url}/progress", json={"status": "completed", "note": "   "})
    assert blank.status_code == 422
    # Nothing was half-written: the assignment still waits for a unit, the incident is unflagged.
    still = actors["commander"].get(f"{API}/incidents/{fire['id']}").json()
    assert _damkar(still)["status"] == "acknowledged"
    assert still["attention"] is None

    done = actors["damkar"].post(f"{url}/progress",
                                 json={"status": "completed", "note": "api sudah padam oleh warga"})
    assert done.status_code == 200, done.text
    assert _damkar(done.json())["status"] == "completed"
    # The command centre sees it among what needs its attention.
    flagged = actors["commander"].get(f"{API}/incidents", params={"attention": "true"}).json()
    assert fire["id"] in [i["id"] for i in flagged["items"]]


def test_the_command_centre_hears_of_it_on_its_stream(live_server, tokens, open_stream, incident_body):
    commander = open_stream("commander")
    auth = {name: {"Authorization": f"Bearer {tokens[name]}"} for name in ("call_taker", "damkar")}
    with httpx.Client(base_url=live_server) as http:
        fire = http.post(f"{API}/incidents", json=incident_body(priority=2), headers=auth["call_taker"]).json()
        url = f"{API}/incidents/{fire['id']}/assignments/DAMKAR"
        assert http.post(f"{url}/acknowledge", headers=auth["damkar"]).status_code == 200
        r = http.post(f"{url}/progress", json={"status": "completed", "note": "laporan palsu, sudah dicek"},
                      headers=auth["damkar"])
        assert r.status_code == 200, r.text
    seen = commander.until(lambda e: e["event"] == "assignment.updated"
                           and e["data"]["incident_id"] == fire["id"])
    assert seen[-1]["data"]["completed_without_unit"] == "laporan palsu, sudah dicek"


def test_no_reason_needed_once_a_unit_went_or_when_the_case_is_not_urgent(actors, incident_body):
    minor = _fire(actors, incident_body, priority=3)
    url = f"{API}/incidents/{minor['id']}/assignments/DAMKAR"
    assert actors["damkar"].post(f"{url}/acknowledge").status_code == 200
    assert actors["damkar"].post(f"{url}/progress", json={"status": "completed"}).status_code == 200

    fire = _fire(actors, incident_body, priority=1)
    url = f"{API}/incidents/{fire['id']}/assignments/DAMKAR"
    truck = next(u for u in actors["damkar"].get(f"{API}/units").json() if u["status"] == "available")
    assert actors["damkar"].post(f"{url}/dispatch", json={"unit_id": truck["id"]}).status_code == 200
    done = actors["damkar"].post(f"{url}/progress", json={"status": "completed"})
    assert done.status_code == 200, done.text
    assert actors["commander"].get(f"{API}/incidents/{fire['id']}").json()["attention"] is None
