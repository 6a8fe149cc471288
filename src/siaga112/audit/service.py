"""The audit trail: who did or saw what, when, from where; append-only and hash-chained.

Each entry's hash covers its own content and the previous entry's hash, so editing, deleting or
inserting a row anywhere breaks the chain from that row on, and `verify` names it. Details never
hold personal data: callers are named by a keyed digest (`caller_ref`).

The chain is keyed: hashes are HMACs with the audit key, which lives outside the database
(setting or file), so someone who can write to the database cannot append an entry that
verifies, nor rewrite a tail. Cutting entries off the end leaves a shorter valid chain; signed
checkpoints of the head, written elsewhere (`checkpoint`), show it. Entries chained before the
key was introduced keep their plain SHA-256 hashes and still verify; the first keyed entry
covers their head, so they cannot be changed either without the key.

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
import fcntl
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from weakref import WeakKeyDictionary

import structlog
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.engine import Engine

from siaga112.auth.principal import Principal
from siaga112.db import utcnow
from siaga112.errors import InvalidField
from siaga112.fastsql import FastInsert
from siaga112.models import audit_log
from siaga112.periodic import Periodic
from siaga112.phone import normalise_phone

log = structlog.get_logger(__name__)
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


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the entry's fields (including the previous hash): entries chained before
    the chain was keyed (`hash_alg` NULL)."""
    content = {k: values[k] for k in _FIELDS}
    content["at"] = _canonical_time(values["at"])
    return hashlib.sha256(_canonical(content)).hexdigest()


KEYED = "hmac-sha256:"
_CONTENT = ("at", "actor_id", "actor", "role", "agency_code", "action", "target_type", "target_id",
            "remote", "detail", "hash_alg")


def key_id(key: bytes) -> str:
    """A short public name for a key, so an entry says which key of a rotation signed it."""
    return hashlib.sha256(b"siaga112 audit key id\0" + key).hexdigest()[:12]


@dataclass(frozen=True)
class AuditKeys:
    """The keys that sign (the first) and verify (all) the chain; never stored in the database."""

    signing: str
    keys: dict[str, bytes]

    @classmethod
    def from_secrets(cls, secrets: list[str]) -> AuditKeys:
        keys = {key_id(k.encode()): k.encode() for k in secrets}
        return cls(signing=key_id(secrets[0].encode()), keys=keys)

    @property
    def alg(self) -> str:
        return KEYED + self.signing

    def mac(self, alg: str, message: bytes) -> str | None:
        """The HMAC with the key `alg` names; None when that key is not held here."""
        key = self.keys.get(alg.removeprefix(KEYED)) if alg.startswith(KEYED) else None
        return None if key is None else hmac.new(key, message, hashlib.sha256).hexdigest()


_keyrings: WeakKeyDictionary[Engine, AuditKeys] = WeakKeyDictionary()


def use_keys(engine: Engine, keys: AuditKeys) -> None:
    """Entries written through this engine are keyed with `keys` (set up by build_context)."""
    _keyrings[engine] = keys


def keys_for(conn: Connection) -> AuditKeys:
    found = _keyrings.get(conn.engine)
    if found is None:
        raise RuntimeError("no audit key for this database: open it with bootstrap.build_context")
    return found


def unknown_signing_key(conn: Connection) -> str | None:
    """The key id the newest keyed entry was signed with, when this process does not hold that
    key (a command run without the server's key would sign with one of its own, and from then
    on the trail reads as broken); None when the keys fit or nothing is keyed yet."""
    newest = conn.execute(select(audit_log.c.hash_alg).where(audit_log.c.hash_alg.is_not(None))
                          .order_by(audit_log.c.entry.desc()).limit(1)).scalar()
    if newest is None or keys_for(conn).mac(newest, b"") is not None:
        return None
    return str(newest).removeprefix(KEYED)


def entry_mac(keys: AuditKeys, values: dict[str, Any]) -> str | None:
    """HMAC of the entry's own content, made when it is written."""
    content = {k: values[k] for k in _CONTENT}
    content["at"] = _canonical_time(values["at"])
    return keys.mac(values["hash_alg"], _canonical(content))


def keyed_hash(keys: AuditKeys, values: dict[str, Any]) -> str | None:
    """HMAC over the entry's fields, its MAC and the previous hash: its link in the chain."""
    content = {k: values[k] for k in (*_FIELDS, "hash_alg", "entry_mac")}
    content["at"] = _canonical_time(values["at"])
    return keys.mac(values["hash_alg"], _canonical(content))


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
    keys = keys_for(conn)
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
        "hash_alg": keys.alg,
    }
    if values["remote"] is not None:
        values["remote"] = values["remote"][:64]
    values["entry_mac"] = entry_mac(keys, values)
    if sealed_now:
        _chain(keys, values, head)
    else:
        values["prev_hash"] = values["hash"] = None
    _INSERT.execute(conn, values)
    return values["id"]


