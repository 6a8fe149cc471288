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
    # How often the escalation worker looks for missed deadlines; 0 turns the worker off.
    escalation_interval_seconds: float = Field(default=1.0, ge=0)
    # How often each process checks whether another one changed the SOP; 0 turns the check off.
    sop_reload_seconds: float = Field(default=2.0, ge=0)
    # Threads per process that run request handlers (see app.lifespan for why so few).
    worker_threads: int = Field(default=16, ge=1, le=100)

    # Map tiles for the consoles; the map still draws boundaries and markers when none answer.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    # Session cookies are always HttpOnly and SameSite=Lax; Secure is added on HTTPS requests and
    # always when this is true (set it behind a TLS-terminating proxy).
    cookie_secure: bool = False

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
