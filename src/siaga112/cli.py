"""The `siaga112` command."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import typer

from siaga112.config import Settings
from siaga112.sop.schemas import SopError

app = typer.Typer(help="Call Center Siaga 112 — Kabupaten Penajam Paser Utara", no_args_is_help=True)
user_app = typer.Typer(help="User accounts", no_args_is_help=True)
token_app = typer.Typer(help="API tokens", no_args_is_help=True)
sop_app = typer.Typer(help="The SOP file", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of callers' personal data", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(sop_app, name="sop")
landmarks_app = typer.Typer(help="Landmarks for the place search", no_args_is_help=True)
app.add_typer(landmarks_app, name="landmarks")
units_app = typer.Typer(help="Units and their AVL trail", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
docs_app = typer.Typer(help="Reference documentation generated from the code", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("events")
def docs_events() -> None:
    """The event list of the README (between its `events:begin` and `events:end` markers)."""
    from siaga112.events.payloads import events_markdown

    typer.echo(events_markdown(), nl=False)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code=1)


MAINTENANCE_TIMEOUT = 600.0


def _prepare(settings: Settings, *, wait: bool = False, serving: bool = False):
    """The context for a command; with `wait`, first wait for a database that is not up yet."""
    from sqlalchemy.exc import DBAPIError

    from siaga112.bootstrap import build_context
    from siaga112.logging import configure_logging
    from siaga112.ops.startup import DatabaseNotReached, wait_for_database, where

    configure_logging(settings.log_level)
    try:
        if wait:
            wait_for_database(settings.database_url, wait_seconds=settings.db_start_wait_seconds,
                              timeout=settings.db_timeout_seconds)
        # Commands do maintenance (migrations, seeding with password hashing, retention over a
        # year of data): the bound that keeps requests from hanging would cut them off.
        ctx = build_context(settings.model_copy(update={"db_timeout_seconds": MAINTENANCE_TIMEOUT}))
    except SopError as exc:
        _fail(f"refusing to start: the SOP is invalid\n{exc}")
    except DatabaseNotReached as exc:
        _fail(f"refusing to start: {exc}")
    except (DBAPIError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        _fail(f"refusing to start: the database ({where(settings.database_url)}) failed: "
              f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}")
    _check_audit_key(ctx, refuse=not serving)
    return ctx


def _check_audit_key(ctx, *, refuse: bool) -> None:
    """A command without the server's audit key would sign the trail with a key of its own, and
    from then on `audit verify` reads BROKEN: commands refuse. A server still starts (112 must
    answer) and says so in its log, loudly."""
    import structlog

    from siaga112.audit.service import unknown_signing_key

    with ctx.db.transaction(write=False) as conn:
        unknown = unknown_signing_key(conn)
    if unknown is None:
        return
    message = (f"the audit trail is signed with key {unknown}, which this process does not hold: "
               "give it the server's key (SIAGA112_AUDIT_KEY or SIAGA112_AUDIT_KEY_FILE, or run "
               "where the server's var/audit_key is, SIAGA112_VAR_DIR)")
    if refuse:
        ctx.db.dispose()
        _fail(f"refusing to run: {message}")
    structlog.get_logger("siaga112.audit").error("audit_key_unknown", detail=message)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8112, workers: int = 1,
          no_workers: bool = typer.Option(False, "--no-workers",
                                          help="leave escalation, notifications and the audit sealer "
                                               "to `siaga112 worker`")) -> None:
    """Migrate and seed on first start, then serve UI + API."""
    import os

    import uvicorn

    if no_workers:
        # Each server process builds its app from the environment (siaga112.asgi).
        os.environ["SIAGA112_BACKGROUND_WORKERS"] = "false"
    settings = Settings()
    if workers > 1 and settings.is_sqlite:
        _fail("several workers need PostgreSQL (SIAGA112_DATABASE_URL=postgresql://...); "
              "SQLite serves from one process")
    ctx = _prepare(settings, wait=True, serving=True)
    _print_demo_accounts(ctx)
    ctx.db.dispose()
    # Event streams never end by themselves; give them a few seconds, then shut down anyway.
    from siaga112.ops.protocol import HeaderDeadlineProtocol

    uvicorn.run("siaga112.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False, timeout_graceful_shutdown=5, http=HeaderDeadlineProtocol,
                **settings.server_options())


@app.command()
def worker() -> None:
    """Run escalation, notifications and the audit sealer in a process of their own (with
    `serve --no-workers`); several may run, each deadline and message is still handled once."""
    import signal
    import threading

    import structlog

    from siaga112.background import start_background, start_sop_watcher, stop_all
    from siaga112.bootstrap import build_context

    settings = Settings()
    _prepare(settings, wait=True, serving=True).db.dispose()  # migrated and seeded, with the maintenance bound
    # The jobs' own transactions get the request-sized bound, as in `serve`.
    ctx = build_context(settings, prepare=False)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    jobs = start_background(ctx)
    watcher = start_sop_watcher(ctx)
    log = structlog.get_logger("siaga112.worker")
    log.info("worker_started", jobs=[getattr(j, "name", type(j).__name__) for j in jobs])
    stopping.wait()
    log.info("worker_stopping")
    stop_all(jobs)
    if watcher:
        watcher.stop()
    ctx.db.dispose()


@app.command()
def backup(file: Path = typer.Argument(..., help="where to write the backup")) -> None:
    """Back up the database to FILE while the service runs (SQLite online backup; pg_dump -Fc)."""
    from siaga112.ops.backup import BackupError
    from siaga112.ops.backup import backup as run_backup

    settings = Settings()
    try:
        result = run_backup(settings.database_url, file)
    except BackupError as exc:
        _fail(f"backup failed: {exc}")
    typer.echo(f"backup written: {result.path} ({result.size} bytes, {result.kind})")


@app.command()
def restore(file: Path = typer.Argument(..., help="a backup made by `siaga112 backup`"),
            replace: bool = typer.Option(False, "--replace",
                                         help="overwrite a database that already holds data")) -> None:
    """Restore the database from FILE, all or nothing; stop the servers first, then migrate."""
    from siaga112.ops.backup import BackupError, target_has_data
    from siaga112.ops.backup import restore as run_restore

    settings = Settings()
    try:
        if not replace and target_has_data(settings.database_url):
            _fail("the database already holds data; stop every server and run again with --replace "
                  "to overwrite it with the backup")
        run_restore(settings.database_url, file)
    except BackupError as exc:
        _fail(f"restore failed: {exc}")
    typer.echo(f"restored from {file}; run `siaga112 migrate` if the backup is older than this version")


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    from siaga112.bootstrap import migrate as run_migrate
    from siaga112.db import Database

    settings = Settings()
    db = Database(settings.database_url, timeout=MAINTENANCE_TIMEOUT)
    run_migrate(db)
    db.dispose()
    typer.echo("database is up to date")


@app.command()
def seed(demo: bool = typer.Option(False, "--demo", help="also create demo users")) -> None:
    """Load the SOP, wilayah and demo units (and demo users with --demo) into an empty database."""
    ctx = _prepare(Settings())
    if demo:
        _print_demo_accounts(ctx)
        _load_demo_landmarks(ctx)
    typer.echo("reference data loaded")


def _load_demo_landmarks(ctx) -> None:
    from siaga112.places.service import DEMO_LANDMARKS, import_landmarks, landmarks_count

    with ctx.db.transaction() as conn:
        if landmarks_count(conn):
            return
        result = import_landmarks(ctx, _CLI_ADMIN, DEMO_LANDMARKS.read_text(encoding="utf-8"), "csv",
                                  conn=conn)
    typer.echo(f"{result.created} DEMO landmarks loaded (approximate coordinates, not surveyed)")


def _print_demo_accounts(ctx) -> None:
    from siaga112.bootstrap import seed_demo_users

    accounts = seed_demo_users(ctx.db)
    if not accounts:
        return
    typer.echo("Demo accounts (shown once; passwords and tokens are stored hashed):")
    for a in accounts:
        typer.echo(f"  {a.username:<10} {a.role:<12} {a.agency_code or '-':<9} "
                   f"password {a.password}  token {a.token}")


@user_app.command("add")
def user_add(name: str, role: str = typer.Option(..., help="admin|call_taker|commander|dispatcher|viewer|integration"),
             agency: str | None = typer.Option(None, help="agency code (dispatchers, bound viewers)"),
             full_name: str | None = None) -> None:
    """Add a user; the password is read from stdin (or prompted on a terminal)."""
    from siaga112.auth.permissions import may_set_password_freely
    from siaga112.auth.service import create_user
    from siaga112.errors import DomainError

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not may_set_password_freely(role) and len(password) < 8:
        _fail("password must have at least 8 characters")
    ctx = _prepare(Settings())
    try:
        with ctx.db.transaction() as conn:
            create_user(conn, username=name, role=role, agency_code=agency,
                        password=password or None, full_name=full_name, actor=_cli_actor())
    except DomainError as exc:
        _fail(f"cannot add user: {exc.message}")
    typer.echo(f"user {name} added ({role}{', ' + agency if agency else ''})")


def _cli_actor() -> str:
    """Who ran a command, for the audit trail: the operating-system account."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # noqa: BLE001 — no login name in a bare container
        return "cli"


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable a user: their tokens, sessions and event streams stop working at once."""
    _set_active(name, False)


@user_app.command("enable")
def user_enable(name: str) -> None:
    """Enable a disabled user again (revoked tokens stay revoked)."""
    _set_active(name, True)


def _set_active(name: str, active: bool) -> None:
    from siaga112.auth.accounts import set_active
    from siaga112.errors import DomainError

    ctx = _prepare(Settings())
    try:
        with ctx.db.transaction() as conn:
            set_active(ctx, None, name, active, conn=conn, actor=_cli_actor())
    except DomainError as exc:
        _fail(f"cannot {'enable' if active else 'disable'} user: {exc.message}")
    typer.echo(f"user {name} {'enabled' if active else 'disabled'}")


@token_app.command("add")
def token_add(name: str, label: str | None = typer.Option(None, help="what the token is for"),
              scope: str = typer.Option("full", help="full, or read (GET requests only)")) -> None:
    """Print a new API token for user NAME (last line of output)."""
    from siaga112.auth.accounts import create_token
    from siaga112.errors import DomainError

    ctx = _prepare(Settings())
    try:
        with ctx.db.transaction() as conn:
            _, token = create_token(ctx, None, name=label or f"{name} token", scope=scope,
                                    username=name, conn=conn, actor=_cli_actor())
    except DomainError as exc:
        _fail(f"cannot issue token: {exc.message}")
    typer.echo(token)


@token_app.command("list")
def token_list(user: str | None = typer.Option(None, "--user", help="only this user's tokens"),
               all_: bool = typer.Option(False, "--all", help="include revoked tokens")) -> None:
    """Tokens with their name, scope and last use (never the token itself)."""
    from siaga112.auth.accounts import list_tokens

    ctx = _prepare(Settings())
    with ctx.db.transaction(write=False) as conn:
        tokens = list_tokens(conn, None, username=user, include_revoked=all_)
    typer.echo(f"{'id':>5}  {'user':<14} {'scope':<5} {'last used':<20} {'revoked':<20} name")
    for t in tokens:
        fmt = lambda d: d.strftime("%Y-%m-%d %H:%M:%S") if d else "-"  # noqa: E731
        typer.echo(f"{t.id:>5}  {t.username:<14} {t.scope:<5} {fmt(t.last_used_at):<20} "
                   f"{fmt(t.revoked_at):<20} {t.name}")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (see `token list`); it stops working at once."""
    from siaga112.auth.accounts import revoke_token
    from siaga112.errors import DomainError

    ctx = _prepare(Settings())
    try:
        with ctx.db.transaction() as conn:
            info = revoke_token(ctx, None, token_id, conn=conn, actor=_cli_actor())
    except DomainError as exc:
        _fail(f"cannot revoke token {token_id}: {exc.message}")
    typer.echo(f"token {info.id} ({info.username}: {info.name}) revoked")


