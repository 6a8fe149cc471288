"""Personal data: who sees the caller, what never carries it, and retention."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from tests_security_helpers import API, cli, create, entries

from siaga112.db import utcnow
from siaga112.models import calls, incidents, timeline_entries

PHONE, E164, NAME = "081234567890", "+6281234567890", "Budi"

# Who gets the caller's number and name on a house fire (DAMKAR leads; BPBD, DINKES, PLN support).
SEES_CALLER = {"call_taker": True, "commander": True, "admin": True, "damkar": True,
               "bpbd": False, "dinkes": False, "pln": False, "viewer": False,
               "viewer_damkar": False, "telephony": False}
NOT_ASSIGNED = ("dlh", "polres")


def test_caller_identity_goes_only_to_staff_and_the_lead_agency(actors, incident_body):
    inc = create(actors["telephony"], incident_body())
    for name, sees in SEES_CALLER.items():
        response = actors[name].get(f"{API}/incidents/{inc['id']}")
        assert response.status_code == 200, name
        caller = response.json()["caller"]
        assert (caller == {"phone": E164, "name": NAME}) if sees else caller is None, name
        assert E164 not in response.text or sees, name
    for name in NOT_ASSIGNED:
        assert actors[name].get(f"{API}/incidents/{inc['id']}").status_code == 404, name


def test_lists_and_action_answers_of_support_agencies_carry_no_caller(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    for name in SEES_CALLER:
        listing = actors[name].get(f"{API}/incidents")
        assert listing.status_code == 200 and E164 not in listing.text and NAME not in listing.text, name
    acked = actors["pln"].post(f"{API}/incidents/{inc['id']}/assignments/PLN/acknowledge")
    assert acked.status_code == 200 and E164 not in acked.text
    assert actors["pln"].get(f"{API}/callers/{PHONE}").status_code == 403
    assert actors["viewer"].get(f"{API}/callers/{PHONE}").status_code == 403


def test_rejected_personal_data_is_not_echoed_in_errors(actors, incident_body):
    bad = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "0812 xx 99887766", "name": "Siti Rahmawati " * 20}))
    assert bad.status_code == 422
    assert "99887766" not in bad.text and "Rahmawati" not in bad.text
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {("body", "caller", "phone"),
                                                              ("body", "caller", "name")}


def test_a_whole_incident_leaves_no_caller_data_in_logs_or_metrics(actors, incident_body, caplog, capfd, app,
                                                                   ctx):
    caplog.set_level(logging.DEBUG)
    call_taker, damkar = actors["call_taker"], actors["damkar"]
    inc = create(call_taker, incident_body())
    iid = inc["id"]
    assert call_taker.get(f"{API}/callers/{PHONE}").status_code == 200
    assert call_taker.post(f"{API}/calls", json={"caller": {"phone": "081299990001", "name": "Iseng"},
                                                 "outcome": "prank"}).status_code == 201
    assert call_taker.post(f"{API}/calls", json={"caller": {"phone": "081377770002"}, "outcome": "duplicate",
                                                 "incident_id": iid}).status_code == 201
    assert damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/acknowledge").status_code == 200
    unit = damkar.get(f"{API}/units", params={"agency_code": "DAMKAR", "status": "available"}).json()[0]
    assert damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/dispatch", json={"unit_id": unit["id"]}).status_code == 200
    assert damkar.post(f"{API}/incidents/{iid}/assignments/DAMKAR/progress", json={"status": "on_scene"}).status_code == 200
    assert damkar.get(f"{API}/incidents/{iid}").status_code == 200
    assert call_taker.post(f"{API}/incidents/{iid}/status", json={"status": "resolved"}).status_code == 200
    assert call_taker.post(f"{API}/incidents/{iid}/status", json={"status": "closed"}).status_code == 200
    # Failures too: a bad number, an unknown incident, a stale transition.
    assert call_taker.get(f"{API}/callers/0812-bukan").status_code == 422
    assert call_taker.post(f"{API}/incidents/{iid}/status", json={"status": "closed"}).status_code == 409
    ctx.settings.metrics_token = "metrik-uji"
    metrics = actors["admin"].client.get("/metrics", headers={"Authorization": "Bearer metrik-uji"}).text
    assert "siaga112_incidents_created_total" in metrics
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    for secret in ("81234567890", "81299990001", "81377770002", "Budi", "Iseng"):
        assert secret not in logged, secret
        assert secret not in metrics, secret
    assert "siaga112_incidents_created_total" in metrics


def _close_long_ago(ctx, incident_id, days):
    with ctx.db.transaction() as conn:
        conn.execute(update(incidents).where(incidents.c.id == incident_id)
                     .values(closed_at=utcnow() - timedelta(days=days)))


def test_retention_anonymises_old_finished_incidents_and_keeps_the_statistics(
        ctx, actors, incident_body, database_url, tmp_path):
    ct = actors["call_taker"]
    old = create(ct, incident_body(location={"lat": -1.2563, "lon": 116.7684, "address": "Jl. Mawar 7"}))
    ct.post(f"{API}/incidents/{old['id']}/notes", json={"text": "pelapor Budi, rumah cat hijau"})
    ct.post(f"{API}/incidents/{old['id']}/status", json={"status": "cancelled", "note": "Budi bilang salah"})
    recent = create(ct, incident_body())
    ct.post(f"{API}/incidents/{recent['id']}/status", json={"status": "cancelled"})
    still_open = create(ct, incident_body())
    _close_long_ago(ctx, old["id"], 400)
    _close_long_ago(ctx, still_open["id"], 400)  # open: closed_at set by hand, status still new
    ct.post(f"{API}/calls", json={"caller": {"phone": "081299990001"}, "outcome": "prank",
                                  "received_at": (utcnow() - timedelta(days=400)).isoformat()})

    dry = cli(["retention", "apply", "--days", "365", "--dry-run"], database_url, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "would anonymise 1 incidents, 2 calls" in dry.stdout
    with ctx.db.transaction(write=False) as conn:
        assert conn.execute(select(incidents.c.caller_phone).where(incidents.c.id == old["id"])).scalar_one() == E164

    done = cli(["retention", "apply", "--days", "365"], database_url, tmp_path)
    assert done.returncode == 0 and "anonymised 1 incidents, 2 calls" in done.stdout, done.stderr
    with ctx.db.transaction(write=False) as conn:
        row = conn.execute(select(incidents).where(incidents.c.id == old["id"])).one()
        assert (row.caller_phone, row.caller_name, row.address) == (None, None, None)
        assert "Budi" not in row.description and row.anonymised_at is not None
        assert (row.type_code, row.desa_code, row.kecamatan_code, row.status) == (
            old["type_code"], old["desa_code"], old["kecamatan_code"], "cancelled")
        assert row.created_at is not None and row.closed_at is not None
        assert abs(row.lat - (-1.26)) < 1e-9 and abs(row.lon - 116.77) < 1e-9
        texts = [t for (t,) in conn.execute(select(timeline_entries.c.text)
                                            .where(timeline_entries.c.incident_id == old["id"]))]
        assert not any("Budi" in (t or "") for t in texts)
        assert conn.execute(select(calls.c.caller_phone).where(calls.c.incident_id == old["id"])).scalar_one() is None
        assert conn.execute(select(calls.c.caller_phone).where(calls.c.outcome == "prank")).scalar_one() is None
        for kept in (recent["id"], still_open["id"]):
            assert conn.execute(select(incidents.c.caller_phone).where(incidents.c.id == kept)).scalar_one() == E164
    again = cli(["retention", "apply", "--days", "365"], database_url, tmp_path)
    assert "anonymised 0 incidents, 0 calls" in again.stdout
    assert [r.action for r in entries(ctx) if r.action.startswith("retention.")] == [
        "retention.dry_run", "retention.applied", "retention.applied"]
    assert actors["admin"].get(f"{API}/incidents/{old['id']}").json()["caller"] == {"phone": None, "name": None}
