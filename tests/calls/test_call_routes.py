"""Calls that end without a new incident, and the caller history a call-taker sees."""
from __future__ import annotations

API = "/api/v1"


def test_prank_and_silent_calls_are_recorded_and_counted_per_number(actors):
    ct = actors["call_taker"]
    for outcome in ("prank", "prank", "silent"):
        r = ct.post(f"{API}/calls", json={"caller": {"phone": "0812-9999-0001"}, "outcome": outcome})
        assert r.status_code == 201, r.text
        assert r.json()["caller_phone"] == "+6281299990001"
    history = ct.get(f"{API}/callers/081299990001").json()
    assert history["outcome_counts"] == {"prank": 2, "silent": 1}
    assert len(history["calls"]) == 3 and history["open_incidents"] == []


def test_history_shows_open_incidents_of_the_number(actors, incident_body):
    ct = actors["call_taker"]
    inc = ct.post(f"{API}/incidents", json=incident_body(caller={"phone": "+62 812 3456 7890"})).json()
    history = ct.get(f"{API}/callers/+6281234567890").json()
    assert [i["ticket"] for i in history["open_incidents"]] == [inc["ticket"]]
    assert history["outcome_counts"] == {"emergency": 1}
    assert ct.get(f"{API}/callers/abc").status_code == 422
    assert actors["damkar"].get(f"{API}/callers/+6281234567890").status_code == 403


def test_a_second_caller_is_linked_not_doubled(actors, incident_body):
    ct = actors["call_taker"]
    inc = ct.post(f"{API}/incidents", json=incident_body()).json()
    r = ct.post(f"{API}/calls", json={"caller": {"phone": "081311112222"}, "outcome": "duplicate",
                                      "incident_id": inc["id"]})
    assert r.status_code == 201 and r.json()["incident_id"] == inc["id"]
    timeline = actors["commander"].get(f"{API}/incidents/{inc['id']}").json()["timeline"]
    linked = [t for t in timeline if t["kind"] == "caller_linked"]
    assert len(linked) == 1 and "081311112222" not in linked[0]["text"]
    assert len(ct.get(f"{API}/incidents").json()["items"]) == 1


def test_call_outcomes_are_validated(actors):
    ct = actors["call_taker"]
    assert ct.post(f"{API}/calls", json={"outcome": "duplicate"}).status_code == 422
    assert ct.post(f"{API}/calls", json={"outcome": "emergency"}).status_code == 422
    assert ct.post(f"{API}/calls", json={"outcome": "prank", "transferred_to": "110"}).status_code == 422
    ok = ct.post(f"{API}/calls", json={"outcome": "out_of_area", "transferred_to": "BALIKPAPAN"})
    assert ok.status_code == 201 and ok.json()["transferred_to"] == "BALIKPAPAN"
    missing = ct.post(f"{API}/calls", json={"outcome": "duplicate", "incident_id": "nope"})
    assert missing.status_code == 404


def test_a_closed_incident_takes_no_more_duplicate_calls(actors, incident_body):
    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    assert actors["commander"].post(f"{API}/incidents/{inc['id']}/status",
                                    json={"status": "cancelled"}).status_code == 200
    r = actors["call_taker"].post(f"{API}/calls", json={"outcome": "duplicate", "incident_id": inc["id"]})
    assert r.status_code == 409
