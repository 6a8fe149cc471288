"""The audit trail: who did or saw what, when, from where; append-only and hash-chained.

Each entry's hash covers its own content and the previous entry's hash, so editing, deleting or
inserting a row anywhere breaks the chain from that row on, and `verify` names it. Details never
hold personal data: callers are named by a keyed digest (`caller_ref`).

On SQLite writers are serialised already, so an entry takes its place in the chain as it is
written. On PostgreSQL a lock held from the write to the commit would serialise every
transaction that records anything (at 100 incidents/s the intake's p50 went from 70 ms to 260 ms
on two cores); so entries are written unsealed and `seal` chains them after commit, in commit
order, under a lock only the sealer takes (as event positions are given, see events.py). Until it
runs (within a second) an entry is protected by the table's trigger, which refuses any change but
the one sealing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from siaga112.auth.principal import Principal
from siaga112.db import utcnow
from siaga112.errors import InvalidField
from siaga112.fastsql import FastInsert
from siaga112.models import audit_log
from siaga112.periodic import Periodic
from siaga112.phone import normalise_phone

# A search term that looks like a phone number is searched as that caller's digest.
PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ()-]{5,}")
GENESIS = "0" * 64
# Serialises chain writers on PostgreSQL (other advisory locks: 112112 migrations, 1120001 events).
CHAIN_LOCK = 1_120_006
_HEAD = (select(audit_log.c.id, audit_log.c.hash).where(audit_log.c.id.is_not(None))
         .order_by(audit_log.c.id.desc()).limit(1))
_INSERT = FastInsert(audit_log)
_FIELDS = ("id", "at", "actor_id", "actor", "role", "agency_code", "action", "target_type",
           "target_id", "remote", "detail", "prev_hash")


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the entry's fields (including the previous hash) in a fixed form."""
    content = {k: values[k] for k in _FIELDS}
    content["at"] = _canonical_time(values["at"])
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_secrets: dict[int, bytes] = {}


def caller_ref(settings: Any, phone: str) -> str:
    """A caller named without their number: an HMAC of it, comparable but not reversible.

    A plain hash of a phone number is reversed by trying every number, hence the key.
    """
    key = _secrets.get(id(settings))
    if key is None:
        key = _secrets[id(settings)] = settings.resolved_secret_key().encode()
    digest = hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()
    return f"caller:{digest[:24]}"


def search_target(settings: Any, target: str | None) -> str | None:
    """What a search term names in the trail: a phone number is searched as that caller's digest
    (callers are recorded under it, never by number); anything else as it is."""
    if target and PHONE_LIKE.fullmatch(target):
        try:
            return caller_ref(settings, normalise_phone(target))
        except ValueError:
            pass
    return target


def record(conn: Connection, who: Principal | None, action: str, target_type: str,
           target_id: str | None = None, *, detail: dict[str, Any] | None = None,
           actor: str | None = None, remote: str | None = None) -> int | None:
    """Append one entry in the caller's transaction (it commits or rolls back with the change).

    `who` is the acting user; `actor` names a non-user (the CLI, a retention job) instead.
    Returns the chain position, or None on PostgreSQL, where `seal` gives it after commit.
    """
    sealed_now = conn.dialect.name != "postgresql"
    head = conn.execute(_HEAD).first() if sealed_now else None
    values: dict[str, Any] = {
        "id": None,
        "at": utcnow(),
        "actor_id": who.user_id if who else None,
        "actor": (who.username if who else actor or "system")[:64],
        "role": who.role if who else None,
        "agency_code": who.agency_code if who else None,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id)[:64],
        "remote": (remote or (who.remote if who else None) or None),
        "detail": json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                             default=str),
        "prev_hash": GENESIS if head is None else head.hash,
    }
    if values["remote"] is not None:
        values["remote"] = values["remote"][:64]
    if sealed_now:
        _chain(values, head)
    else:
        values["prev_hash"] = values["hash"] = None
    _INSERT.execute(conn, values)
    return values["id"]


