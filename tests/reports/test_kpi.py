"""KPIs from recorded timestamps: every expected figure below is worked out from the moments
the test wrote, in the comments beside it."""
from __future__ import annotations

import pytest

from kpi_history import PENAJAM_DESA, SEPAKU_DESA, seed_day

API = "/api/v1/kpi"
PERIOD = {"from": "2026-11-02", "to": "2026-11-03"}  # one day, WITA


@pytest.fixture
def history(ctx):
    with ctx.db.transaction() as conn:
        return seed_day(conn)


def test_totals_follow_from_the_recorded_timestamps(actors, history):
    r = actors["commander"].get(API, params=PERIOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"].startswith("2026-11-02T00:00:00+08:00")
    totals = body["totals"]
    calls = totals["calls"]
    assert calls["total"] == 6
    assert calls["by_outcome"] == {"emergency": 2, "information": 1, "prank": 1, "silent": 1, "misdial": 1,
                                   "out_of_area": 0, "duplicate": 0}
    # False calls: prank + silent + misdial = 3 of 6; without the silent one: 2 of the 5 that spoke.
    assert (calls["false_calls"], calls["false_call_share"]) == (3, 0.5)
    assert (calls["false_calls_excluding_silent"], calls["false_call_share_excluding_silent"]) == (2, 0.4)
    # Answer times 5, 12, 18, 25, 8 s (the WhatsApp message was never "answered").
    assert calls["answer"] == {"count": 5, "mean_seconds": 13.6, "median_seconds": 12.0, "p90_seconds": 25.0}
    assert (calls["answered_within_10s"], calls["answered_within_15s"], calls["answered_within_20s"]) == (0.4, 0.6, 0.8)
    assert calls["slowest_10pct_mean_seconds"] == 25.0
    incidents = totals["incidents"]
    assert incidents["total"] == 2
    # Answer to first dispatch: 50 - 5 = 45 s and 462 - 312 = 150 s; one of two within 60 s.
    assert incidents["processing"]["count"] == 2 and incidents["processing"]["mean_seconds"] == 97.5
    assert incidents["dispatched_within_60s"] == 0.5
    # Only the fire was closed, an hour after it was created.
    assert incidents["closing"] == {"count": 1, "mean_seconds": 3600.0, "median_seconds": 3600.0, "p90_seconds": 3600.0}
    response = totals["response"]
    # Acknowledged after 30 s (on time) and 200 s (late); DINKES missed its deadline.
    assert response["acknowledgement"]["count"] == 2 and response["acknowledgement"]["mean_seconds"] == 115.0
    assert (response["judged"], response["on_time"], response["sla_compliance"]) == (3, 1, 0.3333)
    assert response["arrival"]["count"] == 1 and response["arrival"]["mean_seconds"] == 600.0


def test_sla_compliance_per_agency(actors, history):
    body = actors["commander"].get(API, params={**PERIOD, "group_by": "agency"}).json()
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {"DAMKAR", "BPBD", "DINKES"}
    assert groups["DAMKAR"]["response"]["sla_compliance"] == 1.0
    assert groups["BPBD"]["response"]["sla_compliance"] == 0.0
    assert groups["DINKES"]["response"] == {**groups["DINKES"]["response"], "judged": 1, "on_time": 0}
    # Per agency, processing runs to that agency's own dispatch: BPBD 150 s.
    assert groups["BPBD"]["incidents"]["processing"]["mean_seconds"] == 150.0
    assert groups["DINKES"]["incidents"]["processing"]["count"] == 0
    assert all(g["calls"] is None for g in body["groups"])  # calls belong to no agency
    assert groups["DAMKAR"]["label"] != "DAMKAR"  # the agency's name, not its code


def test_groups_by_place_type_channel_and_hour(actors, history):
    commander = actors["commander"]
    by_kec = {g["key"]: g for g in commander.get(API, params={**PERIOD, "group_by": "kecamatan"}).json()["groups"]}
    assert by_kec["64.09.01"]["label"] == "Penajam" and by_kec["64.09.04"]["label"] == "Sepaku"
    assert by_kec["64.09.01"]["calls"]["total"] == 1 and by_kec["64.09.04"]["incidents"]["total"] == 1
    # The four calls that made no incident belong to no kecamatan.
    assert by_kec[None]["calls"]["total"] == 4 and by_kec[None]["label"] == "Tanpa insiden"
    by_type = {g["key"]: g for g in commander.get(API, params={**PERIOD, "group_by": "type"}).json()["groups"]}
    assert by_type["FLOOD"]["response"]["assignments"] == 2
    by_channel = {g["key"]: g for g in commander.get(API, params={**PERIOD, "group_by": "channel"}).json()["groups"]}
    assert by_channel["whatsapp"]["calls"]["total"] == 1 and by_channel["call"]["calls"]["total"] == 5
    by_hour = {g["key"]: g for g in commander.get(API, params={**PERIOD, "group_by": "hour"}).json()["groups"]}
    # 09.00 WITA: the first two calls and both incidents; the prank at 09.16, silent 09.33, misdial 09.50.
    assert by_hour["09"]["calls"]["total"] == 5 and by_hour["09"]["incidents"]["total"] == 2
    assert by_hour["10"]["calls"]["total"] == 1
    by_desa = {g["key"] for g in commander.get(API, params={**PERIOD, "group_by": "desa"}).json()["groups"]}
    assert by_desa == {PENAJAM_DESA, SEPAKU_DESA, None}


def test_an_agency_reads_only_its_own_figures(actors, history):
    body = actors["damkar"].get(API, params={**PERIOD, "group_by": "agency"}).json()
    assert body["agency_scope"] == "DAMKAR" and body["totals"]["calls"] is None
    assert [g["key"] for g in body["groups"]] == ["DAMKAR"]
    assert body["totals"]["incidents"]["total"] == 1
    assert actors["telephony"].get(API, params=PERIOD).status_code == 403


@pytest.mark.parametrize(("params", "field"), [
    ({"to": "2026-11-03"}, "from"),
    ({"from": "2026-11-02"}, "to"),
    ({"from": "2026-11-03", "to": "2026-11-02"}, "to"),
    ({"from": "2026-11-02T09:00:00", "to": "2026-11-03"}, "from"),
    ({"from": "kemarin", "to": "2026-11-03"}, "from"),
    ({"from": "2025-01-01", "to": "2026-11-03"}, "to"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ({**PERIOD, "group_by": "planet"}, "group_by"),
])
def test_bad_input_names_the_field(actors, params, field):
    r = actors["commander"].get(API, params=params)
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["query", field]]