def _chain(keys: AuditKeys, values: dict[str, Any], head: Any) -> None:
    values["id"] = 1 if head is None else head.id + 1
    values["prev_hash"] = GENESIS if head is None else head.hash
    if values.get("hash_alg") is None:
        # Written unsealed by a version before the chain was keyed (PostgreSQL, during an
        # upgrade); `verify` refuses such an entry after the first keyed one.
        values["hash"] = entry_hash(values)
    else:
        # An entry naming a key not held here (forged, or a key dropped from a rotation too
        # early) still takes its place, chained with the signing key, and `verify` names it.
        values["hash"] = (keyed_hash(keys, values)
                          or keyed_hash(keys, {**values, "hash_alg": keys.alg}))


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
    keys = keys_for(conn)
    head: Any = conn.execute(_HEAD).first()
    sealed = []
    for row in rows:
        values = row._asdict()
        _chain(keys, values, head)
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


def _check_entry(keys: AuditKeys, values: dict[str, Any], keyed_before: bool) -> str | None:
    """What is wrong with one entry's own hashes, if anything."""
    alg = values["hash_alg"]
    if alg is None:
        if keyed_before:
            return ("has a plain hash after keyed entries: it was written without the audit key "
                    "(forged)")
        return None if entry_hash(values) == values["hash"] else (
            "content does not match its hash (the row was edited)")
    if keys.mac(alg, b"") is None:
        return (f"is signed with audit key {alg.removeprefix(KEYED)!r}, which is not held here "
                "(forged, or this command does not use the server's key: set SIAGA112_AUDIT_KEY "
                "or SIAGA112_AUDIT_KEY_FILE, or run it where the server's var/ is)")
    if entry_mac(keys, values) != values["entry_mac"]:
        return ("content does not match its MAC (the row was edited, or written without the "
                "audit key)")
    if keyed_hash(keys, values) != values["hash"]:
        return "content does not match its hash (the row was edited)"
    return None


def verify(conn: Connection, *, chunk: int = 5000) -> VerifyResult:
    """Walk the chain from the start; the first row whose id, link or hash is wrong is named.

    Entries not sealed yet (PostgreSQL, the last second or so) are counted, not walked.
    """
    keys = keys_for(conn)
    unsealed = conn.execute(select(func.count()).select_from(audit_log)
                            .where(audit_log.c.id.is_(None))).scalar_one()
    prev_id, prev_hash, count, keyed = 0, GENESIS, 0, False
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
            problem = _check_entry(keys, values, keyed)
            if problem is not None:
                return VerifyResult(count, prev_id or None, prev_hash, ChainBreak(row.id, problem))
            keyed = keyed or row.hash_alg is not None
            prev_id, prev_hash, count = row.id, row.hash, count + 1
        if len(rows) < chunk:
            return VerifyResult(count, prev_id or None, prev_hash, _repeated(conn), unsealed)


def _repeated(conn: Connection) -> ChainBreak | None:
    """An entry whose content (time to the microsecond included) repeats an earlier one's.

    Its MAC is genuine, so the chain alone accepts it: on PostgreSQL the sealer chains any
    unsealed row, and an insider could replay a past entry (a dispatcher looking at a caller,
    again and again) without the key.
    """
    macs = conn.execute(select(audit_log.c.entry_mac).where(
        audit_log.c.id.is_not(None), audit_log.c.entry_mac.is_not(None))
        .group_by(audit_log.c.entry_mac).having(func.count() > 1).limit(100)).scalars().all()
    copies = []
    for mac in macs:
        first, second = conn.execute(select(audit_log.c.id).where(
            audit_log.c.entry_mac == mac, audit_log.c.id.is_not(None))
            .order_by(audit_log.c.id).limit(2)).scalars().all()
        copies.append((second, first))
    if not copies:
        return None
    second, first = min(copies)
    return ChainBreak(second, f"repeats entry {first} word for word (a copy made without the audit key)")


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at a moment, signed with the audit key: kept outside the database, it
    shows later whether entries up to that head were cut off or rewritten."""

    at: str
    entries: int
    head_id: int | None
    head_hash: str
    key: str
    signature: str

    def line(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, separators=(",", ":")) + "\n"


def _checkpoint_message(at: str, entries: int, head_id: int | None, head_hash: str) -> bytes:
    return _canonical({"what": "siaga112 audit checkpoint", "at": at, "entries": entries,
                       "head_id": head_id, "head_hash": head_hash})


def make_checkpoint(conn: Connection) -> Checkpoint:
    """A signed checkpoint of the chain's head; refused (ValueError) if the chain is broken."""
    keys = keys_for(conn)
    result = verify(conn)
    if result.broken is not None:
        raise ValueError(f"audit trail BROKEN at {result.broken}; no checkpoint written")
    at = _canonical_time(utcnow())
    message = _checkpoint_message(at, result.entries, result.head_id, result.head_hash)
    signature = keys.mac(keys.alg, message)
    assert signature is not None
    return Checkpoint(at, result.entries, result.head_id, result.head_hash, keys.signing, signature)


