"""SMS and WhatsApp webhooks make reports for the call-taker's queue; every webhook is signed."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from citizens_helpers import SECRETS, WA_APP_SECRET, partner, settings, sms, webhook  # noqa: F401  fixtures
from sqlalchemy import func, select

from siaga112.models import citizen_reports, event_log, inbound_messages, webhook_nonces

API = "/api/v1"


def count(ctx, table) -> int:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_sms_makes_one_report_however_often_the_gateway_retries(actors, webhook, ctx, client):
    first = sms("Tolong ada kebakaran rumah di RT 05 Nipah-Nipah", message_id="gw-1")
    r = webhook("sms", first)
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "report" and not r.json()["duplicate"]
    again = webhook("sms", first)  # the gateway retries: new nonce, same message id
    assert again.json()["duplicate"] and again.json()["ticket"] == r.json()["ticket"]
    more = webhook("sms", sms("dekat masjid Al-Ikhlas", message_id="gw-2"))
    assert more.json()["ticket"] == r.json()["ticket"]
    queue = actors["call_taker"].get(f"{API}/citizen-reports").json()
    assert len(queue) == 1 and queue[0]["text"].endswith("dekat masjid Al-Ikhlas")
    assert queue[0]["reporter_phone"] == "+6281255550001" and queue[0]["status"] == "waiting"
    with ctx.db.transaction(write=False) as conn:
        names = [e.name for e in conn.execute(select(event_log.c.name, event_log.c.data)
                                               .where(event_log.c.name.like("report.%"))
                                               .order_by(event_log.c.id))]
        data = conn.execute(select(event_log.c.data).where(event_log.c.name == "report.created")).scalar()
    assert names == ["report.created", "report.updated"]
    assert "+6281255550001" not in json.dumps(data)
    assert actors["damkar"].get(f"{API}/citizen-reports").status_code == 403


def test_verifying_a_report_makes_an_incident_the_reporter_can_follow(actors, webhook, client):
    ticket = webhook("sms", sms("rumah terbakar api besar")).json()["ticket"]
    report = actors["call_taker"].get(f"{API}/citizen-reports").json()[0]
    no_place = actors["call_taker"].post(f"{API}/citizen-reports/{report['id']}/verify", json={})
    assert no_place.status_code == 422 and "location" in no_place.text
    done = actors["call_taker"].post(f"{API}/citizen-reports/{report['id']}/verify",
                                     json={"location": {"lat": -1.2563, "lon": 116.7684}})
    assert done.status_code == 200 and done.json()["status"] == "verified"
    incident = actors["commander"].get(f"{API}/incidents/{done.json()['incident_id']}").json()
    assert incident["channel"] == "sms" and incident["caller"]["phone"] == "+6281255550001"
    assert incident["type_code"] == "FIRE-BLDG"
    public = client.get(f"{API}/public/tickets/{ticket}").json()
    assert public["status"] == "forwarded" and public["ticket"] == ticket
    twice = actors["call_taker"].post(f"{API}/citizen-reports/{report['id']}/verify", json={})
    assert twice.status_code == 409
    assert actors["call_taker"].get(f"{API}/citizen-reports").json() == []


def test_a_report_repeating_an_open_incident_is_linked_not_doubled(actors, webhook, incident_body):
    inc = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    webhook("sms", sms("ada api di dekat pasar", phone="081311112222"))
    report = actors["call_taker"].get(f"{API}/citizen-reports").json()[0]
    r = actors["call_taker"].post(f"{API}/citizen-reports/{report['id']}/verify", json={"incident_id": inc["id"]})
    assert r.status_code == 200 and r.json()["incident_id"] == inc["id"]
    assert len(actors["call_taker"].get(f"{API}/incidents").json()["items"]) == 1


def test_closing_reports_records_the_outcome_and_proposes_a_block(actors, webhook, ctx):
    ct = actors["call_taker"]
    for n in range(3):
        webhook("sms", sms(f"iseng {n}", phone="081299998888"))
        report = ct.get(f"{API}/citizen-reports").json()[0]
        r = ct.post(f"{API}/citizen-reports/{report['id']}/close", json={"outcome": "prank"})
        assert r.status_code == 200 and r.json()["status"] == "closed"
    assert ct.get(f"{API}/callers/081299998888").json()["outcome_counts"] == {"prank": 3}
    blocks = ct.get(f"{API}/number-blocks?status=proposed").json()
    assert [b["phone"] for b in blocks] == ["+6281299998888"]
    bad = ct.post(f"{API}/citizen-reports/{report['id']}/close", json={"outcome": "emergency"})
    assert bad.status_code == 422


def test_bad_signatures_replays_and_stale_requests_write_nothing(webhook, ctx, capsys):
    body = sms("kebakaran", phone="081244443333")
    assert webhook("sms", body, secret="wrong").status_code == 401
    assert webhook("sms", body, timestamp=int(time.time()) - 3600).status_code == 401
    assert webhook("sms", body, headers={"X-Siaga-Signature": ""}).status_code == 401
    assert webhook("telephony", {"call_id": "c1", "event": "ringing"}, secret=SECRETS["sms"]).status_code == 401
    ok = webhook("sms", body, nonce="nonce-used-once-1")
    assert ok.status_code == 200
    replay = webhook("sms", sms("lagi", phone="081244443333"), nonce="nonce-used-once-1")
    assert replay.status_code == 401 and replay.json() == {"detail": "webhook signature rejected"}
    assert count(ctx, citizen_reports) == 1 and count(ctx, inbound_messages) == 1
    assert count(ctx, webhook_nonces) == 1
    logs = capsys.readouterr()
    out = logs.out + logs.err
    assert "webhook_rejected" in out and "bad_signature" in out and "replayed_nonce" in out
    assert "81244443333" not in out and "kebakaran" not in out


def test_a_webhook_without_a_configured_secret_is_refused(webhook, app):
    app.state.ctx.settings.webhook_secrets = {}
    assert webhook("sms", sms("halo")).status_code == 401


def test_invalid_sms_bodies_answer_422_naming_the_field(webhook, ctx):
    r = webhook("sms", {"from": "12", "text": "x", "message_id": "m1"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "from"]
    r = webhook("sms", {"from": "081255550001", "message_id": "m2"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "text"]
    assert count(ctx, citizen_reports) == 0 and count(ctx, webhook_nonces) == 0


def wa_payload(*messages, name="Pak Amir", wa_id="6281366667777") -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1234"},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": list(messages)}}]}]}


def test_whatsapp_text_then_location_make_one_report_with_the_pin(actors, webhook, client):
    now = str(int(time.time()))
    text = {"from": "6281366667777", "id": "wamid.A1", "timestamp": now, "type": "text",
            "text": {"body": "Ada orang tenggelam di sungai"}}
    pin = {"from": "6281366667777", "id": "wamid.A2", "timestamp": now, "type": "location",
           "location": {"latitude": -1.2563, "longitude": 116.7684, "name": "Dermaga"}}
    assert webhook("whatsapp", wa_payload(text)).status_code == 200
    # Meta's own signature is accepted too.
    body = json.dumps(wa_payload(pin)).encode()
    sig = "sha256=" + hmac.new(WA_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    r = client.post(f"{API}/webhooks/whatsapp", content=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
    assert r.status_code == 200, r.text
    replay = client.post(f"{API}/webhooks/whatsapp", content=body,
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig})
    assert replay.status_code == 401
    reports = actors["call_taker"].get(f"{API}/citizen-reports").json()
    assert len(reports) == 1
    assert reports[0]["channel"] == "whatsapp" and reports[0]["reporter_name"] == "Pak Amir"
    assert (reports[0]["lat"], reports[0]["lon"]) == (-1.2563, 116.7684)
    handshake = client.get(f"{API}/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "12345"})
    assert handshake.status_code == 200 and handshake.text == "12345"
    assert client.get(f"{API}/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}).status_code == 401


def test_malformed_whatsapp_payload_is_refused_without_writing(webhook, ctx):
    r = webhook("whatsapp", {"entry": [{"changes": [{"value": {"messages": [{"type": "text"}]}}]}]})
    assert r.status_code == 422 and count(ctx, citizen_reports) == 0