@audit_app.command("verify")
def audit_verify(checkpoints: Path | None = typer.Option(
        None, "--checkpoints", help="signed checkpoints to compare with (default: the checkpoint "
                                    "file, SIAGA112_AUDIT_CHECKPOINT_FILE or var/audit-checkpoints.jsonl)")) -> None:
    """Check the audit trail's keyed hash chain and its checkpoints; exit 1 naming the first
    broken entry."""
    from siaga112.audit.service import check_checkpoints, seal, verify

    settings = Settings()
    ctx = _prepare(settings)
    # Entries committed in the last second may not be chained yet (PostgreSQL): chain them first.
    with ctx.db.transaction() as conn:
        seal(conn)
    path = checkpoints or settings.checkpoint_path()
    if checkpoints is not None and not path.exists():
        _fail(f"{path}: no such file")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    with ctx.db.transaction(write=False) as conn:
        result = verify(conn)
        matched, problem = check_checkpoints(conn, lines) if result.broken is None else (0, None)
    if result.broken is not None:
        _fail(f"audit trail BROKEN at {result.broken} "
              f"({result.entries} entries verified before it)")
    if problem is not None:
        where = f"audit entry {problem.id}: " if problem.id else ""
        _fail(f"audit trail BROKEN: {where}{problem.problem} ({path})")
    typer.echo(f"audit trail OK: {result.entries} entries; head {result.head_id} {result.head_hash}; "
               f"{matched} checkpoint(s) match")


