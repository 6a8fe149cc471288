"""The caller's safety (issue 13): a sensitive type (VIOLENCE-WC, CRIME) sends nothing to the
caller unless the call-taker chose to on the call, its ticket page says only received / done,
and every text says how to stop them, which works."""
from __future__ import annotations

from citizens_helpers import partner, settings, sms, webhook  # noqa: F401  fixtures
from sqlalchemy import select
from test_notify import outbox, run

from siaga112.models import incident_types

API = "/api/v1"
VIOLENCE = {"type_code": "VIOLENCE-WC", "description": "Istri dipukul suami, sekarang di kamar"}


def _ack_and_resolve(actors, incident: dict, agency: str) -> None:
    dispatcher = actors["commander"]
    r = dispatcher.post(f"{API}/incidents/{incident['id']}/assignments/{agency}/acknowledge")
    assert r.status_code == 200, r.text
    r = dispatcher.post(f"{API}/incidents/{incident['id']}/status", json={"status": "resolved"})
    assert r.status_code == 200, r.text


def test_the_packaged_sop_marks_violence_and_crime_sensitive(ctx):
    with ctx.db.transaction(write=False) as conn:
        marked = conn.execute(select(incident_types.c.code).where(incident_types.c.sensitive)).scalars()
        assert sorted(marked) == ["CRIME", "VIOLENCE-WC"]
    assert ctx.sop.is_sensitive("VIOLENCE-WC") and not ctx.sop.is_sensitive("FIRE-BLDG")


def test_a_domestic_violence_caller_gets_no_text_at_all(actors, ctx, partner, incident_body):
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255557777"}, **VIOLENCE)).json()
    assert run(ctx) == 0
    _ack_and_resolve(actors, incident, "DP3AP2KB")
    assert run(ctx) == 0
    assert partner.requests == [] and outbox(ctx) == []


def test_the_call_taker_may_choose_to_send_and_each_text_says_how_to_stop(actors, ctx, partner,
                                                                         incident_body):
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255558888"}, notify_caller=True, **VIOLENCE)).json()
    assert run(ctx) == 1
    actors["commander"].post(f"{API}/incidents/{incident['id']}/assignments/DP3AP2KB/acknowledge")
    assert run(ctx) == 1
    texts = partner.sms_texts()
    assert len(texts) == 2 and all("Balas BERHENTI" in t for t in texts)


def test_the_call_taker_may_choose_to_send_nothing_for_any_type(actors, ctx, partner, incident_body):
    r = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255559999"}, notify_caller=False))
    assert r.status_code == 201, r.text
    assert run(ctx) == 0 and partner.requests == []


def test_re_routing_to_a_sensitive_type_stops_what_was_queued(actors, ctx, partner, incident_body):
    from siaga112.notify.service import plan, send_due

    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255550101"})).json()
    assert plan(ctx) == 1  # queued, not yet sent
    r = actors["commander"].post(f"{API}/incidents/{incident['id']}/reroute",
                                 json={"type_code": "CRIME", "note": "ternyata penganiayaan"})
    assert r.status_code == 200, r.text
    from siaga112.notify.service import build_adapters

    assert send_due(ctx, build_adapters(ctx.settings)) == 0
    assert partner.requests == [] and [r.last_error for r in outbox(ctx)] == ["sensitive incident"]


def test_a_sensitive_ticket_page_says_only_received_or_done(actors, client, incident_body):
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(**VIOLENCE)).json()
    ticket = incident["ticket"]
    actors["commander"].post(f"{API}/incidents/{incident['id']}/notes",
                             json={"text": "Petugas DP3AP2KB menuju rumah", "public": True})
    actors["commander"].post(f"{API}/incidents/{incident['id']}/assignments/DP3AP2KB/acknowledge")
    page = client.get(f"{API}/public/tickets/{ticket}").json()
    assert page["status"] == "received" and page["status_label"] == "Laporan diterima"
    assert [s["code"] for s in page["stages"]] == ["received", "closed"]
    assert page["public_notes"] == [] and page["agency"] is None and page["type_label"] is None
    html = client.get(f"/lacak/{ticket}").text
    for telling in ("Perempuan", "DP3AP2KB", "Kekerasan", "menuju", "Diterima instansi"):
        assert telling not in html
    actors["commander"].post(f"{API}/incidents/{incident['id']}/status", json={"status": "resolved"})
    page = client.get(f"{API}/public/tickets/{ticket}").json()
    assert page["status"] == "closed" and page["status_label"] == "Selesai"


def test_replying_berhenti_loosely_stops_an_incident_callers_texts(actors, ctx, partner, webhook,
                                                                   incident_body):
    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255550202"})).json()
    assert run(ctx) == 1 and "Balas BERHENTI" in partner.sms_texts()[0]
    assert webhook("sms", sms("Berhenti.", phone="081255550202")).json()["kind"] == "opt_out"
    actors["damkar"].post(f"{API}/incidents/{incident['id']}/assignments/DAMKAR/acknowledge")
    assert run(ctx) == 0 and len(partner.requests) == 1


def test_replying_the_footers_own_words_stops_the_texts(actors, ctx, partner, webhook, incident_body):
    # The footer says "Balas BERHENTI untuk berhenti menerima kabar"; people answer with its words.
    # Taken as a new report instead, it would bring one more text ("Laporan Anda sudah kami
    # terima … Balas BERHENTI") and a report for a call-taker to verify.
    for n, reply in enumerate(("Berhenti menerima kabar", "berhenti kabar!", "STOP kirim sms")):
        phone = f"08125555030{n}"
        actors["call_taker"].post(f"{API}/incidents", json=incident_body(caller={"phone": phone}))
        assert webhook("sms", sms(reply, phone=phone)).json()["kind"] == "opt_out", reply
    assert run(ctx) == 0


def test_a_yes_to_texts_given_before_the_case_turned_out_sensitive_is_taken_back(actors, ctx, partner,
                                                                                  incident_body):
    from siaga112.notify.service import build_adapters, plan, send_due

    incident = actors["call_taker"].post(f"{API}/incidents", json=incident_body(
        caller={"phone": "081255550202"}, notify_caller=True)).json()  # "a fire": yes, text me
    assert plan(ctx) == 1
    r = actors["commander"].post(f"{API}/incidents/{incident['id']}/reroute",
                                 json={"type_code": "VIOLENCE-WC", "note": "ternyata KDRT"})
    assert r.status_code == 200, r.text
    assert send_due(ctx, build_adapters(ctx.settings)) == 0
    _ack_and_resolve(actors, incident, "DP3AP2KB")
    assert run(ctx) == 0 and partner.requests == []
