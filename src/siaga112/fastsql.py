"""INSERTs for the intake hot path, compiled once per dialect and run on the DBAPI cursor.

Why not plain `conn.execute(insert(table), rows)`: profiling the intake at 100 incidents/s on two
cores showed SQLAlchemy's per-statement work (cache keys, parameter coercion, result setup) at
~0.4 ms a statement, about two thirds of the request's CPU. The SQL text and the per-column bind
processors still come from SQLAlchemy (so types such as UTCDateTime and JSON behave exactly as
elsewhere); only the per-call bookkeeping is skipped. Use it for INSERTs without RETURNING only.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert


def dbapi_connection(conn: Connection) -> Any:
    """The driver's own connection under `conn` (sqlite3 or psycopg), for what SQLAlchemy does
    more slowly: prepared executemany, raw savepoints, psycopg's pipeline."""
    raw = conn.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw


class FastInsert:
    def __init__(self, table: Table):
        self.table = table
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, list[tuple[str, Callable | None]], bool]] = {}

    def _compile(self, conn: Connection, columns: tuple[str, ...]):
        dialect = conn.dialect
        stmt = insert(self.table).values({c: bindparam(c, type_=self.table.c[c].type) for c in columns})
        compiled = stmt.compile(dialect=dialect)
        processors = [(c, self.table.c[c].type.dialect_impl(dialect).bind_processor(dialect))
                      for c in columns]
        positional = bool(compiled.positiontup)
        order = list(compiled.positiontup or ()) if positional else [c for c, _ in processors]
        by_name = dict(processors)
        entry = (compiled.string, [(c, by_name[c]) for c in order], positional)
        self._compiled[(dialect.name, columns)] = entry
        return entry

    def execute(self, conn: Connection, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
        """Insert one row (a dict) or several with the same keys."""
        if isinstance(rows, dict):
            rows = [rows]
        if not rows:
            return
        columns = tuple(rows[0])
        entry = self._compiled.get((conn.dialect.name, columns)) or self._compile(conn, columns)
        sql, processors, positional = entry
        if positional:
            params: list[Any] = [tuple(p(r[c]) if p else r[c] for c, p in processors) for r in rows]
        else:
            params = [{c: (p(r[c]) if p else r[c]) for c, p in processors} for r in rows]
        cursor = dbapi_connection(conn).cursor()
        try:
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)
        finally:
            cursor.close()


class InsertBatch:
    """Several FastInserts written together: one network round trip on PostgreSQL (pipeline)."""

    def __init__(self) -> None:
        self.items: list[tuple[FastInsert | str, list[dict[str, Any]] | dict[str, Any]]] = []

    def add(self, statement: FastInsert, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
        if rows:
            self.items.append((statement, rows))

    def add_sql(self, sql: str) -> None:
        """A parameterless statement sent in its place in the batch (e.g. taking a lock)."""
        self.items.append((sql, {}))

    def write(self, conn: Connection) -> None:
        raw = dbapi_connection(conn)
        if conn.dialect.name == "postgresql":
            # psycopg's pipeline sends every INSERT before waiting for any answer; errors still
            # surface here, before the transaction commits.
            with raw.pipeline():
                self._send(conn, raw)
        else:
            self._send(conn, raw)

    def _send(self, conn: Connection, raw: Any) -> None:
        for statement, rows in self.items:
            if isinstance(statement, str):
                raw.execute(statement)
            else:
                statement.execute(conn, rows)
