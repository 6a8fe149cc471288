"""`siaga112 backup FILE` and `siaga112 restore FILE`, while the service keeps running.

SQLite: the online backup API copies the database inside one read transaction, a consistent
snapshot that writers (WAL) never wait for. PostgreSQL: `pg_dump -Fc` (one repeatable-read
snapshot) and `pg_restore` in a single transaction: a failed restore leaves the target as it was.
The backup is written next to FILE and renamed into place, so FILE is never a partial backup.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from siaga112.db import normalise_url


class BackupError(Exception):
    """The backup or restore did not happen; the message says why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str  # "sqlite" | "pg_dump"


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (it goes in PGPASSWORD: never on a command line)."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install PostgreSQL's client programs "
                          f"(Debian: apt-get install postgresql-client)")
    return path


def _sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("no SQLite file to back up")
    return Path(database)


def backup(url: str, target: Path) -> BackupResult:
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        if url.startswith("sqlite"):
            source_path = _sqlite_path(url)
            if not source_path.exists():
                raise BackupError(f"{source_path}: no such database")
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            copy = sqlite3.connect(partial)
            try:
                source.execute("PRAGMA busy_timeout=10000")
                source.backup(copy)  # all pages in one step: one consistent snapshot
                # The copy stands alone: one file, no WAL beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
                problem = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
                source.close()
            if problem != "ok":
                raise BackupError(f"the copy failed its integrity check: {problem}")
            kind = "sqlite"
        else:
            conninfo, env = _libpq(url)
            done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                   f"--file={partial}", f"--dbname={conninfo}"],
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
            kind = "pg_dump"
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, kind)


def _looks_like_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def target_has_data(url: str) -> bool:
    """Whether the target already holds a Siaga 112 database with users."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            if "users" not in inspect(conn).get_table_names():
                return False
            return bool(conn.execute(text("SELECT count(*) FROM users")).scalar_one())
    except DBAPIError as exc:
        raise BackupError(f"cannot open the target database: {type(exc.orig).__name__}") from None
    finally:
        engine.dispose()


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` with the backup in `source`, all or nothing."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source}: no such file")
    if url.startswith("sqlite"):
        if not _looks_like_sqlite(source):
            raise BackupError(f"{source}: not a SQLite backup (a PostgreSQL dump restores into PostgreSQL)")
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(target_path)
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source}: the backup failed its integrity check")
            live.execute("PRAGMA busy_timeout=10000")
            # The backup API writes every page under the target's write lock, in one step: other
            # connections see the old database or the restored one, never a mixture.
            backup_db.backup(live)
            live.execute("PRAGMA journal_mode=WAL")
        finally:
            live.close()
            backup_db.close()
        return
    if _looks_like_sqlite(source):
        raise BackupError(f"{source}: a SQLite backup cannot be restored into PostgreSQL")
    conninfo, env = _libpq(url)
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                           "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(source)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {done.stderr.strip()}")
