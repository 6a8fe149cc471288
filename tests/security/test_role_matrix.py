"""Every API route × every role × own/other agency, against one table of expected answers.

The routes come from the app itself: a route added without a row here fails
`test_every_route_has_a_rule`. Things a user may not see answer 404; actions a role may never
take answer 403 (whatever the target, so a 403 never tells that something exists).
"""
from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from siaga112.auth.service import create_user, issue_token
from tests_security_helpers import API, create

pytestmark = pytest.mark.timeout(600)

# Who asks. The incident is a house fire reported through `telephony`: DAMKAR leads, PLN
# supports, DLH is not involved. `_other` actors are of the same kind but outside it.
ACTORS = ("admin", "call_taker", "commander", "damkar", "pln", "dlh", "viewer", "viewer_damkar",
          "viewer_dlh", "telephony", "telephony_other")
EXTRA_USERS = [("viewer_dlh", "viewer", "DLH"), ("telephony_other", "integration", None),
               ("cadangan", "viewer", None)]
PASSWORD = "rahasia-112"


def rule(default: int, **per_actor: int) -> dict[str, int]:
    return {a: per_actor.get(a, default) for a in ACTORS}


# Reading one incident: staff and viewers of everything; the agencies on it; its reporter.
SEES_INCIDENT = dict(dlh=404, viewer_dlh=404, telephony_other=404)
# Acting on DAMKAR's assignment: DAMKAR and the command centre; other roles never.
ASSIGNMENT_ACTION = rule(403, admin=200, commander=200, damkar=200, dlh=404, viewer_dlh=404,
                         telephony_other=404)
CREATORS = rule(403, admin=201, call_taker=201, commander=201, telephony=201, telephony_other=201)

RULES: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    # (method, path): (request kind, expected status per actor)
    ("GET", "/api/v1/incidents"): ("list", rule(200)),
    ("POST", "/api/v1/incidents"): ("create", CREATORS),
    ("GET", "/api/v1/incidents/{incident_id}"): ("read", rule(200, **SEES_INCIDENT)),
    ("POST", "/api/v1/incidents/{incident_id}/status"): (
        "resolve", rule(403, admin=200, call_taker=200, commander=200, damkar=200, pln=200,
                        **SEES_INCIDENT)),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): (
        "note", rule(201, viewer=403, viewer_damkar=403, viewer_dlh=403, telephony=403,
                     telephony_other=403, dlh=404)),
    ("POST", "/api/v1/incidents/{incident_id}/reroute"): ("reroute", rule(403, admin=200, commander=200)),
    ("POST", "/api/v1/incidents/{incident_id}/assignments"): (
        "support", rule(403, admin=201, commander=201, damkar=201, pln=201, dlh=404,
                        viewer_dlh=404, telephony_other=404)),
    ("POST", "/api/v1/incidents/{incident_id}/assignments/{agency_code}/acknowledge"): (
        "acknowledge", {**ASSIGNMENT_ACTION, "pln": 403}),
    ("POST", "/api/v1/incidents/{incident_id}/assignments/{agency_code}/dispatch"): (
        "dispatch", {**ASSIGNMENT_ACTION, "pln": 403}),
    ("POST", "/api/v1/incidents/{incident_id}/assignments/{agency_code}/progress"): (
        "progress", {**ASSIGNMENT_ACTION, "pln": 403}),
    ("POST", "/api/v1/incidents/{incident_id}/assignments/{agency_code}/decline"): (
        "decline", {**ASSIGNMENT_ACTION, "pln": 403}),
    ("POST", "/api/v1/calls"): ("call", CREATORS),
    ("GET", "/api/v1/callers/{phone}"): (
        "history", rule(403, admin=200, call_taker=200, commander=200, telephony=200,
                        telephony_other=200)),
    ("GET", "/api/v1/units"): ("units", rule(200, pln=404, dlh=404, viewer_dlh=404)),
    ("POST", "/api/v1/units/{unit_id}/position"): (
        "position", rule(403, admin=200, commander=200, damkar=200, pln=404, dlh=404,
                         telephony=200, telephony_other=200)),
    ("GET", "/api/v1/reference/agencies"): ("get", rule(200)),
    ("GET", "/api/v1/reference/incident-types"): ("get", rule(200)),
    ("GET", "/api/v1/reference/wilayah"): ("get", rule(200)),
    ("POST", "/api/v1/classify"): ("classify", rule(200)),
    ("GET", "/api/v1/events"): ("stream", rule(200)),
    ("POST", "/api/v1/auth/password"): ("password", rule(204)),
    ("GET", "/api/v1/auth/tokens"): ("get", rule(200)),
    ("POST", "/api/v1/auth/tokens"): ("token", rule(201)),
    ("POST", "/api/v1/auth/tokens/{token_id}/revoke"): ("revoke", rule(404, admin=200, damkar=200)),
    ("GET", "/api/v1/auth/users"): ("get", rule(403, admin=200)),
    ("POST", "/api/v1/auth/users/{username}/disable"): ("user", rule(403, admin=200)),
    ("POST", "/api/v1/auth/users/{username}/enable"): ("user", rule(403, admin=200)),
    ("POST", "/api/v1/auth/users/{username}/password"): ("set_password", rule(403, admin=204)),
    ("GET", "/api/v1/audit"): ("get", rule(403, admin=200)),
}


