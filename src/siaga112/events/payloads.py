"""What each event says: one model per event name, and nothing else goes into the event log.

Screens and partner systems read these payloads from the stream, so a payload's shape is part of
the contract: a field added or renamed here is one place to look, and the README's event list is
generated from these models (`siaga112 docs events`).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from siaga112.models.status import AssignmentStatus, IncidentStatus, UnitStatus


class EventName(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_STATUS_CHANGED = "incident.status_changed"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_ACKNOWLEDGED = "assignment.acknowledged"
    ASSIGNMENT_DISPATCHED = "assignment.dispatched"
    ASSIGNMENT_DECLINED = "assignment.declined"
    ASSIGNMENT_ESCALATED = "assignment.escalated"
    ASSIGNMENT_UPDATED = "assignment.updated"
    UNIT_UPDATED = "unit.updated"
    # Citizens and partner systems: staff-wide (no agency audience), never the caller's data.
    REPORT_CREATED = "report.created"
    REPORT_UPDATED = "report.updated"
    REPORT_VERIFIED = "report.verified"
    REPORT_CLOSED = "report.closed"
    CALL_RINGING = "call.ringing"
    CALL_ANSWERED = "call.answered"
    CALL_ENDED = "call.ended"
    CALL_LOCATION = "call.location"
    NUMBER_BLOCK_PROPOSED = "number_block.proposed"
    NUMBER_BLOCK_CHANGED = "number_block.changed"
    # Internal: a user was disabled or a token revoked. Never sent to a stream; every process's
    # live hub purges its cached principals and closes that user's streams when it reads one.
    AUTH_REVOKED = "auth.revoked"


class EventPayload(BaseModel):
    """The `data:` of one event. Subclasses name their event; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[EventName]


# ------------------------------------------------------------------ incidents

