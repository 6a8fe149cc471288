"""Public alerts as CAP 1.2: written by BPBD for chosen wilayah, a drawn area or an incident,
valid against a model of the CAP 1.2 schema, updated and cancelled as CAP says, published as an
Atom feed and on /peringatan, and never carrying anyone's personal data."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cap_check import NS, text, valid_cap
from sqlalchemy import func, select

from siaga112.models import alerts

API = "/api/v1/alerts"
SEPAKU = "64.09.04"
FLOOD = {"event": "Banjir", "category": "Met", "urgency": "Immediate", "severity": "Severe",
         "certainty": "Observed", "response_type": "Evacuate",
         "headline": "Banjir di sepanjang Sungai Sepaku",
         "description": "Air Sungai Sepaku naik 1,5 meter sejak pukul 14.00 WITA.",
         "instruction": "Warga bantaran sungai mengungsi ke SDN 001 Sepaku.",
         "areas": {"codes": [SEPAKU]}}


def issue(actor, **overrides):
    r = actor.post(API, json={**FLOOD, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


def test_bpbd_warns_a_kecamatan_with_a_valid_cap_message(actors, client):
    alert = issue(actors["commander"])
    xml = client.get(f"{API}/{alert['id']}.xml")  # public: no token
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/cap+xml")
    root = valid_cap(xml.content)
    assert text(root, "cap:msgType") == "Alert" and text(root, "cap:status") == "Actual"
    assert text(root, "cap:sent").endswith("+08:00")  # WITA, with its offset
    assert text(root, "cap:info/cap:language") == "id-ID"
    assert text(root, "cap:info/cap:headline") == FLOOD["headline"]
    assert text(root, "cap:info/cap:responseType") == "Evacuate"
    area = root.find("cap:info/cap:area", NS)
    assert text(area, "cap:areaDesc") == "Kecamatan Sepaku"
    assert text(area, "cap:geocode/cap:value") == SEPAKU
    # The polygon is Sepaku's own boundary: its points lie around the kecamatan's centre.
    lats = [float(p.split(",")[0]) for p in text(area, "cap:polygon").split()]
    assert -1.2 < min(lats) < max(lats) < -0.6
    # Every desa of Sepaku is reached, and none of another kecamatan.
    assert alert["desa_codes"] and all(d.startswith(SEPAKU + ".") for d in alert["desa_codes"])
    assert alert["current"] and alert["page_url"].endswith(f"/peringatan/{alert['code']}")


def test_updates_and_cancellations_follow_cap(actors, client):
    commander = actors["commander"]
    first = issue(commander)
    updated = commander.post(f"{API}/{first['id']}/update",
                             json={"headline": "Banjir meluas ke Desa Bumi Harapan", "severity": "Extreme"})
    assert updated.status_code == 201, updated.text
    update = updated.json()
    root = valid_cap(client.get(f"{API}/{update['id']}.xml").content)
    assert text(root, "cap:msgType") == "Update"
    assert "sudah diperbarui" in client.get(f"/peringatan/{first['code']}").text
    first_root = valid_cap(client.get(f"{API}/{first['id']}.xml").content)
    first_ref = ",".join(text(first_root, f"cap:{t}") for t in ("sender", "identifier", "sent"))
    assert text(root, "cap:references") == first_ref
    # What was not changed carries over.
    assert text(root, "cap:info/cap:instruction") == FLOOD["instruction"]
    assert text(root, "cap:info/cap:severity") == "Extreme"
    assert commander.get(f"{API}/{first['id']}").json()["current"] is False
    # The first message is replaced already: updating it again (a stale screen) is refused.
    assert commander.post(f"{API}/{first['id']}/update", json={"headline": "Lagi dan lagi"}).status_code == 409
    cancelled = commander.post(f"{API}/{update['id']}/cancel", json={"note": "Air sudah surut."})
    assert cancelled.status_code == 201, cancelled.text
    cancel = valid_cap(client.get(f"{API}/{cancelled.json()['id']}.xml").content)
    assert text(cancel, "cap:msgType") == "Cancel" and text(cancel, "cap:note") == "Air sudah surut."
    assert text(cancel, "cap:references").split() == [first_ref, ",".join(
        text(root, f"cap:{t}") for t in ("sender", "identifier", "sent"))]
    assert commander.post(f"{API}/{update['id']}/cancel", json={"note": "dua kali"}).status_code == 409
    assert commander.get(API, params={"current": "true"}).json() == []
    # The feed and the page no longer show it; an old link says it was withdrawn.
    assert "<entry" not in client.get("/alerts.atom").text
    assert "tidak ada peringatan" in client.get("/peringatan").text
    # Both earlier messages lead to the one that now stands for the alert: its cancellation.
    for earlier in (first, update):
        old = client.get(f"/peringatan/{earlier['code']}").text
        assert "sudah dicabut" in old and cancelled.json()["code"] in old


def test_the_feed_and_page_list_current_alerts(actors, client):
    alert = issue(actors["commander"])
    feed = client.get("/alerts.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    from xml.etree import ElementTree as ET

    atom = {"a": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(feed.content)
    entries = root.findall("a:entry", atom)
    assert [e.findtext("a:title", namespaces=atom) for e in entries] == [FLOOD["headline"]]
    cap_link = entries[0].find("a:link[@type='application/cap+xml']", atom).get("href")
    assert cap_link.endswith(f"{API}/{alert['id']}.xml")
    page = client.get("/peringatan")
    assert page.status_code == 200 and FLOOD["headline"] in page.text and "Kecamatan Sepaku" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_an_alert_raised_from_an_incident_names_the_place_never_the_caller(actors, client, incident_body):
    inc = actors["call_taker"].post(f"{API[:-7]}/incidents", json=incident_body(
        caller={"phone": "081277778888", "name": "Siti Aminah"},
        description="Rumah Pak Darto terbakar, hubungi 081277778888")).json()
    alert = issue(actors["commander"], **{k: None for k in ("event", "category", "headline", "description",
                                                                 "instruction", "areas")},
                  incident_id=inc["id"])
    assert alert["incident_ticket"] == inc["ticket"] and alert["category"] == "Fire"
    assert alert["area_codes"] == [inc["desa_code"]]
    place = client.get(f"{API[:-7]}/reference/wilayah", params={"level": "desa"},
                       headers=actors["commander"].headers).json()
    desa_name = next(w["name"] for w in place if w["code"] == inc["desa_code"])
    assert desa_name in alert["headline"]
    for public in (client.get(f"{API}/{alert['id']}.xml").text, client.get("/alerts.atom").text,
                   client.get("/peringatan").text, client.get(f"/peringatan/{alert['code']}").text):
        for secret in ("081277778888", "Siti", "Darto", "+6281277778888"):
            assert secret not in public
    valid_cap(client.get(f"{API}/{alert['id']}.xml").content)


def test_a_drawn_area_reaches_the_desa_it_covers(actors, client):
    # A small square around Kelurahan Penajam (-1.2563, 116.7684).
    square = [[-1.25, 116.76], [-1.25, 116.775], [-1.262, 116.775], [-1.262, 116.76]]
    alert = issue(actors["commander"], areas={"polygon": square})
    located = actors["call_taker"].post(f"{API[:-7]}/incidents", json={
        "channel": "call", "description": "pohon tumbang", "location": {"lat": -1.2563, "lon": 116.7684}}).json()
    assert located["desa_code"] in alert["desa_codes"]
    root = valid_cap(client.get(f"{API}/{alert['id']}.xml").content)
    assert text(root, "cap:info/cap:area/cap:areaDesc") == "Wilayah yang ditandai pada peta"
    assert text(root, "cap:info/cap:area/cap:polygon").split()[0] == "-1.25000,116.76000"


@pytest.mark.parametrize(("change", "loc"), [
    ({"areas": {"codes": ["64.09.99"]}}, ["body", "areas", "codes", "0"]),
    ({"areas": {"codes": []}}, ["body", "areas"]),
    ({"areas": {"polygon": [[-6.2, 106.8], [-6.2, 106.9], [-6.3, 106.9]]}}, ["body", "areas", "polygon"]),
    ({"areas": {"polygon": [[-1.25, 116.76], [-1.26, 116.78], [-1.25, 116.78], [-1.26, 116.76]]}},
     ["body", "areas", "polygon"]),
    ({"headline": None}, ["body", "headline"]),
    ({"severity": "Gawat"}, ["body", "severity"]),
    ({"expires": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, ["body", "expires"]),
])
def test_bad_alerts_name_the_field_and_write_nothing(actors, ctx, change, loc):
    r = actors["commander"].post(API, json={**FLOOD, **change})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc
    with ctx.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(alerts)).scalar_one() == 0


def test_only_the_command_centre_and_bpbd_issue_alerts(actors):
    assert actors["bpbd"].post(API, json=FLOOD).status_code == 201
    for name in ("damkar", "call_taker", "viewer", "telephony"):
        assert actors[name].post(API, json=FLOOD).status_code == 403, name
    first = actors["commander"].get(API).json()[0]
    assert actors["damkar"].post(f"{API}/{first['id']}/cancel", json={"note": "bukan urusan"}).status_code == 403


def test_the_same_request_sent_twice_issues_one_alert(actors, ctx):
    key = {"Idempotency-Key": "bpbd-banjir-1"}
    first = actors["commander"].post(API, json=FLOOD, headers=key)
    again = actors["commander"].post(API, json=FLOOD, headers=key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    with ctx.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(alerts)).scalar_one() == 1
