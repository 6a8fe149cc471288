"""X-Forwarded-For is believed from the configured proxies only, so nobody forges their address."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from siaga112.config import Settings
from siaga112.models import audit_log


def _failed_logins(base_url: str, forged: list[str]) -> list[int]:
    codes = []
    for i, address in enumerate(forged):
        r = httpx.post(f"{base_url}/login", data={"username": f"tamu{i}", "password": "tebak-tebak"},
                       headers={"X-Forwarded-For": address}, follow_redirects=False, timeout=30)
        codes.append(r.status_code)
    return codes


def _audited_addresses(ctx) -> list[str | None]:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(audit_log.c.remote).where(audit_log.c.action == "auth.login_failed")
                            .order_by(audit_log.c.entry)).scalars().all()


FORGED = [f"198.51.100.{i}" for i in range(1, 13)]


def test_a_forged_forwarded_address_is_ignored_by_default(settings, request, ctx):
    assert settings.trusted_proxy_list == []
    base_url = request.getfixturevalue("live_server")
    codes = _failed_logins(base_url, FORGED)
    # One address: the login allowance (10 a minute) runs out, forged headers or not.
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert set(_audited_addresses(ctx)) == {"127.0.0.1"}


def test_a_trusted_proxy_passes_on_the_clients_address(settings, request, ctx):
    settings.trusted_proxies = "127.0.0.0/8, 10.1.2.3"
    base_url = request.getfixturevalue("live_server")
    codes = _failed_logins(base_url, FORGED)
    assert codes == [401] * 12  # twelve different clients behind the proxy
    assert _audited_addresses(ctx) == FORGED


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(trusted_proxies="10.0.0.1/8,192.0.2.7").trusted_proxy_list == ["10.0.0.0/8", "192.0.2.7"]
    with pytest.raises(ValueError, match="proxy.example"):
        Settings(trusted_proxies="proxy.example")


def test_serve_hands_the_trusted_proxies_to_uvicorn(monkeypatch, tmp_path):
    import uvicorn

    from siaga112.cli import app

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    monkeypatch.setenv("SIAGA112_DATABASE_URL", f"sqlite:///{tmp_path}/serve.db")
    monkeypatch.setenv("SIAGA112_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SIAGA112_TRUSTED_PROXIES", raising=False)
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert seen["proxy_headers"] is False
    monkeypatch.setenv("SIAGA112_TRUSTED_PROXIES", "10.20.0.0/16")
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == ["10.20.0.0/16"]