@audit_app.command("checkpoint")
def audit_checkpoint(to: str | None = typer.Option(
        None, "--to", help="file to append to (default: the checkpoint file); '-' prints the line "
                           "for an external log (syslog, mail)")) -> None:
    """Write a signed checkpoint of the chain's head (run daily, from cron or a timer): a later
    `audit verify` shows entries cut off the end or rewritten up to it."""
    from siaga112.audit.service import make_checkpoint, seal, write_checkpoint

    settings = Settings()
    ctx = _prepare(settings)
    with ctx.db.transaction() as conn:
        seal(conn)
    try:
        with ctx.db.transaction(write=False) as conn:
            point = make_checkpoint(conn)
    except ValueError as exc:
        _fail(str(exc))
    if to == "-":
        typer.echo(point.line(), nl=False)
        return
    path = Path(to) if to else settings.checkpoint_path()
    write_checkpoint(path, point)
    typer.echo(f"checkpoint written to {path}: {point.entries} entries, head {point.head_id}")


@retention_app.command("apply")
def retention_apply(days: int = typer.Option(..., "--days", min=1, help="keep personal data this many days"),
                    dry_run: bool = typer.Option(False, "--dry-run", help="count, change nothing")) -> None:
    """Anonymise callers' data of incidents closed/cancelled more than DAYS ago (and their calls)."""
    from siaga112.privacy.retention import apply_retention

    ctx = _prepare(Settings())
    with ctx.db.transaction() as conn:
        result = apply_retention(conn, days=days, dry_run=dry_run, actor=_cli_actor())
    verb = "would anonymise" if dry_run else "anonymised"
    others = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in (result.others or {}).items())
    typer.echo(f"{verb} {result.incidents} incidents, {result.calls} calls, "
               f"{result.notes} timeline texts older than {days} days; also {others}")


