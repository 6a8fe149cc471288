"""Prank and silent calls: counts per number, a proposed 24-hour block a supervisor confirms.

A block never hides a call: a blocked number's call or message still reaches the call-taker
(it may be a real emergency), marked as blocked. Every proposal, confirmation, rejection,
release and expiry is written to `number_block_audit` with who and when.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from siaga112.audit import service as audit_trail
from siaga112.auth.permissions import require_command, require_staff
from siaga112.auth.principal import Principal
from siaga112.blocks.schemas import BlockRead
from siaga112.context import Context
from siaga112.db import inserted_id, load_row, utcnow
from siaga112.errors import Conflict, InvalidField
from siaga112.events import record_event
from siaga112.events.payloads import NumberBlockChange, NumberBlockChanged, NumberBlockProposed
from siaga112.models import calls, number_block_audit, number_blocks
from siaga112.phone import mask_phone, normalise_phone

FALSE_OUTCOMES = ("prank", "silent")
# Supervisors: the command centre and the administrator confirm and release blocks.


def active_block(conn: Connection, phone: str | None, *, now: datetime | None = None) -> Any | None:
    """The block in force on a number, if any (an expired one is not in force)."""
    if not phone:
        return None
    return conn.execute(select(number_blocks).where(
        number_blocks.c.phone == phone, number_blocks.c.status == "active",
        number_blocks.c.expires_at > (now or utcnow()))).first()


def last_judged(conn: Connection, phone: str) -> datetime | None:
    """Until when the number's calls have been judged by a supervisor: a rejection or release
    judged every call before it; a block that ran its time judged every call before it was
    confirmed (calls made while it was in force are new)."""
    rows = conn.execute(select(number_blocks.c.status, number_blocks.c.confirmed_at,
                               number_blocks.c.ended_at).where(
        number_blocks.c.phone == phone,
        number_blocks.c.status.in_(("rejected", "released", "expired")))).all()
    judged = [(r.confirmed_at if r.status == "expired" else r.ended_at) for r in rows]
    return max((at for at in judged if at is not None), default=None)


def false_call_counts(ctx: Context, conn: Connection, phone: str, *, now: datetime) -> dict[str, int]:
    """Prank and silent calls within the window that no supervisor has judged yet."""
    since = now - timedelta(hours=ctx.settings.prank_window_hours)
    judged = last_judged(conn, phone)
    if judged is not None and judged > since:
        # Counting calls a supervisor already decided on proposed the same number again
        # seconds after a rejection, and again in the very sweep that expired its block.
        since = judged
    rows = conn.execute(select(calls.c.outcome, func.count()).where(
        calls.c.caller_phone == phone, calls.c.outcome.in_(FALSE_OUTCOMES),
        calls.c.received_at > since).group_by(calls.c.outcome)).all()
    return {outcome: int(n) for outcome, n in rows}


def _audit(conn: Connection, block_id: int, action: str, who: Principal | None, at: datetime,
           note: str | None = None) -> None:
    conn.execute(insert(number_block_audit).values(block_id=block_id, action=action,
                                                   actor_id=who.user_id if who else None, at=at, note=note))


def _announce(ctx: Context, conn: Connection, block_id: int,
              payload: type[NumberBlockChange]) -> None:
    row = conn.execute(select(number_blocks).where(number_blocks.c.id == block_id)).one()
    record_event(conn, ctx.db, payload(
        block_id=row.id, phone_masked=mask_phone(row.phone), status=row.status, counts=row.counts,
        expires_at=row.expires_at))


def _propose(ctx: Context, conn: Connection, phone: str, reason: str, counts: dict[str, int],
             who: Principal | None, now: datetime) -> int | None:
    """Insert a proposal unless the number already has an open block (the unique index decides)."""
    open_block = conn.execute(select(number_blocks.c.id).where(
        number_blocks.c.phone == phone, number_blocks.c.status.in_(("proposed", "active")))).first()
    if open_block is not None:
        return None
    try:
        with conn.begin_nested():
            block_id = inserted_id(conn.execute(insert(number_blocks).values(
                phone=phone, status="proposed", reason=reason, counts=counts, proposed_at=now,
                proposed_by=who.user_id if who else None)))
    except IntegrityError:  # a concurrent sweep proposed it first
        return None
    _audit(conn, block_id, "proposed", who, now, reason)
    _announce(ctx, conn, block_id, NumberBlockProposed)
    return int(block_id)


def consider_number(ctx: Context, conn: Connection, phone: str | None, *,
                    now: datetime | None = None) -> int | None:
    """Propose a block when the number's prank and silent calls reach the threshold."""
    if not phone:
        return None
    now = now or utcnow()
    counts = false_call_counts(ctx, conn, phone, now=now)
    if sum(counts.values()) < ctx.settings.prank_threshold:
        return None
    reason = (f"{sum(counts.values())} panggilan iseng/diam dalam "
              f"{ctx.settings.prank_window_hours} jam terakhir")
    return _propose(ctx, conn, phone, reason, counts, None, now)


