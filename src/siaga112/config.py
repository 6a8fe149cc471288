"""Settings from the environment (prefix SIAGA112_), built once and passed in; never read at import."""
from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
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
    log_level: str = "INFO"
    # Comment lines on idle event streams, so proxies and browsers keep the connection open.
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # How often the event loop's lag is sampled for /metrics (0: never).
    loop_lag_probe_seconds: float = Field(default=0.1, ge=0)
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

    # Login throttling, counted in the database so every process agrees: this many failed
    # passwords within the window lock the username (or the address) until they age out.
    login_max_failures_per_user: int = Field(default=5, ge=1)
    login_max_failures_per_remote: int = Field(default=20, ge=1)
    login_lockout_minutes: float = Field(default=15.0, gt=0)
    # Login and password checks per minute per client address (docs/security.md).
    rate_limit_login_per_minute: int = Field(default=10, ge=1)
    # How often new audit entries are chained after commit (PostgreSQL; SQLite chains at once).
    audit_seal_interval_seconds: float = Field(default=1.0, gt=0)
    # Every rate limit on or off (benchmarks and the load generator send from one address).
    rate_limits: bool = True

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The session key: from the environment, else generated once into var/secret_key."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
