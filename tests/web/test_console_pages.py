"""The console screens through HTTP, as htmx calls them: what each person sees and can do."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from siaga112.models import calls, incidents

PENAJAM = {"lat": "-1.2563", "lon": "116.7684"}


def _new_incident_form(**overrides) -> dict:
    form = {"phone": "0812 3456 7890", "caller_name": "Siti", "channel": "call",
            "description": "rumah terbakar api besar", "type_code": "", "priority": "",
            "desa_code": "", "address": "", "form_key": "k-1", **PENAJAM}
    form.update(overrides)
    return form


def _count(ctx, table) -> int:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_call_taker_creates_an_incident_and_gets_the_ticket(browse, actors):
    ct = browse("call_taker")
    response = ct.post("/konsol/panggilan/insiden", _new_incident_form())
    assert response.status_code == 201
    ticket = re.search(r'id="ticket">([A-Z0-9-]+)<', response.text).group(1)
    assert "call-saved" in response.headers["HX-Trigger"]
    found = actors["commander"].get("/api/v1/incidents").json()["items"]
    listed = next(i for i in found if i["ticket"] == ticket)
    assert listed["caller"] is None  # lists never carry the caller; one audited read does
    incident = actors["commander"].get(f"/api/v1/incidents/{listed['id']}").json()
    assert incident["type_code"] == "FIRE-BLDG"  # classified from the description
    assert incident["caller"]["phone"] == "+6281234567890"
    assert "DAMKAR" in response.text


def test_the_same_form_posted_twice_is_one_incident(browse, ctx):
    ct = browse("call_taker")
    before = _count(ctx, incidents)
    first = ct.post("/konsol/panggilan/insiden", _new_incident_form(form_key="same"))
    second = ct.post("/konsol/panggilan/insiden", _new_incident_form(form_key="same"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert _count(ctx, incidents) == before + 1


@pytest.mark.parametrize("field, value", [("description", ""), ("lat", "95"), ("phone", "12"),
                                          ("type_code", "NOPE")])
def test_a_bad_form_names_the_field_and_writes_nothing(browse, ctx, field, value):
    ct = browse("call_taker")
    before = (_count(ctx, incidents), _count(ctx, calls))
    response = ct.post("/konsol/panggilan/insiden", _new_incident_form(**{field: value}))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in ".".join(map(str, d["loc"])) for d in detail), detail
    assert (_count(ctx, incidents), _count(ctx, calls)) == before


def test_a_prank_is_one_post_and_shows_in_the_number_history(browse):
    ct = browse("call_taker")
    done = ct.post("/konsol/panggilan/hasil", {"outcome": "prank", "phone": "081299998888",
                                                "channel": "call"})
    assert done.status_code == 200
    assert "Prank" in done.headers["HX-Trigger-After-Swap"]
    assert 'id="ticket"' not in done.text  # no ticket card to read out for a prank
    history = ct.get("/konsol/panggilan/riwayat", params={"phone": "0812-9999-8888"})
    assert "prank: 1" in history.text


def test_out_of_area_records_where_the_call_went(browse, actors):
    ct = browse("call_taker")
    assert ct.post("/konsol/panggilan/hasil", {"outcome": "out_of_area", "phone": "081277776666",
                                               "transferred_to": "BALIKPAPAN"}).status_code == 200
    history = actors["call_taker"].get("/api/v1/callers/081277776666").json()
    assert history["calls"][0]["transferred_to"] == "BALIKPAPAN"


def test_typing_a_description_suggests_type_and_route(browse):
    ct = browse("call_taker")
    response = ct.post("/konsol/panggilan/saran", {"description": "ada yang tenggelam di sungai"})
    assert 'data-suggest-type="' in response.text
    assert "SAR" in response.text or "BPBD" in response.text


def test_desa_picker_tolerates_misspelling(browse):
    ct = browse("call_taker")
    response = ct.get("/konsol/panggilan/wilayah", params={"desa_q": "ptung"})
    assert 'data-label="Petung"' in response.text


def test_second_caller_sees_the_duplicate_and_is_linked(browse, actors, incident_body):
    first = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    ct = browse("call_taker")
    nearby = ct.get("/konsol/panggilan/duplikat", params={**PENAJAM, "type_code": "FIRE-BLDG"})
    assert first["ticket"] in nearby.text
    linked = ct.post("/konsol/panggilan/hasil", {"outcome": "duplicate", "incident_id": first["id"],
                                                 "phone": "081311112222"})
    assert linked.status_code == 200
    assert f'data-linked-ticket="{first["ticket"]}"' in linked.text  # the ticket to read out
    call = actors["call_taker"].get("/api/v1/callers/081311112222").json()["calls"][0]
    assert (call["outcome"], call["incident_id"]) == ("duplicate", first["id"])


def test_dispatcher_queue_shows_own_work_only(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    damkar, dlh = browse("damkar"), browse("dlh")
    assert fire["ticket"] in damkar.get("/konsol/dinas/antrean").text
    assert fire["ticket"] not in dlh.get("/konsol/dinas/antrean").text
    assert dlh.get(f"/konsol/insiden/{fire['id']}").status_code == 404
    assert dlh.post(f"/konsol/insiden/{fire['id']}/terima", {"agency_code": "DAMKAR"}).status_code == 404


def test_dispatcher_acknowledges_dispatches_and_reports_progress(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    d = browse("damkar")
    panel = d.get(f"/konsol/insiden/{fire['id']}")
    assert "Alt+A" in panel.text and "+6281234567890" in panel.text  # the lead sees the caller
    assert d.post(f"/konsol/insiden/{fire['id']}/terima").status_code == 200
    panel = d.get(f"/konsol/insiden/{fire['id']}").text
    assert 'id="recommendations"' in panel
    unit = re.search(r'data-recommended="DAMKAR-01".*?name="unit_id" value="([^"]+)"', panel, re.S).group(1)
    assert d.post(f"/konsol/insiden/{fire['id']}/kirim", {"unit_id": unit}).status_code == 200
    assert d.post(f"/konsol/insiden/{fire['id']}/progres", {"status": "on_scene"}).status_code == 200
    now = actors["damkar"].get(f"/api/v1/incidents/{fire['id']}").json()
    assert now["status"] == "on_scene"
    assert {a["agency_code"]: a["status"] for a in now["assignments"]}["DAMKAR"] == "on_scene"


def test_dispatcher_moves_a_unit_out_of_service_and_back(browse):
    d = browse("damkar")
    fleet = d.get("/konsol/dinas/unit").text
    unit = re.search(r'data-unit="DAMKAR-02".*?hx-post="/konsol/dinas/unit/([^/]+)/status"', fleet, re.S).group(1)
    out = d.post(f"/konsol/dinas/unit/{unit}/status", {"status": "out_of_service"})
    assert out.status_code == 200 and "tidak beroperasi" in out.text.split('data-unit="DAMKAR-02"')[1].split("</tr>")[0]
    assert d.post(f"/konsol/dinas/unit/{unit}/status", {"status": "on_scene"}).status_code == 409
    assert browse("dlh").post(f"/konsol/dinas/unit/{unit}/status", {"status": "available"}).status_code in (403, 404)


def test_place_search_finds_landmarks_and_villages(browse):
    ct = browse("call_taker")
    village = ct.get("/konsol/panggilan/wilayah", params={"desa_q": "Kel. Nipah2"}).text
    assert 'data-label="Nipah-Nipah"' in village


def test_support_agency_panel_hides_the_caller(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    panel = browse("dinkes").get(f"/konsol/insiden/{fire['id']}")
    assert panel.status_code == 200
    assert "6281234567890" not in panel.text and "Budi" not in panel.text


def test_decline_needs_a_reason_then_reaches_the_commander(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    d = browse("damkar")
    refused = d.post(f"/konsol/insiden/{fire['id']}/tolak", {"reason": ""})
    assert refused.status_code == 422 and "reason" in str(refused.json())
    assert d.post(f"/konsol/insiden/{fire['id']}/tolak", {"reason": "bukan kebakaran, hanya asap sampah"}).status_code == 200
    summary = browse("commander").get("/konsol/komando/ringkasan").text
    escalations = summary.split('id="escalations"')[1].split("</table>")[0]
    assert fire["ticket"] in escalations and "ditolak" in escalations


def test_commander_reroutes_from_the_panel(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    c = browse("commander")
    assert c.post(f"/konsol/insiden/{fire['id']}/alihkan", {"type_code": "FIRE-LAND"}).status_code == 200
    assert actors["commander"].get(f"/api/v1/incidents/{fire['id']}").json()["type_code"] == "FIRE-LAND"
    assert browse("damkar").post(f"/konsol/insiden/{fire['id']}/alihkan", {"type_code": "FLOOD"}).status_code == 403


def test_notes_are_escaped_everywhere(browse, actors, incident_body):
    payload = '<script>window.pwned=1</script><img src=x onerror=alert(1)>'
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body(description=payload)).json()
    d = browse("damkar")
    assert d.post(f"/konsol/insiden/{fire['id']}/catatan", {"text": payload}).status_code == 200
    panel = d.get(f"/konsol/insiden/{fire['id']}").text
    assert "<script>window.pwned" not in panel and "&lt;script&gt;" in panel
    assert "<img src=x" not in panel


def test_map_data_has_no_caller_data_and_respects_scope(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    everything = browse("commander").get("/konsol/peta/insiden.json").json()
    tickets = {f["properties"].get("ticket") for f in everything["features"]}
    assert fire["ticket"] in tickets
    assert "6281234567890" not in str(everything) and "Budi" not in str(everything)
    dlh = browse("dlh").get("/konsol/peta/insiden.json").json()
    assert fire["ticket"] not in {f["properties"].get("ticket") for f in dlh["features"]}


def test_command_summary_counts(browse, actors, incident_body):
    actors["call_taker"].post("/api/v1/incidents", json=incident_body())
    summary = browse("commander").get("/konsol/komando/ringkasan").text
    assert re.search(r'data-count="new"><span class="muted">[^<]+</span><b>1</b>', summary)
    assert "DAMKAR" in summary.split('id="agency-load"')[1]


def test_opening_a_panel_that_shows_the_caller_is_audited(browse, actors, incident_body, ctx):
    from sqlalchemy import select

    from siaga112.models import audit_log

    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    browse("damkar").get(f"/konsol/insiden/{fire['id']}")  # the lead agency sees the caller
    browse("dinkes").get(f"/konsol/insiden/{fire['id']}")  # a support agency does not
    with ctx.db.transaction(write=False) as conn:
        viewers = {r.actor for r in conn.execute(select(audit_log.c.actor).where(
            audit_log.c.action == "incident.viewed", audit_log.c.target_id == fire["id"]))}
    assert viewers == {"damkar"}
