"""Call events pop the screen, AML attaches the phone's position, prank numbers get blocked."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from citizens_helpers import partner, settings, webhook  # noqa: F401  fixtures
from sqlalchemy import select

from siaga112.blocks.service import sweep
from siaga112.models import aml_locations, event_log

API = "/api/v1"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def call(webhook, call_id, event, at, **extra):
    r = webhook("telephony", {"call_id": call_id, "event": event, "at": at.isoformat(), **extra})
    assert r.status_code == 200, r.text
    return r.json()


def aml_sms(lat="-1.25630", lon="+116.76840") -> str:
    body = f'A"ML=1;lt={lat};lg={lon};rd=12;top=20260301080005;lc=68;pm=G;si=510101234567890;ei=356708041746734;ml='
    return body + str(len(body) + 3)


def test_call_events_pop_the_screen_and_feed_the_kpis(actors, webhook, ctx):
    first = call(webhook, "pbx-1", "ringing", T0, caller="081277770001", trunk="TSEL-1")
    call(webhook, "pbx-1", "ringing", T0)  # a repeat changes nothing
    call(webhook, "pbx-1", "answered", T0 + timedelta(seconds=6), agent="call_taker")
    call(webhook, "pbx-1", "ended", T0 + timedelta(seconds=96))
    call(webhook, "pbx-2", "ringing", T0 + timedelta(seconds=30), caller="081277770002")
    call(webhook, "pbx-2", "ended", T0 + timedelta(seconds=50))  # hung up unanswered
    call(webhook, "pbx-3", "answered", T0 + timedelta(seconds=74), agent="call_taker")  # ringing lost
    ct = actors["call_taker"]
    screen = ct.get(f"{API}/call-sessions/{first['session_id']}").json()
    assert screen["caller_phone"] == "+6281277770001" and screen["answered_by"] == "call_taker"
    assert screen["answer_seconds"] == 6 and screen["duration_seconds"] == 90 and screen["state"] == "ended"
    assert screen["history"]["phone"] == "+6281277770001"
    kpis = ct.get(f"{API}/call-sessions/kpis", params={"since": (T0 - timedelta(minutes=1)).isoformat(),
                                                        "until": (T0 + timedelta(hours=1)).isoformat()}).json()
    assert kpis["offered"] == 3 and kpis["answered"] == 2 and kpis["abandoned"] == 1
    assert kpis["answered_within_10s"] == 1.0 and kpis["abandon_rate"] == round(1 / 3, 4)
    with ctx.db.transaction(write=False) as conn:
        events = conn.execute(select(event_log.c.name, event_log.c.data)
                              .where(event_log.c.name.like("call.%")).order_by(event_log.c.id)).all()
    assert [e.name for e in events][:4] == ["call.ringing", "call.answered", "call.ended", "call.ringing"]
    assert events[1].data["answered_by"] == "call_taker"
    assert all("+6281277770001" not in str(e.data) for e in events)
    bad = webhook("telephony", {"call_id": "pbx-9", "event": "answered", "agent": "nobody"})
    assert bad.status_code == 422
    outcome = ct.post(f"{API}/call-sessions/{first['session_id']}/outcome", json={"outcome": "information"})
    assert outcome.status_code == 200 and outcome.json()["call_id"]
    assert ct.post(f"{API}/call-sessions/{first['session_id']}/outcome",
                   json={"outcome": "information"}).status_code == 409
    assert actors["damkar"].get(f"{API}/call-sessions/{first['session_id']}").status_code == 403


def test_aml_sms_during_a_call_is_attached_and_offered_on_the_map(actors, webhook, ctx):
    now = datetime.now(UTC)
    session = call(webhook, "pbx-aml", "ringing", now, caller="081277770003")
    r = webhook("sms", {"from": "081277770003", "text": aml_sms(), "message_id": "aml-1"})
    assert r.status_code == 200 and r.json() == {**r.json(), "kind": "aml", "aml_valid": True}
    screen = actors["call_taker"].get(f"{API}/call-sessions/{session['session_id']}").json()
    assert screen["location"]["lat"] == -1.2563 and screen["location"]["radius_m"] == 12
    assert screen["location"]["method"] == "gnss" and screen["location"]["valid"]
    with ctx.db.transaction(write=False) as conn:
        loc = conn.execute(select(event_log.c.data).where(event_log.c.name == "call.location")).scalar()
        raw = conn.execute(select(aml_locations.c.raw)).scalar()
    assert loc["session_id"] == session["session_id"] and loc["lon"] == 116.7684
    assert "510101234567890" not in raw and "356708041746734" not in raw  # IMSI, IMEI dropped


def test_aml_https_form_and_malformed_messages_are_kept_and_flagged(actors, webhook, ctx):
    now = datetime.now(UTC)
    session = call(webhook, "pbx-h", "ringing", now, caller="081277770004")
    form = (f"v=3&emergency_number=112&location_latitude=-1.3&location_longitude=116.8&location_accuracy=30"
            f"&location_time={int(now.timestamp() * 1000)}&location_source=gps&device_number=%2B6281277770004"
            f"&device_imei=356708041746734").encode()
    r = webhook("aml", form, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 202 and r.json()["valid"] and r.json()["call_session_id"] == session["session_id"]
    for junk in (b"location_latitude=abc&device_number=%2B6281277770004", b"\xff\xfe\x00garbage", b""):
        bad = webhook("aml", junk, content_type="application/x-www-form-urlencoded")
        assert bad.status_code == 202 and bad.json()["valid"] is False and bad.json()["problems"]
    cut = webhook("aml", {"from": "081277770004", "text": aml_sms().replace(";lc=68", "")})  # truncated in transit
    assert cut.status_code == 202 and not cut.json()["valid"]
    with ctx.db.transaction(write=False) as conn:
        rows = conn.execute(select(aml_locations.c.valid)).scalars().all()
    assert rows.count(False) == 4 and rows.count(True) == 1
    screen = actors["call_taker"].get(f"{API}/call-sessions/{session['session_id']}").json()
    assert screen["location"]["lat"] == -1.3  # the malformed ones did not replace the good fix


def test_prank_numbers_are_proposed_confirmed_marked_and_released_with_audit(actors, webhook, ctx):
    ct, boss = actors["call_taker"], actors["commander"]
    for outcome in ("prank", "silent", "prank"):
        ct.post(f"{API}/calls", json={"caller": {"phone": "081200001111"}, "outcome": outcome})
    assert sweep(ctx) == (0, 1) and sweep(ctx) == (0, 0)  # proposed once
    block = ct.get(f"{API}/number-blocks?status=proposed").json()[0]
    assert block["counts"] == {"prank": 2, "silent": 1}
    assert ct.post(f"{API}/number-blocks/{block['id']}/confirm").status_code == 403
    active = boss.post(f"{API}/number-blocks/{block['id']}/confirm", json={"note": "iseng berulang"}).json()
    assert active["status"] == "active"
    expires = datetime.fromisoformat(active["expires_at"])
    assert timedelta(hours=23.9) < expires - datetime.fromisoformat(active["audit"][-1]["at"]) <= timedelta(hours=24)
    # A blocked number's call still rings through, marked.
    session = call(webhook, "pbx-blk", "ringing", datetime.now(UTC), caller="081200001111")
    assert session["blocked"] is True
    screen = ct.get(f"{API}/call-sessions/{session['session_id']}").json()
    assert screen["blocked"] and screen["block"]["block_id"] == block["id"]
    webhook("sms", {"from": "081200001111", "text": "tolong", "message_id": "blk-1"})
    assert ct.get(f"{API}/citizen-reports").json()[0]["blocked"] is True
    assert boss.post(f"{API}/number-blocks/{block['id']}/release", json={"note": ""}).status_code == 422
    released = boss.post(f"{API}/number-blocks/{block['id']}/release",
                         json={"note": "penelepon ternyata darurat sungguhan"}).json()
    assert released["status"] == "released"
    assert [(a["action"], a["actor"]) for a in released["audit"]] == [
        ("proposed", None), ("confirmed", "commander"), ("released", "commander")]
    later = call(webhook, "pbx-after", "ringing", datetime.now(UTC), caller="081200001111")
    assert later["blocked"] is False


def test_blocks_expire_after_their_hours(actors, ctx):
    ct, boss = actors["call_taker"], actors["commander"]
    block = ct.post(f"{API}/number-blocks", json={"phone": "081200002222", "reason": "iseng manual"}).json()
    assert ct.post(f"{API}/number-blocks", json={"phone": "081200002222", "reason": "lagi"}).status_code == 409
    boss.post(f"{API}/number-blocks/{block['id']}/confirm")
    assert sweep(ctx, now=datetime.now(UTC) + timedelta(hours=25))[0] == 1
    expired = ct.get(f"{API}/number-blocks/{block['id']}").json()
    assert expired["status"] == "expired" and expired["audit"][-1]["action"] == "expired"


def test_a_rejected_block_is_not_proposed_again_from_the_calls_already_judged(actors, ctx):
    ct, boss = actors["call_taker"], actors["commander"]
    for outcome in ("prank", "silent", "prank"):
        ct.post(f"{API}/calls", json={"caller": {"phone": "081200003333"}, "outcome": outcome})
    assert sweep(ctx) == (0, 1)
    block = ct.get(f"{API}/number-blocks?status=proposed").json()[0]
    rejected = boss.post(f"{API}/number-blocks/{block['id']}/reject", json={"note": "anak kecil"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert sweep(ctx) == (0, 0) and sweep(ctx) == (0, 0)
    # One more prank is one, not four: the supervisor judged the first three.
    ct.post(f"{API}/calls", json={"caller": {"phone": "081200003333"}, "outcome": "prank"})
    assert sweep(ctx) == (0, 0)
    assert ct.get(f"{API}/number-blocks?status=proposed").json() == []
    for _ in range(2):
        ct.post(f"{API}/calls", json={"caller": {"phone": "081200003333"}, "outcome": "silent"})
    assert sweep(ctx) == (0, 1)
    again = ct.get(f"{API}/number-blocks?status=proposed").json()[0]
    assert again["counts"] == {"prank": 1, "silent": 2}


def test_an_expired_block_is_not_proposed_again_in_the_sweep_that_expires_it(actors, ctx):
    ct, boss = actors["call_taker"], actors["commander"]
    for outcome in ("prank", "prank", "prank"):
        ct.post(f"{API}/calls", json={"caller": {"phone": "081200004444"}, "outcome": outcome})
    assert sweep(ctx) == (0, 1)
    block = ct.get(f"{API}/number-blocks?status=proposed").json()[0]
    boss.post(f"{API}/number-blocks/{block['id']}/confirm")
    later = datetime.now(UTC) + timedelta(hours=25)
    assert sweep(ctx, now=later) == (1, 0)
    assert sweep(ctx, now=later + timedelta(minutes=1)) == (0, 0)
    assert [b["status"] for b in ct.get(f"{API}/number-blocks?phone=081200004444").json()] == ["expired"]
