"""Intake to closure through the HTTP API, as the people of Siaga 112 would use it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from siaga112.models import event_log, incidents

API = "/api/v1"


def create(actor, body, **kw):
    response = actor.post(f"{API}/incidents", json=body, **kw)
    assert response.status_code == 201, response.text
    return response.json()


def count_incidents(ctx) -> int:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(incidents)).scalar_one()


def test_call_taker_records_a_house_fire_and_the_sop_routes_it(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", inc["ticket"])
    assert inc["status"] == "new" and inc["type_code"] == "FIRE-BLDG" and inc["priority"] == 1
    assert inc["kecamatan_code"] == "64.09.01" and inc["desa_code"].startswith("64.09.01.")
    routed = {(a["agency_code"], a["role"]) for a in inc["assignments"]}
    assert routed == {("DAMKAR", "lead"), ("BPBD", "support"), ("DINKES", "support"), ("PLN", "support")}
    created = datetime.fromisoformat(inc["created_at"])
    for a in inc["assignments"]:
        assert a["status"] == "pending"
        assert datetime.fromisoformat(a["ack_due_at"]) - created == timedelta(seconds=60)
    assert inc["caller"]["phone"] == "+6281234567890"


def test_tickets_differ_and_do_not_follow_each_other(actors, incident_body):
    tickets = {create(actors["call_taker"], incident_body())["ticket"] for _ in range(5)}
    assert len(tickets) == 5


def test_description_without_type_is_classified(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(
        type_code=None, description="tolong ada rumah kebakaran di dekat pasar, apinya besar"))
    assert inc["type_code"] == "FIRE-BLDG"
    assert inc["classification"]["type_code"] == "FIRE-BLDG"
    assert 0 < inc["classification"]["confidence"] <= 1
    assert inc["assignments"][0]["agency_code"] == "DAMKAR"


def test_unclassifiable_description_goes_to_the_command_agency(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(
        type_code=None, description="halo pak, ini saya mau bilang sesuatu yang aneh di sini"))
    assert inc["type_code"] == "OTHER"
    assert inc["attention"] == "unclassified"
    assert [(a["agency_code"], a["role"]) for a in inc["assignments"]] == [("BPBD", "lead")]


def test_priority_given_overrides_the_type_default(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(type_code="ROAD-DAMAGE", priority=2,
                                                      description="jembatan putus"))
    assert inc["priority"] == 2
    created = datetime.fromisoformat(inc["created_at"])
    assert datetime.fromisoformat(inc["assignments"][0]["ack_due_at"]) - created == timedelta(seconds=180)


def test_dispatcher_sees_only_incidents_assigned_to_their_agency(actors, incident_body):
    fire = create(actors["call_taker"], incident_body())
    waste = create(actors["call_taker"], incident_body(type_code="POLLUTION",
                                                        description="sampah menumpuk di sungai"))
    assert actors["damkar"].get(f"{API}/incidents/{fire['id']}").status_code == 200
    assert actors["dlh"].get(f"{API}/incidents/{fire['id']}").status_code == 404
    assert actors["damkar"].get(f"{API}/incidents/{waste['id']}").status_code == 404
    dlh_ids = [i["id"] for i in actors["dlh"].get(f"{API}/incidents").json()["items"]]
    assert dlh_ids == [waste["id"]]
    assert actors["dlh"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/acknowledge").status_code == 404
    assert actors["viewer_damkar"].get(f"{API}/incidents/{fire['id']}").status_code == 200
    assert actors["viewer_damkar"].get(f"{API}/incidents/{waste['id']}").status_code == 404


def test_support_agency_sees_the_situation_but_not_the_caller(actors, incident_body):
    fire = create(actors["call_taker"], incident_body())
    assert actors["damkar"].get(f"{API}/incidents/{fire['id']}").json()["caller"]["phone"] == "+6281234567890"
    support_view = actors["dinkes"].get(f"{API}/incidents/{fire['id']}").json()
    assert support_view["caller"] is None
    assert support_view["description"] == fire["description"]


def test_acknowledge_dispatch_progress_and_close(actors, incident_body, ctx):
    fire = create(actors["call_taker"], incident_body())
    base = f"{API}/incidents/{fire['id']}"
    damkar = actors["damkar"]
    ack = damkar.post(f"{base}/assignments/DAMKAR/acknowledge")
    assert ack.status_code == 200
    lead = next(a for a in ack.json()["assignments"] if a["agency_code"] == "DAMKAR")
    assert lead["status"] == "acknowledged" and lead["acknowledged_at"]
    assert damkar.post(f"{base}/assignments/DAMKAR/acknowledge").status_code == 409
    # Another agency's assignment is not theirs to touch, even on an incident they see.
    assert damkar.post(f"{base}/assignments/DINKES/acknowledge").status_code == 403

    units = damkar.get(f"{API}/units", params={"status": "available"}).json()
    assert units and all(u["agency_code"] == "DAMKAR" for u in units)
    unit = units[0]
    sent = damkar.post(f"{base}/assignments/DAMKAR/dispatch", json={"unit_id": unit["id"]})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "dispatched"
    busy = {u["id"]: u for u in damkar.get(f"{API}/units").json()}[unit["id"]]
    assert busy["status"] == "dispatched" and busy["incident_id"] == fire["id"]

    on_scene = damkar.post(f"{base}/assignments/DAMKAR/progress", json={"status": "on_scene"})
    assert on_scene.json()["status"] == "on_scene"
    assert damkar.post(f"{base}/status", json={"status": "resolved"}).status_code == 200
    assert damkar.post(f"{base}/status", json={"status": "closed"}).status_code == 403
    closed = actors["call_taker"].post(f"{base}/status", json={"status": "closed", "note": "api padam"})
    assert closed.status_code == 200 and closed.json()["closed_at"]
    statuses = {a["agency_code"]: a["status"] for a in closed.json()["assignments"]}
    assert statuses == {"DAMKAR": "completed", "BPBD": "cancelled", "DINKES": "cancelled", "PLN": "cancelled"}
    freed = {u["id"]: u for u in damkar.get(f"{API}/units").json()}[unit["id"]]
    assert freed["status"] == "available" and freed["incident_id"] is None
    kinds = [t["kind"] for t in actors["commander"].get(base).json()["timeline"]]
    assert kinds[:2] == ["created", "routed"] and "dispatched" in kinds and kinds[-1] == "status"


def test_a_busy_unit_cannot_be_sent_twice_and_nothing_is_announced(actors, incident_body, ctx):
    first = create(actors["call_taker"], incident_body())
    second = create(actors["call_taker"], incident_body(location={"lat": -1.30, "lon": 116.70}))
    unit = actors["damkar"].get(f"{API}/units").json()[0]
    ok = actors["damkar"].post(f"{API}/incidents/{first['id']}/assignments/DAMKAR/dispatch",
                               json={"unit_id": unit["id"]})
    assert ok.status_code == 200
    with ctx.db.transaction(write=False) as conn:
        before = conn.execute(select(func.count()).select_from(event_log)).scalar_one()
    clash = actors["damkar"].post(f"{API}/incidents/{second['id']}/assignments/DAMKAR/dispatch",
                                  json={"unit_id": unit["id"]})
    assert clash.status_code == 409
    assert "not available" in clash.json()["detail"]
    with ctx.db.transaction(write=False) as conn:
        after = conn.execute(select(func.count()).select_from(event_log)).scalar_one()
    assert after == before  # the rolled-back dispatch left no event and no half-done assignment
    lead = next(a for a in actors["damkar"].get(f"{API}/incidents/{second['id']}").json()["assignments"]
                if a["agency_code"] == "DAMKAR")
    assert lead["status"] == "pending" and lead["unit_id"] is None


def test_unit_of_another_agency_cannot_be_dispatched(actors, incident_body):
    fire = create(actors["call_taker"], incident_body())
    ambulance = actors["dinkes"].get(f"{API}/units").json()[0]
    r = actors["damkar"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
                              json={"unit_id": ambulance["id"]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "unit_id"]


def test_decline_needs_a_reason_and_reaches_the_commander(actors, incident_body):
    fire = create(actors["call_taker"], incident_body())
    url = f"{API}/incidents/{fire['id']}/assignments/PLN/decline"
    assert actors["pln"].post(url, json={"reason": ""}).status_code == 422
    r = actors["pln"].post(url, json={"reason": "bukan jaringan PLN, genset pribadi"})
    assert r.status_code == 200
    assert r.json()["attention"] == "declined"
    needing = actors["commander"].get(f"{API}/incidents", params={"attention": "true"}).json()["items"]
    assert [i["id"] for i in needing] == [fire["id"]]
    declined = next(a for a in needing[0]["assignments"] if a["agency_code"] == "PLN")
    assert declined["status"] == "declined" and declined["decline_reason"].startswith("bukan")


def test_commander_reroutes_an_unclassified_incident(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(type_code=None, description="ada sesuatu pak"))
    assert inc["type_code"] == "OTHER"
    url = f"{API}/incidents/{inc['id']}/reroute"
    assert actors["call_taker"].post(url, json={"type_code": "FLOOD"}).status_code == 403
    r = actors["commander"].post(url, json={"type_code": "FLOOD", "note": "banjir setinggi lutut"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type_code"] == "FLOOD" and body["attention"] is None
    active = {(a["agency_code"], a["role"]) for a in body["assignments"] if a["status"] == "pending"}
    assert active == {("BPBD", "lead"), ("DPUPR", "support"), ("DINSOS", "support"), ("DINKES", "support")}
    assert actors["dinkes"].get(f"{API}/incidents/{inc['id']}").status_code == 200


def test_agency_asks_for_support(actors, incident_body):
    fire = create(actors["call_taker"], incident_body())
    url = f"{API}/incidents/{fire['id']}/assignments"
    assert actors["dlh"].get(f"{API}/incidents/{fire['id']}").status_code == 404
    r = actors["damkar"].post(url, json={"agency_code": "DLH", "reason": "limbah kimia di gudang"})
    assert r.status_code == 201, r.text
    assert ("DLH", "support", "pending") in {(a["agency_code"], a["role"], a["status"])
                                             for a in r.json()["assignments"]}
    assert actors["dlh"].get(f"{API}/incidents/{fire['id']}").status_code == 200
    assert actors["damkar"].post(url, json={"agency_code": "DLH", "reason": "lagi"}).status_code == 409
    assert actors["damkar"].post(url, json={"agency_code": "NOPE", "reason": "x y z"}).status_code == 422


def test_illegal_status_transitions_answer_409(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    url = f"{API}/incidents/{inc['id']}/status"
    assert actors["commander"].post(url, json={"status": "closed"}).status_code == 409
    assert actors["commander"].post(url, json={"status": "cancelled"}).status_code == 200
    assert actors["commander"].post(url, json={"status": "dispatched"}).status_code == 409
    assert actors["commander"].post(url, json={"status": "flying"}).status_code == 422


def test_notes_internal_and_public(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    url = f"{API}/incidents/{inc['id']}/notes"
    r = actors["damkar"].post(url, json={"text": "dua unit menuju lokasi", "public": True})
    assert r.status_code == 201
    actors["damkar"].post(url, json={"text": "hidran terdekat rusak", "public": False})
    assert actors["dlh"].post(url, json={"text": "x"}).status_code == 404
    assert actors["viewer"].post(url, json={"text": "x"}).status_code == 403
    notes = [(t["text"], t["public"]) for t in actors["commander"].get(f"{API}/incidents/{inc['id']}").json()["timeline"]
             if t["kind"] == "note"]
    assert notes == [("dua unit menuju lokasi", True), ("hidran terdekat rusak", False)]
    # A support agency reads the public note but not DAMKAR's internal one.
    dinkes_notes = [t["text"] for t in actors["dinkes"].get(f"{API}/incidents/{inc['id']}").json()["timeline"]
                    if t["kind"] == "note"]
    assert dinkes_notes == ["dua unit menuju lokasi"]


def test_bad_input_answers_422_naming_the_field_and_writes_nothing(actors, incident_body, ctx):
    cases = [
        (incident_body(type_code="NOT-A-TYPE"), ["body", "type_code"]),
        (incident_body(type_code="PRANK"), ["body", "type_code"]),
        (incident_body(location={"lat": -95, "lon": 116.8}), ["body", "location", "lat"]),
        (incident_body(location={"lat": -1.2, "lon": 200}), ["body", "location", "lon"]),
        (incident_body(location={}), ["body", "location"]),
        (incident_body(location={"desa_code": "64.09.09.9999"}), ["body", "location", "desa_code"]),
        (incident_body(caller={"phone": "bukan nomor"}), ["body", "caller", "phone"]),
        (incident_body(caller={"phone": "0812"}), ["body", "caller", "phone"]),
        (incident_body(description=""), ["body", "description"]),
        (incident_body(description="   "), ["body", "description"]),
        (incident_body(description="x" * 5000), ["body", "description"]),
        (incident_body(priority=7), ["body", "priority"]),
        (incident_body(channel="pigeon"), ["body", "channel"]),
        (incident_body(unexpected="field"), ["body", "unexpected"]),
    ]
    for body, loc in cases:
        r = actors["call_taker"].post(f"{API}/incidents", json=body)
        assert r.status_code == 422, (body, r.text)
        locs = [d["loc"][: len(loc)] for d in r.json()["detail"]]
        assert loc in locs, (loc, r.json())
    big = actors["call_taker"].post(f"{API}/incidents", content=b"{" + b" " * 400_000 + b"}",
                                    headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    assert count_incidents(ctx) == 0


def test_authentication_and_roles(client, actors, incident_body):
    assert client.post(f"{API}/incidents", json=incident_body()).status_code == 401
    bad = client.get(f"{API}/incidents", headers={"Authorization": "Bearer s112_nope"})
    assert bad.status_code == 401
    assert actors["viewer"].post(f"{API}/incidents", json=incident_body()).status_code == 403
    assert actors["damkar"].post(f"{API}/incidents", json=incident_body()).status_code == 403
    assert actors["telephony"].post(f"{API}/incidents", json=incident_body()).status_code == 201


def test_idempotency_key_returns_the_same_incident(actors, incident_body, ctx):
    headers = {"Idempotency-Key": "call-7781"}
    first = actors["call_taker"].post(f"{API}/incidents", json=incident_body(), headers=headers)
    again = actors["call_taker"].post(f"{API}/incidents", json=incident_body(), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["ticket"] == first.json()["ticket"]
    other = actors["call_taker"].post(f"{API}/incidents", json=incident_body(description="lain"),
                                      headers=headers)
    assert other.status_code == 409
    assert count_incidents(ctx) == 1


def test_point_outside_the_regency_is_out_of_area_and_not_routed(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(location={"lat": -0.5022, "lon": 117.1536}))
    assert inc["location"]["out_of_area"] is True
    assert inc["assignments"] == [] and inc["attention"] == "out_of_area"
    assert inc["desa_code"] is None


def test_desa_code_alone_places_the_incident_at_its_centroid(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(location={"desa_code": "64.09.01.1001"}))
    assert inc["desa_code"] == "64.09.01.1001" and inc["kecamatan_code"] == "64.09.01"
    assert inc["location"]["source"] == "desa"
    assert inc["location"]["lat"] is not None and inc["location"]["lon"] is not None


def test_address_alone_is_matched_to_a_desa_when_it_names_one(actors, incident_body):
    inc = create(actors["call_taker"], incident_body(location={"address": "Jl. Provinsi RT 05, Kel. Nipah-Nipah"}))
    assert inc["desa_code"] == "64.09.01.1009"
    assert inc["location"]["source"] == "address"


def test_possible_duplicates_are_listed_for_a_second_caller(actors, incident_body):
    first = create(actors["call_taker"], incident_body())
    near = create(actors["call_taker"], incident_body(
        location={"lat": PENAJAM_NEAR[0], "lon": PENAJAM_NEAR[1]}, type_code="FIRE-LAND",
        description="asap tebal dari arah permukiman"))
    dups = near["possible_duplicates"]
    assert [d["ticket"] for d in dups] == [first["ticket"]]
    assert 50 < dups[0]["distance_m"] < 200 and dups[0]["minutes_ago"] == 0
    unrelated = create(actors["call_taker"], incident_body(type_code="WATER-OUTAGE", description="air mati"))
    assert unrelated["possible_duplicates"] == []
    far = create(actors["call_taker"], incident_body(location={"lat": -1.35, "lon": 116.60}))
    assert far["possible_duplicates"] == []


PENAJAM_NEAR = (-1.2563 + 0.001, 116.7684)  # about 111 m north


def test_listing_is_newest_first_with_a_cursor(actors, incident_body):
    made = [create(actors["call_taker"], incident_body())["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = actors["commander"].get(f"{API}/incidents", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))
    assert actors["commander"].get(f"{API}/incidents", params={"cursor": "@@@"}).status_code == 422
    assert [i["id"] for i in actors["commander"].get(
        f"{API}/incidents", params={"type_code": "FLOOD"}).json()["items"]] == []
    assert len(actors["commander"].get(f"{API}/incidents", params={"agency_code": "DAMKAR"}).json()["items"]) == 5


def test_integration_client_sees_only_what_it_created(actors, incident_body):
    mine = create(actors["telephony"], incident_body())
    other = create(actors["call_taker"], incident_body())
    assert actors["telephony"].get(f"{API}/incidents/{mine['id']}").status_code == 200
    assert actors["telephony"].get(f"{API}/incidents/{other['id']}").status_code == 404


def test_health_and_metrics(client, actors, incident_body, ctx):
    assert client.get("/healthz").json()["status"] == "ok"
    create(actors["call_taker"], incident_body())
    ctx.settings.metrics_token = "metrik-uji"
    text = client.get("/metrics", headers={"Authorization": "Bearer metrik-uji"}).text
    assert 'siaga112_incidents_created_total{channel="call",type_code="FIRE-BLDG"}' in text
    assert "+62" not in text and "081234567890" not in text


def test_a_declined_agency_cannot_resolve_the_incident(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    url = f"{API}/incidents/{inc['id']}"
    assert actors["pln"].post(f"{url}/assignments/PLN/decline", json={"reason": "bukan wewenang"}).status_code == 200
    assert actors["pln"].post(f"{url}/status", json={"status": "resolved"}).status_code == 403
    assert actors["damkar"].post(f"{url}/status", json={"status": "on_scene"}).status_code == 200


def test_naive_times_are_refused_not_crashed(actors):
    r = actors["commander"].get(f"{API}/incidents", params={"since": "2026-01-01T00:00:00"})
    assert r.status_code == 422
    ok = actors["commander"].get(f"{API}/incidents", params={"since": "2026-01-01T00:00:00+08:00"})
    assert ok.status_code == 200


def test_bound_viewers_do_not_read_other_agencies_internal_notes(actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    actors["dinkes"].post(f"{API}/incidents/{inc['id']}/notes", json={"text": "korban 2 orang", "public": False})
    notes = [t for t in actors["viewer_damkar"].get(f"{API}/incidents/{inc['id']}").json()["timeline"]
             if t["kind"] == "note"]
    assert notes == []


def test_a_gateway_is_not_shown_other_incidents_as_duplicates(actors, incident_body):
    create(actors["call_taker"], incident_body())
    mine = create(actors["telephony"], incident_body())
    assert mine["possible_duplicates"] == []
