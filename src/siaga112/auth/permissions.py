"""Who may see and do what: every decision that reads a role or an agency is a function here.

Services, pages and templates ask these by name ("may this person add notes?") and never compare
roles themselves (tests/architecture/test_permissions.py keeps it so), so a change of policy is a
change in one place, tested by the role matrices.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, select, true

from siaga112.auth.principal import Principal, Role, Scope
from siaga112.errors import Forbidden, NotFound
from siaga112.models import assignments, incidents, users
from siaga112.models.status import IncidentStatus

_STAFF = frozenset({Role.ADMIN, Role.COMMANDER, Role.CALL_TAKER})
_COMMAND = frozenset({Role.COMMANDER, Role.ADMIN})
_CREATE = frozenset({Role.CALL_TAKER, Role.COMMANDER, Role.ADMIN, Role.INTEGRATION})
_POSITION_REPORTERS = frozenset({Role.INTEGRATION, Role.ADMIN, Role.COMMANDER, Role.DISPATCHER})
# What an agency's dispatcher may set on an incident it works on; staff may make any legal move.
_AGENCY_INCIDENT_MOVES = frozenset({IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED})


def _refuse(who: Principal, action: str) -> Forbidden:
    return Forbidden(f"role {who.role} may not {action}")


# ------------------------------------------------------------------ roles of accounts

def role_needs_agency(role: str) -> bool:
    """A dispatcher works for exactly one agency; other accounts may name one or none."""
    return role == Role.DISPATCHER


def is_admin_role(role: str) -> bool:
    return role == Role.ADMIN


def administrator_accounts() -> ColumnElement[bool]:
    """WHERE clause over `users`: the administrators' accounts."""
    return users.c.role == Role.ADMIN


def may_use_consoles(who: Principal) -> bool:
    """Machine accounts have no console."""
    return who.role != Role.INTEGRATION


def may_set_password_freely(role: str) -> bool:
    """Machine accounts may be given any secret; people need a real password."""
    return role == Role.INTEGRATION


# ------------------------------------------------------------------ seeing

def is_staff(who: Principal) -> bool:
    """The 112 centre itself: administrators, the command centre and call-takers."""
    return who.role in _STAFF


def sees_all_incidents(who: Principal) -> bool:
    """Staff and a viewer bound to no agency see every incident."""
    return who.role in _STAFF or (who.role == Role.VIEWER and who.agency_code is None)


def readable_incidents(who: Principal) -> ColumnElement[bool]:
    """WHERE clause over `incidents` limited to what `who` may see."""
    if sees_all_incidents(who):
        return true()
    if who.role == Role.INTEGRATION:
        return incidents.c.created_by == who.user_id
    if who.agency_code is None:
        return incidents.c.id.is_(None)
    return exists(select(assignments.c.id).where(
        assignments.c.incident_id == incidents.c.id,
        assignments.c.agency_code == who.agency_code, follows_incident()))


def follows_incident() -> ColumnElement[bool]:
    """WHERE clause over `assignments`: the agency still takes part in the incident.

    A re-route that cancels an agency's assignment withdraws the incident from it (no caller, no
    events, no notes). An assignment that ends with the incident (resolved, closed, cancelled)
    keeps it, so the agency sees how it ended.
    """
    return assignments.c.withdrawn_at.is_(None)


def follows(assignment: Any) -> bool:
    """`follows_incident` for an assignment in hand (a row, or a new one's read model)."""
    return getattr(assignment, "withdrawn_at", None) is None


def event_agencies(assignments_of_incident: Iterable[Any]) -> set[str]:
    """Agencies whose streams carry the incident's events: those still taking part (staff see
    every event anyway; the command agency's own dispatchers see what is assigned to them)."""
    return {a.agency_code for a in assignments_of_incident if follows(a)}


def sees_caller(who: Principal, agency_roles: dict[str, str]) -> bool:
    """Caller identity goes to staff and the lead agency; support agencies get the situation only."""
    if is_staff(who):
        return True
    return who.role == Role.DISPATCHER and agency_roles.get(who.agency_code or "") == "lead"


def sees_duplicates(who: Principal) -> bool:
    """Other incidents' tickets are for staff; a gateway sees only what it created."""
    return sees_all_incidents(who)


def sees_other_agencies_notes(who: Principal) -> bool:
    return sees_all_incidents(who)


