"""The audit trail: every change and every view of a caller is recorded, chained and searchable."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select, text
from tests_security_helpers import API, cli, create, drop_append_only, entries, seal_all

from siaga112.audit.service import GENESIS, AuditKeys, entry_hash, keyed_hash, verify
from siaga112.models import audit_log

pytestmark = pytest.mark.timeout(180)


def test_changes_and_caller_views_are_recorded_with_who_and_where(actors, ctx, incident_body):
    inc = create(actors["call_taker"], incident_body())
    damkar = actors["damkar"]
    assert damkar.post(f"{API}/incidents/{inc['id']}/assignments/DAMKAR/acknowledge").status_code == 200
    assert actors["pln"].post(f"{API}/incidents/{inc['id']}/assignments/PLN/decline",
                              json={"reason": "bukan jaringan PLN"}).status_code == 200
    assert damkar.post(f"{API}/incidents/{inc['id']}/notes", json={"text": "unit menuju"}).status_code == 201
    assert damkar.get(f"{API}/incidents/{inc['id']}").status_code == 200      # lead: sees the caller
    assert actors["dinkes"].get(f"{API}/incidents/{inc['id']}").status_code == 200  # support: does not
    rows = entries(ctx, target=inc["id"])
    got = [(r.action, r.actor, r.role, r.agency_code) for r in rows]
    assert got == [
        ("incident.created", "call_taker", "call_taker", None),
        ("assignment.acknowledged", "damkar", "dispatcher", "DAMKAR"),
        ("assignment.declined", "pln", "dispatcher", "PLN"),
        ("incident.note_added", "damkar", "dispatcher", "DAMKAR"),
        ("incident.viewed", "damkar", "dispatcher", "DAMKAR"),
    ]
    assert all(r.remote == "testclient" for r in rows)  # the client address of each request
    everything = " ".join(r.detail for r in entries(ctx))
    assert "+6281234567890" not in everything and "Budi" not in everything
    assert "bukan jaringan" not in everything  # free text stays in the timeline, not the trail


def test_caller_history_is_audited_under_a_digest_of_the_number(actors, ctx, incident_body):
    create(actors["call_taker"], incident_body())
    assert actors["call_taker"].get(f"{API}/callers/081234567890").status_code == 200
    (row,) = [r for r in entries(ctx) if r.action == "caller.history_viewed"]
    assert row.target_id.startswith("caller:") and "81234567890" not in row.target_id
    # The administrator finds it by typing the number.
    found = actors["admin"].get(f"{API}/audit", params={"target": "0812-3456-7890"}).json()["items"]
    assert [e["action"] for e in found] == ["caller.history_viewed"]


def test_admin_searches_the_trail_and_only_the_admin(actors, incident_body):
    for _ in range(3):
        create(actors["call_taker"], incident_body())
    admin = actors["admin"]
    page = admin.get(f"{API}/audit", params={"actor": "call_taker", "action": "incident.",
                                              "limit": 2}).json()
    assert [e["action"] for e in page["items"]] == ["incident.created"] * 2
    assert page["items"][0]["entry"] > page["items"][1]["entry"]  # newest first
    rest = admin.get(f"{API}/audit", params={"actor": "call_taker", "action": "incident.",
                                              "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert admin.get(f"{API}/audit", params={"since": "2000-01-01T00:00:00+08:00",
                                              "until": "2000-01-02T00:00:00+08:00"}).json()["items"] == []
    for name in ("commander", "call_taker", "damkar", "viewer", "telephony"):
        assert actors[name].get(f"{API}/audit").status_code == 403, name
    searched = admin.get(f"{API}/audit", params={"action": "audit.searched"}).json()["items"]
    assert searched and searched[0]["actor"] == "admin"


def test_verify_passes_then_names_an_edited_a_deleted_and_an_inserted_row(ctx, actors, incident_body):
    for _ in range(3):
        create(actors["call_taker"], incident_body())
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        result = verify(conn)
    assert result.broken is None and result.entries >= 3
    drop_append_only(ctx)
    with ctx.db.transaction(write=False) as conn:
        ids = [r.id for r in conn.execute(select(audit_log.c.id).order_by(audit_log.c.id))]
    edited, deleted = ids[-3], ids[-2]

    with ctx.db.transaction() as conn:  # someone quietly changes who did it
        conn.execute(audit_log.update().where(audit_log.c.id == edited).values(actor="admin"))
    with ctx.db.transaction(write=False) as conn:
        assert verify(conn).broken.id == edited and "edited" in verify(conn).broken.problem

    with ctx.db.transaction() as conn:  # ...and the edit is put back, but a row is deleted
        conn.execute(audit_log.update().where(audit_log.c.id == edited).values(actor="call_taker"))
        conn.execute(audit_log.delete().where(audit_log.c.id == deleted))
    with ctx.db.transaction(write=False) as conn:
        assert verify(conn).broken.id == deleted + 1

    with ctx.db.transaction() as conn:  # a forged row with a correct plain hash fills the gap
        prev = conn.execute(select(audit_log).where(audit_log.c.id == deleted - 1)).one()
        forged = {**prev._asdict(), "id": deleted, "action": "incident.viewed",
                  "prev_hash": prev.hash}
        forged.pop("entry")
        forged["hash"] = entry_hash(forged)
        conn.execute(audit_log.insert().values(**forged))
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    # Without the key its MAC cannot be right, so the forged row itself is named.
    assert broken.id == deleted and "MAC" in broken.problem


def test_the_database_refuses_to_change_or_delete_audit_rows(ctx, actors, incident_body):
    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with ctx.db.transaction() as conn:
                conn.execute(text(statement))
    with ctx.db.transaction(write=False) as conn:
        assert verify(conn).broken is None


def test_audit_verify_command_exits_non_zero_naming_the_row(database_url, tmp_path, ctx, actors,
                                                            incident_body):
    create(actors["call_taker"], incident_body())
    ok = cli(["audit", "verify"], database_url, tmp_path)
    assert ok.returncode == 0 and "audit trail OK" in ok.stdout, ok.stderr
    drop_append_only(ctx)
    with ctx.db.transaction() as conn:
        last = conn.execute(select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(1)).scalar_one()
        conn.execute(audit_log.update().where(audit_log.c.id == last - 1)
                     .values(detail=json.dumps({"ticket": "XXXX-XXXX"})))
    bad = cli(["audit", "verify"], database_url, tmp_path)
    assert bad.returncode == 1 and f"audit entry {last - 1}" in bad.stderr


def test_two_writers_never_fork_the_chain(ctx, actors, incident_body):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: actors["call_taker"].post(f"{API}/incidents", json=incident_body()),
                             range(24)))
    assert all(r.status_code == 201 for r in made)
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        result = verify(conn)
    assert result.broken is None
    assert len([r for r in entries(ctx) if r.action == "incident.created"]) == 24


def _head(ctx):
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(1)).one()


def _append(ctx, values: dict) -> None:
    with ctx.db.transaction() as conn:
        conn.execute(audit_log.insert().values(**values))


def test_an_insider_cannot_append_an_entry_that_verifies(ctx, actors, incident_body):
    """With write access to the database but not the audit key, a forged entry at the end is
    named, whether it carries a plain SHA-256 hash (which used to pass) or a made-up HMAC."""
    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    head = _head(ctx)
    forged = {**head._asdict(), "id": head.id + 1, "prev_hash": head.hash, "actor": "admin",
              "action": "user.password_set", "hash_alg": None, "entry_mac": None}
    forged.pop("entry")
    forged["hash"] = entry_hash(forged)
    _append(ctx, forged)
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert broken is not None and broken.id == head.id + 1 and "forged" in broken.problem

    drop_append_only(ctx)
    with ctx.db.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.id == head.id + 1))
    guessed_key = AuditKeys.from_secrets(["a key the insider made up"])
    forged.update(hash_alg=head.hash_alg)  # claims the real key's id
    forged["entry_mac"] = hmac.new(b"a key the insider made up", b"x", hashlib.sha256).hexdigest()
    forged["hash"] = keyed_hash(guessed_key, {**forged, "hash_alg": guessed_key.alg})
    _append(ctx, forged)
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert broken is not None and broken.id == head.id + 1 and "MAC" in broken.problem


def test_a_row_inserted_for_the_sealer_to_chain_is_named(ctx, actors, incident_body):
    """On PostgreSQL entries are chained after commit by the server's sealer, which holds the
    key; a row an intruder inserts unsealed gets chained too, but its content MAC is wrong."""
    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    head = _head(ctx)
    planted = {k: v for k, v in head._asdict().items() if k not in ("entry", "id", "prev_hash", "hash")}
    planted.update(action="auth.login", actor="commander", target_id="999")
    if ctx.db.is_sqlite:  # nothing chains later on SQLite: the intruder links it by hand
        planted.update(id=head.id + 1, prev_hash=head.hash, hash="0" * 64)
    _append(ctx, planted)
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert broken is not None and broken.id == head.id + 1 and "MAC" in broken.problem


def test_a_cut_tail_is_caught_by_a_signed_checkpoint(database_url, tmp_path, ctx, actors, incident_body):
    create(actors["call_taker"], incident_body())
    written = cli(["audit", "checkpoint"], database_url, tmp_path)
    assert written.returncode == 0 and "checkpoint written" in written.stdout, written.stderr
    printed = cli(["audit", "checkpoint", "--to", "-"], database_url, tmp_path)
    assert printed.returncode == 0 and json.loads(printed.stdout)["signature"]
    ok = cli(["audit", "verify"], database_url, tmp_path)
    assert ok.returncode == 0 and "1 checkpoint(s) match" in ok.stdout, ok.stderr
    # Someone with the database owner's rights removes the last entries: the rest still chains.
    drop_append_only(ctx)
    head = _head(ctx)
    with ctx.db.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.id >= head.id - 1))
    with ctx.db.transaction(write=False) as conn:
        assert verify(conn).broken is None  # the chain alone cannot tell...
    cut = cli(["audit", "verify"], database_url, tmp_path)
    assert cut.returncode == 1 and "cut off the end" in cut.stderr and f"audit entry {head.id}" in cut.stderr


def test_a_forged_or_changed_checkpoint_is_refused(database_url, tmp_path, ctx, actors, incident_body):
    create(actors["call_taker"], incident_body())
    assert cli(["audit", "checkpoint"], database_url, tmp_path).returncode == 0
    path = tmp_path / "var" / "audit-checkpoints.jsonl"
    point = json.loads(path.read_text())
    point["head_id"] -= 1  # made to fit a shortened trail
    path.write_text(json.dumps(point) + "\n")
    bad = cli(["audit", "verify"], database_url, tmp_path)
    assert bad.returncode == 1 and "not signed" in bad.stderr


def test_a_chain_begun_before_the_key_still_verifies_and_stays_protected(ctx, actors, incident_body):
    """Entries chained with plain SHA-256 before the upgrade verify as they are; the first keyed
    entry covers their head, so changing one of them afterwards is still named."""
    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    drop_append_only(ctx)
    with ctx.db.transaction() as conn:  # the trail as the previous version wrote it
        prev = GENESIS
        for row in conn.execute(select(audit_log).order_by(audit_log.c.id)).all():
            values = {**row._asdict(), "prev_hash": prev, "hash_alg": None, "entry_mac": None}
            values["hash"] = entry_hash(values)
            conn.execute(audit_log.update().where(audit_log.c.entry == row.entry).values(
                prev_hash=prev, hash=values["hash"], hash_alg=None, entry_mac=None))
            prev = values["hash"]
    legacy = _head(ctx).id
    create(actors["call_taker"], incident_body())  # written by this version: keyed
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        result = verify(conn)
    assert result.broken is None and result.entries > legacy
    with ctx.db.transaction() as conn:  # rewrite a legacy entry and re-hash the legacy part
        rows = conn.execute(select(audit_log).where(audit_log.c.id <= legacy).order_by(audit_log.c.id)).all()
        prev = GENESIS
        for row in rows:
            values = {**row._asdict(), "prev_hash": prev}
            if row.id == 1:
                values["actor"] = "someone-else"
            values["hash"] = entry_hash(values)
            conn.execute(audit_log.update().where(audit_log.c.entry == row.entry).values(
                actor=values["actor"], prev_hash=prev, hash=values["hash"]))
            prev = values["hash"]
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert broken is not None and broken.id == legacy + 1 and "does not link" in broken.problem


def test_the_server_writes_a_checkpoint_a_day_and_says_when_the_chain_is_broken(ctx, actors, incident_body,
                                                                                   tmp_path):
    from datetime import timedelta

    from siaga112.audit.service import check_checkpoints, checkpoint_if_due
    from siaga112.db import utcnow

    create(actors["call_taker"], incident_body())
    path = tmp_path / "checkpoints" / "audit.jsonl"
    first = checkpoint_if_due(ctx, path, 24)
    assert first is not None and first.head_id is not None
    assert checkpoint_if_due(ctx, path, 24) is None  # one a day, however often it looks
    create(actors["call_taker"], incident_body())
    second = checkpoint_if_due(ctx, path, 24, now=utcnow() + timedelta(hours=25))
    assert second is not None and second.head_id > first.head_id
    with ctx.db.transaction(write=False) as conn:
        assert check_checkpoints(conn, path.read_text().splitlines()) == (2, None)
    drop_append_only(ctx)
    with ctx.db.transaction() as conn:
        conn.execute(audit_log.update().where(audit_log.c.id == first.head_id).values(actor="admin"))
    assert checkpoint_if_due(ctx, path, 24, now=utcnow() + timedelta(hours=50)) is None
    assert len(path.read_text().splitlines()) == 2  # nothing vouches for a broken chain


def _as_plain_chain(conn, rows, prev: str, change: dict | None = None) -> str:
    """Rewrite `rows` as the previous version would have chained them (plain SHA-256, no key)."""
    for row in rows:
        values = {**row._asdict(), "prev_hash": prev, "hash_alg": None, "entry_mac": None}
        values.update((change or {}).get(row.id, {}))
        values["hash"] = entry_hash(values)
        conn.execute(audit_log.update().where(audit_log.c.entry == row.entry).values(
            actor=values["actor"], action=values["action"], prev_hash=prev, hash=values["hash"],
            hash_alg=None, entry_mac=None))
        prev = values["hash"]
    return prev


def test_keyed_entries_after_a_checkpoint_cannot_be_turned_back_into_a_plain_chain(ctx, actors,
                                                                                   incident_body, tmp_path):
    """After the upgrade the server's first checkpoint saw only the old plain entries. An insider
    without the key rewrites every keyed entry written since as a plain SHA-256 chain (changing
    who did what) and appends one: the plain part "verifies", so only the checkpoint can tell,
    and it must: nothing after a checkpoint was written without the key."""
    from siaga112.audit.service import check_checkpoints, checkpoint_if_due

    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    drop_append_only(ctx)
    with ctx.db.transaction() as conn:  # the trail as the previous version left it
        _as_plain_chain(conn, conn.execute(select(audit_log).order_by(audit_log.c.id)).all(), GENESIS)
    legacy = _head(ctx)
    path = tmp_path / "audit.jsonl"
    assert checkpoint_if_due(ctx, path, 24) is not None  # written a minute after the upgrade
    create(actors["call_taker"], incident_body())  # keyed entries
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        assert verify(conn).broken is None
        assert check_checkpoints(conn, path.read_text().splitlines()) == (1, None)
    with ctx.db.transaction() as conn:
        keyed = conn.execute(select(audit_log).where(audit_log.c.id > legacy.id)
                             .order_by(audit_log.c.id)).all()
        head = _as_plain_chain(conn, keyed, legacy.hash, {keyed[0].id: {"actor": "someone-else"}})
        forged = {**keyed[-1]._asdict(), "id": keyed[-1].id + 1, "prev_hash": head, "actor": "admin",
                  "action": "user.password_set", "hash_alg": None, "entry_mac": None}
        forged.pop("entry")
        forged["hash"] = entry_hash(forged)
        conn.execute(audit_log.insert().values(**forged))
    with ctx.db.transaction(write=False) as conn:
        result = verify(conn)
        _, problem = check_checkpoints(conn, path.read_text().splitlines())
    assert result.broken is None  # the chain alone cannot tell (no keyed entry left)...
    assert problem is not None and problem.id == keyed[0].id and "forged" in problem.problem


def test_a_past_entry_replayed_for_the_sealer_is_named(ctx, actors, incident_body):
    """On PostgreSQL the sealer chains whatever unsealed row it finds. An insider copying an
    old entry word for word (its MAC is genuine) could make a dispatcher appear to have looked
    at a caller again and again; the copy must be named, not chained as a new event."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite has no sealer: a row needs a keyed hash to join the chain")
    create(actors["call_taker"], incident_body())
    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    original = entries(ctx)[0]
    for _ in range(3):
        _append(ctx, {k: v for k, v in original._asdict().items()
                      if k not in ("entry", "id", "prev_hash", "hash")})
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert broken is not None and broken.id > _head(ctx).id - 3 and "repeats" in broken.problem


