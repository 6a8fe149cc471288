"""The `siaga112` command as an administrator runs it: SOP checks, users, tokens, migrations."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, inspect, select

from siaga112.app import create_app
from siaga112.auth.service import create_user, verify_password
from siaga112.bootstrap import build_context
from siaga112.config import Settings
from siaga112.db import Database, normalise_url
from siaga112.models import incident_types
from siaga112.sop.loader import default_sop_path, load_sop
from support import edit, line_of  # SOP-editing helpers shared by the SOP and CLI tests

SIAGA112 = Path(sys.executable).parent / "siaga112"
PACKAGED_PATH = default_sop_path()
PACKAGED = PACKAGED_PATH.read_text(encoding="utf-8")
API = "/api/v1"


def cli_env(database_url: str | None, tmp_path: Path, server_key: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no SIAGA112_ setting leaks in from the test run but the
    audit key of the test databases (without `server_key`, the key is var/audit_key's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA112_")}
    env["SIAGA112_VAR_DIR"] = str(tmp_path / "var")
    # The server's audit key, as the operator's shell has it: without it a command refuses to
    # sign the test databases' trail.
    if server_key:
        env["SIAGA112_AUDIT_KEY"] = os.environ["SIAGA112_AUDIT_KEY"]
    if database_url is not None:
        env["SIAGA112_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([str(SIAGA112), *args], env=env, cwd=cwd, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, stdin: str | None = None) -> subprocess.CompletedProcess:
    out, err = proc.communicate(stdin if stdin is not None else "", timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def siaga112(*args: str, env: dict[str, str], cwd: Path,
             stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed command to completion."""
    return finish(start(list(args), env, cwd), stdin)


def side_by_side(jobs: list[tuple[list[str], str | None]], env: dict[str, str],
                 cwd: Path) -> list[subprocess.CompletedProcess]:
    """Run independent commands two at a time: each pays ~2 s of start-up, and there are 2 cores."""
    results = []
    for i in range(0, len(jobs), 2):
        batch = [(start(args, env, cwd), stdin) for args, stdin in jobs[i:i + 2]]
        results += [finish(proc, stdin) for proc, stdin in batch]
    return results


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    """The app over a database the command prepared; preparing it again would hide its mistakes."""
    ctx = build_context(settings, prepare=False)
    try:
        with TestClient(create_app(settings, context=ctx)) as client:
            yield client
    finally:
        ctx.db.dispose()


