"""Engines, the metadata, and the one way to open a transaction."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, MetaData, Table, create_engine, event, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import TypeDecorator

from siaga112.fastsql import dbapi_connection

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

JSONType = JSON().with_variant(JSONB(), "postgresql")

# Column `info` markers for personal data that the column's name does not give away (free text
# typed about a case may name people; a document may carry the caller). Retention must cover
# every column so marked or named (tests/security/test_retention_coverage.py).
PERSONAL = {"personal": "caller data"}
FREE_TEXT = {"personal": "free text"}


def load_row(conn: Connection, table: Table, key: Any, *, missing: str, lock: bool = False) -> Any:
    """The row with this primary key, or NotFound(missing); `lock` takes it FOR UPDATE on
    PostgreSQL (SQLite's single writer already serialises the transactions that change it)."""
    from siaga112.errors import NotFound

    query = select(table).where(*(column == key for column in table.primary_key.columns))
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(missing)
    return row


def inserted_id(result: Any) -> Any:
    """The primary key an INSERT just gave its row."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return key[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no time zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """`postgresql://` selects psycopg 3; SQLite paths get their folder created."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


# hide_parameters: bound values (callers' numbers and names) stay out of error messages and logs.


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves: pysqlite's implicit transactions start DEFERRED and a
        # deferred transaction that later writes fails with "database is locked" under load.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("siaga_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """One engine per process, with the transaction context manager every action runs in."""

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=20,
                                        connect_args={"check_same_thread": False, "timeout": 10},
                                        hide_parameters=True)
            _configure_sqlite(self.engine)
            # One writer at a time inside the process; BEGIN IMMEDIATE orders processes.
            self._write_lock: Any = threading.Lock()
            self._group = _GroupCommit(self.engine, self._write_lock)
        else:
            # No pre-ping: it is a round trip on every checkout; a connection broken by a database
            # restart fails its request once and is replaced (SQLAlchemy invalidates it).
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_recycle=3600, hide_parameters=True)
            self._write_lock = None
        self._commit_listeners: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every commit that recorded events (the bus's wake-up)."""
        self._commit_listeners.append(listener)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """Commit on success, roll back on error; after-commit hooks run only after a commit.

        The block returns only once its changes are durable, so whatever a request acknowledges
        afterwards is on disk.
        """
        if write and self.is_sqlite:
            with self._group.transaction() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            # A read transaction is READ ONLY on PostgreSQL (psycopg says so in its BEGIN, no
            # extra round trip): a write slipped into one fails in every test, not by chance
            # under load, as a deferred SQLite transaction upgrading to a write does.
            conn = conn.execution_options(siaga_write=write, postgresql_readonly=not write)
            hooks: list[Callable[[], None]] = []
            conn.info["after_commit"] = hooks
            conn.info["tx_state"] = {}
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("after_commit", None)
                conn.info.pop("tx_state", None)
        for hook in hooks:
            hook()

    def notify_commit(self, conn: Connection) -> None:
        """Arrange for the commit listeners to be woken once this transaction commits."""
        hooks = conn.info.get("after_commit")
        if hooks is None:
            return
        for listener in self._commit_listeners:
            if listener not in hooks:
                hooks.append(listener)

    def dispose(self) -> None:
        if self.is_sqlite:
            self._group.close()
        self.engine.dispose()


class _Batch:
    def __init__(self) -> None:
        self.committed = threading.Event()
        self.error: BaseException | None = None
        self.size = 0


class _GroupCommit:
    """SQLite writes of concurrent requests share one transaction and one fsync.

    With synchronous=FULL every commit is an fsync, and one writer at a time holds the lock
    through it: at 100 intakes/s that fsync, not the SQL, is what queues requests up. Here each
    transaction body runs in its own SAVEPOINT on one writer connection (a failing body rolls
    back alone); the body that finds nobody waiting for the lock commits the whole batch, and
    every body's caller waits for that commit before it returns. The same idea is PostgreSQL's
    commit_delay; on PostgreSQL we leave it to the server.
    """

    MAX_BATCH = 64

    def __init__(self, engine: Engine, lock: threading.Lock):
        self.engine = engine
        self.lock = lock
        self.waiting = 0
        self.waiting_lock = threading.Lock()
        self.conn: Connection | None = None
        self.root: Any = None
        self.batch: _Batch | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.waiting_lock:
            self.waiting += 1
        self.lock.acquire()
        with self.waiting_lock:
            self.waiting -= 1
        hooks: list[Callable[[], None]] = []
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(siaga_write=True)
            conn = self.conn
            if self.root is None:
                self.root = conn.begin()
                self.batch = _Batch()
            batch = self.batch
            assert batch is not None
            conn.info["after_commit"] = hooks
            # Raw SAVEPOINT statements: SQLAlchemy's savepoint constructs are compiled anew on
            # every use, which cost more than the intake's own INSERTs.
            raw = dbapi_connection(conn)
            raw.execute("SAVEPOINT body")
            try:
                yield conn
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK TO SAVEPOINT body")
                    raw.execute("RELEASE SAVEPOINT body")
                else:
                    # SQLite itself rolled the whole transaction back (I/O error, disk full):
                    # the earlier bodies of this batch are gone too, so they must fail as well.
                    self._abandon(RuntimeError("the database rolled back the write batch"))
                raise
            else:
                raw.execute("RELEASE SAVEPOINT body")
                batch.size += 1
            finally:
                conn.info.pop("after_commit", None)
        finally:
            self._commit_unless_others_follow()
            self.lock.release()
        batch.committed.wait()
        if batch.error is not None:
            raise batch.error
        for hook in hooks:
            hook()

    def _commit_unless_others_follow(self) -> None:
        """Called with the lock held: the last writer in line (or a full batch) commits."""
        batch = self.batch
        if self.root is None or batch is None:
            return
        with self.waiting_lock:
            others_follow = self.waiting > 0
        if others_follow and batch.size < self.MAX_BATCH:
            return
        try:
            self.root.commit()
        except BaseException as exc:  # the batch fails together; nothing in it was acknowledged
            batch.error = exc
            self._reset_connection()
        finally:
            self.root = None
            self.batch = None
            batch.committed.set()

    def _abandon(self, error: BaseException) -> None:
        """Fail every caller of the open batch and start afresh (called with the lock held)."""
        batch = self.batch
        self.root = None
        self.batch = None
        self._reset_connection()
        if batch is not None:
            batch.error = error
            batch.committed.set()

    def _reset_connection(self) -> None:
        try:
            if self.conn is not None:
                self.conn.invalidate()
                self.conn.close()
        finally:
            self.conn = None

    def close(self) -> None:
        with self.lock:
            if self.batch is not None:
                self._abandon(RuntimeError("the database is shutting down"))
            if self.conn is not None:
                self.conn.close()
                self.conn = None

