"""`serve` against a database that is not there: it waits with backoff, one log line per try,
then exits with one clear message (before: a 493-line traceback after 7 s)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from support import free_port

SIAGA112 = str(Path(sys.executable).parent / "siaga112")


def _serve(url: str, tmp_path, wait: float) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, SIAGA112_DATABASE_URL=url, SIAGA112_VAR_DIR=str(tmp_path / "var"),
               SIAGA112_DB_START_WAIT_SECONDS=str(wait), SIAGA112_DB_TIMEOUT_SECONDS="2")
    start = time.monotonic()
    done = subprocess.run([SIAGA112, "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    return time.monotonic() - start, done


def test_serve_waits_for_an_unreachable_postgresql_then_exits_with_one_message(tmp_path):
    nobody = free_port()  # nothing listens here
    took, done = _serve(f"postgresql://postgres@127.0.0.1:{nobody}/siaga112", tmp_path, wait=4)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    message = done.stderr.strip().splitlines()
    assert len(message) == 1, done.stderr
    assert message[0].startswith("refusing to start: cannot reach the database (PostgreSQL at 127.0.0.1:")
    assert "SIAGA112_DATABASE_URL" in message[0]
    tries = [line for line in done.stdout.splitlines() if '"database_unreachable"' in line]
    assert len(tries) >= 2  # 1 s, then 2 s apart
    assert '"attempt": 1' in tries[0] and '"attempt": 2' in tries[1]
    assert 3 <= took < 15


def test_serve_with_an_unopenable_sqlite_file_says_so(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    took, done = _serve(f"sqlite:///{blocker}/siaga112.db", tmp_path, wait=0)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    message = done.stderr.strip().splitlines()
    assert len(message) == 1, done.stderr
    assert message[0].startswith("refusing to start: cannot reach the database (SQLite file ")


def test_serve_starts_once_the_database_answers(pg_database_url, tmp_path):
    import threading

    import httpx
    from sqlalchemy.engine import make_url

    from support import PausableProxy, start_server

    url = make_url(pg_database_url)
    proxy = PausableProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.pause()  # the database's host is still booting: connections go nowhere
    threading.Timer(10.0, proxy.resume).start()
    server, base = start_server(proxied, tmp_path, env={"SIAGA112_DB_TIMEOUT_SECONDS": "1",
                                                        "SIAGA112_LOG_LEVEL": "INFO"})
    try:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        log = server.log_path.read_text()
        assert '"database_unreachable"' in log and '"database_reached"' in log
    finally:
        server.terminate()
        server.wait(timeout=20)
        proxy.close()
