"""Settings from the environment (prefix SIAGA112_), built once and passed in; never read at import."""
from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIAGA112_", extra="ignore")

    database_url: str = "sqlite:///var/siaga112.db"
    sop_file: Path | None = None
    secret_key: str | None = None
    var_dir: Path = Path("var")
    # Requests larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = 256 * 1024
    # Open incidents of a related type this close in space and time are offered as duplicates.
    duplicate_radius_m: float = 500.0
    duplicate_window_minutes: int = 60
    # Below this classifier confidence an incident goes to the command agency as OTHER.
    classify_threshold: float | None = None
    # PostgreSQL connection pool per process.
    pool_size: int = Field(default=10, ge=1)
    # The longest one wait on the database may take (a connection, a statement, a lock, a whole
    # transaction) before it fails; see "When the database misbehaves" in the README.
    db_timeout_seconds: float = Field(default=4.0, gt=0, le=600)
    # Whatever happens, a request that has not started its answer by then gets a 503 (a body
    # still arriving by then: 408). Event streams and downloads, once started, are not cut.
    request_timeout_seconds: float = Field(default=5.0, gt=0)
    # Exports and the monthly PDF: laid out on the CPU after their queries (ops/guard.py).
    report_timeout_seconds: float = Field(default=60.0, gt=0)
    # A client must send a request's headers within this many seconds (slow clients, see
    # docs/deployment.md for the reverse proxy's own limits).
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    # `serve` and `worker` wait this long for an unreachable database before giving up.
    db_start_wait_seconds: float = Field(default=60.0, ge=0)
    log_level: str = "INFO"
    # Comment lines on idle event streams, so proxies and browsers keep the connection open.
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # How often the event loop's lag is sampled for /metrics (0: never).
    loop_lag_probe_seconds: float = Field(default=0.1, ge=0)
    # Whether this server process also runs the background jobs (escalation, notifications, the
    # audit sealer); false when `siaga112 worker` runs them in a process of their own.
    background_workers: bool = True
    # How often the escalation worker looks for missed deadlines; 0 turns the worker off.
    escalation_interval_seconds: float = Field(default=1.0, ge=0)
    # How often each process checks whether another one changed the SOP; 0 turns the check off.
    sop_reload_seconds: float = Field(default=2.0, ge=0)
    # Threads per process that run request handlers (see app.lifespan for why so few).
    worker_threads: int = Field(default=16, ge=1, le=100)
    # A unit position older than this is shown as stale and not trusted for recommendations.
    unit_position_stale_seconds: float = Field(default=300.0, gt=0)
    # Estimated arrival: great-circle distance x road_factor at unit_speed_kmh, unless OSRM answers.
    road_factor: float = Field(default=1.4, ge=1.0)
    unit_speed_kmh: float = Field(default=40.0, gt=0)
    # An OSRM server (http://host:5000) for road travel times; asked for the nearest few units only.
    osrm_url: str | None = None
    osrm_timeout_seconds: float = Field(default=1.0, gt=0)
    osrm_candidates: int = Field(default=25, ge=1, le=100)
    # After OSRM fails, estimates are used for this long before it is asked again.
    osrm_retry_seconds: float = Field(default=30.0, ge=0)

    # Map tiles for the consoles; the map still draws boundaries and markers when none answer.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    # Session cookies are always HttpOnly and SameSite=Lax; Secure is added on HTTPS requests and
    # always when this is true (set it behind a TLS-terminating proxy).
    cookie_secure: bool = False

    # Citizens and partner systems (see docs/citizens.md).
    # Where citizens open their ticket page; goes into SMS and WhatsApp messages.
    public_base_url: str = "http://127.0.0.1:8112"
    # The CAP <sender> of public alerts: an address that identifies the regency's centre.
    cap_sender: str = "siaga112@penajamkab.go.id"
    # Warnings received as CAP (BMKG): a CAP document, an Atom/RSS feed linking CAP documents, or
    # "" for none; read every `warning_feed_interval_seconds` (0: never).
    warning_feed_url: str = ""
    warning_feed_interval_seconds: float = 300.0
    # HMAC secrets per inbound integration (sms, whatsapp, telephony, aml), JSON in the
    # environment; several secrets separated by spaces during a rotation. No secret: refused.
    webhook_secrets: dict[str, str] = Field(default_factory=dict)
    webhook_window_seconds: int = Field(default=300, ge=10)
    # WhatsApp Business Cloud API: webhook handshake token, app secret (X-Hub-Signature-256),
    # and the sending side.
    whatsapp_verify_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_template: str = "siaga112_status"
    # HTTP SMS gateway (POST JSON {to, text, reference}); unset: no SMS is sent.
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    # The notification worker: how often it looks; 0 turns it off. Attempts before giving up.
    notify_interval_seconds: float = Field(default=1.0, ge=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_seconds: float = Field(default=5.0, gt=0)
    # Callers whose 112 call became an incident get its progress by SMS.
    notify_callers: bool = True
    # Messages from one number this close together add to its waiting report.
    report_merge_minutes: int = Field(default=30, ge=0)
    # Prank and silent calls: this many within the window proposes a block of block_hours.
    prank_threshold: int = Field(default=3, ge=1)
    prank_window_hours: int = Field(default=168, ge=1)
    block_hours: int = Field(default=24, ge=1)
    # Public pages and API: requests per minute per client, and unknown tickets per 10 minutes.
    public_rate_per_minute: int = Field(default=30, ge=1)
    public_misses_per_10_minutes: int = Field(default=10, ge=1)
    # /metrics counts cases by type (VIOLENCE-WC among them): it answers a request carrying
    # `Authorization: Bearer <metrics_token>`, or one from an address in `metrics_allow`
    # (comma-separated addresses or networks, e.g. "10.0.0.5,192.168.10.0/24"); nobody else.
    metrics_token: str | None = None
    metrics_allow: str = ""
    # Open event streams one token (or one user's console sessions) may hold in a process.
    max_streams_per_token: int = Field(default=10, ge=1)
    # Open311 GET: at most this many requests per page; coordinates rounded to this many decimals.
    open311_page_size: int = Field(default=50, ge=1, le=200)
    open311_coordinate_decimals: int = Field(default=3, ge=0, le=6)

    # Login throttling, counted in the database so every process and node agrees
    # (docs/security.md). Failures from one address against one username are free up to
    # login_free_failures_per_pair, then each next try waits twice as long (from
    # login_base_delay_seconds up to login_max_delay_seconds); one address failing against many
    # usernames gets the same growing delays after login_free_failures_per_remote failures within
    # login_remote_window_minutes. An address that has not failed is never held back.
    login_free_failures_per_pair: int = Field(default=3, ge=1)
    login_free_failures_per_remote: int = Field(default=20, ge=1)
    login_remote_window_minutes: float = Field(default=60.0, gt=0)
    login_base_delay_seconds: float = Field(default=1.0, gt=0)
    login_max_delay_seconds: float = Field(default=900.0, gt=0)
    # Login and password checks per minute per client address (docs/security.md).
    rate_limit_login_per_minute: int = Field(default=10, ge=1)
    # The audit chain's key(s), kept outside the database (docs/security.md): from
    # SIAGA112_AUDIT_KEY, else the file SIAGA112_AUDIT_KEY_FILE, else var/audit_key (generated
    # once). Several keys separated by spaces or lines during a rotation: the first signs new
    # entries, the others still verify older ones.
    audit_key: str | None = None
    audit_key_file: Path | None = None
    # Where `siaga112 audit checkpoint` appends signed heads of the chain (default
    # var/audit-checkpoints.jsonl) and `audit verify` reads them.
    audit_checkpoint_file: Path | None = None
    # The server itself writes a checkpoint there when the last one is this many hours old
    # (0: only `siaga112 audit checkpoint`, e.g. from cron, writes them).
    audit_checkpoint_hours: float = Field(default=24.0, ge=0)
    # How often new audit entries are chained after commit (PostgreSQL; SQLite chains at once).
    audit_seal_interval_seconds: float = Field(default=1.0, gt=0)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or CIDR
    # networks, separated by commas. Empty (the default): nobody's, so a client cannot forge the
    # address that is audited, throttled and rate-limited (docs/security.md).
    trusted_proxies: str = ""
    # Every rate limit on or off (benchmarks and the load generator send from one address).
    rate_limits: bool = True

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        # Both lists are addresses or networks; a typo is refused at start (it made /metrics a
        # 500 for every unauthenticated scrape).
        for item in _split(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        # uvicorn reads "10.0.0.1/8" (host bits set) as a name matching nothing; normalise.
        return [item if "/" not in item else str(ipaddress.ip_network(item, strict=False))
                for item in _split(self.trusted_proxies)]

    def server_options(self) -> dict[str, Any]:
        """How uvicorn treats forwarding headers: believed from the trusted proxies only.

        uvicorn's own default believes them from 127.0.0.1, so any local process (or a proxy
        that passes the header through unchecked) could choose its address.
        """
        proxies = self.trusted_proxy_list
        return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}

    def audit_secrets(self) -> list[str]:
        """The audit keys, the signing one first (see audit_key)."""
        if self.audit_key:
            text = self.audit_key
        elif self.audit_key_file is not None:
            text = self.audit_key_file.read_text()
        else:
            text = _generated_once(self.var_dir / "audit_key")
        keys = text.split()
        if not keys:
            raise ValueError("the audit key is empty")
        return keys

    def checkpoint_path(self) -> Path:
        return self.audit_checkpoint_file or self.var_dir / "audit-checkpoints.jsonl"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The session key: from the environment, else generated once into var/secret_key."""
        if self.secret_key:
            return self.secret_key
        return _generated_once(self.var_dir / "secret_key")


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace(" ", ",").split(",") if item.strip()]


def _generated_once(path: Path) -> str:
    """A random key kept in `path` (made on first use, readable by its owner only)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written aside and linked into place: two processes starting together both end up with
    # the first one's key, and nobody ever reads a half-written file.
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    try:
        os.link(aside, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        aside.unlink()
    return key