def _chain(values: dict[str, Any], head: Any) -> None:
    values["id"] = 1 if head is None else head.id + 1
    values["prev_hash"] = GENESIS if head is None else head.hash
    values["hash"] = entry_hash(values)


def seal(conn: Connection, *, limit: int = 5000) -> int | None:
    """Chain committed unsealed entries (PostgreSQL); None if another process is sealing now."""
    if conn.dialect.name != "postgresql":
        return 0
    if not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({CHAIN_LOCK})").scalar():
        return None
    rows = conn.execute(select(audit_log).where(audit_log.c.id.is_(None))
                        .order_by(audit_log.c.entry).limit(limit)).all()
    if not rows:
        return 0
    head: Any = conn.execute(_HEAD).first()
    sealed = []
    for row in rows:
        values = row._asdict()
        _chain(values, head)
        sealed.append({"e": row.entry, "i": values["id"], "p": values["prev_hash"],
                       "h": values["hash"]})
        head = SimpleNamespace(id=values["id"], hash=values["hash"])
    conn.execute(audit_log.update().where(audit_log.c.entry == bindparam("e"))
                 .values(id=bindparam("i"), prev_hash=bindparam("p"), hash=bindparam("h")), sealed)
    return len(sealed)


def audit_sealer(ctx: Any, interval: float) -> Periodic:
    """Seals new entries every `interval` seconds (PostgreSQL; one process at a time does it)."""
    def job() -> None:
        with ctx.db.transaction() as conn:
            seal(conn)
    return Periodic("audit-seal", interval, job)


@dataclass(frozen=True)
class ChainBreak:
    id: int
    problem: str

    def __str__(self) -> str:
        return f"audit entry {self.id}: {self.problem}"


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head_id: int | None
    head_hash: str
    broken: ChainBreak | None
    unsealed: int = 0


def verify(conn: Connection, *, chunk: int = 5000) -> VerifyResult:
    """Walk the chain from the start; the first row whose id, link or hash is wrong is named.

    Entries not sealed yet (PostgreSQL, the last second or so) are counted, not walked.
    """
    unsealed = conn.execute(select(func.count()).select_from(audit_log)
                            .where(audit_log.c.id.is_(None))).scalar_one()
    prev_id, prev_hash, count = 0, GENESIS, 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.id > prev_id)
                            .order_by(audit_log.c.id).limit(chunk)).all()
        for row in rows:
            values = row._asdict()
            if row.id != prev_id + 1:
                return VerifyResult(count, prev_id or None, prev_hash, ChainBreak(
                    row.id, f"follows entry {prev_id}: entries {prev_id + 1}..{row.id - 1} are missing"))
            if row.prev_hash != prev_hash:
                return VerifyResult(count, prev_id or None, prev_hash, ChainBreak(
                    row.id, "does not link to the entry before it (a row was deleted or inserted)"))
            if entry_hash(values) != row.hash:
                return VerifyResult(count, prev_id or None, prev_hash, ChainBreak(
                    row.id, "content does not match its hash (the row was edited)"))
            prev_id, prev_hash, count = row.id, row.hash, count + 1
        if len(rows) < chunk:
            return VerifyResult(count, prev_id or None, prev_hash, None, unsealed)


def _encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(str(entry_id).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidField("cursor", "malformed cursor") from None


def search(conn: Connection, *, actor: str | None = None, action: str | None = None,
           target: str | None = None, since: datetime | None = None,
           until: datetime | None = None, cursor: str | None = None,
           limit: int = 100) -> tuple[list[Any], str | None]:
    """Entries newest first; `action` ending in '.' or '*' matches a prefix (e.g. `incident.`)."""
    query = select(audit_log)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        prefix = action.rstrip("*")
        query = query.where(audit_log.c.action.startswith(prefix, autoescape=True)
                            if action.endswith((".", "*")) else audit_log.c.action == action)
    if target:
        query = query.where(audit_log.c.target_id == target)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if cursor:
        query = query.where(audit_log.c.entry < _decode_cursor(cursor))
    rows = conn.execute(query.order_by(audit_log.c.entry.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    return page, _encode_cursor(page[-1].entry) if len(rows) > limit else None