def _flatten(routes) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, also inside included routers (FastAPI ≥ 0.165 nests them)."""
    found = []
    for r in routes:
        if isinstance(r, APIRoute) or (hasattr(r, "methods") and hasattr(r, "path")):
            found.append((r.path, set(r.methods or ())))
        elif hasattr(r, "effective_candidates"):
            found += [(c.path, set(c.methods or ())) for c in r.effective_candidates()]
        elif hasattr(r, "routes"):
            found += _flatten(r.routes)
    return found


def api_routes(app) -> set[tuple[str, str]]:
    return {(m, path) for path, methods in _flatten(app.routes) if path.startswith("/api/")
            for m in methods if m != "HEAD"}


def test_every_route_has_a_rule(app):
    routes = api_routes(app)
    assert routes - RULES.keys() == set(), "routes without a rule in RULES"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@pytest.fixture
def everyone(actors, ctx, client, tokens):
    people = dict(actors)
    with ctx.db.transaction() as conn:
        for name, role, agency in EXTRA_USERS:
            create_user(conn, username=name, role=role, agency_code=agency, password=PASSWORD)
            people[name] = type(actors["admin"])(name, client, issue_token(conn, username=name))
    ctx.settings.rate_limits = False
    return people


def _request(kind: str, path: str, people, ctx, incident_body):
    """(method, url, json) for one request of this kind, preparing what it acts on."""
    fire = None
    if "{incident_id}" in path:
        fire = create(people["telephony"], incident_body())
    damkar_units = people["admin"].get(f"{API}/units", params={"agency_code": "DAMKAR",
                                                                "status": "available"}).json()
    url = (path.replace("{incident_id}", fire["id"] if fire else "")
           .replace("{agency_code}", "DAMKAR").replace("{phone}", "081234567890")
           .replace("{unit_id}", damkar_units[0]["id"]).replace("{username}", "cadangan"))
    if kind == "units":  # another agency's fleet is out of scope for a bound user
        url += "?agency_code=DAMKAR"
    if kind == "progress":
        assert people["admin"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
                                    json={"unit_id": damkar_units[0]["id"]}).status_code == 200
    if kind == "revoke":
        spare = people["admin"].post(f"{API}/auth/tokens", json={"name": "cadangan", "username": "damkar"})
        url = url.replace("{token_id}", str(spare.json()["id"]))
    if kind == "user" and url.endswith("/enable"):
        people["admin"].post(url.replace("/enable", "/disable"))
    body = {
        "create": incident_body(), "resolve": {"status": "resolved"}, "note": {"text": "catatan"},
        "reroute": {"type_code": "FLOOD"}, "support": {"agency_code": "DLH", "reason": "limbah"},
        "dispatch": {"unit_id": damkar_units[-1]["id"]}, "progress": {"status": "en_route"},
        "decline": {"reason": "bukan tugas kami"}, "call": {"outcome": "prank"},
        "position": {"lat": -1.25, "lon": 116.77}, "classify": {"description": "kebakaran rumah"},
        "password": {"current_password": PASSWORD, "new_password": "baru-sekali-112"},
        "token": {"name": "alat baru"}, "set_password": {"new_password": "baru-sekali-112"},
    }.get(kind)
    return url, body, fire


def _stream_status(base_url: str, url: str, token: str) -> int:
    with httpx.stream("GET", base_url + url, headers={"Authorization": f"Bearer {token}"},
                      timeout=10) as response:
        return response.status_code


def test_every_route_answers_every_role_as_the_table_says(everyone, ctx, incident_body, live_server,
                                                          tokens):
    wrong = []
    for (method, path), (kind, expected) in RULES.items():
        for actor in ACTORS:
            person = everyone[actor]
            url, body, fire = _request(kind, path, everyone, ctx, incident_body)
            if kind == "stream":
                got = _stream_status(live_server, url, person.headers["Authorization"][7:])
            elif method == "GET":
                got = person.get(url).status_code
            else:
                got = person.post(url, json=body).status_code
            if kind == "password" and got == 204:
                person.post(url, json={"current_password": "baru-sekali-112", "new_password": PASSWORD})
            if fire:  # ending it frees the units it took, for the next request
                everyone["admin"].post(f"{API}/incidents/{fire['id']}/status", json={"status": "cancelled"})
            if got != expected[actor]:
                wrong.append(f"{method} {path} as {actor}: {got}, expected {expected[actor]}")
    assert not wrong, "\n".join(wrong)
