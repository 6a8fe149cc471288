"""Reporters hear of their ticket's progress by SMS/WhatsApp, through an outbox that retries with
backoff and sends each message once, across restarts; against a real HTTP server on loopback."""
from __future__ import annotations

from datetime import timedelta

from citizens_helpers import partner, settings, sms, webhook  # noqa: F401  fixtures
from fastapi.testclient import TestClient
from sqlalchemy import select

from siaga112.app import create_app
from siaga112.bootstrap import build_context
from siaga112.db import utcnow
from siaga112.models import notification_outbox
from siaga112.notify.service import build_adapters, plan, send_due

API = "/api/v1"


def run(ctx, *, later: float = 0) -> int:
    """One planner and sender round, `later` seconds from now (to reach backed-off retries)."""
    plan(ctx)
    return send_due(ctx, build_adapters(ctx.settings), now=utcnow() + timedelta(seconds=later))


def outbox(ctx) -> list:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(notification_outbox).order_by(notification_outbox.c.id)).all()


def test_sms_reporter_hears_each_stage_once_even_after_a_restart(actors, webhook, ctx, partner, settings):
    ticket = webhook("sms", sms("rumah terbakar di Waru", phone="081255551111")).json()["ticket"]
    assert run(ctx) == 1
    first = partner.requests[0]
    assert first["path"] == "/sms" and first["json"]["to"] == "+6281255551111"
    assert first["headers"]["Authorization"] == "Bearer gw-token"
    assert ticket in first["json"]["text"] and "kami terima" in first["json"]["text"]
    assert f"https://112.ppu.example/lacak/{ticket}" in first["json"]["text"]
    ct = actors["call_taker"]
    report = ct.get(f"{API}/citizen-reports").json()[0]
    iid = ct.post(f"{API}/citizen-reports/{report['id']}/verify",
                  json={"location": {"lat": -1.2563, "lon": 116.7684}}).json()["incident_id"]
    assert actors["damkar"].post(f"{API}/incidents/{iid}/assignments/DAMKAR/acknowledge").status_code == 200
    assert run(ctx) == 1  # one message for the stage reached, not one per step
    assert "Dinas Penanggulangan Kebakaran" in partner.sms_texts()[-1]
    assert "sudah menerima laporan" in partner.sms_texts()[-1]
    # A new process on the same database sends nothing twice.
    restarted = build_context(settings, prepare=False)
    try:
        assert run(restarted) == 0 and run(restarted, later=3600) == 0
    finally:
        restarted.db.dispose()
    assert len(partner.requests) == 2 and [r.status for r in outbox(ctx)] == ["sent", "sent"]


def test_failures_are_retried_with_backoff_and_delivered_once(actors, webhook, ctx, partner):
    partner.fail(2, 503)
    webhook("sms", sms("banjir setinggi lutut", phone="081255552222"))
    assert run(ctx) == 0
    row = outbox(ctx)[0]
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "HTTP 503"
    assert row.due_at > utcnow()  # backed off, not retried at once
    assert run(ctx) == 0 and len(partner.requests) == 1
    assert run(ctx, later=10) == 0 and outbox(ctx)[0].attempts == 2
    assert run(ctx, later=60) == 1
    assert [r["answer"] for r in partner.requests] == [503, 503, 200]
    assert len({r["json"]["reference"] for r in partner.requests}) == 1
    assert outbox(ctx)[0].status == "sent" and len(partner.delivered) == 1


def test_a_lost_response_is_retried_with_the_same_reference(actors, webhook, ctx, partner):
    partner.drop(1)  # the gateway takes the message, the answer never arrives
    webhook("sms", sms("pohon tumbang", phone="081255553333"))
    assert run(ctx) == 0 and outbox(ctx)[0].status == "pending"
    assert run(ctx, later=60) == 1
    refs = [r["json"]["reference"] for r in partner.requests]
    assert len(refs) == 2 and refs[0] == refs[1] and len(partner.delivered) == 1


def test_permanent_failures_stop(actors, webhook, ctx, partner):
    partner.fail(1, 400)
    webhook("sms", sms("ada ular", phone="081255554444"))
    run(ctx)
    assert outbox(ctx)[0].status == "failed" and run(ctx, later=3600) == 0


def test_replying_berhenti_stops_messages_and_the_ticket_page_can_too(actors, webhook, ctx, partner, client):
    ticket = webhook("sms", sms("jalan longsor", phone="081255555555")).json()["ticket"]
    assert webhook("sms", sms("berhenti", phone="081255555555")).json()["kind"] == "opt_out"
    assert run(ctx) == 0 and partner.requests == []
    assert webhook("sms", sms("MULAI", phone="081255555555")).json()["kind"] == "opt_in"
    other = webhook("sms", {"from": "081255556666", "text": "banjir", "message_id": "o-1"}).json()["ticket"]
    r = client.post(f"{API}/public/tickets/{other}/opt-out")
    assert r.status_code == 200 and r.json()["stopped"] == 1
    assert run(ctx) == 0 and partner.requests == []
    assert {r.status for r in outbox(ctx)} <= {"cancelled"}
    assert client.post(f"{API}/public/tickets/{ticket}/opt-out").status_code == 200


def test_whatsapp_reporters_get_a_template_in_bahasa_indonesia(actors, webhook, ctx, partner):
    import time

    webhook("whatsapp", {"entry": [{"changes": [{"value": {"messages": [{
        "from": "6281377778888", "id": "wamid.N1", "timestamp": str(int(time.time())), "type": "text",
        "text": {"body": "ada kecelakaan motor"}}]}}]}]})
    assert run(ctx) == 1
    req = partner.requests[0]
    assert req["path"] == "/wa/1234/messages" and req["headers"]["Authorization"] == "Bearer wa-token"
    body = req["json"]
    assert body["to"] == "6281377778888" and body["type"] == "template"
    assert body["template"]["name"] == "siaga112_status" and body["template"]["language"]["code"] == "id"
    params = [p["text"] for p in body["template"]["components"][0]["parameters"]]
    assert "sudah kami terima" in params[0] and params[2].startswith("https://112.ppu.example/lacak/")
    assert outbox(ctx)[0].provider_id == "wamid.1"


def test_callers_whose_call_became_an_incident_are_told_by_the_running_worker(settings, partner, incident_body, tokens):
    settings.notify_interval_seconds = 0.05
    ctx = build_context(settings, prepare=False)
    try:
        with TestClient(create_app(settings, context=ctx)) as client:
            inc = client.post(f"{API}/incidents", json=incident_body(caller={"phone": "081299990000"}),
                              headers={"Authorization": f"Bearer {tokens['call_taker']}"}).json()
            seen = partner.wait_for(lambda reqs: len(reqs) >= 1)
    finally:
        ctx.db.dispose()
    assert seen[0]["json"]["to"] == "+6281299990000" and inc["ticket"] in seen[0]["json"]["text"]