def own_assignment(who: Principal, assignments_of_incident: Iterable[Any]) -> Any | None:
    """The asker's agency's assignment on the incident, if it has one."""
    if who.agency_code is None:
        return None
    return next((a for a in assignments_of_incident if a.agency_code == who.agency_code), None)


def scoped_agency(who: Principal, agency_code: str | None) -> str | None:
    """The agency a listing (units, queue, map) must be limited to: the asker's own, unless the
    asker sees everything; asking for another agency answers 404. A machine account bound to
    no agency (a PBX, an SMS gateway) has no fleet at all: 404."""
    if sees_all_incidents(who):
        return agency_code
    if who.agency_code is None or (agency_code and agency_code != who.agency_code):
        raise NotFound("no such agency in your scope")
    return who.agency_code


def may_report_unit_position(who: Principal, unit_agency: str) -> bool:
    """Staff report any unit; a dispatcher and an AVL gateway (an integration account bound to
    an agency) only that agency's. An unbound integration moves no unit."""
    return commands(who) or unit_agency == who.agency_code


def event_audience(who: Principal) -> str | None:
    """Whose events a stream carries: "*" for every event, an agency code for the events that
    name that agency, None for none."""
    if sees_all_incidents(who):
        return "*"
    if who.role == Role.INTEGRATION or not who.agency_code:
        return None
    return who.agency_code


def token_writes(who: Principal) -> bool:
    """A `read` token may only read, whatever the route and however it was presented."""
    return who.scope == Scope.FULL


def same_scope(before: Principal, now: Principal) -> bool:
    """Whether a stream opened as `before` may go on for the account as it `now` stands."""
    return (before.role, before.agency_code, before.scope) == (now.role, now.agency_code, now.scope)


# ------------------------------------------------------------------ doing

def require_staff(who: Principal, action: str) -> None:
    if not is_staff(who):
        raise _refuse(who, action)


def commands(who: Principal) -> bool:
    """The command centre's powers: re-route, classify, act for any agency, confirm blocks."""
    return who.role in _COMMAND


def require_command(who: Principal, action: str) -> None:
    if not commands(who):
        raise _refuse(who, action)


def administers(who: Principal) -> bool:
    return who.role == Role.ADMIN


def require_admin(who: Principal, action: str) -> None:
    if not administers(who):
        raise _refuse(who, action)


def may_create_incidents(who: Principal) -> bool:
    return who.role in _CREATE


def require_incident_creator(who: Principal, action: str = "create incidents") -> None:
    if not may_create_incidents(who):
        raise _refuse(who, action)


def require_agency_action(who: Principal, agency_code: str, action: str) -> None:
    """Acting on an assignment: that agency's dispatcher, or the command center."""
    if commands(who):
        return
    if who.role == Role.DISPATCHER and who.agency_code == agency_code:
        return
    if who.role == Role.DISPATCHER:
        # Another agency's assignment on an incident they can see: not theirs to touch.
        raise Forbidden(f"only {agency_code} or the command center may {action}")
    raise _refuse(who, action)


def require_unit_status_changer(who: Principal) -> None:
    """Moving units is for agencies' dispatchers and the command centre; never a machine's
    (403 whatever the unit, before looking at which unit it is)."""
    if not (commands(who) or who.role == Role.DISPATCHER):
        raise _refuse(who, "change a unit's status")


def require_recommendation_reader(who: Principal, agency_code: str) -> None:
    """Unit recommendations: the command centre, viewers of everything, and the agency itself
    (its dispatchers and its own viewers: another agency's fleet is not theirs to see)."""
    if commands(who):
        return
    if who.role == Role.VIEWER and who.agency_code in (None, agency_code):
        return
    require_agency_action(who, agency_code, "see unit recommendations")


def may_add_notes(who: Principal) -> bool:
    return who.role not in (Role.VIEWER, Role.INTEGRATION)


def require_note_writer(who: Principal) -> None:
    if not may_add_notes(who):
        raise _refuse(who, "add notes")


def require_support_requester(who: Principal) -> None:
    if not (commands(who) or who.role == Role.DISPATCHER):
        raise _refuse(who, "request support")


def may_resolve_incident(who: Principal, own_role: str | None) -> bool:
    """Resolving ends everyone's work on the incident (and frees their units): the command
    centre, or the lead agency; never a support agency."""
    return is_staff(who) or (who.role == Role.DISPATCHER and own_role == "lead")