def test_the_daily_checkpoint_does_not_vouch_for_a_cut_tail(ctx, actors, incident_body, tmp_path):
    """Entries cut off the end leave a valid chain; the server's daily checkpoint must compare it
    with the checkpoints before it and say so (an error monitoring hears), not sign the shorter
    trail as if nothing happened."""
    from datetime import timedelta

    from siaga112.audit.service import checkpoint_if_due
    from siaga112.db import utcnow

    create(actors["call_taker"], incident_body())
    path = tmp_path / "audit.jsonl"
    first = checkpoint_if_due(ctx, path, 24)
    assert first is not None
    drop_append_only(ctx)
    with ctx.db.transaction() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.id >= first.head_id - 1))
    assert checkpoint_if_due(ctx, path, 24, now=utcnow() + timedelta(hours=25)) is None
    assert len(path.read_text().splitlines()) == 1


def test_a_command_run_without_the_servers_key_does_not_sign_the_trail(database_url, tmp_path, ctx,
                                                                        actors, incident_body):
    """A maintenance command run from another directory (cron with another working directory,
    an operator's shell) with the right database but not the server's key signs its entry
    with a key of its own: from then on `audit verify` on the server says BROKEN and the daily
    checkpoint stops. It should refuse, saying how to give it the key, and write nothing."""
    import os
    import subprocess

    from tests_security_helpers import SIAGA112

    create(actors["call_taker"], incident_body())
    seal_all(ctx)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA112_")}
    env.update(SIAGA112_DATABASE_URL=database_url, SIAGA112_VAR_DIR=str(tmp_path / "elsewhere"))
    ran = subprocess.run([str(SIAGA112), "retention", "apply", "--days", "30"], env=env,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    seal_all(ctx)
    with ctx.db.transaction(write=False) as conn:
        broken = verify(conn).broken
    assert ran.returncode != 0 and broken is None, broken
    assert "SIAGA112_AUDIT_KEY" in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
