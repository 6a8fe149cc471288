"""Retention: callers' personal data of long-finished cases is removed, statistics stay.

UU PDP 27/2022 wants personal data kept no longer than its purpose needs. Once an incident is
closed or cancelled and older than the retention period, nobody needs to call the reporter back;
reports need only the type, the times, the agencies and the wilayah. The same goes for every other
copy of a caller's number, name or words: citizen reports, the SMS/WhatsApp subscriptions and
messages, hand-over documents, telephony call sessions, AML positions and ended number blocks.

`COVERED` names every column that can hold a caller's number, name or words and how it is
removed; `NOT_CALLER_DATA` every column whose name looks like it but holds something else.
`tests/security/test_retention_coverage.py` fails when a table gains such a column that is in
neither (by its name, or by the `info` marker of `siaga112.db.PERSONAL` / `FREE_TEXT`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Numeric, and_, cast, delete, func, or_, select, update

from siaga112.audit import service as audit
from siaga112.db import utcnow
from siaga112.events.payloads import EventName
from siaga112.models import (
    alert_subscriptions,
    aml_locations,
    assignments,
    call_sessions,
    calls,
    citizen_reports,
    event_log,
    handovers,
    incidents,
    notification_outbox,
    notification_subscriptions,
    number_block_audit,
    number_blocks,
    timeline_entries,
)

REDACTED = "(dianonimkan)"
# Positions are kept to about a kilometre: enough for maps of where things happen, not enough
# to find the reporter's house.
POSITION_DECIMALS = 2
# Timeline entries whose text the system wrote (type, agencies, unit call signs); every other
# entry may carry free text typed by staff (notes, reasons), which may name people.
SYSTEM_TEXT_KINDS = ("created", "routed", "acknowledged", "dispatched", "caller_linked", "escalated")

# (table, column): what retention does to it once the case is old and finished.
COVERED: dict[tuple[str, str], str] = {
    ("incidents", "caller_phone"): "cleared",
    ("incidents", "caller_name"): "cleared",
    ("incidents", "address"): "cleared",
    ("incidents", "description"): "replaced by (dianonimkan)",
    ("timeline_entries", "text"): "replaced by (dianonimkan) unless the system wrote it",
    ("calls", "caller_phone"): "cleared",
    ("calls", "caller_name"): "cleared",
    ("calls", "note"): "cleared",
    ("citizen_reports", "reporter_phone"): "cleared",
    ("citizen_reports", "reporter_name"): "cleared",
    ("citizen_reports", "address"): "cleared",
    ("citizen_reports", "text"): "replaced by (dianonimkan)",
    ("citizen_reports", "close_note"): "cleared",
    ("notification_subscriptions", "phone"): "row deleted with its messages",
    ("notification_outbox", "recipient"): "replaced by (dianonimkan), or deleted with its subscription",
    ("notification_outbox", "text"): "replaced by (dianonimkan), or deleted with its subscription",
    ("handovers", "note"): "cleared",
    ("handovers", "document"): "replaced by {\"anonymised\": true} (the target column stays)",
    ("call_sessions", "caller_phone"): "cleared",
    ("aml_locations", "phone"): "cleared",
    ("aml_locations", "raw"): "replaced by (dianonimkan)",
    ("number_blocks", "phone"): "replaced by (dianonimkan) once the block ended",
    ("number_blocks", "reason"): "replaced by (dianonimkan) once the block ended",
    ("number_blocks", "end_note"): "cleared once the block ended",
    ("number_block_audit", "note"): "replaced by (dianonimkan) once the block ended",
    ("alert_subscriptions", "phone"): "row deleted once opted out (BERHENTI) for the period",
    ("assignments", "decline_reason"): "replaced by (dianonimkan), and in the event that carried it",
}
# Events whose `reason` is free text typed by staff (a decline, a support request).
REASON_EVENTS = (EventName.ASSIGNMENT_DECLINED.value, EventName.ASSIGNMENT_CREATED.value)

# Columns whose name looks personal but hold no caller's data, and why they stay.
NOT_CALLER_DATA: dict[tuple[str, str], str] = {
    ("agencies", "name"): "an agency",
    ("wilayah", "name"): "a place",
    ("landmarks", "name"): "a place",
    ("event_log", "name"): "an event's name; events never carry caller data",
    ("notification_cursor", "name"): "a worker's name",
    ("api_tokens", "name"): "a token's label",
    ("users", "username"): "staff account, kept while the account exists",
    ("incidents", "notify_caller"): "the call-taker's yes/no to texting the caller, not the caller",
    ("users", "full_name"): "staff account, kept while the account exists",
    ("admin_changes", "actor_username"): "staff member who changed the configuration",
    ("audit_log", "remote"): "staff address in the audit trail, kept with the trail",
    ("login_attempts", "username"): "login throttling; rows go after a day",
    ("login_attempts", "remote"): "login throttling; rows go after a day",
    ("web_sessions", "remote_addr"): "staff session",
    ("notification_optouts", "phone"): "a stop request (BERHENTI) must be honoured for good",
    ("alerts", "recipients"): "how many subscribers a public alert went to",
}


@dataclass(frozen=True)
class RetentionResult:
    incidents: int
    calls: int
    notes: int
    dry_run: bool
    others: dict[str, int] | None = None


def _round(column: Any) -> Any:
    return func.round(cast(column, Numeric), POSITION_DECIMALS)


def _count(conn: Connection, table: Any, where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())


def apply_retention(conn: Connection, *, days: int, dry_run: bool = False,
                    actor: str = "retention", now: datetime | None = None) -> RetentionResult:
    """Anonymise closed/cancelled incidents finished more than `days` ago, their calls and notes,
    and calls older than that which never became an incident (pranks, silent calls); and every
    other copy of callers' data of that age (see the module's doc)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    finished = and_(incidents.c.status.in_(("closed", "cancelled")), incidents.c.closed_at < cutoff)
    due = and_(finished, incidents.c.anonymised_at.is_(None))
    due_ids = select(incidents.c.id).where(due)
    # Incidents finished long ago, anonymised by this run or an earlier one: what hangs off them
    # (reports, subscriptions, hand-overs) goes too, even if an older version left it behind.
    finished_ids = select(incidents.c.id).where(finished)
    has_caller_data = or_(calls.c.caller_phone.is_not(None), calls.c.caller_name.is_not(None),
                          calls.c.note.is_not(None))
    due_calls = and_(has_caller_data, or_(calls.c.incident_id.in_(due_ids),
                                          and_(calls.c.incident_id.is_(None),
                                               calls.c.received_at < cutoff)))
    due_notes = and_(timeline_entries.c.incident_id.in_(due_ids),
                     timeline_entries.c.kind.not_in(SYSTEM_TEXT_KINDS),
                     timeline_entries.c.text.is_not(None), timeline_entries.c.text != REDACTED)

    r = citizen_reports.c
    due_reports = and_(r.anonymised_at.is_(None), or_(
        and_(r.status == "closed", r.closed_at < cutoff),
        and_(r.status == "verified", r.incident_id.in_(finished_ids))))
    done_reports = select(r.id).where(or_(r.anonymised_at.is_not(None), due_reports))
    s = notification_subscriptions.c
    due_subscriptions = or_(s.incident_id.in_(finished_ids), s.report_id.in_(done_reports),
                            and_(s.incident_id.is_(None), s.report_id.is_(None),
                                 s.created_at < cutoff))
    due_subscription_ids = select(s.id).where(due_subscriptions)
    o = notification_outbox.c
    # Messages of a case still followed keep their row (it stops a second send of that stage);
    # only their number and words go.
    old_messages = and_(o.created_at < cutoff, o.status.in_(("sent", "failed", "cancelled")),
                        o.recipient != REDACTED, o.subscription_id.not_in(due_subscription_ids))
    h = handovers.c
    due_handovers = and_(h.anonymised_at.is_(None), h.created_at < cutoff)
    cs = call_sessions.c
    due_sessions = and_(cs.ringing_at < cutoff, cs.caller_phone.is_not(None))
    a = aml_locations.c
    due_aml = and_(a.received_at < cutoff, or_(a.phone.is_not(None), a.raw != REDACTED))
    b = number_blocks.c
    due_blocks = and_(b.status.in_(("rejected", "released", "expired")), b.ended_at < cutoff,
                      b.phone != REDACTED)
    due_block_ids = select(b.id).where(due_blocks)
    # An active alert subscription is the citizen's standing wish: it stays until they stop it.
    due_alert_subscriptions = and_(alert_subscriptions.c.opted_out_at.is_not(None),
                                   alert_subscriptions.c.opted_out_at < cutoff)

    n_incidents = _count(conn, incidents, due)
    n_calls = _count(conn, calls, due_calls)
    n_notes = _count(conn, timeline_entries, due_notes)
    others = {
        "citizen_reports": _count(conn, citizen_reports, due_reports),
        "subscriptions": _count(conn, notification_subscriptions, due_subscriptions),
        "messages": _count(conn, notification_outbox, or_(o.subscription_id.in_(due_subscription_ids),
                                                          old_messages)),
        "handovers": _count(conn, handovers, due_handovers),
        "call_sessions": _count(conn, call_sessions, due_sessions),
        "aml_locations": _count(conn, aml_locations, due_aml),
        "number_blocks": _count(conn, number_blocks, due_blocks),
        "alert_subscriptions": _count(conn, alert_subscriptions, due_alert_subscriptions),
    }
    if not dry_run:
        # Everything that finds its rows through "incident not yet anonymised" goes first.
        conn.execute(update(calls).where(due_calls)
                     .values(caller_phone=None, caller_name=None, note=None))
        conn.execute(update(timeline_entries).where(due_notes).values(text=REDACTED))
        # A reason is free text like a note; the event that carried it keeps a copy too.
        conn.execute(update(assignments).where(assignments.c.incident_id.in_(due_ids),
                                               assignments.c.decline_reason.is_not(None))
                     .values(decline_reason=REDACTED))
        for event in conn.execute(select(event_log.c.id, event_log.c.data).where(
                event_log.c.incident_id.in_(due_ids), event_log.c.name.in_(REASON_EVENTS))).all():
            if (event.data or {}).get("reason") not in (None, REDACTED):
                conn.execute(update(event_log).where(event_log.c.id == event.id)
                             .values(data={**event.data, "reason": REDACTED}))
        # Messages before their subscriptions (they point at them), both before the reports.
        conn.execute(delete(notification_outbox).where(o.subscription_id.in_(due_subscription_ids)))
        conn.execute(update(notification_outbox).where(old_messages)
                     .values(recipient=REDACTED, text=REDACTED, params={}))
        conn.execute(delete(notification_subscriptions).where(due_subscriptions))
        conn.execute(delete(alert_subscriptions).where(due_alert_subscriptions))
        conn.execute(update(citizen_reports).where(due_reports).values(
            reporter_phone=None, reporter_name=None, address=None, text=REDACTED, close_note=None,
            lat=_round(r.lat), lon=_round(r.lon), anonymised_at=now))
        conn.execute(update(handovers).where(due_handovers).values(
            note=None, document={"anonymised": True}, anonymised_at=now))
        conn.execute(update(call_sessions).where(due_sessions).values(caller_phone=None))
        conn.execute(update(aml_locations).where(due_aml).values(
            phone=None, raw=REDACTED, lat=_round(a.lat), lon=_round(a.lon)))
        conn.execute(update(number_block_audit).where(number_block_audit.c.block_id.in_(due_block_ids),
                                                      number_block_audit.c.note.is_not(None))
                     .values(note=REDACTED))
        conn.execute(update(number_blocks).where(due_blocks).values(
            phone=REDACTED, reason=REDACTED, end_note=None))
        conn.execute(update(incidents).where(due).values(
            caller_phone=None, caller_name=None, address=None, description=REDACTED,
            lat=_round(incidents.c.lat), lon=_round(incidents.c.lon),
            geo_cell=None, anonymised_at=now))
    audit.record(conn, None, "retention.dry_run" if dry_run else "retention.applied", "retention",
                 None, actor=actor, detail={"days": days, "incidents": n_incidents,
                                            "calls": n_calls, "notes": n_notes, **others})
    return RetentionResult(n_incidents, n_calls, n_notes, dry_run, others)
