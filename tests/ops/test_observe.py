"""Observability: a request id in the answer and in the log lines a request writes, latency by
route template (never a path with a ticket in it), database errors and queue depths on /metrics."""
from __future__ import annotations

import json
import time

from sqlalchemy import exc as sa_exc

API = "/api/v1"


def test_request_id_is_returned_and_a_proxys_id_is_kept(client):
    mine = client.get("/healthz")
    assert len(mine.headers["X-Request-ID"]) == 16
    assert client.get("/healthz").headers["X-Request-ID"] != mine.headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a"}).headers["X-Request-ID"] == "lb-7f3a"
    # Something that is not an id (a log-injection attempt) is replaced.
    odd = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1"}).headers["X-Request-ID"]
    assert odd != "x\" injected=1" and len(odd) == 16


def test_a_database_failure_is_logged_once_with_the_request_id(actors, ctx, capsys, monkeypatch, incident_body):
    import psycopg

    def refuse(*_args, **_kwargs):
        raise sa_exc.OperationalError("INSERT", {}, psycopg.OperationalError("connection refused"))

    from siaga112.incidents import routes

    monkeypatch.setattr(routes.intake, "create_incident", refuse)
    capsys.readouterr()
    answer = actors["call_taker"].post(f"{API}/incidents", json=incident_body(),
                                       headers={"X-Request-ID": "uji-503"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    failures = [line for line in lines if line["event"] == "database_unavailable"]
    assert len(failures) == 1
    assert failures[0]["request_id"] == "uji-503"
    assert failures[0]["path"] == f"{API}/incidents"
    assert "Budi" not in json.dumps(lines)  # the caller's name never reaches the log


SCRAPER = {"Authorization": "Bearer metrik-uji"}


def test_metrics_show_latency_by_route_errors_and_queue_depths(actors, client, incident_body, ctx):
    ctx.settings.metrics_token = "metrik-uji"
    created = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    client.get(f"/lacak/{created['ticket']}")
    # Queue depths are sampled in the background every 5 s (/metrics never waits on the database).
    deadline = time.monotonic() + 15
    while True:
        text = client.get("/metrics", headers=SCRAPER).text
        pending = [line for line in text.splitlines() if line.startswith("siaga112_assignments_pending ")]
        if float(pending[0].split()[1]) >= len(created["assignments"]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling for the sampler's next round
    assert 'siaga112_request_duration_seconds_count{method="POST",route="/api/v1/incidents",status="2xx"}' in text
    assert 'route="/lacak/{ticket}"' in text
    assert created["ticket"] not in text
    assert float(pending[0].split()[1]) >= len(created["assignments"])
    assert "siaga112_notifications_waiting " in text
    assert "siaga112_event_streams " in text


def test_the_grafana_dashboard_reads_metrics_the_server_exports(actors, client, incident_body, ctx):
    import re
    from pathlib import Path

    ctx.settings.metrics_token = "metrik-uji"
    actors["call_taker"].post(f"{API}/incidents", json=incident_body())
    exported = client.get("/metrics", headers=SCRAPER).text
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"siaga112_[a-z_]+", target["expr"])}
    assert len(used) >= 8
    missing = {name for name in used if f"\n{name}" not in exported and f"# TYPE {name}" not in exported}
    assert missing == set()