def write_checkpoint(path: Path, point: Checkpoint) -> None:
    """Append the checkpoint to the file, on disk before this returns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(point.line())
        f.flush()
        os.fsync(f.fileno())


def _last_checkpoint_at(path: Path) -> datetime | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        try:
            return datetime.strptime(json.loads(line)["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except (ValueError, KeyError, TypeError):
            continue
    return None


def checkpoint_if_due(ctx: Any, path: Path, hours: float, *, now: datetime | None = None) -> Checkpoint | None:
    """Write a checkpoint when the file's last one is `hours` old (or there is none).

    Several server processes may share the file: a lock on it lets one of them write. A broken
    chain writes nothing and is logged as an error, so monitoring hears of it that day.
    """
    now = now or utcnow()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        last = _last_checkpoint_at(path)
        if last is not None and now - last < timedelta(hours=hours):
            return None
        with ctx.db.transaction() as conn:
            seal(conn)
        try:
            with ctx.db.transaction(write=False) as conn:
                point = make_checkpoint(conn)
                # A cut tail still chains: only the checkpoints before can tell, so ask them.
                _, problem = check_checkpoints(conn, path.read_text(encoding="utf-8").splitlines()
                                               if path.exists() else [])
        except ValueError:
            log.error("audit_chain_broken", checkpoint=str(path))
            return None
        if problem is not None:
            log.error("audit_chain_broken", checkpoint=str(path), entry=problem.id)
            return None
        write_checkpoint(path, point)
    log.info("audit_checkpoint_written", head_id=point.head_id, entries=point.entries)
    return point


def audit_checkpointer(ctx: Any, hours: float) -> Periodic:
    """Writes the daily checkpoint to the settings' checkpoint file (looks once an hour)."""
    path = ctx.settings.checkpoint_path()
    # A server restarted more often than hourly must still write it: first look after a minute.
    return Periodic("audit-checkpoint", min(3600.0, hours * 3600.0),
                    lambda: checkpoint_if_due(ctx, path, hours), first_delay=60.0)


def check_checkpoints(conn: Connection, lines: list[str]) -> tuple[int, ChainBreak | None]:
    """Compare the chain with checkpoints written earlier: (how many matched, the first problem).

    A checkpoint whose signature fails is itself a problem: someone wrote or changed it without
    the key. The chain must still hold each checkpoint's head entry with the same hash.
    """
    keys = keys_for(conn)
    matched, vouched = 0, None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            point = Checkpoint(str(raw["at"]), int(raw["entries"]), raw["head_id"],
                               str(raw["head_hash"]), str(raw["key"]), str(raw["signature"]))
        except (ValueError, KeyError, TypeError):
            return matched, ChainBreak(0, f"checkpoint line {number} is not a checkpoint")
        expected = keys.mac(KEYED + point.key, _checkpoint_message(
            point.at, point.entries, point.head_id, point.head_hash))
        if expected is None or not hmac.compare_digest(expected, point.signature):
            return matched, ChainBreak(0, f"checkpoint line {number} ({point.at}) is not signed "
                                          "by an audit key held here (forged or damaged)")
        if point.head_id is None:
            matched += 1
            vouched = vouched or (0, point.at)
            continue
        row = conn.execute(select(audit_log.c.hash).where(audit_log.c.id == point.head_id)).first()
        if row is None:
            last = conn.execute(_HEAD).first()
            return matched, ChainBreak(point.head_id, (
                f"is missing: the trail ends at entry {last.id if last else 0}, but the "
                f"checkpoint of {point.at} saw entries up to {point.head_id} "
                "(entries were cut off the end)"))
        if row.hash != point.head_hash:
            return matched, ChainBreak(point.head_id, (
                f"differs from the checkpoint of {point.at} (the trail was rewritten up to it)"))
        matched += 1
        if vouched is None or point.head_id > vouched[0]:
            vouched = (point.head_id, point.at)
    if vouched is not None:
        # Checkpoints are written only by a version that keys every entry, so a plain entry after
        # one was written without the key: an insider rewriting everything since the upgrade's
        # first checkpoint as a plain chain would otherwise leave nothing keyed to contradict it.
        plain = conn.execute(select(func.min(audit_log.c.id)).where(
            audit_log.c.id > vouched[0], audit_log.c.hash_alg.is_(None))).scalar()
        if plain is not None:
            return matched, ChainBreak(plain, (
                f"has a plain hash although the checkpoint of {vouched[1]} was written before it: "
                "it was written without the audit key (forged)"))
    return matched, None


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
