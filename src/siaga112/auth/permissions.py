"""Who may see and do what: one helper per resource, used by every query and action."""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true

from siaga112.auth.service import STAFF_ROLES, Principal  # noqa: F401 — the role sets live here
from siaga112.errors import Forbidden, NotFound
from siaga112.models import assignments, incidents

CREATE_ROLES = frozenset({"call_taker", "commander", "admin", "integration"})
COMMAND_ROLES = frozenset({"commander", "admin"})


def readable_incidents(who: Principal) -> ColumnElement[bool]:
    """WHERE clause over `incidents` limited to what `who` may see."""
    if who.sees_everything:
        return true()
    if who.role == "integration":
        return incidents.c.created_by == who.user_id
    if who.agency_code is None:
        return incidents.c.id.is_(None)
    return exists(select(assignments.c.id).where(
        assignments.c.incident_id == incidents.c.id,
        assignments.c.agency_code == who.agency_code))


def require_role(who: Principal, roles: frozenset[str], action: str) -> None:
    if who.role not in roles:
        raise Forbidden(f"role {who.role} may not {action}")


def require_agency_action(who: Principal, agency_code: str, action: str) -> None:
    """Acting on an assignment: that agency's dispatcher, or the command center."""
    if who.role in COMMAND_ROLES:
        return
    if who.role == "dispatcher" and who.agency_code == agency_code:
        return
    if who.role == "dispatcher":
        # Another agency's assignment on an incident they can see: not theirs to touch.
        raise Forbidden(f"only {agency_code} or the command center may {action}")
    raise Forbidden(f"role {who.role} may not {action}")


def sees_caller(who: Principal, agency_roles: dict[str, str]) -> bool:
    """Caller identity goes to staff and the lead agency; support agencies get the situation only."""
    if who.sees_everything and who.role != "viewer":
        return True
    return who.role == "dispatcher" and agency_roles.get(who.agency_code or "") == "lead"


def readable_units_agency(who: Principal, agency_code: str | None) -> str | None:
    """The agency filter a unit listing must use; dispatchers and bound viewers see their own."""
    if who.sees_everything or who.role == "integration":
        return agency_code
    if agency_code and agency_code != who.agency_code:
        raise NotFound("no such agency in your scope")
    return who.agency_code