@sop_app.command("check")
def sop_check(file: Path | None = typer.Argument(None, help="SOP YAML (default: the packaged PPU SOP)")) -> None:
    """Validate an SOP file; prints every problem with its line, exits non-zero if any."""
    from siaga112.sop.loader import default_sop_path, load_sop

    path = file or default_sop_path()
    if not path.exists():
        _fail(f"{path}: no such file")
    try:
        sop = load_sop(path)
    except SopError as exc:
        _fail(str(exc) + f"\n{len(exc.problems)} problem(s) found")
    typer.echo(f"{path}: OK — {len(sop.agencies)} agencies, {len(sop.incident_types)} incident types, "
               f"{len(sop.priorities)} priorities")


@app.command()
def simulate(rate: float = typer.Option(5.0, help="incidents+calls per second"),
             duration: float = typer.Option(60.0, help="seconds"),
             url: str = "http://127.0.0.1:8112", token: str | None = None,
             seed: int | None = typer.Option(None, help="same seed, same traffic"),
             mix: str | None = typer.Option(None, help="percent per outcome, others keep their default, "
                                               "e.g. prank=23,emergency=5 (outcomes: prank silent "
                                               "information misdial out_of_area emergency)")) -> None:
    """Realistic synthetic 112 traffic against a running server (most calls are not emergencies)."""
    from siaga112.simulate import parse_mix, simulate_traffic

    if not token:
        _fail("--token is required (siaga112 token add operator1)")
    try:
        shares = parse_mix(mix) if mix else None
        report = simulate_traffic(url=url, token=token, rate=rate, duration=duration, seed=seed,
                                  mix=shares)
    except ValueError as exc:
        _fail(f"cannot simulate: {exc}")
    typer.echo(report.summary())
    if report.stopped:
        raise typer.Exit(code=1)


def _cli_admin():
    from siaga112.auth.principal import Principal, Role

    return Principal(user_id=0, username="cli", role=Role.ADMIN, agency_code=None)


_CLI_ADMIN = _cli_admin()


@landmarks_app.command("import")
def landmarks_import(file: Path = typer.Argument(..., help="CSV (name,kind,lat,lon[,aliases,desa_code,source]) "
                                                 "or GeoJSON FeatureCollection of Points"),
                     format: str | None = typer.Option(None, help="csv|geojson (default: from the file name)")) -> None:
    """Add or update landmarks from a file: every row, or none if any line is wrong."""
    from siaga112.places.service import LandmarkFileError, format_of, import_landmarks

    if not file.exists():
        _fail(f"{file}: no such file")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{file}: not UTF-8 text")
    ctx = _prepare(Settings())
    try:
        with ctx.db.transaction() as conn:
            result = import_landmarks(ctx, _CLI_ADMIN, text, format or format_of(file.name, None), conn=conn)
    except LandmarkFileError as exc:
        _fail("\n".join(f"{file}: {p}" for p in exc.problems)
              + f"\n{len(exc.problems)} problem(s); nothing was imported")
    typer.echo(f"{file}: {result.created} landmark(s) added, {result.updated} updated")


@units_app.command("prune-trail")
def units_prune_trail(days: float = typer.Option(30.0, help="keep this many days of AVL trail")) -> None:
    """Delete AVL trail points older than DAYS (each unit keeps its latest position)."""
    from datetime import timedelta

    from siaga112.db import utcnow
    from siaga112.units.service import prune_trail

    ctx = _prepare(Settings())
    with ctx.db.transaction() as conn:
        removed = prune_trail(conn, utcnow() - timedelta(days=days))
    typer.echo(f"{removed} trail point(s) older than {days:g} days removed")


def main() -> None:
    app()
