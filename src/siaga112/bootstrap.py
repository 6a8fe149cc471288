"""First start: migrate the schema, load the SOP and the wilayah, seed demo units and users."""
from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, func, insert, select

from siaga112.audit import service as audit
from siaga112.auth.service import create_user, issue_token
from siaga112.classify.engine import Classifier
from siaga112.config import Settings
from siaga112.context import Context
from siaga112.db import Database
from siaga112.events import LocalBus
from siaga112.geo.gazetteer import Gazetteer, default_gazetteer
from siaga112.models import users, wilayah
from siaga112.sop.loader import default_sop_path, load_sop
from siaga112.sop.schemas import Sop
from siaga112.sop.service import read_sop, sop_is_loaded, sop_revision, store_sop
from siaga112.units.service import seed_demo_units

log = structlog.get_logger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
DATA = Path(__file__).parent / "data"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(db: Database) -> None:
    """Bring the schema to the newest revision (idempotent; safe with several processes on PG)."""
    cfg = alembic_config()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several workers starting together must not race to create the same tables.
            # A migration may rewrite a big table, and waits its turn behind another process's;
            # the request-sized limits of the connection do not apply to it.
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(112112)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def file_sop(settings: Settings) -> Sop:
    """The SOP file from SIAGA112_SOP_FILE or the packaged PPU one; raises SopError if invalid."""
    return load_sop(settings.sop_file or default_sop_path())


def _seed_wilayah(conn: Connection) -> None:
    if conn.execute(select(func.count()).select_from(wilayah)).scalar_one():
        return
    with open(DATA / "ppu" / "centroids.csv", newline="", encoding="utf-8") as f:
        centroids = {r["code"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)}
    with open(DATA / "ppu" / "wilayah.csv", newline="", encoding="utf-8") as f:
        rows = [{"code": r["code"], "level": r["level"], "name": r["name"],
                 "parent_code": r["parent_code"] or None,
                 "lat": centroids.get(r["code"], (None, None))[0],
                 "lon": centroids.get(r["code"], (None, None))[1]} for r in csv.DictReader(f)]
    conn.execute(insert(wilayah), rows)


def seed_reference(db: Database, sop: Sop) -> None:
    """Load SOP, wilayah and demo units into an empty database; leaves an existing one alone."""
    with db.transaction() as conn:
        if not sop_is_loaded(conn):
            store_sop(conn, sop)
            audit.record(conn, None, "sop.loaded", "sop", str(sop.version), actor="system",
                         detail={"types": len(sop.incident_types), "agencies": len(sop.agencies)})
            log.info("sop_loaded", types=len(sop.incident_types), agencies=len(sop.agencies))
        _seed_wilayah(conn)
        seed_demo_units(conn)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    agency_code: str | None
    password: str
    token: str


DEMO_USERS = [
    ("admin", "admin", None), ("operator1", "call_taker", None), ("komandan", "commander", "BPBD"),
    ("damkar", "dispatcher", "DAMKAR"), ("dinkes", "dispatcher", "DINKES"),
    ("bpbd", "dispatcher", "BPBD"), ("dlh", "dispatcher", "DLH"), ("polres", "dispatcher", "POLRES"),
    ("dp3ap2kb", "dispatcher", "DP3AP2KB"), ("pimpinan", "viewer", None),
    ("telepon", "integration", None),
]


def seed_demo_users(db: Database) -> list[DemoAccount]:
    """Demo accounts for every role and several agencies, with fresh passwords; once only."""
    created = []
    with db.transaction() as conn:
        if conn.execute(select(func.count()).select_from(users)).scalar_one():
            return []
        for username, role, agency in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            create_user(conn, username=username, role=role, agency_code=agency, password=password)
            token = issue_token(conn, username=username, name="demo")
            created.append(DemoAccount(username, role, agency, password, token))
    return created


def _routing(sop: Sop) -> dict[str, tuple]:
    return {t.code: (t.priority, t.lead, tuple(t.support)) for t in sop.incident_types.values()}


def build_context(settings: Settings, *, prepare: bool = True) -> Context:
    """Open the database (migrating and seeding when `prepare`), and load what requests read."""
    db = Database(settings.database_url, pool_size=settings.pool_size,
                  timeout=settings.db_timeout_seconds)
    audit.use_keys(db.engine, audit.AuditKeys.from_secrets(settings.audit_secrets()))
    base = file_sop(settings)
    if prepare:
        migrate(db)
        seed_reference(db, base)
    with db.transaction(write=False) as conn:
        sop = read_sop(conn, base=base)
        revision = sop_revision(conn)
    if _routing(sop) != _routing(base):
        # The file only seeds an empty database; afterwards the database is the SOP of record.
        log.warning("sop_file_differs_from_database", file=str(settings.sop_file or default_sop_path()),
                    hint="the database's SOP is used; change it through the administration")
    gazetteer = default_gazetteer()
    classifier = make_classifier(settings, sop, gazetteer)
    bus = LocalBus()
    db.on_commit(bus.wake)
    return Context(settings=settings, db=db, sop=sop, classifier=classifier, gazetteer=gazetteer,
                   bus=bus, sop_revision=revision)


def make_classifier(settings: Settings, sop: Sop, gazetteer: Gazetteer) -> Classifier:
    """The classifier for the SOP's incident types (rebuilt when an administrator changes them)."""
    names = [p.name for p in gazetteer.places()]
    if settings.classify_threshold is None:
        return Classifier(sop.incident_types.values(), place_names=names)
    return Classifier(sop.incident_types.values(), place_names=names,
                      threshold=settings.classify_threshold)


__all__ = ["build_context", "migrate", "seed_demo_users", "Gazetteer"]
