"""Administration actions: agencies, users and roles, the SOP matrix, and the record of each change.

Every action here is named, checks that the caller is an administrator, writes its rows and its
audit entry in the caller's transaction, and never commits. SOP changes are held to the same
rules as `siaga112 sop check`: the changed SOP is built and run through the SOP checker before
anything is written, and a refusal carries the checker's reasons.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from siaga112.admin.schemas import AgencyUpdate, IncidentTypeUpdate, PriorityUpdate, UserChange, UserCreate
from siaga112.audit import service as audit
from siaga112.auth.accounts import end_access, rescope
from siaga112.auth.permissions import administrator_accounts, is_admin_role, require_admin, role_needs_agency
from siaga112.auth.principal import Principal
from siaga112.auth.service import create_user, set_password
from siaga112.context import Context
from siaga112.db import utcnow
from siaga112.errors import Conflict, DomainError, InvalidField, NotFound
from siaga112.models import (
    admin_changes,
    agencies,
    api_tokens,
    incident_types,
    priorities,
    sop_routes,
    users,
    web_sessions,
)
from siaga112.sop.export import dump_sop
from siaga112.sop.loader import check_sop
from siaga112.sop.reload import install_sop
from siaga112.sop.schemas import Sop
from siaga112.sop.service import bump_sop_revision, read_sop

TARGET_KINDS = ("agency", "user", "incident_type", "priority")


class SopRefused(DomainError):
    """A change that would make the SOP invalid; carries every reason, nothing is written."""

    status_code = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def body(self) -> dict:
        return {"detail": [{"loc": ["body", "sop"], "msg": p, "type": "value_error"}
                           for p in self.problems]}


def _require_admin(who: Principal) -> None:
    require_admin(who, "administer Siaga 112")


# --- the record of changes ---------------------------------------------------------------------


def record_admin_change(conn: Connection, who: Principal, action: str, target_kind: str,
                        target: str, *, before: dict[str, Any] | None = None,
                        after: dict[str, Any] | None = None, note: str | None = None) -> None:
    """Record one administrative change in the caller's transaction (never a password)."""
    # The admin page reads admin_changes (before -> after); the hash-chained audit log gets the
    # same entry, so `siaga112 audit verify` covers administration too.
    conn.execute(insert(admin_changes).values(
        at=utcnow(), actor_id=who.user_id, actor_username=who.username, action=action,
        target_kind=target_kind, target=str(target), before=before, after=after, note=note))
    audit.record(conn, who, f"admin.{action}", target_kind, str(target),
                 detail={"before": before, "after": after, "note": note})


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@dataclass(frozen=True)
class ChangePage:
    items: list[Any]
    next_before_id: int | None


