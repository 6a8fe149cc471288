"""Public surfaces (issue 13): /metrics needs a token or an allowed address; Open311 GET rounds
coordinates, pages and is rate-limited; one token holds a bounded number of event streams."""
from __future__ import annotations

import httpx
import pytest

from siaga112.config import Settings

PENAJAM = {"lat": -1.256347, "lon": 116.768412}


def test_metrics_are_not_public(client, ctx):
    assert client.get("/metrics").status_code == 401
    ctx.settings.metrics_token = "metrik-rahasia"
    assert client.get("/metrics", headers={"Authorization": "Bearer salah"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer metrik-rahasia"})
    assert ok.status_code == 200 and "siaga112_" in ok.text


def test_metrics_from_an_allowed_address(live_server, ctx):
    assert httpx.get(f"{live_server}/metrics").status_code == 401  # loopback, but not allowed
    ctx.settings.metrics_allow = "10.1.2.3, 127.0.0.0/8"
    assert httpx.get(f"{live_server}/metrics").status_code == 200


def test_metrics_allow_must_be_addresses_or_networks():
    # A typo in SIAGA112_METRICS_ALLOW is refused at start, naming it, like the trusted proxies;
    # accepted, every scrape without the token (anyone's) was a 500.
    assert Settings(metrics_allow="10.0.0.5, 192.168.10.0/24").metrics_allow
    with pytest.raises(ValueError, match="10.0.0.300"):
        Settings(metrics_allow="10.0.0.5, 10.0.0.300")


def _open311(client, tokens, n: int) -> list[str]:
    tickets = []
    for i in range(n):
        r = client.post("/open311/v2/requests.json", data={
            "service_code": "jalan-rusak", "lat": str(PENAJAM["lat"] + i * 1e-6), "long": str(PENAJAM["lon"]),
            "description": "jalan berlubang", "api_key": tokens["telephony"]})
        assert r.status_code == 201, r.text
        tickets.append(r.json()[0]["service_request_id"])
    return tickets


def test_open311_list_rounds_coordinates_and_pages(client, tokens, ctx):
    ctx.settings.open311_page_size = 2
    tickets = _open311(client, tokens, 3)
    first = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in first] == tickets[::-1][:2]
    assert {(r["lat"], r["long"]) for r in first} == {(-1.256, 116.768)}
    second = client.get("/open311/v2/requests.json", params={"page": 2}).json()
    assert [r["service_request_id"] for r in second] == [tickets[0]]
    one = client.get(f"/open311/v2/requests/{tickets[0]}.json").json()[0]
    assert (one["lat"], one["long"]) == (-1.256, 116.768)
    assert client.get("/open311/v2/requests.json", params={"page_size": 1000}).status_code == 422


@pytest.mark.parametrize("params", [
    {"end_date": "0001-01-01T00:00:00Z"},            # 90 days before it is no date
    {"end_date": "0001-03-01T00:00:00Z"},
    {"start_date": "0001-01-01T00:00:00+14:00"},     # no date in UTC
    {"end_date": "9999-12-31T23:59:59-14:00"},
])
def test_open311_dates_out_of_range_are_a_400(client, params):
    # A stranger's query string: answered with the field's name, never a 500.
    r = client.get("/open311/v2/requests.json", params=params)
    assert r.status_code == 400, r.text
    assert next(iter(params)) in r.json()[0]["description"]


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", public_rate_per_minute=5,
                    max_streams_per_token=3, tile_url="")


def test_open311_reads_are_rate_limited(client):
    answers = [client.get("/open311/v2/requests.json").status_code for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[-1] == 429


def test_one_token_holds_a_bounded_number_of_streams(open_stream, live_server, tokens):
    held = [open_stream("damkar") for _ in range(3)]
    refused = httpx.get(f"{live_server}/api/v1/events",
                        headers={"Authorization": f"Bearer {tokens['damkar']}"}, timeout=10)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    # Another token is not affected, and a closed stream frees its place.
    open_stream("dlh")
    held[0].close()
    deadline_ok = False
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not deadline_ok:
        try:
            open_stream("damkar")
            deadline_ok = True
        except AssertionError:
            time.sleep(0.05)  # polling until the server notices the closed stream
    assert deadline_ok