def incident_type_rows(url: str) -> int:
    """Rows in incident_types, 0 when the table was never created."""
    engine = create_engine(normalise_url(url))
    try:
        if "incident_types" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(incident_types)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, templates, tmp_path):
    """A database with nothing in it, not even tables, on each backend (the server of `templates`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = templates["postgresql"].url
    name = f"siaga_cli_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    # Connected to the template only for a moment: other tests copy it, which needs it unused.
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- siaga112 sop check --------------------------------------------------------------------------


def edited_line(old: str) -> int:
    """Line of the packaged SOP where `old` starts; no edit below adds or removes a line."""
    return PACKAGED.count("\n", 0, PACKAGED.index(old)) + 1


# Each mistake an administrator may make: (text, its replacement, the message naming it).
BROKEN = {
    "unknown support agency": (
        "support: [BPBD, DINKES, PLN]", "support: [BPBD, DINKES, PLN, BASARNAS]",
        "incident type FIRE-BLDG: support agency BASARNAS is not a defined agency"),
    "type without lead": (
        "lead: DISHUB", "lead: null", "incident type TRAFFIC-DISRUPT has no lead agency"),
    "duplicated type code": (
        "- code: POLLUTION", "- code: CRIME",
        "incident type code CRIME is duplicated "
        f"(first defined on line {line_of(PACKAGED, '- code: CRIME')})"),
    "priority without ack_seconds": (
        "ack_seconds: 900,   ", "", "priority 3: missing required field 'ack_seconds'"),
}


def all_broken() -> str:
    """The packaged SOP with every mistake of BROKEN at once."""
    text = PACKAGED
    for old, new, _ in BROKEN.values():
        text = edit(text, old, new)
    return text


def test_sop_check_accepts_the_packaged_sop(tmp_path):
    r = siaga112("sop", "check", env=cli_env(None, tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"{PACKAGED_PATH}: OK — 16 agencies, 24 incident types, 4 priorities" in r.stdout


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_sop_check_names_each_mistake_with_its_line(case, tmp_path):
    old, new, message = BROKEN[case]
    line = edited_line(old)
    path = tmp_path / "sop.yaml"
    path.write_text(edit(PACKAGED, old, new), encoding="utf-8")
    r = siaga112("sop", "check", str(path), env=cli_env(None, tmp_path), cwd=tmp_path)
    assert r.returncode != 0
    assert f"{path}: line {line}: {message}" in r.stderr, r.stderr
    assert "1 problem(s) found" in r.stderr
    assert "OK" not in r.stdout


def test_sop_check_of_a_missing_file_says_so(tmp_path):
    missing = tmp_path / "nowhere" / "sop.yaml"
    r = siaga112("sop", "check", str(missing), env=cli_env(None, tmp_path), cwd=tmp_path)
    assert r.returncode != 0
    assert f"{missing}: no such file" in r.stderr
    assert "Traceback" not in r.stderr


# --- the server refuses an invalid SOP, and follows another valid one ----------------------------


def test_server_refuses_to_start_on_an_invalid_sop_and_writes_nothing(empty_database_url, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(all_broken(), encoding="utf-8")
    env = cli_env(empty_database_url, tmp_path, SIAGA112_SOP_FILE=str(path))
    # `seed` prepares the database exactly as `serve` does before it listens.
    r = siaga112("seed", env=env, cwd=tmp_path)
    assert r.returncode != 0
    assert "refusing to start: the SOP is invalid" in r.stderr
    for old, _, message in BROKEN.values():
        assert f"{path}: line {edited_line(old)}: {message}" in r.stderr, r.stderr
    assert "reference data loaded" not in r.stdout
    assert incident_type_rows(empty_database_url) == 0


def _other_sop() -> str:
    """The packaged SOP with a wider fire response and a new port authority leading ship accidents."""
    text = edit(PACKAGED, "support: [BPBD, DINKES, PLN]", "support: [BPBD, DINKES, PLN, SATPOLPP]")
    text = edit(text, '  - {code: KODIM,      name: "Komando Distrik Militer 0913/PPU", external: true}\n',
                '  - {code: KODIM,      name: "Komando Distrik Militer 0913/PPU", external: true}\n'
                '  - {code: KSOP,       name: "Kantor Kesyahbandaran dan Otoritas Pelabuhan Penajam",'
                ' external: true}\n')
    return edit(text, "  - code: OTHER\n", """\
  - code: SHIP-ACC
    name: {id: "Kecelakaan kapal di alur pelabuhan", en: "Ship accident in the port channel"}
    priority: 1
    lead: KSOP
    support: [SAR, POLRES]
    keywords: ["kapal kandas", "tongkang kandas", tongkang, kandas, "alur pelabuhan"]
  - code: OTHER