def list_changes(ctx: Context, who: Principal, *, conn: Connection, actor: str | None = None,
                 target_kind: str | None = None, target: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 before_id: int | None = None, limit: int = 50) -> ChangePage:
    """Admin changes, newest first, filtered; `before_id` continues from an earlier page."""
    _require_admin(who)
    q = select(admin_changes).order_by(admin_changes.c.id.desc()).limit(limit + 1)
    if actor:
        q = q.where(admin_changes.c.actor_username == actor)
    if target_kind:
        q = q.where(admin_changes.c.target_kind == target_kind)
    if target:
        q = q.where(admin_changes.c.target == target)
    if since:
        q = q.where(admin_changes.c.at >= since)
    if until:
        q = q.where(admin_changes.c.at < until)
    if before_id:
        q = q.where(admin_changes.c.id < before_id)
    rows = list(conn.execute(q).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return ChangePage(rows, rows[-1].id if more and rows else None)


def change_actors(conn: Connection) -> list[str]:
    return list(conn.execute(select(admin_changes.c.actor_username).distinct()
                             .order_by(admin_changes.c.actor_username)).scalars())


# --- SOP changes: lock, build, check, write, install after commit -------------------------------


def _take_sop(ctx: Context, conn: Connection) -> tuple[int, Sop]:
    """Lock the SOP for a change; returns the new revision and the SOP as stored now."""
    revision = bump_sop_revision(conn)
    return revision, read_sop(conn, base=ctx.sop)


def _check(proposed: Sop) -> None:
    problems = check_sop(proposed)
    if problems:
        raise SopRefused(problems)


def _put_in_service(ctx: Context, conn: Connection, revision: int) -> Sop:
    """Read back what was written, check it, and serve it once the transaction commits."""
    stored = read_sop(conn, base=ctx.sop)
    _check(stored)  # rolls the whole change back if the rows do not make a valid SOP
    hooks = conn.info.get("after_commit")
    if hooks is not None:
        hooks.append(lambda: install_sop(ctx, stored, revision))
    return stored


def current_sop(ctx: Context, who: Principal, *, conn: Connection) -> Sop:
    """The SOP as stored (what new incidents get, or will within seconds in other processes)."""
    _require_admin(who)
    return read_sop(conn, base=ctx.sop)


def export_sop_yaml(ctx: Context, who: Principal, *, conn: Connection) -> str:
    """The stored SOP in the packaged file's format, for `siaga112 sop check` or SIAGA112_SOP_FILE."""
    return dump_sop(current_sop(ctx, who, conn=conn))


# --- agencies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyRow:
    code: str
    name: str
    role: str | None
    external: bool
    active: bool
    leads: tuple[str, ...]
    supports: tuple[str, ...]
    users: int


def list_agencies(ctx: Context, who: Principal, *, conn: Connection) -> list[AgencyRow]:
    """Every agency, active or not, with the incident types it leads and supports."""
    _require_admin(who)
    active_types = select(incident_types.c.code).where(incident_types.c.active.is_(True))
    routes: dict[str, dict[str, list[str]]] = {}
    for r in conn.execute(select(sop_routes.c.agency_code, sop_routes.c.role, sop_routes.c.type_code)
                          .where(sop_routes.c.type_code.in_(active_types))
                          .order_by(sop_routes.c.type_code)):
        routes.setdefault(r.agency_code, {"lead": [], "support": []})[r.role].append(r.type_code)
    user_counts: dict[str | None, int] = dict(conn.execute(select(users.c.agency_code, func.count())
                                    .where(users.c.active.is_(True))
                                    .group_by(users.c.agency_code)).all())
    out = []
    for r in conn.execute(select(agencies).order_by(agencies.c.code)):
        mine = routes.get(r.code, {"lead": [], "support": []})
        out.append(AgencyRow(r.code, r.name, r.role, bool(r.external), bool(r.active),
                             tuple(mine["lead"]), tuple(mine["support"]),
                             int(user_counts.get(r.code, 0))))
    return out


def get_agency(ctx: Context, who: Principal, code: str, *, conn: Connection) -> AgencyRow:
    found = next((a for a in list_agencies(ctx, who, conn=conn) if a.code == code), None)
    if found is None:
        raise NotFound(f"no agency {code!r}")
    return found


def update_agency(ctx: Context, who: Principal, code: str, data: AgencyUpdate, *,
                  conn: Connection) -> bool:
    """Rename or (de)activate an agency; returns False when nothing changed.

    A deactivated agency leaves the SOP: no new incident is routed to it, and the types it
    supported lose it as support until it is active again. Its users, units and the incidents
    already assigned to it are not touched.
    """
    _require_admin(who)
    revision, _ = _take_sop(ctx, conn)
    row = conn.execute(select(agencies).where(agencies.c.code == code)).first()
    if row is None:
        raise NotFound(f"no agency {code!r}")
    before = {"name": row.name, "active": bool(row.active)}
    after = {"name": data.name, "active": data.active}
    if before == after:
        return False
    if before["active"] and not data.active:
        led = list(conn.execute(
            select(sop_routes.c.type_code)
            .join(incident_types, incident_types.c.code == sop_routes.c.type_code)
            .where(sop_routes.c.agency_code == code, sop_routes.c.role == "lead",
                   incident_types.c.active.is_(True))
            .order_by(sop_routes.c.type_code)).scalars())
        if led:
            raise SopRefused([f"{code} cannot be deactivated: it leads {', '.join(led)}; give "
                              f"{'that type' if len(led) == 1 else 'those types'} another lead "
                              "agency first"])
    conn.execute(update(agencies).where(agencies.c.code == code).values(**after))
    _put_in_service(ctx, conn, revision)
    b, a = _changed(before, after)
    action = ("agency.deactivated" if "active" in a and not a["active"] else
              "agency.activated" if "active" in a else "agency.updated")
    record_admin_change(conn, who, action, "agency", code, before=b, after=a)
    return True


# --- incident types and priorities ----------------------------------------------------------------


def update_incident_type(ctx: Context, who: Principal, code: str, data: IncidentTypeUpdate, *,
                         conn: Connection) -> bool:
    """Change a type's names, priority, lead and supports; refused with reasons if the SOP breaks."""
    _require_admin(who)
    revision, sop = _take_sop(ctx, conn)
    itype = sop.incident_types.get(code)
    if itype is None:
        raise NotFound(f"no incident type {code!r}")
    changed = replace(itype, name_id=data.name_id, name_en=data.name_en, priority=data.priority,
                      lead=data.lead or None, support=tuple(data.support))
    if changed == itype:
        return False
    _check(replace(sop, incident_types={**sop.incident_types, code: changed}))

    conn.execute(update(incident_types).where(incident_types.c.code == code).values(
        name_id=changed.name_id, name_en=changed.name_en, priority=changed.priority))
    # Routes to inactive agencies stay as they are (dormant until the agency is active again).
    conn.execute(delete(sop_routes).where(sop_routes.c.type_code == code,
                                          sop_routes.c.agency_code.in_(list(sop.agencies))))
    routes = [{"type_code": code, "agency_code": changed.lead, "role": "lead", "position": 0}] \
        if changed.lead else []
    routes += [{"type_code": code, "agency_code": a, "role": "support", "position": i + 1}
               for i, a in enumerate(changed.support)]
    if routes:
        conn.execute(insert(sop_routes), routes)
    _put_in_service(ctx, conn, revision)
    b, a = _changed(_type_facts(itype), _type_facts(changed))
    record_admin_change(conn, who, "incident_type.updated", "incident_type", code, before=b, after=a)
    return True


def _type_facts(t) -> dict[str, Any]:
    return {"name_id": t.name_id, "name_en": t.name_en, "priority": t.priority, "lead": t.lead,
            "support": list(t.support)}


def update_priority(ctx: Context, who: Principal, level: int, data: PriorityUpdate, *,
                    conn: Connection) -> bool:
    """Change a priority's labels and deadlines; they apply to assignments made from now on."""
    _require_admin(who)
    revision, sop = _take_sop(ctx, conn)
    p = sop.priorities.get(level)
    if p is None:
        raise NotFound(f"no priority {level}")
    changed = replace(p, label_id=data.label_id, label_en=data.label_en,
                      ack_seconds=data.ack_seconds, dispatch_seconds=data.dispatch_seconds)
    if changed == p:
        return False
    _check(replace(sop, priorities={**sop.priorities, level: changed}))
    facts = ("label_id", "label_en", "ack_seconds", "dispatch_seconds")
    conn.execute(update(priorities).where(priorities.c.level == level)
                 .values(**{f: getattr(changed, f) for f in facts}))
    _put_in_service(ctx, conn, revision)
    b, a = _changed({f: getattr(p, f) for f in facts}, {f: getattr(changed, f) for f in facts})
    record_admin_change(conn, who, "priority.updated", "priority", str(level), before=b, after=a)
    return True


# --- users and roles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str | None
    role: str
    agency_code: str | None
    active: bool
    created_at: datetime
    open_sessions: int
    api_tokens: int


def _user_rows(conn: Connection, *conditions) -> list[UserRow]:
    now = utcnow()
    sessions = (select(func.count()).select_from(web_sessions)
                .where(web_sessions.c.user_id == users.c.id, web_sessions.c.revoked_at.is_(None),
                       web_sessions.c.expires_at > now).scalar_subquery())
    tokens = (select(func.count()).select_from(api_tokens)
              .where(api_tokens.c.user_id == users.c.id, api_tokens.c.revoked_at.is_(None))
              .scalar_subquery())
    q = (select(users.c.id, users.c.username, users.c.full_name, users.c.role, users.c.agency_code,
                users.c.active, users.c.created_at, sessions.label("open_sessions"),
                tokens.label("api_tokens"))
         .where(*conditions).order_by(users.c.username).limit(500))
    return [UserRow(r.id, r.username, r.full_name, r.role, r.agency_code, bool(r.active),
                    r.created_at, int(r.open_sessions), int(r.api_tokens))
            for r in conn.execute(q)]


def list_users(ctx: Context, who: Principal, *, conn: Connection, q: str | None = None,
               role: str | None = None, agency_code: str | None = None,
               active: bool | None = None) -> list[UserRow]:
    """Users matching a search on username or full name, and the filters given."""
    _require_admin(who)
    conditions = []
    if q:
        pattern = f"%{q.strip()}%"
        conditions.append(or_(users.c.username.ilike(pattern), users.c.full_name.ilike(pattern)))
    if role:
        conditions.append(users.c.role == role)
    if agency_code:
        conditions.append(users.c.agency_code == agency_code)
    if active is not None:
        conditions.append(users.c.active.is_(active))
    return _user_rows(conn, *conditions)


def get_user(ctx: Context, who: Principal, user_id: int, *, conn: Connection) -> UserRow:
    _require_admin(who)
    found = _user_rows(conn, users.c.id == user_id)
    if not found:
        raise NotFound(f"no user {user_id}")
    return found[0]


def new_password() -> str:
    """An initial or reset password: 96 random bits, readable aloud, shown to the admin once."""
    return secrets.token_urlsafe(12)


def _check_agency(conn: Connection, role: str, agency_code: str | None) -> None:
    if role_needs_agency(role) and not agency_code:
        raise InvalidField("agency_code", "a dispatcher must be bound to an agency")
    if agency_code:
        row = conn.execute(select(agencies.c.active).where(agencies.c.code == agency_code)).first()
        if row is None:
            raise InvalidField("agency_code", f"unknown agency {agency_code!r}")
        if not row.active:
            raise InvalidField("agency_code", f"agency {agency_code} is inactive")


def _locked_user(conn: Connection, user_id: int):
    row = conn.execute(select(users).where(users.c.id == user_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return row


def _keep_an_admin(conn: Connection, who: Principal, row, *, losing_admin: bool) -> None:
    """Nobody locks themselves out, and the last active administrator stays one."""
    if not losing_admin:
        return
    if row.id == who.user_id:
        raise Conflict("you cannot disable your own account or take away your own admin role; "
                       "ask another administrator")
    # Lock every active admin row so two admins demoting each other cannot both succeed.
    others = conn.execute(select(users.c.id).where(administrator_accounts(), users.c.active.is_(True),
                                                   users.c.id != row.id).with_for_update()).all()
    if not others:
        raise Conflict(f"{row.username} is the last active administrator")


def create_account(ctx: Context, who: Principal, data: UserCreate, *,
                   conn: Connection) -> tuple[int, str]:
    """A new user with a generated initial password; returns (id, password) — shown once."""
    _require_admin(who)
    _check_agency(conn, data.role, data.agency_code)
    password = new_password()
    user_id = create_user(conn, username=data.username, role=data.role,
                          agency_code=data.agency_code, password=password,
                          full_name=data.full_name)
    record_admin_change(conn, who, "user.created", "user", data.username,
                        after={"full_name": data.full_name, "role": data.role,
                               "agency_code": data.agency_code, "active": True},
                        note="initial password generated and shown once")
    return user_id, password


def change_user(ctx: Context, who: Principal, user_id: int, data: UserChange, *,
                conn: Connection) -> bool:
    """Change a user's name, role or agency; it applies from the user's next request, and
    their open event streams close at once (they reconnect with the new scope)."""
    _require_admin(who)
    row = _locked_user(conn, user_id)
    before = {"full_name": row.full_name, "role": row.role, "agency_code": row.agency_code}
    after = {"full_name": data.full_name, "role": data.role, "agency_code": data.agency_code}
    if before == after:
        return False
    if after["role"] != before["role"] or after["agency_code"] != before["agency_code"]:
        _check_agency(conn, data.role, data.agency_code)
    _keep_an_admin(conn, who, row, losing_admin=is_admin_role(row.role) and not is_admin_role(data.role)
                   and bool(row.active))
    conn.execute(update(users).where(users.c.id == user_id).values(**after))
    if after["role"] != before["role"] or after["agency_code"] != before["agency_code"]:
        rescope(ctx, conn, user_id)
    b, a = _changed(before, after)
    record_admin_change(conn, who, "user.updated", "user", row.username, before=b, after=a)
    return True


def set_user_active(ctx: Context, who: Principal, user_id: int, active: bool, *,
                    conn: Connection) -> int | None:
    """Enable or disable a user; disabling ends their sessions. Returns sessions ended (None: no-op).

    Disabling revokes the user's API tokens and ends their sessions for good: enabling the
    user again brings none of them back (they log in anew; tokens are issued anew).
    """
    _require_admin(who)
    row = _locked_user(conn, user_id)
    if bool(row.active) == active:
        return None
    _keep_an_admin(conn, who, row, losing_admin=not active and is_admin_role(row.role))
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(active=active, disabled_at=None if active else utcnow()))
    ended = 0
    if not active:
        ended = end_access(ctx, conn, user_id, tokens=True)
    note = None if active else f"{ended} open session(s) ended; API tokens revoked"
    record_admin_change(conn, who, "user.enabled" if active else "user.disabled", "user",
                        row.username, before={"active": not active}, after={"active": active},
                        note=note)
    return ended


def reset_password(ctx: Context, who: Principal, user_id: int, *,
                   conn: Connection) -> tuple[str, int]:
    """A new generated password (shown once); the user's open sessions end. Returns (pw, ended)."""
    _require_admin(who)
    row = _locked_user(conn, user_id)
    password = new_password()
    set_password(conn, user_id, password)
    ended = end_access(ctx, conn, user_id, tokens=True)
    record_admin_change(conn, who, "user.password_reset", "user", row.username,
                        note=f"new password generated and shown once; {ended} open session(s) "
                             "ended; API tokens revoked")
    return password, ended

