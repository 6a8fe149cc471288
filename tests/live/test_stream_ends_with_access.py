"""An open event stream ends when the access that opened it ends."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from siaga112.config import Settings
from siaga112.models import api_tokens, users


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Heartbeats are when a stream re-checks its access; make them frequent for the test.
    return Settings(database_url=database_url, var_dir=tmp_path / "var", sse_heartbeat_seconds=0.2,
                    tile_url="")


def test_revoked_token_ends_its_stream(open_stream, ctx):
    stream = open_stream("damkar")
    with ctx.db.transaction() as conn:
        conn.execute(update(api_tokens).values(revoked_at=api_tokens.c.created_at))
    stream._thread.join(timeout=10)
    assert not stream._thread.is_alive()


def test_disabled_user_stream_ends_but_others_go_on(open_stream, ctx):
    damkar, dlh = open_stream("damkar"), open_stream("dlh")
    with ctx.db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "damkar").values(active=False))
    damkar._thread.join(timeout=10)
    assert not damkar._thread.is_alive()
    assert dlh._thread.is_alive()


def test_logout_ends_the_console_stream(live_server, ctx):
    import threading

    import httpx

    with httpx.Client(base_url=live_server, follow_redirects=False) as c:
        assert c.post("/login", data={"username": "damkar", "password": "rahasia-112"}).status_code == 303
        page = c.get("/konsol/dinas").text
        csrf = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        connected, ended = threading.Event(), threading.Event()

        def read():
            with httpx.Client(base_url=live_server, cookies=c.cookies,
                              timeout=httpx.Timeout(10, read=None)) as s:
                with s.stream("GET", "/api/v1/events") as response:
                    assert response.status_code == 200
                    for line in response.iter_lines():
                        if line.startswith(": connected"):
                            connected.set()
            ended.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert connected.wait(10)
        assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
        assert ended.wait(10)