def require_incident_status_change(who: Principal, new_status: str, own_status: str | None,
                                   own_role: str | None = None) -> None:
    """Staff make any legal move; an agency still working on it may report on scene, and its
    lead may resolve it."""
    if is_staff(who):
        return
    if who.role != Role.DISPATCHER or new_status not in _AGENCY_INCIDENT_MOVES:
        raise Forbidden(f"role {who.role} may not set an incident {new_status}")
    if own_status in (None, "declined", "cancelled"):
        raise Forbidden(f"{who.agency_code} no longer works on this incident")
    if new_status == IncidentStatus.RESOLVED and not may_resolve_incident(who, own_role):
        raise Forbidden(f"{who.agency_code} supports this incident; only the lead agency or the "
                        "command centre may resolve it")


def require_position_reporter(who: Principal) -> None:
    if who.role not in _POSITION_REPORTERS:
        raise _refuse(who, "report unit positions")


def require_call_kpi_reader(who: Principal) -> None:
    if not sees_all_incidents(who):
        raise _refuse(who, "read call KPIs")


def may_issue_alerts(who: Principal, command_agency: str) -> bool:
    """Public warnings come from the command centre: commanders, administrators, and the
    command agency's (BPBD's) own dispatchers."""
    return commands(who) or (who.role == Role.DISPATCHER and who.agency_code == command_agency)


def may_hand_over_shifts(who: Principal) -> bool:
    """Shift supervisors: the command centre (commanders) and administrators."""
    return commands(who)


def require_shift_reader(who: Principal) -> None:
    """The hand-over log is the 112 centre's: its staff and the viewers of everything."""
    if not (is_staff(who) or may_view_command_centre(who)):
        raise _refuse(who, "read the shift hand-over log")


def require_command_view(who: Principal, action: str) -> None:
    """What the command centre's screen shows: commanders, administrators, viewers of everything."""
    if not may_view_command_centre(who):
        raise _refuse(who, action)


def may_open_alerts_console(who: Principal, command_agency: str) -> bool:
    """The public-alerts screen: whoever issues alerts, and the command centre's viewers."""
    return may_issue_alerts(who, command_agency) or may_view_command_centre(who)


def require_alert_issuer(who: Principal, command_agency: str) -> None:
    if not may_issue_alerts(who, command_agency):
        raise _refuse(who, "issue public alerts")


def kpi_agency_scope(who: Principal) -> str | None:
    """Whose KPIs a person reads: everything (None) for those who see every incident, their own
    agency's for its dispatchers and viewers; machine accounts none."""
    if sees_all_incidents(who):
        return None
    if is_agency_member(who):
        return who.agency_code
    raise _refuse(who, "read KPIs")


# ------------------------------------------------------------------ consoles

_LANDING = {Role.CALL_TAKER: "/konsol/panggilan", Role.DISPATCHER: "/konsol/dinas",
            Role.COMMANDER: "/konsol/komando", Role.ADMIN: "/konsol/admin"}


def landing_page(who: Principal) -> str:
    """Where each role starts after logging in."""
    if who.role == Role.VIEWER:
        return "/konsol/komando" if who.agency_code is None else "/konsol/dinas"
    return _LANDING.get(who.role, "/login")


def agency_of(who: Principal) -> str:
    """The agency an agency member works for; 403 for someone who has none."""
    if who.agency_code is None:
        raise Forbidden("this page is for an agency's staff")
    return who.agency_code


def is_agency_member(who: Principal) -> bool:
    """Works in (or watches) one agency: its dispatchers and viewers."""
    return who.role in (Role.DISPATCHER, Role.VIEWER) and who.agency_code is not None


def may_view_command_centre(who: Principal) -> bool:
    return commands(who) or (who.role == Role.VIEWER and who.agency_code is None)


@dataclass(frozen=True)
class ConsoleRights:
    """What the consoles show to one person: the templates read these, never the role."""

    calls: bool           # the call-taker screen
    agency_queue: bool    # the agency's queue and fleet
    command: bool         # the command centre's overview
    admin: bool           # the administration console
    acts: bool            # anything beyond reading (viewers only read)
    dispatches: bool      # acknowledges, dispatches and moves units for an agency
    commands: bool        # re-routes, classifies, sets any status


def console_rights(who: Principal) -> ConsoleRights:
    return ConsoleRights(calls=is_staff(who), agency_queue=is_agency_member(who),
                         command=may_view_command_centre(who), admin=administers(who),
                         acts=who.role != Role.VIEWER, dispatches=who.role == Role.DISPATCHER,
                         commands=commands(who))
