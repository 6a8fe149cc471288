"""The live event stream: each screen sees what it may, in order, and misses nothing on resume."""
from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/api/v1"


def post(live_server, token, path, body=None):
    r = httpx.post(f"{live_server}{API}{path}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, r.text
    return r.json()


def test_dispatcher_sees_its_agency_incidents_live_and_nothing_else(live_server, tokens, open_stream,
                                                                    incident_body):
    damkar = open_stream("damkar")
    dlh = open_stream("dlh")
    fire = post(live_server, tokens["call_taker"], "/incidents", incident_body())
    waste = post(live_server, tokens["call_taker"], "/incidents",
                 incident_body(type_code="POLLUTION", description="limbah pabrik ke sungai"))
    sentinel = post(live_server, tokens["call_taker"], "/incidents", incident_body())

    seen = damkar.until(lambda e: e["event"] == "incident.created" and e["data"]["id"] == sentinel["id"])
    names = [(e["event"], e["data"].get("id") or e["data"].get("incident_id")) for e in seen]
    assert ("incident.created", fire["id"]) in names
    assert ("assignment.created", fire["id"]) in names
    assert all(i != waste["id"] for _, i in names)
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen)
    created = next(e for e in seen if e["event"] == "incident.created")
    assert "caller" not in created["data"] and "+62" not in str(created["data"])

    dlh_seen = dlh.until(lambda e: e["event"] == "assignment.created")
    assert {e["data"].get("id") or e["data"].get("incident_id") for e in dlh_seen} == {waste["id"]}


def test_actions_are_announced_and_a_rejected_action_is_not(live_server, tokens, open_stream,
                                                            incident_body):
    commander = open_stream("commander")
    fire = post(live_server, tokens["call_taker"], "/incidents", incident_body())
    other = post(live_server, tokens["call_taker"], "/incidents", incident_body())
    units = httpx.get(f"{live_server}{API}/units", params={"agency_code": "DAMKAR"},
                      headers={"Authorization": f"Bearer {tokens['damkar']}"}).json()
    post(live_server, tokens["damkar"], f"/incidents/{fire['id']}/assignments/DAMKAR/acknowledge")
    post(live_server, tokens["damkar"], f"/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
         {"unit_id": units[0]["id"]})
    clash = httpx.post(f"{live_server}{API}/incidents/{other['id']}/assignments/DAMKAR/dispatch",
                       json={"unit_id": units[0]["id"]},
                       headers={"Authorization": f"Bearer {tokens['damkar']}"})
    assert clash.status_code == 409
    post(live_server, tokens["pln"], f"/incidents/{fire['id']}/assignments/PLN/decline",
         {"reason": "bukan gangguan jaringan"})
    seen = commander.until(lambda e: e["event"] == "assignment.declined")
    names = [e["event"] for e in seen if (e["data"].get("incident_id") or e["data"].get("id")) == fire["id"]]
    for expected in ("incident.created", "assignment.acknowledged", "assignment.dispatched",
                     "incident.status_changed", "assignment.declined"):
        assert expected in names
    assert "unit.updated" in [e["event"] for e in seen]
    dispatched_other = [e for e in seen if e["event"] == "assignment.dispatched"
                        and e["data"]["incident_id"] == other["id"]]
    assert dispatched_other == []


def test_reconnecting_with_last_event_id_resumes_without_loss_or_repeat(live_server, tokens,
                                                                        open_stream, incident_body):
    # `first` never disconnects: it is the record of everything, in order.
    first = open_stream("commander")
    known: list[int] = []

    def create_fires(n: int) -> None:
        for _ in range(n):
            post(live_server, tokens["call_taker"], "/incidents", incident_body())
        for _ in range(5 * n):  # each fire: incident.created + 4 assignment.created
            event = first.next(timeout=5)
            assert event is not None
            known.append(event["id"])

    create_fires(4)
    assert len(known) == len(set(known)) == 20 and known == sorted(known)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cut=st.integers(min_value=0, max_value=19), extra=st.integers(0, 3))
    def resume_from(cut, extra):
        before = len(known)
        resumed = open_stream("commander", last_event_id=known[cut])
        create_fires(extra)
        expected = known[cut + 1:]
        got = [resumed.next(timeout=5) for _ in range(len(expected))]
        assert all(got), got
        assert [e["id"] for e in got] == expected
        assert resumed.next(timeout=0.2) is None  # and nothing twice
        assert len(known) == before + 5 * extra
        resumed.close()

    resume_from()


def test_bad_last_event_id_is_refused(live_server, tokens):
    r = httpx.get(f"{live_server}{API}/events", headers={"Authorization": f"Bearer {tokens['commander']}",
                                                          "Last-Event-ID": "abc"})
    assert r.status_code == 422
    assert httpx.get(f"{live_server}{API}/events").status_code == 401


def test_units_freed_when_an_incident_ends_are_announced(live_server, tokens, open_stream, incident_body):
    commander = open_stream("commander")
    fire = post(live_server, tokens["call_taker"], "/incidents", incident_body())
    unit = httpx.get(f"{live_server}{API}/units", params={"agency_code": "DAMKAR"},
                     headers={"Authorization": f"Bearer {tokens['damkar']}"}).json()[0]
    post(live_server, tokens["damkar"], f"/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
         {"unit_id": unit["id"]})
    post(live_server, tokens["commander"], f"/incidents/{fire['id']}/status", {"status": "cancelled"})
    seen = commander.until(lambda e: e["event"] == "unit.updated" and e["data"]["status"] == "available")
    assert seen[-1]["data"]["id"] == unit["id"] and seen[-1]["data"]["incident_id"] is None


def test_a_dispatcher_resuming_from_the_start_gets_only_its_agency_history(live_server, tokens, open_stream,
                                                                          incident_body, app):
    fires = [post(live_server, tokens["call_taker"], "/incidents", incident_body())["id"] for _ in range(3)]
    post(live_server, tokens["call_taker"], "/incidents",
         incident_body(type_code="POLLUTION", description="limbah ke sungai"))
    # As after a restart: nothing in the hub's memory, the history comes from the database.
    app.state.hub.recent.clear()
    history = open_stream("damkar", last_event_id=0)
    seen = history.until(lambda e: e["event"] == "assignment.created"
                         and e["data"]["incident_id"] == fires[-1] and e["data"]["agency_code"] == "DAMKAR")
    mentioned = {e["data"].get("incident_id") or e["data"].get("id") for e in seen}
    assert mentioned == set(fires)
    assert [e["id"] for e in seen] == sorted(e["id"] for e in seen)