class AssignmentBrief(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    agency_code: str
    role: Literal["lead", "support"]
    status: AssignmentStatus
    ack_due_at: datetime


class IncidentSituation(EventPayload):
    """Incident events carry the incident as it now stands: the situation, never the caller."""

    id: str
    ticket: str
    status: IncidentStatus
    type_code: str
    priority: int
    kecamatan_code: str | None
    desa_code: str | None
    lat: float | None
    lon: float | None
    attention: str | None
    assignments: list[AssignmentBrief]
    updated_at: datetime


class IncidentCreated(IncidentSituation):
    """A new incident, routed to its agencies."""

    name = EventName.INCIDENT_CREATED


class IncidentUpdated(IncidentSituation):
    """Something changed besides the status: a note, a re-route, support, a linked caller."""

    name = EventName.INCIDENT_UPDATED
    change: Literal["note", "rerouted", "support", "caller_linked"]
    # For a note: whether the reporter sees it on the ticket page.
    public: bool | None = None


class IncidentStatusChanged(IncidentSituation):
    """The incident moved along its status (new → dispatched → on_scene → resolved → closed)."""

    name = EventName.INCIDENT_STATUS_CHANGED
    previous_status: IncidentStatus


# ------------------------------------------------------------------ assignments

class AssignmentChange(EventPayload):
    """Assignment events carry one agency's assignment after the change; `at` is when."""

    incident_id: str
    ticket: str
    agency_code: str
    role: Literal["lead", "support"]
    status: AssignmentStatus
    priority: int
    type_code: str
    unit_id: str | None
    ack_due_at: datetime
    at: datetime


class AssignmentCreated(AssignmentChange):
    """The incident was routed to the agency (at intake, by a re-route or a support request)."""

    name = EventName.ASSIGNMENT_CREATED
    # Why support was asked for, when it was.
    reason: str | None = None


class AssignmentAcknowledged(AssignmentChange):
    """The agency took it on; the acknowledgement clock stopped."""

    name = EventName.ASSIGNMENT_ACKNOWLEDGED


class AssignmentDispatched(AssignmentChange):
    """The agency sent a unit."""

    name = EventName.ASSIGNMENT_DISPATCHED
    call_sign: str


class AssignmentUpdated(AssignmentChange):
    """The agency's work moved on: en route, on scene, completed."""

    name = EventName.ASSIGNMENT_UPDATED
    # The lead of a P1/P2 incident completed with no unit ever sent: the reason given, for the
    # command centre (the incident is flagged for its attention too).
    completed_without_unit: str | None = None


class AssignmentDeclined(AssignmentChange):
    """Not this agency's to handle; the reason goes to the command centre."""

    name = EventName.ASSIGNMENT_DECLINED
    reason: str


class AssignmentEscalated(AssignmentChange):
    """A deadline passed: not acknowledged in time, or the unit has not arrived."""

    name = EventName.ASSIGNMENT_ESCALATED
    reason: Literal["not_acknowledged", "not_arrived"]
    due_at: datetime


# ------------------------------------------------------------------ units

class UnitPosition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lat: float
    lon: float
    at: datetime
    stale: bool


class UnitUpdated(EventPayload):
    """A unit's status, position or registry entry changed."""

    name = EventName.UNIT_UPDATED
    id: str
    call_sign: str
    agency_code: str
    kind: str
    status: UnitStatus
    incident_id: str | None
    position: UnitPosition | None
    capabilities: list[str]
    home_station: str | None
    home_lat: float | None
    home_lon: float | None
    updated_at: datetime | None


# ------------------------------------------------------------------ citizens and partners

class ReportChange(EventPayload):
    """Report events carry a citizen report (SMS, WhatsApp, web form), never the reporter's number."""

    id: str
    ticket: str
    channel: str
    status: Literal["waiting", "verified", "closed"]
    has_location: bool
    blocked: bool
    incident_id: str | None
    received_at: datetime


class ReportCreated(ReportChange):
    """A new report waits to be verified."""

    name = EventName.REPORT_CREATED


class ReportUpdated(ReportChange):
    """More text or a position arrived for a waiting report."""

    name = EventName.REPORT_UPDATED


class ReportVerified(ReportChange):
    """A call-taker made it an incident, or linked it to one."""

    name = EventName.REPORT_VERIFIED


class ReportClosed(ReportChange):
    """Closed without an incident, with the call outcome it got."""

    name = EventName.REPORT_CLOSED
    outcome: str


class CallSessionChange(EventPayload):
    """Call events carry a call the PBX told us about, the number masked."""

    session_id: str
    trunk: str | None
    state: Literal["ringing", "answered", "ended", "abandoned"]
    blocked: bool
    caller_masked: str | None
    ringing_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


class CallRinging(CallSessionChange):
    """A 112 call is ringing."""

    name = EventName.CALL_RINGING


class CallAnswered(CallSessionChange):
    """Answered by a call-taker: their screen fills in the number (screen pop)."""

    name = EventName.CALL_ANSWERED
    answered_by: str | None


class CallEnded(CallSessionChange):
    """Hung up, answered or not (`state` says which)."""

    name = EventName.CALL_ENDED


class CallLocation(EventPayload):
    """The phone's own position (AML) for a live call."""

    name = EventName.CALL_LOCATION
    session_id: str
    aml_id: int
    lat: float | None
    lon: float | None
    radius_m: float | None
    method: str | None
    positioned_at: datetime | None


class NumberBlockChange(EventPayload):
    """Block events carry a prank number's 24-hour block, the number masked."""

    block_id: int
    phone_masked: str | None
    status: str
    counts: dict[str, int] | None
    expires_at: datetime | None


class NumberBlockProposed(NumberBlockChange):
    """The number reached the threshold; a supervisor decides."""

    name = EventName.NUMBER_BLOCK_PROPOSED


class NumberBlockChanged(NumberBlockChange):
    """Confirmed, rejected, released or expired."""

    name = EventName.NUMBER_BLOCK_CHANGED


class AuthRevoked(EventPayload):
    """Internal, never streamed: a user's or token's access ended; every process forgets it."""

    name = EventName.AUTH_REVOKED
    user_id: int | None
    token_id: int | None


def _all_payloads() -> dict[EventName, type[EventPayload]]:
    found: dict[EventName, type[EventPayload]] = {}
    stack: list[type[Any]] = [EventPayload]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        name = cls.__dict__.get("name")
        if isinstance(name, EventName):
            found[name] = cls
    return found


PAYLOADS: dict[EventName, type[EventPayload]] = _all_payloads()


def _type_name(annotation: Any) -> str:
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    text = (text.replace("typing.", "").replace("datetime.datetime", "datetime")
            .replace("siaga112.models.status.", "").replace("siaga112.events.payloads.", ""))
    return text[:-len(" | None")] + "?" if text.endswith(" | None") else text


def _fields(model: type[BaseModel], skip: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    return ", ".join(f"`{name}` {_type_name(info.annotation)}"
                     for name, info in model.model_fields.items() if name not in skip)


def events_markdown() -> str:
    """The README's event list, generated from the payload models (`siaga112 docs events`)."""
    out = []
    families = [(base, [m for m in PAYLOADS.values() if issubclass(m, base)])
                for base in (IncidentSituation, AssignmentChange, ReportChange, CallSessionChange,
                             NumberBlockChange)]
    grouped = {m for _, members in families for m in members}
    for base, members in families:
        out.append(f"- **{(base.__doc__ or '').strip()}** Fields: {_fields(base)}.")
        for m in sorted(members, key=lambda m: list(EventName).index(m.name)):
            extra = _fields(m, set(base.model_fields))
            doc = (m.__doc__ or "").strip()
            out.append(f"  - `{m.name}`" + (f": {doc}" if doc else "")
                       + (f" Also {extra}." if extra else ""))
    for single in sorted((m for m in PAYLOADS.values() if m not in grouped),
                         key=lambda m: list(EventName).index(m.name)):
        out.append(f"- `{single.name}`: {(single.__doc__ or '').strip()} Fields: {_fields(single)}.")
    out.append("")
    out.append("`X?` may be null. Who receives what: " + "; ".join(
        f"`{family}.*` {audience}" for family, audience in _AUDIENCE.items()) + ".")
    return "\n".join(out) + "\n"


_AUDIENCE = {
    "incident": "staff and the agencies still taking part (not one a re-route cancelled)",
    "assignment": "staff and that agency while it takes part",
    "unit": "staff and the unit's agency",
    "report": "staff",
    "call": "staff",
    "number_block": "staff",
    "auth": "no stream (internal)",
}
