"""Out-of-area calls are handed over with an EIDD-style record; Open311 complaints become
priority-4 incidents tracked like any other."""
from __future__ import annotations

from citizens_helpers import partner, settings, webhook  # noqa: F401  fixtures

API = "/api/v1"


def test_an_out_of_area_call_is_transferred_with_an_eidd_record(actors, webhook):
    ct = actors["call_taker"]
    session = webhook("telephony", {"call_id": "pbx-ooa", "event": "ringing", "caller": "081244440000",
                                    "trunk": "XL-2"}).json()
    r = ct.post(f"{API}/handovers", json={
        "target": "BALIKPAPAN", "call_session_id": session["session_id"],
        "location": {"lat": -1.2379, "lon": 116.8529, "address": "Jl. Jend. Sudirman, Balikpapan"},
        "description": "kecelakaan di Balikpapan Kota", "note": "penelepon di Balikpapan"})
    assert r.status_code == 201, r.text
    h = r.json()
    doc = ct.get(f"{API}/handovers/{h['id']}/eidd")
    assert doc.headers["content-disposition"].startswith("attachment")
    eidd = doc.json()
    assert eidd["receivingAgency"] == {"code": "BALIKPAPAN", "name": "Call Center 112 Kota Balikpapan"}
    assert eidd["personComponent"][0]["phone"] == "+6281244440000"
    assert eidd["locationComponent"][0]["latitude"] == -1.2379 and eidd["callComponent"][0]["trunk"] == "XL-2"
    history = ct.get(f"{API}/callers/081244440000").json()
    assert history["outcome_counts"] == {"out_of_area": 1}
    assert history["calls"][0]["transferred_to"] == "BALIKPAPAN"
    assert ct.post(f"{API}/handovers", json={"target": "JAKARTA"}).status_code == 422
    assert actors["damkar"].get(f"{API}/handovers/{h['id']}").status_code == 403


def test_an_incident_handed_over_shows_transferred_to_the_reporter(actors, client, incident_body):
    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    r = actors["call_taker"].post(f"{API}/handovers", json={"target": "119", "incident_id": inc["id"]})
    assert r.status_code == 201
    doc = r.json()["document"]
    assert doc["incidentComponent"]["incidentTrackingIdentifier"] == inc["ticket"]
    assert doc["incidentComponent"]["incidentTypeCode"] == "FIRE-BLDG"
    assert actors["commander"].get(f"{API}/incidents/{inc['id']}").json()["status"] == "cancelled"
    public = client.get(f"{API}/public/tickets/{inc['ticket']}").json()
    assert public["status"] == "transferred" and public["status_label"] == "Dialihkan ke layanan lain"
    again = actors["call_taker"].post(f"{API}/handovers", json={"target": "119", "incident_id": inc["id"]})
    assert again.status_code == 409


def test_open311_services_and_requests(actors, client, tokens):
    services = client.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in services} == {"jalan-rusak", "air-bersih", "sampah"}
    assert client.get("/open311/v2/services/sampah.json").json()["service_code"] == "sampah"
    r = client.post("/open311/v2/requests.json", data={
        "api_key": tokens["telephony"], "service_code": "jalan-rusak", "lat": "-1.2563", "long": "116.7684",
        "description": "Jalan berlubang besar depan SD 012, Ibu Sari 0812 1111 2222",
        "first_name": "Sari", "phone": "081211112222"})
    assert r.status_code == 201, r.text
    ticket = r.json()[0]["service_request_id"]
    inc = actors["commander"].get(f"{API}/incidents?type_code=ROAD-DAMAGE").json()["items"][0]
    assert inc["ticket"] == ticket and inc["priority"] == 4 and inc["channel"] == "app"
    assert [a["agency_code"] for a in inc["assignments"] if a["role"] == "lead"] == ["DPUPR"]
    found = client.get(f"/open311/v2/requests/{ticket}.json")
    assert found.status_code == 200
    item = found.json()[0]
    assert item["status"] == "open" and item["service_code"] == "jalan-rusak"
    assert "Sari" not in found.text and "1111" not in found.text and "description" not in item
    listing = client.get("/open311/v2/requests.json", params={"service_code": "jalan-rusak", "status": "open"})
    assert [i["service_request_id"] for i in listing.json()] == [ticket]
    assert client.get(f"{API}/public/tickets/{ticket}").json()["status"] == "forwarded"


def test_open311_errors_follow_georeport(client, tokens):
    base = {"api_key": tokens["telephony"], "service_code": "jalan-rusak", "lat": "-1.25", "long": "116.7"}
    assert client.post("/open311/v2/requests.json", data={**base, "service_code": "x"}).status_code == 404
    missing = client.post("/open311/v2/requests.json", data={k: v for k, v in base.items() if k not in ("lat", "long")})
    assert missing.status_code == 400 and "address_string" in missing.json()[0]["description"]
    assert client.post("/open311/v2/requests.json", data={**base, "api_key": "s112_nope"}).status_code == 403
    assert client.post("/open311/v2/requests.json", data={**base, "lat": "abc"}).status_code == 400
    assert client.get("/open311/v2/services.csv").status_code == 400
    assert client.get("/open311/v2/requests/AAAA-AAAA.json").status_code == 404


def test_open311_speaks_xml_the_georeport_default(client, tokens):
    from xml.etree import ElementTree as ET

    services = client.get("/open311/v2/services.xml")
    assert services.status_code == 200 and services.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(services.content)
    assert root.tag == "services"
    codes = {s.findtext("service_code") for s in root.findall("service")}
    assert codes == {"jalan-rusak", "air-bersih", "sampah"}
    assert root.find("service").findtext("metadata") == "false"
    definition = ET.fromstring(client.get("/open311/v2/services/sampah.xml").content)
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "sampah"
    created = client.post("/open311/v2/requests.xml", data={
        "api_key": tokens["telephony"], "service_code": "sampah", "lat": "-1.2563", "long": "116.7684",
        "description": "Sampah menumpuk di depan pasar", "phone": "081211113333"})
    assert created.status_code == 201, created.text
    made = ET.fromstring(created.content)
    assert made.tag == "service_requests"
    ticket = made.find("request").findtext("service_request_id")
    found = ET.fromstring(client.get(f"/open311/v2/requests/{ticket}.xml").content)
    assert found.find("request").findtext("status") == "open" and "081211113333" not in client.get(
        f"/open311/v2/requests/{ticket}.xml").text
    listed = ET.fromstring(client.get("/open311/v2/requests.xml", params={"service_code": "sampah"}).content)
    assert [r.findtext("service_request_id") for r in listed.findall("request")] == [ticket]
    missing = client.get("/open311/v2/requests/AAAA-AAAA.xml")
    error = ET.fromstring(missing.content)
    assert missing.status_code == 404 and error.tag == "errors"
    assert error.find("error").findtext("code") == "404"
