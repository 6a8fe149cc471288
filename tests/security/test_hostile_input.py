"""Hostile input: schema-driven fuzzing of the whole API, body limits, rate limits, headers."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from tests_security_helpers import API, create

from siaga112.bootstrap import build_context
from siaga112.security.headers import CSP
from siaga112.security.ratelimit import DatabaseBucket

# Bounded so each backend's run stays within about a minute on two cores.
FUZZ_EXAMPLES = 12


def _fuzz(schema, headers: dict[str, str]) -> tuple[list[str], dict[str, int]]:
    """Run every operation's generated cases; the failures, and the cases sent per operation."""
    failures: list[str] = []
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case):
            # Called below, within this iteration, so `operation` is the current one.
            sent[operation.label] = sent.get(operation.label, 0) + 1  # noqa: B023
            case.call_and_validate(headers=headers, checks=[
                not_a_server_error, response_schema_conformance, content_type_conformance])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 — collected, so one run reports every operation
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    return failures, sent


@pytest.mark.timeout(300)
def test_no_input_makes_a_server_error_or_a_response_off_its_schema(app, tokens, client, actors,
                                                                   incident_body):
    """With an administrator's token (the widest view): no 5xx, every documented answer as documented."""
    create(actors["call_taker"], incident_body())  # something to find, besides random ids
    app.state.ctx.settings.rate_limits = False  # the fuzzer sends everything from one address
    # The event stream never ends by itself; its input handling has its own tests.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/api/v1/events")
    failures, sent = _fuzz(schema, {"Authorization": f"Bearer {tokens['admin']}"})
    assert not failures, "\n\n".join(failures)
    assert len(sent) >= 20 and "POST /api/v1/incidents" in sent
    assert sum(sent.values()) >= 5 * len(sent), sent


def test_bodies_over_the_limit_answer_413_and_write_nothing(actors, incident_body, ctx):
    limit = ctx.settings.max_body_bytes
    body = incident_body(description="x" * (limit + 10))
    response = actors["call_taker"].post(f"{API}/incidents", json=body)
    assert response.status_code == 413
    assert actors["admin"].get(f"{API}/incidents").json()["items"] == []


def test_nul_characters_answer_422_on_both_databases(actors, incident_body, client):
    admin = actors["admin"]
    assert admin.get(f"{API}/audit", params={"actor": "a\x00b"}).status_code == 422
    assert admin.get(f"{API}/incidents/abc%00def").status_code == 422
    bad = admin.post(f"{API}/incidents", json=incident_body(description="api\x00besar"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "description"]
    assert bad.headers["x-content-type-options"] == "nosniff"
    assert admin.get(f"{API}/incidents").json()["items"] == []


def test_every_answer_carries_the_security_headers(client, actors, incident_body):
    inc = create(actors["call_taker"], incident_body())
    answers = [actors["call_taker"].get(f"{API}/incidents/{inc['id']}"), client.get("/healthz"),
               client.get("/metrics"), client.get("/openapi.json"), client.get("/nowhere"),
               client.get(f"{API}/incidents"),  # 401
               actors["call_taker"].post(f"{API}/incidents", json={"nope": 1})]  # 422
    for r in answers:
        assert r.headers["content-security-policy"] == CSP, r.url
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src 'self';" in CSP and "unsafe-inline" not in CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert answers[0].headers["cache-control"] == "no-store"  # a caller's data is never cached
    docs = client.get("/docs")
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_security_headers_reach_the_event_stream(live_server, tokens):
    import httpx

    with httpx.stream("GET", f"{live_server}{API}/events",
                      headers={"Authorization": f"Bearer {tokens['damkar']}"}, timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-cache"  # the stream's own, not overridden


def test_password_checks_are_rate_limited_per_address(actors, ctx):
    ctx.settings.rate_limit_login_per_minute = 3
    body = {"current_password": "tebak-tebak", "new_password": "baru-sekali-112"}
    codes = [actors["dlh"].post(f"{API}/auth/password", json=body).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    limited = actors["dlh"].post(f"{API}/auth/password", json=body)
    assert int(limited.headers["retry-after"]) >= 1 and limited.json()["retry_after"] >= 1


T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_token_bucket_refills_with_time(ctx):
    now = [T0]
    bucket = DatabaseBucket(ctx.db, "test", per_minute=60, burst=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(1.0)
    assert bucket.take("b") == 0.0  # per address
    now[0] += timedelta(seconds=1)
    assert bucket.take("a") == 0.0 and bucket.take("a") > 0


def test_token_bucket_wait_answers_like_take_without_spending(ctx):
    now = [T0]
    bucket = DatabaseBucket(ctx.db, "test", per_minute=6, burst=1, clock=lambda: now[0])
    assert bucket.wait("a") == 0.0 and bucket.wait("a") == 0.0  # looking twice spends nothing
    assert bucket.take("a") == 0.0
    assert bucket.wait("a") == pytest.approx(10.0)
    now[0] += timedelta(seconds=4)
    assert bucket.wait("a") == pytest.approx(6.0) == bucket.take("a")
    assert bucket.wait("b") == 0.0


def test_processes_share_one_allowance(ctx):
    """Two processes (two databases handles, two buckets) spend from the same rows: with buckets
    in memory a client got the allowance once per process behind the balancer."""
    other = build_context(ctx.settings, prepare=False)
    try:
        buckets = [DatabaseBucket(c.db, "login", per_minute=4, burst=4) for c in (ctx, other)]
        answers = [buckets[i % 2].take("198.51.100.7") for i in range(6)]
    finally:
        other.db.dispose()
    assert [a == 0.0 for a in answers] == [True] * 4 + [False] * 2


@pytest.mark.parametrize("actor, path", [
    ("commander", "/api/v1/incidents?since=0001-01-01T00:00:00%2B14:00"),
    ("commander", "/api/v1/incidents?since=9999-12-31T23:59:59-14:00"),
    ("admin", "/api/v1/audit?since=0001-01-01T00:00:00%2B14:00&until=9999-12-31T23:59:59-14:00")])
def test_a_date_at_the_calendars_end_is_a_422_not_a_500(actors, actor, path):
    answer = actors[actor].get(path)
    assert answer.status_code == 422 and "UTC" in answer.text, answer.text