""")


def test_another_sop_file_decides_the_routing(empty_database_url, tmp_path, incident_body):
    path = tmp_path / "ppu-2027.yaml"
    path.write_text(_other_sop(), encoding="utf-8")
    load_sop(path)  # valid, or this test is about something else
    # A new installation: its key is the one `seed` generates into var/audit_key.
    env = cli_env(empty_database_url, tmp_path, server_key=False, SIAGA112_SOP_FILE=str(path))
    seeded = siaga112("seed", env=env, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "reference data loaded" in seeded.stdout
    made = build_context(Settings(database_url=empty_database_url, var_dir=tmp_path / "var",
                                  audit_key=None, sop_file=path), prepare=False)
    try:
        with made.db.transaction() as conn:
            create_user(conn, username="kapten", role="commander", agency_code="BPBD")
    finally:
        made.db.dispose()
    issued = siaga112("token", "add", "kapten", env=env, cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}

    settings = Settings(database_url=empty_database_url, sop_file=path, var_dir=tmp_path / "var")
    with serving(settings) as client:
        agencies = client.get(f"{API}/reference/agencies", headers=headers)
        assert agencies.status_code == 200 and "KSOP" in {a["code"] for a in agencies.json()}

        fire = client.post(f"{API}/incidents", json=incident_body(), headers=headers)
        assert fire.status_code == 201, fire.text
        assert [(a["agency_code"], a["role"]) for a in fire.json()["assignments"]] == [
            ("DAMKAR", "lead"), ("BPBD", "support"), ("DINKES", "support"), ("PLN", "support"),
            ("SATPOLPP", "support")]

        # No type given: the classifier learnt the new type's words from the SOP file.
        ship = client.post(f"{API}/incidents", headers=headers, json=incident_body(
            type_code=None, location={"desa_code": "64.09.01.1011"},
            description="Tongkang batu bara kandas di alur pelabuhan Penajam, menghalangi feri"))
        assert ship.status_code == 201, ship.text
        body = ship.json()
        assert body["type_code"] == "SHIP-ACC"
        assert [(a["agency_code"], a["role"]) for a in body["assignments"]] == [
            ("KSOP", "lead"), ("SAR", "support"), ("POLRES", "support")]


# --- users and tokens ------------------------------------------------------------------------------


def test_user_and_token_commands(database_url, tmp_path):
    env = cli_env(database_url, tmp_path)
    added, no_agency, unknown_agency, ghost = side_by_side([
        (["user", "add", "nina", "--role", "dispatcher", "--agency", "DAMKAR"], "rahasia-damkar-1\n"),
        (["user", "add", "rudi", "--role", "dispatcher"], "rahasia-rudi-12\n"),
        (["user", "add", "sari", "--role", "dispatcher", "--agency", "BASARNAS"], "rahasia-sari-12\n"),
        (["token", "add", "ghost"], None),
    ], env, tmp_path)

    assert added.returncode == 0, added.stderr
    assert "user nina added (dispatcher, DAMKAR)" in added.stdout
    assert no_agency.returncode != 0
    assert "cannot add user: a dispatcher must be bound to an agency" in no_agency.stderr
    assert unknown_agency.returncode != 0
    assert "cannot add user: unknown agency 'BASARNAS'" in unknown_agency.stderr
    assert ghost.returncode != 0 and "cannot issue token: no user 'ghost'" in ghost.stderr
    for r in (no_agency, unknown_agency, ghost):
        assert "Traceback" not in r.stderr

    issued = siaga112("token", "add", "nina", "--label", "konsol damkar", env=env, cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("s112_")

    db = Database(database_url)
    try:
        with db.transaction(write=False) as conn:
            who = verify_password(conn, "nina", "rahasia-damkar-1")  # the password came from stdin
            assert who is not None and (who.role, who.agency_code) == ("dispatcher", "DAMKAR")
            assert verify_password(conn, "rudi", "rahasia-rudi-12") is None
            assert verify_password(conn, "sari", "rahasia-sari-12") is None
    finally:
        db.dispose()

    settings = Settings(database_url=database_url, var_dir=tmp_path / "var")
    with serving(settings) as client:
        ok = client.get(f"{API}/reference/agencies", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        assert "DAMKAR" in {a["code"] for a in ok.json()}
        wrong = client.get(f"{API}/reference/agencies", headers={"Authorization": f"Bearer {token}x"})
        assert wrong.status_code == 401


# --- siaga112 migrate ------------------------------------------------------------------------------


def test_migrate_twice_is_harmless(empty_database_url, tmp_path):
    env = cli_env(empty_database_url, tmp_path)
    # Started together, like several workers of one deployment: one migrates, the other waits
    # for it and then finds nothing left to do.
    for r in side_by_side([(["migrate"], None), (["migrate"], None)], env, tmp_path):
        assert r.returncode == 0, r.stderr
        assert "database is up to date" in r.stdout
    engine = create_engine(normalise_url(empty_database_url))
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"incidents", "calls", "incident_types", "alembic_version"} <= tables
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
    finally:
        engine.dispose()
    # Migrating creates the schema only: reference data comes with seed/serve.
    assert incident_type_rows(empty_database_url) == 0
