"""Citizens who asked for their area's alerts (SMS "DAFTAR SEPAKU") get each alert, update and
cancellation once, through the outbox, and only for their area; BERHENTI stops them."""
from __future__ import annotations

from citizens_helpers import partner, settings, sms, webhook  # noqa: F401  fixtures
from sqlalchemy import select

from siaga112.models import notification_outbox
from siaga112.notify.service import build_adapters, send_due

API = "/api/v1/alerts"
FLOOD = {"event": "Banjir", "category": "Met", "urgency": "Immediate", "severity": "Severe",
         "certainty": "Observed", "headline": "Banjir di sepanjang Sungai Sepaku",
         "description": "Air Sungai Sepaku naik 1,5 meter.", "instruction": "Mengungsi ke SDN 001 Sepaku.",
         "areas": {"codes": ["64.09.04"]}}


def recipients(partner) -> list[str]:
    return sorted(r["json"]["to"] for r in partner.requests if r["path"] == "/sms")


def test_subscribers_of_the_area_hear_each_alert_message_once(actors, webhook, ctx, partner, client):
    answers = {phone: webhook("sms", sms(text, phone=phone)).json() for phone, text in (
        ("081255550101", "DAFTAR SEPAKU"),        # the kecamatan
        ("081255550102", "daftar Pemaluan"),      # a desa of Sepaku
        ("081255550103", "DAFTAR PENAJAM"),       # another kecamatan
        ("081255550104", "DAFTAR SEPAKU"),
    )}
    assert {a["kind"] for a in answers.values()} == {"alert_opt_in"}
    webhook("sms", sms("BERHENTI", phone="081255550104"))
    # A DAFTAR naming no place we know is read by a call-taker like any other message.
    assert webhook("sms", sms("DAFTAR ATLANTIS", phone="081255550105")).json()["kind"] == "report"

    alert = actors["commander"].post(API, json=FLOOD).json()
    assert alert["recipients"] == 2
    assert send_due(ctx, build_adapters(ctx.settings)) == 2
    assert recipients(partner) == ["+6281255550101", "+6281255550102"]
    text = partner.sms_texts()[0]
    assert text.startswith("PERINGATAN Banjir: Banjir di sepanjang Sungai Sepaku.")
    assert f"https://112.ppu.example/peringatan/{alert['code']}" in text and "BERHENTI" in text
    assert send_due(ctx, build_adapters(ctx.settings)) == 0  # sent once

    cancel = actors["commander"].post(f"{API}/{alert['id']}/cancel", json={"note": "Air sudah surut."}).json()
    assert cancel["recipients"] == 2 and send_due(ctx, build_adapters(ctx.settings)) == 2
    assert all(t.startswith("PERINGATAN DICABUT") for t in partner.sms_texts()[2:])
    # An exercise stays off citizens' phones.
    drill = actors["commander"].post(API, json={**FLOOD, "status": "Exercise"}).json()
    assert drill["recipients"] == 0
    # MULAI (or a new DAFTAR) brings the number that said BERHENTI back.
    webhook("sms", sms("DAFTAR SEPAKU", phone="081255550104"))
    again = actors["commander"].post(API, json=FLOOD).json()
    assert again["recipients"] == 3
    with ctx.db.transaction(write=False) as conn:
        stages = conn.execute(select(notification_outbox.c.stage)).scalars().all()
    assert sorted(set(stages)) == ["alert", "alert_cancel"]


def test_a_whatsapp_subscriber_gets_the_alert_as_the_approved_template(actors, webhook, ctx, partner):
    import time

    message = {"from": "6281366660000", "id": "wamid.D1", "timestamp": str(int(time.time())), "type": "text",
               "text": {"body": "DAFTAR Sepaku"}}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1234"},
                                       "contacts": [{"profile": {"name": "Ibu Rina"}, "wa_id": "6281366660000"}],
                                       "messages": [message]}}]}]}
    assert webhook("whatsapp", payload).status_code == 200
    alert = actors["commander"].post(API, json=FLOOD).json()
    assert alert["recipients"] == 1
    assert send_due(ctx, build_adapters(ctx.settings)) == 1
    [sent] = [r for r in partner.requests if r["path"].startswith("/wa")]
    assert sent["json"]["to"] in ("6281366660000", "+6281366660000")
    body = str(sent["json"])
    assert "PERINGATAN: Banjir di sepanjang Sungai Sepaku" in body and alert["code"] in body
