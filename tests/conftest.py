"""Fixtures: a fresh database per test on SQLite and on PostgreSQL, and named actors over HTTP."""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from pg_pool import PgPool, install_snapshot
from siaga112.app import create_app
from siaga112.auth.service import create_user, issue_token
from siaga112.bootstrap import build_context
from siaga112.config import Settings
from support import SSEStream

PG_ADMIN_URL = os.environ.get("SIAGA112_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]

# (name, role, agency): the people the tests speak as.
ACTORS = [
    ("call_taker", "call_taker", None), ("commander", "commander", "BPBD"), ("admin", "admin", None),
    ("damkar", "dispatcher", "DAMKAR"), ("dlh", "dispatcher", "DLH"), ("dinkes", "dispatcher", "DINKES"),
    ("bpbd", "dispatcher", "BPBD"), ("pln", "dispatcher", "PLN"), ("polres", "dispatcher", "POLRES"),
    ("viewer", "viewer", None), ("viewer_damkar", "viewer", "DAMKAR"),
    ("telephony", "integration", None),
    # DAMKAR's vehicle tracker: an integration account bound to the fleet it reports.
    ("avl_damkar", "integration", "DAMKAR"),
]


@pytest.fixture(scope="session", autouse=True)
def audit_key():
    """One audit key for every context this process builds: the template databases are made
    once with it and copied for each test, whatever the test's own var directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIAGA112_AUDIT_KEY", os.environ.get("SIAGA112_AUDIT_KEY") or "test-audit-key-" + uuid.uuid4().hex)
        yield os.environ["SIAGA112_AUDIT_KEY"]


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2 at its smallest cost for the passwords set and checked in this process.

    The service's parameters (64 MiB, 3 passes, 4 lanes) cost 0.3-0.6 s of CPU per hash or
    check on two cores, and the suite logs in and creates users several hundred times. Same
    algorithm, library and code paths; a hash made with other parameters still verifies (they
    are part of it). Servers the tests start as processes keep the service's parameters.
    """
    from argon2 import PasswordHasher

    from siaga112.auth import service

    real = service._hasher

    class CheapHasher(PasswordHasher):
        def check_needs_rehash(self, hash: str) -> bool:
            # A hash the service made (a server process, a CLI command) is as current as one
            # made here: no test sees a rehash the service would not have done.
            return super().check_needs_rehash(hash) and real.check_needs_rehash(hash)

    cheap = CheapHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "_hasher", cheap)
        dummy = cheap.hash("siaga112 no such user")
        patch.setattr(service, "_dummy_hash", lambda: dummy)
        yield


@pytest.fixture(scope="session", autouse=True)
def parse_each_sop_once():
    """Each test's context reads its SOP file and builds a classifier for its incident types;
    parsing the YAML and building the classifier took ~0.15 s of every test's setup. Here the
    parsed SOP is kept per file content (each test gets its own deep copy) and the classifier
    per incident types, place names and threshold (it holds nothing but a memo of stems).
    The service still builds its own; only this process's tests share them.
    """
    import copy

    from siaga112 import bootstrap

    real_file_sop, real_make_classifier = bootstrap.file_sop, bootstrap.make_classifier
    sops, classifiers = {}, {}

    def file_sop(settings):
        path = Path(settings.sop_file or bootstrap.default_sop_path())
        try:
            key = (str(path), path.read_bytes())
        except OSError:
            return real_file_sop(settings)
        if key not in sops:
            sops[key] = real_file_sop(settings)
        return copy.deepcopy(sops[key])

    def make_classifier(settings, sop, gazetteer):
        key = (settings.classify_threshold, tuple(sop.incident_types.values()),
               tuple(p.name for p in gazetteer.places()))
        if key not in classifiers:
            classifiers[key] = real_make_classifier(settings, sop, gazetteer)
        return classifiers[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bootstrap, "file_sop", file_sop)
        patch.setattr(bootstrap, "make_classifier", make_classifier)
        yield


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _prepare_template(url: str, sop_file: Path | None = None) -> dict[str, str]:
    """Migrate, seed, and add the actors to the database at `url`; returns their tokens."""
    ctx = build_context(Settings(database_url=url, sop_file=sop_file))
    tokens = {}
    with ctx.db.transaction() as conn:
        for name, role, agency in ACTORS:
            create_user(conn, username=name, role=role, agency_code=agency, password="rahasia-112")
            tokens[name] = issue_token(conn, username=name, name="test")
    ctx.db.dispose()
    return tokens


@dataclass
class Template:
    backend: str
    url: str
    tokens: dict[str, str]
    pool: PgPool | None = None  # PostgreSQL: the copies handed to tests


def _make_templates(tmp_path_factory, label: str, sop_file: Path | None = None) -> dict[str, Template]:
    """One migrated, seeded template database per backend; each test gets a copy."""
    made = {}
    sqlite_path = tmp_path_factory.mktemp("tpl") / f"{label}.db"
    made["sqlite"] = Template("sqlite", f"sqlite:///{sqlite_path}",
                              _prepare_template(f"sqlite:///{sqlite_path}", sop_file))
    name = f"siaga_{label}_{os.getpid()}"
    try:
        _pg_admin(f"DROP DATABASE IF EXISTS {name}")
    except psycopg.OperationalError as exc:  # never skip silently: PostgreSQL is part of the suite
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    _pg_admin(f"CREATE DATABASE {name}")
    tokens = _prepare_template(_pg_url(name), sop_file)
    install_snapshot(_pg_url(name))
    made["postgresql"] = Template("postgresql", _pg_url(name), tokens,
                                  PgPool(PG_ADMIN_URL, name, kind=f"{label}_t"))
    return made


