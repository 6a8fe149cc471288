"""PostgreSQL databases for tests: copied from a prepared template once, reset between tests.

Copying a template per test was cheap (~0.1 s); dropping the copy was not: DROP DATABASE takes
about a second on this server, for every PostgreSQL test. Here each pytest process keeps the
copies it made and gives the next test one of them back, in the state of the template:

- every table of the `public` schema is emptied and refilled from a snapshot of the template's
  rows kept in the same database (schema `siaga_test`, invisible to the application), and every
  sequence is set back to where the template left it, in one call (`siaga_test.reset()`);
- the copy is renamed before each test, after ending every session still connected to it, so a
  connection left over from an earlier test can neither see nor write the next test's data, and
  each test still has a database name of its own;
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


def server_url(admin_url: str, dbname: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + dbname


def _fresh_name(kind: str) -> str:
    return f"siaga_{kind}_{os.getpid()}_{next(_names)}"


def install_snapshot(url: str) -> None:
    """Keep a copy of every row and sequence of `url` and the function that restores them.

    Run once on a migrated, seeded template; its copies carry the snapshot along.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') ORDER BY relname")]
        sequences = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'S' ORDER BY relname")]
        with conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SNAPSHOT)))
            conn.execute(sql.SQL("CREATE TABLE {}.ddl_seen (command text NOT NULL)")
                         .format(sql.Identifier(SNAPSHOT)))
            body = [sql.SQL("IF EXISTS (SELECT FROM {}.ddl_seen) THEN RETURN false; END IF;")
                    .format(sql.Identifier(SNAPSHOT)),
                    # Replica role: no trigger fires (audit_log refuses DELETE and TRUNCATE) and
                    # no foreign key is checked while the tables are half refilled.
                    sql.SQL("PERFORM set_config('session_replication_role', 'replica', true);")]
            for t in tables:
                body.append(sql.SQL("DELETE FROM {};").format(sql.Identifier("public", t)))
            for t in tables:
                conn.execute(sql.SQL("CREATE TABLE {} AS TABLE {}").format(
                    sql.Identifier(SNAPSHOT, t), sql.Identifier("public", t)))
                if conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})")
                                .format(sql.Identifier(SNAPSHOT, t))).fetchone()[0]:
                    body.append(sql.SQL("INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM {};")
                                .format(sql.Identifier("public", t), sql.Identifier(SNAPSHOT, t)))
            for s in sequences:
                last, called = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}")
                                            .format(sql.Identifier("public", s))).fetchone()
                body.append(sql.SQL("PERFORM setval({}, {}, {});").format(
                    sql.Literal(f'public."{s}"'), sql.Literal(last), sql.Literal(called)))
            body.append(sql.SQL("RETURN true;"))
            conn.execute(sql.SQL(
                "CREATE FUNCTION {}.reset() RETURNS boolean LANGUAGE plpgsql AS {}").format(
                    sql.Identifier(SNAPSHOT),
                    sql.Literal("BEGIN\n" + "\n".join(part.as_string(conn) for part in body)
                                + "\nEND")))
            conn.execute(sql.SQL(
                "CREATE FUNCTION {}.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ "
                "BEGIN INSERT INTO {}.ddl_seen VALUES (tg_tag); END $$").format(
                    sql.Identifier(SNAPSHOT), sql.Identifier(SNAPSHOT)))
        # Last, so that building the snapshot is not itself recorded.
        conn.execute(sql.SQL("CREATE EVENT TRIGGER siaga_test_ddl ON ddl_command_end "
                             "EXECUTE FUNCTION {}.note_ddl()").format(sql.Identifier(SNAPSHOT)))
        conn.execute(sql.SQL("CREATE EVENT TRIGGER siaga_test_drop ON sql_drop "
                             "EXECUTE FUNCTION {}.note_ddl()").format(sql.Identifier(SNAPSHOT)))


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
                fresh = conn.execute(sql.SQL("SELECT {}.reset()").format(sql.Identifier(SNAPSHOT)))\
                    .fetchone()[0]
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
