"""Warnings coming in: BMKG-style CAP messages read from a loopback feed, kept once, replaced by
their updates, shown to the command centre when they touch PPU, and announced locally in one step."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cap_samples import JAKARTA_BOX, SEPAKU_BOX, cap
from siaga112.alerts.incoming import WarningFeedWorker, poll
from siaga112.config import Settings


class Feed:
    """BMKG on loopback: an RSS feed whose items link to CAP documents."""

    def __init__(self) -> None:
        self.documents: dict[str, str] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/rss.xml":
                    items = "".join(f"<item><title>{k}</title><link>/cap/{k}.xml</link></item>"
                                    for k in outer.documents)
                    body = f"<rss version='2.0'><channel><title>BMKG</title>{items}</channel></rss>"
                else:
                    body = outer.documents.get(self.path.removeprefix("/cap/").removesuffix(".xml"))
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rss.xml"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed():
    served = Feed()
    yield served
    served.close()


@pytest.fixture
def settings(database_url, tmp_path, feed) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", warning_feed_url=feed.url,
                    warning_feed_interval_seconds=0)


API = "/api/v1/warnings"


def test_warnings_that_touch_ppu_reach_the_command_centre_and_become_local_alerts(ctx, feed, actors):
    feed.documents = {
        "sepaku": cap("W-1", headline="Hujan lebat di Sepaku", area="Sepaku, PPU", polygon=SEPAKU_BOX),
        "jakarta": cap("W-2", headline="Hujan lebat di Jakarta", area="DKI Jakarta", polygon=JAKARTA_BOX),
        "regency": cap("W-3", headline="Gelombang tinggi", area="Kab. Penajam Paser Utara"),
    }
    assert poll(ctx) == 3
    assert poll(ctx) == 0  # kept once
    commander = actors["commander"]
    shown = commander.get(API).json()
    assert {w["identifier"] for w in shown} == {"W-1", "W-3"}
    sepaku = next(w for w in shown if w["identifier"] == "W-1")
    # The Indonesian text of the message, and the PPU kecamatan it reaches.
    assert sepaku["headline"] == "Hujan lebat di Sepaku" and sepaku["kecamatan"] == ["Sepaku"]
    assert {w["identifier"] for w in commander.get(API, params={"all": "true"}).json()} == {"W-1", "W-2", "W-3"}

    # BMKG updates its warning: the update replaces it.
    feed.documents["sepaku-2"] = cap(
        "W-4", headline="Hujan lebat meluas di Sepaku", area="Sepaku, PPU", polygon=SEPAKU_BOX,
        msg_type="Update", references="bmkg@bmkg.go.id,W-1,2026-11-20T14:00:00+07:00",
        sent="2026-11-20T15:00:00+07:00")
    assert poll(ctx) == 1
    current = {w["identifier"]: w for w in commander.get(API).json()}
    assert set(current) == {"W-3", "W-4"}

    # One step: a local alert for the kecamatan it reaches, in the warning's words.
    made = commander.post(f"{API}/{current['W-4']['id']}/local-alert")
    assert made.status_code == 201, made.text
    alert = made.json()
    assert alert["headline"] == "Hujan lebat meluas di Sepaku" and alert["area_codes"] == ["64.09.04"]
    assert "bmkg@bmkg.go.id" in alert["description"]
    assert commander.post(f"{API}/{current['W-4']['id']}/local-alert").status_code == 409
    assert actors["damkar"].post(f"{API}/{current['W-3']['id']}/local-alert").status_code == 403
    assert actors["damkar"].get(API).status_code == 403
    far = next(w for w in commander.get(API, params={"all": "true"}).json() if w["identifier"] == "W-2")
    assert commander.post(f"{API}/{far['id']}/local-alert").status_code == 404
    assert commander.get(API).json()[0]["local_alert_id"] in (alert["id"], None)


def test_a_broken_feed_or_document_keeps_what_was_there(ctx, feed):
    feed.documents = {"ok": cap("W-9", headline="Angin kencang", area="Penajam", polygon=SEPAKU_BOX),
                      "broken": "<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>",
                      "bomb": "<!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><x>&b;</x>"}
    assert poll(ctx) == 1


def test_the_worker_reads_the_feed_by_itself(ctx, feed):
    feed.documents = {"sepaku": cap("W-5", headline="Hujan lebat di Sepaku", area="Sepaku", polygon=SEPAKU_BOX)}
    worker = WarningFeedWorker(ctx, 0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        from siaga112.models import incoming_warnings

        while time.monotonic() < deadline:
            with ctx.db.transaction(write=False) as conn:
                if conn.execute(incoming_warnings.select()).first() is not None:
                    break
            time.sleep(0.05)  # polling for the worker's row, with a deadline
        else:
            pytest.fail("the worker kept nothing")
    finally:
        worker.stop()