def _drop_templates(made: dict[str, Template]) -> None:
    made["postgresql"].pool.close()
    _pg_admin(f"DROP DATABASE IF EXISTS {made['postgresql'].url.rsplit('/', 1)[1]} WITH (FORCE)")


@pytest.fixture(scope="session")
def templates(tmp_path_factory, cheap_password_hashing, audit_key) -> dict[str, Template]:
    """One migrated, seeded template database per backend; each test gets a copy."""
    made = _make_templates(tmp_path_factory, "tpl")
    yield made
    _drop_templates(made)


def _copy(tpl: Template, tmp_path: Path, request):
    """A private copy of the template database for this test."""
    request.node.backend = tpl.backend
    if tpl.backend == "sqlite":
        src = Path(tpl.url.removeprefix("sqlite:///"))
        dst = tmp_path / src.name
        shutil.copyfile(src, dst)
        yield f"sqlite:///{dst}"
        return
    yield from _pg_copy(tpl)


@pytest.fixture(params=BACKENDS)
def database_url(request, templates, tmp_path) -> str:
    """A private copy of the template database for this test."""
    yield from _copy(templates[request.param], tmp_path, request)


def _pg_copy(tpl: Template):
    url = tpl.pool.acquire()
    yield url
    tpl.pool.release(url)


@pytest.fixture
def pg_database_url(templates):
    """A private PostgreSQL database, for what only PostgreSQL does (several processes)."""
    yield from _pg_copy(templates["postgresql"])


@pytest.fixture
def tokens(request, templates, database_url) -> dict[str, str]:
    return templates["sqlite" if database_url.startswith("sqlite") else "postgresql"].tokens


# The service bounds every wait on the database by 4 s (SIAGA112_DB_TIMEOUT_SECONDS). On a test
# machine shared with other runs a burst of racing writers can take longer than that without
# anything being wrong; the bound itself is tested in tests/ops with its own settings.
TEST_DB_TIMEOUT = 30.0


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", db_timeout_seconds=TEST_DB_TIMEOUT,
                    request_timeout_seconds=TEST_DB_TIMEOUT + 5)


@pytest.fixture
def ctx(settings):
    context = build_context(settings, prepare=False)
    yield context
    context.db.dispose()


@pytest.fixture
def app(settings, ctx):
    return create_app(settings, context=ctx)


class Actor:
    """A named user talking to the API with their own token."""

    def __init__(self, name: str, client: TestClient, token: str):
        self.name = name
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kw):
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, json=None, **kw):
        return self.client.post(url, json=json, headers={**self.headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def actors(client, tokens) -> dict[str, Actor]:
    return {name: Actor(name, client, tok) for name, tok in tokens.items()}


# Points inside PPU (checked against the packaged desa boundaries by the geo tests).
PENAJAM = {"lat": -1.2563, "lon": 116.7684}  # Kelurahan Penajam


def _incident_body(**overrides) -> dict:
    body = {"channel": "call", "caller": {"phone": "081234567890", "name": "Budi"},
            "description": "Rumah warga terbakar, api sudah besar", "type_code": "FIRE-BLDG",
            "location": dict(PENAJAM)}
    body.update(overrides)
    return body


@pytest.fixture
def incident_body():
    """A valid intake body (a house fire in Penajam) with any field overridden."""
    return _incident_body


@pytest.fixture
def unique_key():
    return lambda: uuid.uuid4().hex


@pytest.fixture
def live_server(app, settings):
    """The app served by uvicorn on a free loopback port in a background thread."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, **settings.server_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    # uvicorn flips `started` once it listens; wait on it rather than on the clock.
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        started.wait(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()



@pytest.fixture
def open_stream(live_server, tokens):
    """Open event streams as named actors; all closed at the end of the test."""
    opened: list[SSEStream] = []

    def _open(actor: str, last_event_id: int | None = None, base_url: str | None = None) -> SSEStream:
        stream = SSEStream(base_url or live_server, tokens[actor], last_event_id)
        opened.append(stream)
        return stream

    yield _open
    for s in opened:
        s.close()


@pytest.fixture(scope="session")
def fast_sop_file(tmp_path_factory) -> Path:
    """The PPU SOP with deadlines of seconds, for escalation tests (SIAGA112_SOP_FILE)."""
    import re

    from siaga112.sop.loader import default_sop_path

    text = default_sop_path().read_text(encoding="utf-8")
    for level, (ack, dispatch) in {1: (1, 2), 2: (2, 3), 3: (3, 4), 4: (4, 5)}.items():
        text, n = re.subn(rf"(\n  {level}: \{{label: .*?\}}, *)ack_seconds: *\d+, *dispatch_seconds: *\d+",
                          rf"\g<1>ack_seconds: {ack}, dispatch_seconds: {dispatch}", text)
        assert n == 1, f"priority {level} not found in the SOP"
    path = tmp_path_factory.mktemp("sop") / "fast.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fast_sop_templates(tmp_path_factory, fast_sop_file, cheap_password_hashing) -> dict[str, Template]:
    made = _make_templates(tmp_path_factory, "fast", fast_sop_file)
    yield made
    _drop_templates(made)


@pytest.fixture(params=BACKENDS)
def fast_sop_database(request, tmp_path, fast_sop_templates):
    """A fresh database seeded with the fast SOP; yields (url, tokens)."""
    tpl = fast_sop_templates[request.param]
    for url in _copy(tpl, tmp_path, request):
        yield url, tpl.tokens


CHROMIUM = os.environ.get("SIAGA112_CHROMIUM", "/usr/bin/chromium")


# Per module, not per session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and other tests call asyncio.run() there.
@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright (installed by .ci/run; never downloaded)."""
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/run or apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
