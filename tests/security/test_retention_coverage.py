"""Retention reaches every copy of a caller's number, name and words, wherever the schema keeps one."""
from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parents[1] / "citizens"))
from citizens_helpers import partner, settings, sms, webhook  # noqa: E402, F401  fixtures

from siaga112.db import metadata, utcnow  # noqa: E402
from siaga112.notify.service import plan  # noqa: E402
from siaga112.privacy.retention import COVERED, NOT_CALLER_DATA, apply_retention  # noqa: E402

API = "/api/v1"
# A column whose name says it holds a number, a name, an address or a client address.
LOOKS_PERSONAL = re.compile(r"phone|caller|reporter|recipient|msisdn|name$|address|remote")


def personal_columns() -> set[tuple[str, str]]:
    """Every column that can hold a phone number or a name: by its name, or by the `personal`
    marker in its `info` (free text, documents)."""
    return {(t.name, c.name) for t in metadata.sorted_tables for c in t.columns
            if LOOKS_PERSONAL.search(c.name) or c.info.get("personal")}


def test_every_column_that_can_hold_a_callers_data_is_covered_by_retention():
    found = personal_columns()
    uncovered = found - set(COVERED) - set(NOT_CALLER_DATA)
    assert not uncovered, f"retention does not cover {sorted(uncovered)}: add them to COVERED " \
                          "(and to apply_retention) or, if they hold no caller's data, NOT_CALLER_DATA"
    assert not set(COVERED) & set(NOT_CALLER_DATA)
    columns = {(t.name, c.name) for t in metadata.sorted_tables for c in t.columns}
    assert set(COVERED) <= columns and set(NOT_CALLER_DATA) <= columns  # nothing stale


PHONE = "081277712345"
DIGITS = "81277712345"  # as stored (+62...) and as typed (0812...)
NAME = "Siti Rahmawati"


def _holders(ctx) -> dict[tuple[str, str], int]:
    """(table, column) → rows whose value still carries the caller's number or name."""
    found: dict[tuple[str, str], int] = {}
    with ctx.db.transaction(write=False) as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                for (value,) in conn.execute(select(column)):
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    if DIGITS in text or NAME in text:
                        found[(table.name, column.name)] = found.get((table.name, column.name), 0) + 1
    return found


