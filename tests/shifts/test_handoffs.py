"""The shift hand-over log: the outgoing supervisor's notes and tasks with the incidents open at
that moment, acknowledged once by the incoming supervisor, and printable."""
from __future__ import annotations

API = "/api/v1/shift-handovers"
BODY = {"notes": "Banjir Sepaku masih dipantau BPBD.", "todo": "Hubungi PLN soal tiang roboh di Waru."}


def test_a_shift_is_handed_over_with_its_open_incidents_and_taken_over_once(actors, incident_body, client):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    commander, admin = actors["commander"], actors["admin"]
    r = commander.post(API, json=BODY)
    assert r.status_code == 201, r.text
    handoff = r.json()
    assert handoff["written_by"] == "commander" and handoff["acknowledged_at"] is None
    [snap] = handoff["open_incidents"]
    assert snap["ticket"] == fire["ticket"] and snap["priority"] == fire["priority"]
    assert "DAMKAR: pending" in snap["agencies"]
    assert "081234567890" not in r.text and "Budi" not in r.text  # the situation, never the caller
    # The one who wrote it cannot take it over; the incoming supervisor does, once.
    assert commander.post(f"{API}/{handoff['id']}/acknowledge", json={}).status_code == 409
    taken = admin.post(f"{API}/{handoff['id']}/acknowledge", json={"note": "Diterima lengkap."})
    assert taken.status_code == 200 and taken.json()["acknowledged_by"] == "admin"
    assert admin.post(f"{API}/{handoff['id']}/acknowledge", json={}).status_code == 409
    # The snapshot stays as it was handed over when the incident moves on.
    admin.post(f"/api/v1/incidents/{fire['id']}/status", json={"status": "cancelled"})
    assert commander.get(f"{API}/{handoff['id']}").json()["open_incidents"][0]["status"] == "new"
    assert [h["id"] for h in actors["call_taker"].get(API).json()] == [handoff["id"]]


def test_who_writes_and_reads_the_log(actors):
    assert actors["call_taker"].post(API, json=BODY).status_code == 403
    assert actors["damkar"].post(API, json=BODY).status_code == 403
    assert actors["damkar"].get(API).status_code == 403
    assert actors["viewer"].get(API).status_code == 200
    bad = actors["commander"].post(API, json={"notes": "", "todo": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "notes"]

