"""Bodies from the internet are verified, then parsed with models: never a 500 (issue 13)."""
from __future__ import annotations

import hashlib
import hmac
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "citizens"))
from citizens_helpers import WA_APP_SECRET, partner, settings, webhook  # noqa: E402,F401  fixtures

DEEP = ("[" * 100_000 + "]" * 100_000).encode()


def _meta_signed(body: bytes) -> dict[str, str]:
    sig = "sha256=" + hmac.new(WA_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sig}


@pytest.mark.parametrize("body", [b'{"entry":5}', b'{"entry":[{"changes":"x"}]}', DEEP,
                                  b'{"entry":[{"changes":[{"value":{"messages":[7]}}]}]}'])
def test_whatsapp_webhook_refuses_an_unsigned_body_before_reading_it(client, body):
    r = client.post("/api/v1/webhooks/whatsapp", content=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00"})
    assert r.status_code == 401


@pytest.mark.parametrize("body", [b'{"entry":5}', b'{"entry":[{"changes":"x"}]}', DEEP,
                                  b'{"entry":[{"changes":[{"value":{"messages":[7]}}]}]}', b"[]",
                                  b'{"entry":[{"changes":[{"value":{"messages":[{"id":"w1",'
                                  b'"from":"6281","type":"location","timestamp":"1"}]}}]}]}'])
def test_whatsapp_webhook_answers_a_signed_malformed_body_with_422(client, webhook, body):
    assert client.post("/api/v1/webhooks/whatsapp", content=body,
                       headers=_meta_signed(body)).status_code == 422
    assert webhook("whatsapp", body).status_code == 422


OPEN311 = {"service_code": "sampah", "lat": "-1.2563", "long": "116.7684",
           "description": "sampah menumpuk"}


@pytest.mark.parametrize("change", [
    {"address_string": "x" * 600, "lat": "", "long": ""}, {"first_name": "x" * 500, "phone": "081234567890"},
    {"description": "sampah\x00menumpuk"}, {"lat": "nan"}, {"long": "inf"},
])
def test_open311_post_answers_bad_fields_with_400(client, tokens, change):
    r = client.post("/open311/v2/requests.json", data={**OPEN311, "api_key": tokens["telephony"], **change})
    assert r.status_code == 400, r.text
    assert r.json()[0]["code"] == 400


@pytest.mark.parametrize("body", [DEEP, b'{"lat": {"a": 1}}', b'"text"', b"\xff\xfe"])
def test_open311_post_answers_a_bad_json_body_with_400(client, tokens, body):
    r = client.post("/open311/v2/requests.json", content=body,
                    headers={"Content-Type": "application/json",
                             "Authorization": f"Bearer {tokens['telephony']}"})
    assert r.status_code == 400, r.text


def test_open311_post_with_a_read_token_is_forbidden(client, actors, ctx):
    from siaga112.auth.service import issue_token

    with ctx.db.transaction() as conn:
        read_only = issue_token(conn, username="telephony", name="read", scope="read")
    before = actors["admin"].get("/api/v1/incidents").json()["items"]
    r = client.post("/open311/v2/requests.json", data={**OPEN311, "api_key": read_only})
    assert r.status_code == 403
    assert actors["admin"].get("/api/v1/incidents").json()["items"] == before


@pytest.mark.parametrize("doc", [
    [1, 2], {"type": "FeatureCollection", "features": [5]},
    {"type": "FeatureCollection", "features": [{"geometry": "Point", "properties": []}]},
    {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [1, 2]},
                                                "properties": ["name"]}]},
    {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point",
                                                             "coordinates": ["a", {}]}}]},
])
def test_landmark_geojson_import_answers_a_malformed_file_with_422(actors, doc):
    r = actors["admin"].post("/api/v1/landmarks/import", content=json.dumps(doc).encode(),
                             headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 422, r.text


def test_landmark_geojson_import_answers_deep_nesting_with_422(actors):
    r = actors["admin"].post("/api/v1/landmarks/import", content=DEEP,
                             headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 422, r.text