def test_retention_leaves_no_copy_of_a_callers_number_or_name(actors, webhook, ctx, client, incident_body):
    ct, boss = actors["call_taker"], actors["commander"]
    # A report by SMS, verified into an incident the reporter follows by SMS; then cancelled.
    webhook("sms", sms(f"Tolong, saya {NAME}, rumah terbakar di Nipah-Nipah", phone=PHONE))
    report = ct.get(f"{API}/citizen-reports").json()[0]
    verified = ct.post(f"{API}/citizen-reports/{report['id']}/verify",
                       json={"location": {"lat": -1.2563, "lon": 116.7684, "address": "Jl. Mawar 7"}})
    assert verified.status_code == 200, verified.text
    incident_id = verified.json()["incident_id"]
    ct.post(f"{API}/incidents/{incident_id}/notes", json={"text": f"pelapor {NAME} menunggu di depan"})
    # A second report, from the web form with name and address, closed with a note.
    assert client.post(f"{API}/public/reports", json={
        "description": f"{NAME} mau tanya nomor damkar", "phone": PHONE, "name": NAME,
        "address": f"rumah {NAME}, RT 05", "lat": -1.2563, "lon": 116.7684}).status_code == 201
    second = [r for r in ct.get(f"{API}/citizen-reports").json() if r["status"] == "waiting"][0]
    assert ct.post(f"{API}/citizen-reports/{second['id']}/close",
                   json={"outcome": "information", "note": f"{NAME} sudah dijawab"}).status_code == 200
    # A 112 call: the telephony's session, the phone's AML position, a call with a note.
    session = webhook("telephony", {"call_id": "pbx-ret", "event": "ringing", "caller": PHONE,
                                    "at": datetime.now(UTC).isoformat()}).json()
    webhook("sms", {"from": PHONE, "message_id": "aml-ret", "text": _aml()})
    webhook("aml", (f"v=3&emergency_number=112&location_latitude=-1.3&location_longitude=116.8"
                    f"&location_accuracy=30&location_source=gps&device_number=%2B62{DIGITS}").encode(),
            content_type="application/x-www-form-urlencoded")
    # A call-taker's own incident with the caller's name and the house as the address.
    typed = ct.post(f"{API}/incidents", json=incident_body(
        caller={"phone": PHONE, "name": NAME},
        location={"lat": -1.2563, "lon": 116.7684, "address": f"rumah {NAME}"})).json()
    ct.post(f"{API}/calls", json={"caller": {"phone": PHONE, "name": NAME}, "outcome": "prank",
                                  "note": f"{NAME} tertawa"})
    # A hand-over of the call to another centre, and a number block that was rejected.
    assert ct.post(f"{API}/handovers", json={
        "target": "BALIKPAPAN", "call_session_id": session["session_id"],
        "caller": {"phone": PHONE, "name": NAME}, "description": "kecelakaan di Balikpapan",
        "note": f"{NAME} di Balikpapan"}).status_code == 201
    block = ct.post(f"{API}/number-blocks", json={"phone": PHONE, "reason": f"{NAME} iseng"}).json()
    assert boss.post(f"{API}/number-blocks/{block['id']}/reject",
                     json={"note": f"{NAME} memang butuh bantuan"}).status_code == 200
    plan(ctx)  # the progress messages to the reporter
    for finished in (incident_id, typed["id"]):
        assert ct.post(f"{API}/incidents/{finished}/status", json={"status": "cancelled"}).status_code == 200
    plan(ctx)
    # The reporter asks for the public alerts of Sepaku, then stops every text.
    assert webhook("sms", sms("DAFTAR SEPAKU", phone=PHONE)).json()["kind"] == "alert_opt_in"
    assert webhook("sms", sms("berhenti", phone=PHONE)).json()["kind"] == "opt_out"

    before = _holders(ctx)
    # Every column retention claims to cover really held the caller's data here, so the scan
    # below proves each of them emptied (messages never carry the number or name in their text).
    # (A decline reason: test_a_decline_reason_naming_the_caller_is_removed_with_the_case.)
    exceptions = {("notification_outbox", "text"), ("assignments", "decline_reason")}
    assert set(COVERED) - exceptions <= set(before), set(COVERED) - set(before)

    with ctx.db.transaction() as conn:
        result = apply_retention(conn, days=365, now=utcnow() + timedelta(days=400))
    assert result.calls >= 3
    assert result.incidents == 2 and result.others["citizen_reports"] == 2

    # A stop request (BERHENTI) is the one copy kept on purpose: it must be honoured for good.
    left = {column: n for column, n in _holders(ctx).items() if column != ("notification_optouts", "phone")}
    assert left == {}, f"still holding the caller's number or name after retention: {left}"
    # Whatever was anonymised still reads: staff screens show the case without the person.
    for path in ("/handovers", f"/citizen-reports/{report['id']}", f"/citizen-reports/{second['id']}",
                 "/number-blocks?status=rejected", f"/call-sessions/{session['session_id']}",
                 f"/incidents/{incident_id}"):
        assert ct.get(f"{API}{path}").status_code == 200, path
    with ctx.db.transaction() as conn:  # a second run finds nothing left to do
        again = apply_retention(conn, days=365, now=utcnow() + timedelta(days=400))
    assert (again.incidents, again.calls, again.notes) == (0, 0, 0) and set(again.others.values()) == {0}


def _aml() -> str:
    body = 'A"ML=1;lt=-1.25630;lg=+116.76840;rd=12;top=20260301080005;lc=68;pm=G;si=510101234567890;' \
           'ei=356708041746734;ml='
    return body + str(len(body) + 3)


def test_a_decline_reason_naming_the_caller_is_removed_with_the_case(actors, ctx, incident_body):
    """A dispatcher declining writes a reason ("the caller ... says it is in Balikpapan"), free
    text like a note. Retention redacts it in the timeline; the assignment and the event kept
    their own copies for good."""
    ct, damkar = actors["call_taker"], actors["damkar"]
    fire = ct.post(f"{API}/incidents", json=incident_body()).json()
    declined = damkar.post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/decline",
                           json={"reason": f"{NAME} bilang rumahnya di Balikpapan, {PHONE}"})
    assert declined.status_code == 200, declined.text
    assert ct.post(f"{API}/incidents/{fire['id']}/status", json={"status": "cancelled"}).status_code == 200
    assert _holders(ctx)  # the reason is stored
    with ctx.db.transaction() as conn:
        apply_retention(conn, days=365, now=utcnow() + timedelta(days=400))
    assert _holders(ctx) == {}, "a decline reason still names the caller after retention"