def sweep(ctx: Context, *, now: datetime | None = None) -> tuple[int, int]:
    """Expire blocks past their time and propose numbers over the threshold; (expired, proposed)."""
    now = now or utcnow()
    with ctx.db.transaction() as conn:
        expired_ids = conn.execute(select(number_blocks.c.id).where(
            number_blocks.c.status == "active", number_blocks.c.expires_at <= now)).scalars().all()
        for block_id in expired_ids:
            won = conn.execute(update(number_blocks).where(
                number_blocks.c.id == block_id, number_blocks.c.status == "active")
                .values(status="expired", ended_at=now))
            if won.rowcount == 1:
                _audit(conn, block_id, "expired", None, now)
                _announce(ctx, conn, block_id, NumberBlockChanged)
        since = now - timedelta(hours=ctx.settings.prank_window_hours)
        over = conn.execute(select(calls.c.caller_phone).where(
            calls.c.outcome.in_(FALSE_OUTCOMES), calls.c.received_at >= since,
            calls.c.caller_phone.is_not(None))
            .group_by(calls.c.caller_phone)
            .having(func.count() >= ctx.settings.prank_threshold)).scalars().all()
        proposed = sum(1 for phone in over if consider_number(ctx, conn, phone, now=now))
    return len(expired_ids), proposed


def propose_block(ctx: Context, who: Principal, raw_phone: str, reason: str, *,
                  conn: Connection) -> BlockRead:
    """A call-taker proposes a block by hand; a supervisor still confirms it."""
    require_staff(who, "propose blocks")
    try:
        phone = normalise_phone(raw_phone)
    except ValueError as exc:
        raise InvalidField("phone", str(exc)) from None
    now = utcnow()
    block_id = _propose(ctx, conn, phone, reason, false_call_counts(ctx, conn, phone, now=now), who, now)
    if block_id is None:
        raise Conflict("this number already has a proposed or active block")
    return get_block(ctx, who, block_id, conn=conn)


def _load(conn: Connection, block_id: int) -> Any:
    return load_row(conn, number_blocks, block_id, missing="no such block")


def _move(conn: Connection, row: Any, expected: str, **values: Any) -> None:
    if row.status != expected:
        raise Conflict(f"block is {row.status}")
    won = conn.execute(update(number_blocks).where(number_blocks.c.id == row.id,
                                                   number_blocks.c.status == expected).values(**values))
    if won.rowcount != 1:
        raise Conflict("the block changed meanwhile; reload and try again")


