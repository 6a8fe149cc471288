"""Links in texts to citizens: a server sending texts without SIAGA112_PUBLIC_BASE_URL warns at
start and on the administration page (before: messages silently linked to 127.0.0.1)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from siaga112.app import create_app
from siaga112.bootstrap import build_context
from siaga112.config import Settings
from support import start_server

SMS = {"SIAGA112_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms"}  # nothing listens: nothing is sent


def _admin_home(database_url, tmp_path, monkeypatch, env: dict[str, str]) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var")
    ctx = build_context(settings, prepare=False)
    try:
        with TestClient(create_app(settings, context=ctx), follow_redirects=False) as client:
            login = client.post("/login", data={"username": "admin", "password": "rahasia-112"})
            assert login.status_code == 303
            page = client.get("/konsol/admin")
            assert page.status_code == 200
            return page.text
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize(("env", "shown", "warned"), [
    (SMS, "http://127.0.0.1:8112/lacak/", True),
    ({**SMS, "SIAGA112_PUBLIC_BASE_URL": "https://112.ppu.go.id"}, "https://112.ppu.go.id/lacak/", False),
    ({}, "http://127.0.0.1:8112/lacak/", False),  # no texts go out: nothing to warn about
])
def test_the_admin_page_shows_where_texts_link_to(database_url, tmp_path, monkeypatch, env, shown, warned):
    html = _admin_home(database_url, tmp_path, monkeypatch, env)
    assert shown in html
    assert ("SIAGA112_PUBLIC_BASE_URL belum diatur" in html) is warned


def test_serve_warns_at_start_when_texts_go_out_without_a_public_address(templates, tmp_path):
    import shutil

    db = tmp_path / "siaga112.db"
    shutil.copyfile(templates["sqlite"].url.removeprefix("sqlite:///"), db)
    server, _ = start_server(f"sqlite:///{db}", tmp_path, env=SMS)
    server.terminate()
    server.wait(timeout=20)
    warnings = [line for line in server.log_path.read_text().splitlines() if "public_base_url_unset" in line]
    assert len(warnings) == 1
    assert "SIAGA112_PUBLIC_BASE_URL" in warnings[0]
