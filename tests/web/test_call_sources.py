"""Calls announced by the PBX and citizen reports, handled on the call-taker's screen."""
from __future__ import annotations

import re

from web_helpers import post_webhook


def _ring(client, call_id: str, phone: str, *, agent: str | None = "call_taker"):
    assert post_webhook(client, "telephony", {"call_id": call_id, "event": "ringing",
                                              "caller": phone, "trunk": "112-PPU"}).status_code < 300
    if agent:
        assert post_webhook(client, "telephony", {"call_id": call_id, "event": "answered",
                                                  "caller": phone, "agent": agent}).status_code < 300


def test_answered_call_is_offered_with_its_number(browse, client):
    _ring(client, "pbx-1", "081233334444")
    ct = browse("call_taker")
    waiting = ct.get("/konsol/panggilan/antrean").text
    session_id = re.search(r'data-take-session="([^"]+)"', waiting).group(1)
    popped = ct.get(f"/konsol/panggilan/sesi/{session_id}").json()
    assert popped["phone"] == "+6281233334444"
    assert browse("damkar").get(f"/konsol/panggilan/sesi/{session_id}").status_code == 403


def test_outcome_of_a_pbx_call_keeps_its_times(browse, client, actors):
    _ring(client, "pbx-2", "081233335555")
    ct = browse("call_taker")
    session_id = re.search(r'data-take-session="([^"]+)"', ct.get("/konsol/panggilan/antrean").text).group(1)
    assert ct.post("/konsol/panggilan/hasil", {"outcome": "silent", "call_session_id": session_id,
                                               "phone": "081233335555"}).status_code == 200
    session = actors["call_taker"].get(f"/api/v1/call-sessions/{session_id}").json()
    assert session["call_id"] and session["answer_seconds"] is not None
    assert f'data-take-session="{session_id}"' not in ct.get("/konsol/panggilan/antrean").text
    history = actors["call_taker"].get("/api/v1/callers/081233335555").json()
    assert history["outcome_counts"] == {"silent": 1}  # one call, not two


def test_incident_from_a_pbx_call_is_linked_to_it(browse, client, actors):
    _ring(client, "pbx-3", "081233336666")
    ct = browse("call_taker")
    session_id = re.search(r'data-take-session="([^"]+)"', ct.get("/konsol/panggilan/antrean").text).group(1)
    created = ct.post("/konsol/panggilan/insiden", {
        "phone": "081233336666", "description": "kebakaran rumah", "lat": "-1.2563", "lon": "116.7684",
        "form_key": "pbx-3", "call_session_id": session_id})
    assert created.status_code == 201
    session = actors["call_taker"].get(f"/api/v1/call-sessions/{session_id}").json()
    assert session["incident_id"]


def test_citizen_report_is_verified_from_the_call_form(browse, client, actors):
    sent = client.post("/api/v1/public/reports", json={
        "phone": "081244445555", "description": "ada pohon tumbang menutup jalan", "lat": -1.2563,
        "lon": 116.7684})
    assert sent.status_code == 201, sent.text
    ct = browse("call_taker")
    waiting = ct.get("/konsol/panggilan/antrean").text
    report_id = re.search(r'data-take-report="([^"]+)"', waiting).group(1)
    report = ct.get(f"/konsol/panggilan/laporan/{report_id}").json()
    assert report["description"] == "ada pohon tumbang menutup jalan"
    created = ct.post("/konsol/panggilan/insiden", {
        "phone": report["phone"], "description": report["description"], "lat": str(report["lat"]),
        "lon": str(report["lon"]), "report_id": report_id, "form_key": "r-1"})
    assert created.status_code == 201
    verified = actors["call_taker"].get(f"/api/v1/citizen-reports/{report_id}").json()
    assert verified["status"] == "verified" and verified["incident_id"]
    public = client.get(f"/api/v1/public/tickets/{sent.json()['ticket']}").json()
    assert any(s["code"] == "forwarded" and s["reached"] for s in public["stages"])


def test_prank_report_is_closed_with_one_post(browse, client, actors):
    sent = client.post("/api/v1/public/reports", json={"phone": "081244446666", "description": "halo halo tes", "address": "Jl. Provinsi"})
    ct = browse("call_taker")
    report_id = re.search(r'data-take-report="([^"]+)"', ct.get("/konsol/panggilan/antrean").text).group(1)
    assert ct.post("/konsol/panggilan/hasil", {"outcome": "prank", "report_id": report_id}).status_code == 200
    closed = actors["call_taker"].get(f"/api/v1/citizen-reports/{report_id}").json()
    assert (closed["status"], closed["outcome"]) == ("closed", "prank")
    assert sent.json()["ticket"]