def confirm_block(ctx: Context, who: Principal, block_id: int, note: str | None, *,
                  conn: Connection) -> BlockRead:
    require_command(who, "confirm blocks")
    row = _load(conn, block_id)
    now = utcnow()
    _move(conn, row, "proposed", status="active", confirmed_at=now, confirmed_by=who.user_id,
          expires_at=now + timedelta(hours=ctx.settings.block_hours))
    _audit(conn, block_id, "confirmed", who, now, note)
    _announce(ctx, conn, block_id, NumberBlockChanged)
    return get_block(ctx, who, block_id, conn=conn)


def reject_block(ctx: Context, who: Principal, block_id: int, note: str | None, *,
                 conn: Connection) -> BlockRead:
    require_command(who, "reject blocks")
    row = _load(conn, block_id)
    now = utcnow()
    _move(conn, row, "proposed", status="rejected", ended_at=now, ended_by=who.user_id, end_note=note)
    _audit(conn, block_id, "rejected", who, now, note)
    _announce(ctx, conn, block_id, NumberBlockChanged)
    return get_block(ctx, who, block_id, conn=conn)


def release_block(ctx: Context, who: Principal, block_id: int, note: str, *,
                  conn: Connection) -> BlockRead:
    """Lift an active block before it expires (a reason is required and audited)."""
    require_command(who, "release blocks")
    row = _load(conn, block_id)
    now = utcnow()
    _move(conn, row, "active", status="released", ended_at=now, ended_by=who.user_id, end_note=note)
    _audit(conn, block_id, "released", who, now, note)
    _announce(ctx, conn, block_id, NumberBlockChanged)
    return get_block(ctx, who, block_id, conn=conn)


def _read(conn: Connection, row: Any) -> BlockRead:
    from siaga112.models import users

    audit = conn.execute(select(number_block_audit.c.action, number_block_audit.c.at,
                                number_block_audit.c.note, users.c.username)
                         .outerjoin(users, users.c.id == number_block_audit.c.actor_id)
                         .where(number_block_audit.c.block_id == row.id)
                         .order_by(number_block_audit.c.id)).all()
    return BlockRead(id=row.id, phone=row.phone, status=row.status, reason=row.reason,
                     counts=row.counts, proposed_at=row.proposed_at, confirmed_at=row.confirmed_at,
                     expires_at=row.expires_at, ended_at=row.ended_at,
                     audit=[{"action": a.action, "at": a.at, "note": a.note, "actor": a.username}
                            for a in audit])


def get_block(ctx: Context, who: Principal, block_id: int, *, conn: Connection) -> BlockRead:
    require_staff(who, "read blocks")
    return _viewed(ctx, conn, who, _read(conn, _load(conn, block_id)))


def _viewed(ctx: Context, conn: Connection, who: Principal, block: BlockRead) -> BlockRead:
    """A caller's number shown on a block is a view of a caller, named in the trail by the
    number's keyed digest (a block that ended long ago shows (dianonimkan) and is no view)."""
    if block.phone.startswith("+"):
        audit_trail.record(conn, who, "number_block.viewed", "caller",
                           audit_trail.caller_ref(ctx.settings, block.phone), detail={"block": block.id})
    return block


def list_blocks(ctx: Context, who: Principal, *, conn: Connection, status: str | None = None,
                phone: str | None = None, limit: int = 100) -> list[BlockRead]:
    require_staff(who, "read blocks")
    query = select(number_blocks)
    if status:
        query = query.where(number_blocks.c.status.in_(status.split(",")))
    if phone:
        try:
            query = query.where(number_blocks.c.phone == normalise_phone(phone))
        except ValueError as exc:
            raise InvalidField("phone", str(exc)) from None
    rows = conn.execute(query.order_by(number_blocks.c.proposed_at.desc()).limit(limit)).all()
    return [_viewed(ctx, conn, who, _read(conn, r)) for r in rows]


def block_note(conn: Connection, phone: str | None) -> dict[str, Any] | None:
    """What a screen shows about a number's block: in force until when."""
    row = active_block(conn, phone)
    if row is None:
        return None
    return {"block_id": row.id, "expires_at": row.expires_at.isoformat(), "reason": row.reason}

