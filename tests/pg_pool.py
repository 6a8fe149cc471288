"""PostgreSQL databases for tests: copied from a prepared template once, reset between tests.

Copying a template per test was cheap (~0.1 s); dropping the copy was not: DROP DATABASE takes
about a second on this server, for every PostgreSQL test. Here each pytest process keeps the
copies it made and gives the next test one of them back, in the state of the template:

- every table the last test wrote to (by the server's own counters of inserted, updated and
  deleted rows) is emptied and refilled from a snapshot of the template's rows kept in the same
  database (schema `siaga_test`, which the application never reads), and every sequence is set
  back to where the template left it, in one call: `siaga_test.reset()`;
- autovacuum is off for these tables, as it never had time to run on a copy that lived for one
  test: without it the server never reuses the space of deleted rows, so rows lie in the order
  they were written, as in a fresh copy, and a query without ORDER BY returns them in that order
  (TRUNCATE would do the same, at ~0.5 s for the tables a test writes);
- the copy is renamed before each test, after ending every session still connected to it, so a
  connection left over from an earlier test can neither see nor write the next test's data, and
  each test still has a database name of its own (and every session has flushed its counters);
- a test that changed the schema (an event trigger records any DDL) gets a new copy instead: a
  snapshot of rows cannot undo a dropped trigger.
"""
from __future__ import annotations

import itertools
import os

import psycopg
from psycopg import sql

SNAPSHOT = "siaga_test"
_names = itertools.count()

# Runs in the reused database with the template's rows in siaga_test.<table>; returns false when
# the schema changed. `writes` is what the table's counters read after the last reset, so a
# table whose counters moved since was written to. The replica role keeps every trigger quiet
# (audit_log refuses DELETE) and every foreign key unchecked while the tables are refilled.
_RESET = """
DECLARE
    dirty text[];
    tbl text;
BEGIN
    IF EXISTS (SELECT FROM siaga_test.ddl_seen) THEN
        RETURN false;
    END IF;
    PERFORM set_config('session_replication_role', 'replica', true);
    SELECT coalesce(array_agg(t.relname), '{}') INTO dirty
    FROM siaga_test.tables t
    JOIN pg_stat_user_tables s ON s.schemaname = 'public' AND s.relname = t.relname
    WHERE NOT current_setting('track_counts')::boolean
       OR s.n_tup_ins + s.n_tup_upd + s.n_tup_del <> t.writes;
    FOREACH tbl IN ARRAY dirty LOOP
        EXECUTE format('DELETE FROM public.%I', tbl);
        EXECUTE format('INSERT INTO public.%I OVERRIDING SYSTEM VALUE SELECT * FROM siaga_test.%I',
                       tbl, tbl);
    END LOOP;
    PERFORM setval(format('public.%I', q.relname), q.last_value, q.is_called)
    FROM siaga_test.sequences q;
    -- What the counters will read once this transaction's own counts are in.
    UPDATE siaga_test.tables t
    SET writes = s.n_tup_ins + s.n_tup_upd + s.n_tup_del + pg_stat_get_xact_tuples_inserted(s.relid)
                 + pg_stat_get_xact_tuples_updated(s.relid) + pg_stat_get_xact_tuples_deleted(s.relid)
    FROM pg_stat_user_tables s
    WHERE s.schemaname = 'public' AND s.relname = t.relname AND t.relname = ANY (dirty);
    RETURN true;
END
"""


def server_url(admin_url: str, dbname: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + dbname


def _fresh_name(kind: str) -> str:
    return f"siaga_{kind}_{os.getpid()}_{next(_names)}"


def install_snapshot(url: str) -> None:
    """Keep a copy of every row and sequence of `url` and the function that restores them.

    Run once on a migrated, seeded template; its copies carry the snapshot along. A copy starts
    with no counters (they are per database), hence `writes` 0.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') ORDER BY relname")]
        sequences = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'S' ORDER BY relname")]
        with conn.transaction():
            conn.execute("CREATE SCHEMA siaga_test")
            conn.execute("CREATE TABLE siaga_test.ddl_seen (command text NOT NULL)")
            conn.execute("CREATE TABLE siaga_test.tables (relname text PRIMARY KEY, "
                         "writes bigint NOT NULL DEFAULT 0)")
            conn.execute("CREATE TABLE siaga_test.sequences (relname text PRIMARY KEY, "
                         "last_value bigint NOT NULL, is_called boolean NOT NULL)")
            for t in tables:
                conn.execute(sql.SQL("CREATE TABLE {} AS TABLE {}").format(
                    sql.Identifier(SNAPSHOT, t), sql.Identifier("public", t)))
                conn.execute("INSERT INTO siaga_test.tables (relname) VALUES (%s)", (t,))
                conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false, "
                                     "toast.autovacuum_enabled = false)")
                             .format(sql.Identifier("public", t)))
            for s in sequences:
                conn.execute(sql.SQL("INSERT INTO siaga_test.sequences SELECT {}, last_value, "
                                     "is_called FROM {}").format(sql.Literal(s),
                                                                 sql.Identifier("public", s)))
            conn.execute(sql.SQL("CREATE FUNCTION siaga_test.reset() RETURNS boolean "
                                 "LANGUAGE plpgsql AS {}").format(sql.Literal(_RESET)))
            conn.execute("CREATE FUNCTION siaga_test.note_ddl() RETURNS event_trigger "
                         "LANGUAGE plpgsql AS $$ BEGIN "
                         "INSERT INTO siaga_test.ddl_seen VALUES (tg_tag); END $$")
        # Last, so that building the snapshot is not itself recorded.
        conn.execute("CREATE EVENT TRIGGER siaga_test_ddl ON ddl_command_end "
                     "EXECUTE FUNCTION siaga_test.note_ddl()")


class PgPool:
    """Copies of one template for the tests of this process; `acquire` hands out a fresh one."""

    def __init__(self, admin_url: str, template: str, kind: str = "t"):
        self.admin_url = admin_url
        self.template = template
        self.kind = kind
        self.idle: list[str] = []
        self.made: set[str] = set()

    def _admin(self, query, params=None) -> list[tuple]:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def acquire(self) -> str:
        """The URL of a database in the state of the template, under a name no test used."""
        while self.idle:
            old = self.idle.pop()
            name = self._rename(old)
            with psycopg.connect(server_url(self.admin_url, name), autocommit=True) as conn:
                fresh = conn.execute("SELECT siaga_test.reset()").fetchone()[0]
            if fresh:
                return server_url(self.admin_url, name)
            self._drop(name)  # the test changed the schema
        name = _fresh_name(self.kind)
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(self.template)))
        self.made.add(name)
        return server_url(self.admin_url, name)

    def release(self, url: str) -> None:
        self.idle.append(url.rsplit("/", 1)[1])

    def _rename(self, old: str) -> str:
        new = _fresh_name(self.kind)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for _ in range(50):
                # Whatever the last test left connected (a pool, a listener, a server process it
                # started) goes now, as DROP DATABASE ... WITH (FORCE) did.
                conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (old,))
                try:
                    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(old), sql.Identifier(new)))
                except psycopg.errors.ObjectInUse:
                    continue  # a leftover reconnected in between; end it too
                break
            else:
                raise RuntimeError(f"database {old} stays in use")
        self.made.discard(old)
        self.made.add(new)
        return new

    def _drop(self, name: str) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.made.discard(name)

    def close(self) -> None:
        for name in list(self.made):
            self._drop(name)
        self.idle.clear()
