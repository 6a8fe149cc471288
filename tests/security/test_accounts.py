"""Accounts: throttled logins, password change, disable, and named, scoped, revocable tokens."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tests_security_helpers import API, cli, entries

from siaga112.auth.accounts import authenticate
from siaga112.db import utcnow
from siaga112.errors import LoginLocked, Unauthorized
from siaga112.models import api_tokens, login_attempts, users

PASSWORD = "rahasia-112"  # the actors' password (tests/conftest.py)


def _age_attempts(ctx, seconds: float) -> None:
    """Move every recorded attempt `seconds` into the past, as if that time had gone by."""
    with ctx.db.transaction() as conn:
        for row in conn.execute(select(login_attempts.c.id, login_attempts.c.at)).all():
            conn.execute(update(login_attempts).where(login_attempts.c.id == row.id)
                         .values(at=row.at - timedelta(seconds=seconds)))


def test_a_strangers_wrong_passwords_never_lock_the_owner_out(ctx):
    failures = 0
    while failures < 8:
        try:
            authenticate(ctx, "commander", "tebak-tebak", "203.0.113.66")
        except LoginLocked:
            _age_attempts(ctx, 1000)  # the attacker waits out each delay and goes on
        except Unauthorized:
            failures += 1
    # The commander, at her own desk, is let in at once.
    who = authenticate(ctx, "commander", PASSWORD, "10.0.0.2")
    assert (who.username, who.remote) == ("commander", "10.0.0.2")
    # The attacker's address still waits, even when it finally guesses right; the owner's
    # success did not clear the stranger's failures.
    with pytest.raises(LoginLocked):
        authenticate(ctx, "commander", PASSWORD, "203.0.113.66")


def test_failures_from_one_address_bring_growing_delays_that_end(ctx):
    ctx.settings.login_free_failures_per_pair = 3
    ctx.settings.login_base_delay_seconds = 2
    for _ in range(3):
        with pytest.raises(Unauthorized):
            authenticate(ctx, "damkar", "salah-sekali", "10.0.0.1")
    waits = []
    for _ in range(4):
        # Throttled now, even with the right password: the password is not even checked.
        with pytest.raises(LoginLocked) as locked:
            authenticate(ctx, "damkar", PASSWORD, "10.0.0.1")
        waits.append(locked.value.retry_after)
        _age_attempts(ctx, locked.value.retry_after + 0.5)
        with pytest.raises(Unauthorized):
            authenticate(ctx, "damkar", "salah-lagi", "10.0.0.1")
    assert [round(w) for w in waits] == [2, 4, 8, 16]
    # Other accounts from the same address, and the same account elsewhere, are not held back.
    assert authenticate(ctx, "dlh", PASSWORD, "10.0.0.1").username == "dlh"
    assert authenticate(ctx, "damkar", PASSWORD, "10.0.0.7").username == "damkar"
    # Once the delay has passed, the right password works and clears this address's count.
    _age_attempts(ctx, 40)
    who = authenticate(ctx, "damkar", PASSWORD, "10.0.0.1")
    assert (who.username, who.role, who.agency_code, who.remote) == ("damkar", "dispatcher", "DAMKAR", "10.0.0.1")
    with pytest.raises(Unauthorized):
        authenticate(ctx, "damkar", "salah-sekali", "10.0.0.1")  # free again: 401, not 429
    actions = [r.action for r in entries(ctx) if r.action.startswith("auth.")]
    assert actions.count("auth.login_failed") == 8 and actions.count("auth.login") == 3


def test_the_delay_is_capped(ctx):
    ctx.settings.login_free_failures_per_pair = 1
    ctx.settings.login_max_delay_seconds = 60
    failures = 0
    while failures < 12:
        try:
            authenticate(ctx, "dlh", "tebak-tebak", "10.0.0.9")
        except LoginLocked:
            _age_attempts(ctx, 10_000)
        except Unauthorized:
            failures += 1
    with pytest.raises(LoginLocked) as locked:
        authenticate(ctx, "dlh", PASSWORD, "10.0.0.9")
    assert 50 < locked.value.retry_after <= 60


def test_one_address_trying_many_accounts_is_slowed_down(ctx):
    ctx.settings.login_free_failures_per_remote = 4
    for name in ("damkar", "dlh", "pln", "admin"):
        with pytest.raises(Unauthorized):
            authenticate(ctx, name, "tebak-tebak", "10.9.9.9")
    with pytest.raises(LoginLocked):
        authenticate(ctx, "dinkes", PASSWORD, "10.9.9.9")
    assert authenticate(ctx, "dinkes", PASSWORD, "10.1.1.1").username == "dinkes"


def test_unknown_users_and_disabled_users_cannot_log_in(ctx, actors):
    with pytest.raises(Unauthorized):
        authenticate(ctx, "siapa", PASSWORD, "10.0.0.1")
    assert actors["admin"].post(f"{API}/auth/users/viewer/disable").status_code == 200
    with pytest.raises(Unauthorized):
        authenticate(ctx, "viewer", PASSWORD, "10.0.0.1")


def test_password_change_checks_the_current_one(ctx, actors):
    dlh = actors["dlh"]
    wrong = dlh.post(f"{API}/auth/password", json={"current_password": "bukan", "new_password": "baru-sekali-112"})
    assert wrong.status_code == 401
    short = dlh.post(f"{API}/auth/password", json={"current_password": PASSWORD, "new_password": "pendek"})
    assert short.status_code == 422 and short.json()["detail"][0]["loc"][-1] == "new_password"
    ok = dlh.post(f"{API}/auth/password", json={"current_password": PASSWORD, "new_password": "baru-sekali-112"})
    assert ok.status_code == 204
    with pytest.raises(Unauthorized):
        authenticate(ctx, "dlh", PASSWORD, "10.0.0.1")
    assert authenticate(ctx, "dlh", "baru-sekali-112", "10.0.0.1").username == "dlh"
    assert "user.password_changed" in [r.action for r in entries(ctx)]


def test_a_disabled_users_token_stops_at_once_even_when_cached(actors):
    damkar = actors["damkar"]
    assert damkar.get(f"{API}/incidents").status_code == 200  # now cached for a few seconds
    assert actors["damkar"].get(f"{API}/units").status_code == 200
    assert actors["commander"].post(f"{API}/auth/users/damkar/disable").status_code == 403
    assert actors["admin"].post(f"{API}/auth/users/damkar/disable").json() == {"username": "damkar", "active": False}
    assert damkar.get(f"{API}/incidents").status_code == 401
    assert actors["admin"].post(f"{API}/auth/users/damkar/enable").status_code == 200
    # The disable revoked the token for good: enabling the account again does not revive it.
    assert damkar.get(f"{API}/incidents").status_code == 401
    assert actors["admin"].post(f"{API}/auth/users/admin/disable").status_code == 409


def test_a_disabled_users_event_stream_ends(actors, open_stream, live_server, tokens):
    import httpx

    stream = open_stream("damkar")
    r = httpx.post(f"{live_server}{API}/auth/users/damkar/disable",
                   headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.status_code == 200
    assert stream.next(timeout=10) is None  # the stream was closed by the server
    # And the stream never carried the internal revocation event to anyone.
    staff = open_stream("commander", last_event_id=0)
    seen = []
    while (event := staff.next(timeout=1)) is not None:
        seen.append(event["event"])
    assert "auth.revoked" not in seen


def test_tokens_are_named_scoped_revocable_and_report_last_use(ctx, actors, client):
    dlh = actors["dlh"]
    made = dlh.post(f"{API}/auth/tokens", json={"name": "dashboard DLH", "scope": "read"})
    assert made.status_code == 201
    body = made.json()
    assert body["name"] == "dashboard DLH" and body["scope"] == "read" and body["token"].startswith("s112_")
    read_only = {"Authorization": f"Bearer {body['token']}"}
    assert client.get(f"{API}/incidents", headers=read_only).status_code == 200
    refused = client.post(f"{API}/incidents/x/notes", json={"text": "x"}, headers=read_only)
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    with ctx.db.transaction(write=False) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == body["id"])).one()
    # Only its hash is stored; the first use stamped its last-used time.
    assert body["token"] not in str(row._asdict()) and row.last_used_at is not None
    listed = dlh.get(f"{API}/auth/tokens").json()
    assert {t["name"] for t in listed} == {"test", "dashboard DLH"} and "token" not in listed[0]
    # Another user cannot see or revoke it; the owner can.
    assert actors["pln"].post(f"{API}/auth/tokens/{body['id']}/revoke").status_code == 404
    assert actors["pln"].get(f"{API}/auth/tokens", params={"username": "dlh"}).status_code == 403
    assert dlh.post(f"{API}/auth/tokens/{body['id']}/revoke").json()["revoked_at"] is not None
    assert client.get(f"{API}/incidents", headers=read_only).status_code == 401
    assert dlh.post(f"{API}/auth/tokens/{body['id']}/revoke").status_code == 409
    actions = [r.action for r in entries(ctx) if r.target_type == "token"]
    assert actions == ["token.created", "token.revoked"]


def test_last_used_is_written_at_most_once_a_minute(ctx, actors):
    from siaga112.auth import cache
    from siaga112.models import users

    def last_used_after_a_request(set_to):
        with ctx.db.transaction() as conn:
            pln = select(users.c.id).where(users.c.username == "pln").scalar_subquery()
            conn.execute(update(api_tokens).where(api_tokens.c.user_id == pln).values(last_used_at=set_to))
        cache._principals.clear()  # a lookup in the database, as a request to another process makes
        assert actors["pln"].get(f"{API}/units").status_code == 200
        with ctx.db.transaction(write=False) as conn:
            return conn.execute(select(api_tokens.c.last_used_at).where(api_tokens.c.user_id == pln)).scalar_one()

    recent = utcnow() - timedelta(seconds=30)
    assert last_used_after_a_request(recent) == recent            # no write on this request
    old = utcnow() - timedelta(minutes=2)
    assert last_used_after_a_request(old) > recent                # refreshed


def test_cli_lists_and_revokes_tokens_and_disables_users(database_url, tmp_path, ctx, actors):
    listed = cli(["token", "list", "--user", "pln"], database_url, tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if " pln " in x)
    token_id = int(line.split()[0])
    assert "s112_" not in listed.stdout
    revoked = cli(["token", "revoke", str(token_id)], database_url, tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert actors["pln"].get(f"{API}/units").status_code == 401
    assert cli(["token", "revoke", "999999"], database_url, tmp_path).returncode == 1
    disabled = cli(["user", "disable", "dlh"], database_url, tmp_path)
    assert disabled.returncode == 0, disabled.stderr
    assert actors["dlh"].get(f"{API}/units").status_code == 401
    assert cli(["user", "disable", "nobody"], database_url, tmp_path).returncode == 1
    cli_entries = [(r.action, r.actor.startswith("cli")) for r in entries(ctx) if r.action in ("token.revoked", "user.disabled")]
    assert cli_entries == [("token.revoked", True), ("user.disabled", True)]


def test_a_password_hashed_with_older_parameters_is_upgraded_at_login(ctx):
    # After an upgrade of argon2's parameters the first login of each user rehashes the password.
    # It used to write the new hash inside the login's read transaction: refused on PostgreSQL
    # (read only), "database is locked" on SQLite when another write was under way: a 500.
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash("rahasia-112")
    with ctx.db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "dinkes").values(password_hash=old))
    who = authenticate(ctx, "dinkes", "rahasia-112", "10.0.0.7")
    assert who.username == "dinkes"
    with ctx.db.transaction(write=False) as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "dinkes")).scalar()
    assert stored != old and stored.startswith("$argon2")
    assert authenticate(ctx, "dinkes", "rahasia-112", "10.0.0.7").username == "dinkes"
