"""Engines, the metadata, and the one way to open a transaction."""
from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy import JSON, Connection, DateTime, MetaData, Table, create_engine, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import TypeDecorator

from siaga112.fastsql import dbapi_connection

log = structlog.get_logger(__name__)

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


def _in_utc(value: datetime) -> datetime:
    # Year 1 at +14:00 or year 9999 at -14:00 has no UTC equivalent: it overflowed on the way to
    # the database, a 500 to anyone who typed it.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("a moment that exists in UTC (years 1 to 9999)") from None


# Every time a request gives (a field or a query parameter): aware, and a moment UTC can hold.
UtcMoment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


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


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves: pysqlite's implicit transactions start DEFERRED and a
        # deferred transaction that later writes fails with "database is locked" under load.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("siaga_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """One engine per process, with the transaction context manager every action runs in.

    `timeout` bounds how long any one step may wait on the database: taking a connection from
    the pool, connecting, a statement, a lock, and (PostgreSQL) a whole transaction, so a
    database that stops answering costs a request seconds, not the TCP timeout.
    """

    def __init__(self, url: str, *, pool_size: int = 10, timeout: float = 5.0):
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.timeout = timeout
        if self.is_sqlite:
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=20,
                                        pool_timeout=timeout,
                                        connect_args={"check_same_thread": False, "timeout": timeout},
                                        hide_parameters=True)
            _configure_sqlite(self.engine, int(timeout * 1000))
            # One writer at a time inside the process; BEGIN IMMEDIATE orders processes.
            self._write_lock: Any = threading.Lock()
            self._group = _GroupCommit(self.engine, self._write_lock, timeout)
            self._watchdog: _Watchdog | None = None
        else:
            # No pre-ping: it is a round trip on every checkout; a connection broken by a database
            # restart fails its request once and is replaced (SQLAlchemy invalidates it).
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_recycle=3600, pool_timeout=timeout,
                                        connect_args=postgresql_connect_args(timeout),
                                        hide_parameters=True)
            self._write_lock = None
            self._watchdog = _Watchdog(timeout)
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
            watch = self._watchdog.watch(conn) if self._watchdog is not None else nullcontext()
            try:
                with watch, conn.begin():
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
        if self._watchdog is not None:
            self._watchdog.close()
        self.engine.dispose()


def postgresql_connect_args(timeout: float) -> dict[str, Any]:
    """libpq settings that bound every wait on PostgreSQL by about `timeout` seconds.

    The server ends a statement or a lock wait that runs too long and a session left idle inside
    a transaction (its locks would stall everyone else); keepalives and tcp_user_timeout notice a
    peer that vanished without closing the connection. What none of these catch (a path that
    still acknowledges packets but never answers) the watchdog in `Database.transaction` does.
    """
    ms = max(1, int(timeout * 1000))
    idle_in_transaction = max(10_000, 4 * ms)
    return {
        "connect_timeout": max(2, math.ceil(timeout)),  # libpq's minimum is 2 s
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(timeout)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": ms,
        "options": f"-c statement_timeout={ms} -c lock_timeout={ms} "
                   f"-c idle_in_transaction_session_timeout={idle_in_transaction}",
    }


class _Watchdog:
    """Cuts the socket of a PostgreSQL transaction that outlives its deadline.

    A statement sent into a network path that stopped forwarding waits for an answer that never
    comes: statement_timeout is the server's (which never saw it), and keepalives are answered by
    whatever still holds the path open (a proxy, a NAT, a load balancer). Shutting the socket
    down wakes the waiting thread with a connection error at once; SQLAlchemy then discards the
    connection, the request answers 503, and the thread is free for the next one.
    """

    TICK = 0.1
    # The server's own lock and statement timeouts (the same bound, counted from their statement)
    # answer first when the server is there: a lock held elsewhere is "busy" (503, retry in 2 s),
    # not a cut connection ("unreachable"). The watchdog is for the silent path, a moment later
    # and still before the request guard.
    GRACE = 0.5

    def __init__(self, limit: float):
        self.limit = limit
        self._lock = threading.Lock()
        self._open: dict[int, tuple[float, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, conn: Connection) -> Iterator[None]:
        try:
            fd = dbapi_connection(conn).pgconn.socket
        except Exception:  # noqa: BLE001 — no socket to watch (already broken): the query fails by itself
            yield
            return
        key = id(conn)
        with self._lock:
            self._open[key] = (time.monotonic() + self.limit + self.GRACE, fd)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="siaga112-db-watchdog",
                                                daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._open.pop(key, None)

    def _run(self) -> None:
        while not self._stop.wait(self.TICK):
            now = time.monotonic()
            with self._lock:
                # Cut while holding the lock: a registered fd still belongs to its connection.
                for key, (deadline, fd) in list(self._open.items()):
                    if deadline <= now:
                        del self._open[key]
                        _cut(fd)
                        log.warning("database_transaction_cut", limit_seconds=self.limit)

    def close(self) -> None:
        self._stop.set()


def _cut(fd: int) -> None:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


# What a database failure means for the people waiting on it.
UNAVAILABLE, BUSY, DISK_FULL = "unavailable", "busy", "disk_full"
# Lock or statement timeout, serialisation conflict, deadlock, too many connections, starting up.
_PG_BUSY = {"55P03", "57014", "40001", "40P01", "53300", "57P03"}
_PG_DISK_FULL = {"53100"}
# A read-only database (a standby), an administrator's or a crash's shutdown.
_PG_UNAVAILABLE = {"25006", "57P01", "57P02"}


def database_failure(error: BaseException) -> str | None:
    """UNAVAILABLE, BUSY or DISK_FULL when `error` says the database cannot serve now, else None
    (a constraint violation or bad SQL is a bug or a rule, and stays what it is)."""
    if isinstance(error, DatabaseFailure):
        return error.kind
    if isinstance(error, sa_exc.TimeoutError):  # no connection free in the pool in time
        return BUSY
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    message = str(orig).lower()
    if code in _PG_DISK_FULL or "disk is full" in message or "no space left" in message:
        return DISK_FULL
    if code in _PG_BUSY or "database is locked" in message or "database is busy" in message:
        return BUSY
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)) or error.connection_invalidated:
        return UNAVAILABLE
    if code in _PG_UNAVAILABLE or (code and code.startswith("08")):  # 08: connection exceptions
        return UNAVAILABLE
    return None


class DatabaseFailure(Exception):
    """The database could not take this transaction (see `database_failure` for the kinds)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


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

    def __init__(self, engine: Engine, lock: threading.Lock, timeout: float):
        self.engine = engine
        self.lock = lock
        # A writer waits this long for its turn; longer means the writer ahead is stuck.
        self.timeout = timeout
        self.waiting = 0
        self.waiting_lock = threading.Lock()
        self.conn: Connection | None = None
        self.root: Any = None
        self.batch: _Batch | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.waiting_lock:
            self.waiting += 1
        acquired = self.lock.acquire(timeout=self.timeout)
        with self.waiting_lock:
            self.waiting -= 1
        if not acquired:
            raise DatabaseFailure(BUSY, "no turn to write within the time limit")
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
            except BaseException as exc:
                if raw.in_transaction:
                    raw.execute("ROLLBACK TO SAVEPOINT body")
                    raw.execute("RELEASE SAVEPOINT body")
                else:
                    # SQLite itself rolled the whole transaction back (I/O error, disk full):
                    # the earlier bodies of this batch are gone too, so they must fail as well.
                    self._abandon(DatabaseFailure(database_failure(exc) or UNAVAILABLE,
                                                  "the database rolled back the write batch"))
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

