"""Every view of a caller's number or name is audited, and console pages are never cached
(issue 13): citizen-report list and detail, call-session list, the console's report JSON."""
from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "citizens"))
from citizens_helpers import partner, settings, sms, webhook  # noqa: E402,F401  fixtures
from tests_security_helpers import entries  # noqa: E402

from siaga112.audit.service import caller_ref  # noqa: E402

API = "/api/v1"


def _views(ctx, action: str, phone: str) -> int:
    ref = caller_ref(ctx.settings, phone)
    return sum(1 for e in entries(ctx, target=ref) if e.action == action)


def test_citizen_report_list_and_detail_are_audited_views(actors, webhook, ctx):
    webhook("sms", sms("pohon tumbang menutup jalan", phone="081255553131"))
    ct = actors["call_taker"]
    listed = ct.get(f"{API}/citizen-reports")
    assert listed.status_code == 200 and listed.json()[0]["reporter_phone"] == "+6281255553131"
    assert _views(ctx, "citizen_report.viewed", "+6281255553131") == 1
    assert ct.get(f"{API}/citizen-reports/{listed.json()[0]['id']}").status_code == 200
    assert _views(ctx, "citizen_report.viewed", "+6281255553131") == 2


def test_call_session_list_is_an_audited_view(actors, webhook, ctx):
    r = webhook("telephony", {"call_id": "pbx-audit", "event": "ringing",
                              "at": datetime.now(UTC).isoformat(), "caller": "081277773131"})
    assert r.status_code == 200, r.text
    listed = actors["commander"].get(f"{API}/call-sessions")
    assert listed.status_code == 200 and listed.json()[0]["caller_phone"] == "+6281277773131"
    assert _views(ctx, "call_session.viewed", "+6281277773131") == 1


def test_console_report_json_is_audited_and_console_pages_are_not_cached(client, webhook, ctx):
    webhook("sms", sms("ada ular masuk rumah", phone="081255554141"))
    assert client.post("/login", data={"username": "call_taker", "password": "rahasia-112"},
                       follow_redirects=False).status_code == 303
    page = client.get("/konsol/panggilan")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    waiting = client.get("/konsol/panggilan/antrean")
    assert waiting.headers["cache-control"] == "no-store"
    # The waiting list shows no number or name: it is not a view of the caller.
    assert _views(ctx, "citizen_report.viewed", "+6281255554141") == 0
    report_id = waiting.text.split('data-take-report="', 1)[1].split('"', 1)[0]
    shown = client.get(f"/konsol/panggilan/laporan/{report_id}")
    assert shown.json()["phone"] == "+6281255554141"
    assert shown.headers["cache-control"] == "no-store"
    assert _views(ctx, "citizen_report.viewed", "+6281255554141") == 1


def test_hand_over_list_detail_and_export_are_audited_views(actors, webhook, ctx):
    # A hand-over record carries the caller's number and name (the EIDD person component).
    session = webhook("telephony", {"call_id": "pbx-handover-audit", "event": "ringing",
                                    "caller": "081244443131"}).json()
    ct = actors["call_taker"]
    made = ct.post(f"{API}/handovers", json={
        "target": "BALIKPAPAN", "call_session_id": session["session_id"],
        "location": {"lat": -1.2379, "lon": 116.8529}, "description": "kecelakaan di Balikpapan"})
    assert made.status_code == 201, made.text
    before = _views(ctx, "handover.viewed", "+6281244443131")
    listed = ct.get(f"{API}/handovers")
    assert listed.json()[0]["document"]["personComponent"][0]["phone"] == "+6281244443131"
    assert ct.get(f"{API}/handovers/{made.json()['id']}").status_code == 200
    assert ct.get(f"{API}/handovers/{made.json()['id']}/eidd").status_code == 200
    assert _views(ctx, "handover.viewed", "+6281244443131") == before + 3


def test_the_number_block_list_and_a_block_are_audited_views(actors, ctx):
    ct = actors["call_taker"]
    proposed = ct.post(f"{API}/number-blocks", json={"phone": "081299993131", "reason": "iseng berulang"})
    assert proposed.status_code == 201, proposed.text
    assert _views(ctx, "number_block.viewed", "+6281299993131") == 1  # the answer shows it
    listed = ct.get(f"{API}/number-blocks")
    assert listed.status_code == 200 and listed.json()[0]["phone"] == "+6281299993131"
    assert _views(ctx, "number_block.viewed", "+6281299993131") == 2
    assert ct.get(f"{API}/number-blocks/{proposed.json()['id']}").status_code == 200
    assert _views(ctx, "number_block.viewed", "+6281299993131") == 3
