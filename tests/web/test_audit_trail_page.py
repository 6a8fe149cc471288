"""The administrator's page over the hash-chained audit trail."""
from __future__ import annotations


def test_admin_searches_the_trail_and_checks_the_chain(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    actors["call_taker"].get("/api/v1/callers/081234567890")  # a view of the caller's data
    admin = browse("admin")
    page = admin.page("/konsol/admin/jejak?action=incident.")
    assert page.status_code == 200
    assert 'data-action="incident.created"' in page.text and fire["id"] in page.text
    by_caller = admin.page("/konsol/admin/jejak", params={"target": "0812-3456-7890"}).text
    assert 'data-action="caller.history_viewed"' in by_caller
    assert "6281234567890" not in by_caller and "0812-3456-7890" not in by_caller.split("<table")[1]
    checked = admin.page("/konsol/admin/jejak", params={"periksa": "1"}).text
    assert 'id="chain-check"' in checked and "Rantai utuh" in checked
    searched = actors["admin"].get("/api/v1/audit", params={"action": "audit.searched"}).json()
    assert searched["items"], "looking at the trail is itself recorded"


def test_only_the_admin_sees_the_trail(browse):
    assert browse("commander").page("/konsol/admin/jejak").status_code == 403
