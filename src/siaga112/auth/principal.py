"""Who is asking: the principal every service receives, with a role from a closed set."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"              # Diskominfo
    CALL_TAKER = "call_taker"    # operator 112
    COMMANDER = "commander"      # BPBD command centre
    DISPATCHER = "dispatcher"    # one agency's dispatcher
    VIEWER = "viewer"            # read only, one agency or all
    INTEGRATION = "integration"  # telephony, SMS/WhatsApp gateways, trackers


class Scope(StrEnum):
    """What an API token allows: everything its user may do, or GET only."""

    FULL = "full"
    READ = "read"


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: Role
    agency_code: str | None
    token_id: int | None = None
    scope: Scope = Scope.FULL
    # Where this request came from (the client address); per request, for the audit trail.
    remote: str | None = None

    def __post_init__(self) -> None:
        # Rows hand the role over as text; an unknown one fails here, not in a policy later.
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "scope", Scope(self.scope))
