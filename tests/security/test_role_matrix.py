"""Every API route × every role × own/other agency, against one table of expected answers.

The routes come from the app itself: a route added without a row here fails
`test_every_api_route_has_a_rule`. Things a user may not see answer 404; actions a role may never
take answer 403 (whatever the target, so a 403 never tells that something exists). Besides the
eleven actors, every row has `anonymous` (no token: 401, except the public endpoints), and the
webhook rows `signed`: webhooks authenticate by their HMAC signature, never by a bearer token.
The pages (consoles, public pages, Open311) have their own table in test_page_matrix.py.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from matrix_helpers import (  # noqa: F401 — fixtures
    ACTORS,
    ANONYMOUS,
    PASSWORD,
    PENAJAM,
    SECRETS,
    SIGNED,
    VERIFY_TOKEN,
    World,
    api_routes,
    everyone,
    settings,
    world,
)
from tests_security_helpers import API

from siaga112.interop.signing import signed_headers

pytestmark = pytest.mark.timeout(900)


def rule(default: int, **per_actor: int) -> dict[str, int]:
    """Expected status per actor; `anonymous` (no token) is 401 unless named."""
    table = {a: per_actor.get(a, default) for a in (*ACTORS, ANONYMOUS)}
    table[ANONYMOUS] = per_actor.get(ANONYMOUS, 401)
    if SIGNED in per_actor:
        table[SIGNED] = per_actor[SIGNED]
    return table


# Reading one incident: staff and viewers of everything; the agencies on it; its reporter.
SEES_INCIDENT = dict(dlh=404, viewer_dlh=404, telephony_other=404)
# Acting on DAMKAR's assignment: DAMKAR and the command centre; other roles never.
ASSIGNMENT_ACTION = rule(403, admin=200, commander=200, damkar=200, dlh=404, viewer_dlh=404,
                         telephony_other=404)
CREATORS = rule(403, admin=201, call_taker=201, commander=201, telephony=201, telephony_other=201)
# A DAMKAR unit: everyone who sees everything, and DAMKAR. An integration sees the fleet of the
# agency it is bound to (an AVL gateway); `telephony` and `telephony_other` are bound to none.
SEES_DAMKAR_UNIT = rule(200, pln=404, dlh=404, viewer_dlh=404, telephony=404, telephony_other=404)
# The 112 floor (call-takers and their supervisors): calls, citizen reports, blocks, hand-overs.
# They carry callers' numbers and belong to no agency, so dispatchers and viewers never see them.
FLOOR = rule(403, admin=200, call_taker=200, commander=200)
SUPERVISORS = rule(403, admin=200, commander=200)
ADMIN = rule(403, admin=200)
PUBLIC = rule(200, anonymous=200)
# Whatever bearer token comes with it, an unsigned webhook is refused; the signed one is taken.
WEBHOOK = rule(401, signed=200)

RULES: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    # (method, path): (request kind, expected status per actor)
    ("GET", "/api/v1/incidents"): ("get", rule(200)),
    ("POST", "/api/v1/incidents"): ("create", CREATORS),
    ("GET", "/api/v1/incidents/{incident_id}"): ("get", rule(200, **SEES_INCIDENT)),
    # Only the lead agency (DAMKAR) or the command centre resolves; PLN supports the fire.
    ("POST", "/api/v1/incidents/{incident_id}/status"): (
        "resolve", rule(403, admin=200, call_taker=200, commander=200, damkar=200,
                        **SEES_INCIDENT)),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): (
        "note", rule(201, viewer=403, viewer_damkar=403, viewer_dlh=403, telephony=403,
                     telephony_other=403, dlh=404)),
    ("POST", "/api/v1/incidents/{incident_id}/reroute"): ("reroute", rule(403, admin=200, commander=200)),
    ("POST", "/api/v1/incidents/{incident_id}/route"): ("route", rule(403, admin=200, commander=200)),
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
    # DAMKAR's recommendations: who may dispatch for DAMKAR, and viewers who see the incident.
    # The call-taker hands over to the agencies and does not pick their units.
    ("GET", "/api/v1/incidents/{incident_id}/assignments/{agency_code}/recommendations"): (
        "get", rule(403, admin=200, commander=200, damkar=200, viewer=200, viewer_damkar=200,
                    **SEES_INCIDENT)),
    ("POST", "/api/v1/calls"): ("call", CREATORS),
    ("GET", "/api/v1/callers/{phone}"): (
        "get", rule(403, admin=200, call_taker=200, commander=200)),
    # Units: the registry is the administrator's; the status is moved by the unit's own agency
    # or the command centre; positions come from AVL gateways, staff and the unit's agency.
    ("GET", "/api/v1/units"): ("units", SEES_DAMKAR_UNIT),
    ("GET", "/api/v1/units/{unit_id}"): ("get", SEES_DAMKAR_UNIT),
    ("GET", "/api/v1/units/{unit_id}/trail"): ("get", SEES_DAMKAR_UNIT),
    ("POST", "/api/v1/units"): ("unit_create", rule(403, admin=201)),
    ("PATCH", "/api/v1/units/{unit_id}"): ("unit_update", ADMIN),
    ("POST", "/api/v1/units/{unit_id}/status"): (
        # Viewers and machines never move units: 403 whatever the unit (a DLH viewer got 404).
        "unit_status", rule(403, admin=200, commander=200, damkar=200, pln=404, dlh=404)),
    ("POST", "/api/v1/units/{unit_id}/position"): (
        "position", rule(403, admin=200, commander=200, damkar=200, pln=404, dlh=404,
                         telephony=404, telephony_other=404)),
    # A batch naming a unit the sender may not report is refused like one naming no unit at all
    # (422 on positions.0.unit_id, documented): the same answer, so nothing is revealed.
    ("POST", "/api/v1/units/positions"): (
        "positions", rule(403, admin=200, commander=200, damkar=200, pln=422, dlh=422,
                          telephony=422, telephony_other=422)),
    # Landmarks and the place search are reference data for everyone; the administrator edits.
    ("GET", "/api/v1/places/search"): ("search", rule(200)),
    ("GET", "/api/v1/landmarks"): ("get", rule(200)),
    ("GET", "/api/v1/landmarks/{landmark_id}"): ("get", rule(200)),
    ("POST", "/api/v1/landmarks"): ("landmark", rule(403, admin=201)),
    ("PATCH", "/api/v1/landmarks/{landmark_id}"): ("landmark_update", ADMIN),
    ("DELETE", "/api/v1/landmarks/{landmark_id}"): ("delete", rule(403, admin=204)),
    ("POST", "/api/v1/landmarks/import"): ("landmark_import", ADMIN),
    ("GET", "/api/v1/call-sessions"): ("get", FLOOR),
    # Answer times of the 112 floor are no agency's: viewers of everything, not bound viewers.
    ("GET", "/api/v1/call-sessions/kpis"): ("get", {**FLOOR, "viewer": 200}),
    ("GET", "/api/v1/call-sessions/{session_id}"): ("get", FLOOR),
    ("POST", "/api/v1/call-sessions/{session_id}/outcome"): ("outcome", FLOOR),
    ("POST", "/api/v1/call-sessions/{session_id}/incident"): ("link", FLOOR),
    ("GET", "/api/v1/citizen-reports"): ("get", FLOOR),
    ("GET", "/api/v1/citizen-reports/{report_id}"): ("get", FLOOR),
    ("POST", "/api/v1/citizen-reports/{report_id}/verify"): ("verify", FLOOR),
    ("POST", "/api/v1/citizen-reports/{report_id}/close"): ("close", FLOOR),
    # Blocks: call-takers read and propose; supervisors decide.
    ("GET", "/api/v1/number-blocks"): ("get", FLOOR),
    ("GET", "/api/v1/number-blocks/{block_id}"): ("get", FLOOR),
    ("POST", "/api/v1/number-blocks"): ("block", rule(403, admin=201, call_taker=201, commander=201)),
    ("POST", "/api/v1/number-blocks/{block_id}/confirm"): ("decide", SUPERVISORS),
    ("POST", "/api/v1/number-blocks/{block_id}/reject"): ("decide", SUPERVISORS),
    ("POST", "/api/v1/number-blocks/{block_id}/release"): ("release", SUPERVISORS),
    ("GET", "/api/v1/handovers"): ("get", FLOOR),
    ("GET", "/api/v1/handovers/{handover_id}"): ("get", FLOOR),
    ("GET", "/api/v1/handovers/{handover_id}/eidd"): ("get", FLOOR),
    ("POST", "/api/v1/handovers"): ("handover", rule(403, admin=201, call_taker=201, commander=201)),
    ("GET", "/api/v1/public/tickets/{ticket}"): ("get", PUBLIC),
    ("POST", "/api/v1/public/tickets/{ticket}/opt-out"): ("opt_out", PUBLIC),
    ("POST", "/api/v1/public/reports"): ("web_report", rule(201, anonymous=201)),
    ("POST", "/api/v1/webhooks/sms"): ("sms", WEBHOOK),
    ("POST", "/api/v1/webhooks/whatsapp"): ("whatsapp", WEBHOOK),
    ("POST", "/api/v1/webhooks/telephony"): ("telephony", WEBHOOK),
    ("POST", "/api/v1/webhooks/aml"): ("aml", rule(401, signed=202)),
    # Meta's subscription handshake: the verify token is its credential, not a bearer token.
    ("GET", "/api/v1/webhooks/whatsapp"): ("handshake", WEBHOOK),
    ("GET", "/api/v1/reference/agencies"): ("get", rule(200)),
    ("GET", "/api/v1/reference/incident-types"): ("get", rule(200)),
    ("GET", "/api/v1/reference/wilayah"): ("get", rule(200)),
    ("POST", "/api/v1/classify"): ("classify", rule(200)),
    ("GET", "/api/v1/events"): ("stream", rule(200)),
    ("POST", "/api/v1/auth/password"): ("password", rule(204)),
    ("GET", "/api/v1/auth/tokens"): ("get", rule(200)),
    ("POST", "/api/v1/auth/tokens"): ("token", rule(201)),
    ("POST", "/api/v1/auth/tokens/{token_id}/revoke"): ("revoke", rule(404, admin=200, damkar=200)),
    ("GET", "/api/v1/auth/users"): ("get", ADMIN),
    ("POST", "/api/v1/auth/users/{username}/disable"): ("user", ADMIN),
    ("POST", "/api/v1/auth/users/{username}/enable"): ("user", ADMIN),
    ("POST", "/api/v1/auth/users/{username}/password"): ("set_password", rule(403, admin=204)),
    ("GET", "/api/v1/audit"): ("get", ADMIN),
    # Reports: everyone who works with incidents reads KPIs (an agency its own); machines none.
    # The CSV lists what the asker may see, so every account gets one.
    ("GET", "/api/v1/kpi"): ("period", rule(200, telephony=403, telephony_other=403)),
    ("GET", "/api/v1/reports/incidents.csv"): ("period", rule(200)),
    ("GET", "/api/v1/reports/monthly"): ("month", rule(200, telephony=403, telephony_other=403)),
    # Public alerts: BPBD and the command centre write them; anyone reads the CAP document.
    ("POST", "/api/v1/alerts"): ("alert", rule(403, admin=201, commander=201)),
    ("GET", "/api/v1/alerts"): ("get", rule(200)),
    ("GET", "/api/v1/alerts/{alert_id}"): ("get", rule(200)),
    ("GET", "/api/v1/alerts/{alert_id}.xml"): ("get", PUBLIC),
    ("POST", "/api/v1/alerts/{alert_id}/update"): ("alert_update", rule(403, admin=201, commander=201)),
    ("POST", "/api/v1/alerts/{alert_id}/cancel"): ("alert_cancel", rule(403, admin=201, commander=201)),
    # Warnings received from BMKG: on the command centre's screen; announcing one is BPBD's.
    ("GET", "/api/v1/warnings"): ("get", rule(403, admin=200, commander=200, viewer=200)),
    ("POST", "/api/v1/warnings/{warning_id}/local-alert"): ("post", rule(403, admin=201, commander=201)),
    # The shift hand-over log: the 112 centre reads it; supervisors write and take over (the
    # commander wrote the one acknowledged here, so for the commander it is 409: not their own).
    ("GET", "/api/v1/shift-handovers"): ("get", rule(403, admin=200, call_taker=200, commander=200, viewer=200)),
    ("GET", "/api/v1/shift-handovers/{handoff_id}"): (
        "get", rule(403, admin=200, call_taker=200, commander=200, viewer=200)),
    ("POST", "/api/v1/shift-handovers"): ("shift", rule(403, admin=201, commander=201)),
    ("POST", "/api/v1/shift-handovers/{handoff_id}/acknowledge"): ("shift_ack", rule(403, admin=200, commander=409)),
}


def test_every_api_route_has_a_rule(app):
    routes = api_routes(app)
    assert routes - RULES.keys() == set(), "routes without a rule in RULES"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@dataclass
class Req:
    url: str
    json: object = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Undoes what a successful request changed, so the next actor finds the same world.
    after: Callable[[int], None] | None = None


def _fill(path: str, w: World, kind: str, fresh: bool) -> str:
    """The path with its parameters: shared things for reads, fresh ones for changes."""
    values = {
        "incident_id": lambda: w.fire(fresh=fresh)["id"],
        "agency_code": lambda: "DAMKAR",
        "phone": lambda: "081234567890",
        "unit_id": lambda: w.unit(fresh=fresh),
        "username": lambda: "cadangan",
        "token_id": lambda: str(w.admin.post(f"{API}/auth/tokens", json={
            "name": "cadangan", "username": "damkar"}).json()["id"]),
        "landmark_id": lambda: str(w.landmark(fresh=fresh)),
        "session_id": lambda: w.session(fresh=fresh),
        "report_id": lambda: w.report(fresh=fresh),
        "block_id": lambda: str(w.block(fresh=fresh, confirmed=kind == "release")),
        "handover_id": w.handover,
        "ticket": w.ticket,
        "alert_id": lambda: w.alert(fresh=fresh),
        "warning_id": w.warning,
        "handoff_id": w.handoff,
    }
    for name, make in values.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", make())
    assert "{" not in path, f"no value for a parameter of {path}"
    return path


def _webhook(kind: str, w: World, actor: str, url: str) -> Req:
    """A valid partner payload: signed for `signed`, with only the actor's bearer token otherwise."""
    n = w.n()
    if kind == "handshake":
        token = VERIFY_TOKEN if actor == SIGNED else ""
        return Req(f"{url}?hub.mode=subscribe&hub.challenge=c{n}&hub.verify_token={token}")
    content_type = "application/json"
    if kind == "sms":
        body = {"from": w.phone(), "text": "Ada kebakaran di pasar", "message_id": f"sms-{n}"}
    elif kind == "whatsapp":
        body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "contacts": [{"profile": {"name": "Amir"}, "wa_id": "6281366667777"}],
            "messages": [{"from": "6281366667777", "id": f"wamid.{n}", "timestamp": "1767225600",
                          "type": "text", "text": {"body": "Banjir di depan rumah"}}]}}]}]}
    elif kind == "telephony":
        body = {"call_id": f"pbx-webhook-{n}", "event": "ringing", "caller": w.phone()}
    else:  # aml, the HTTPS form
        body = None
        content_type = "application/x-www-form-urlencoded"
    raw = (json.dumps(body).encode() if body is not None else
           b"v=3&emergency_number=112&location_latitude=-1.2563&location_longitude=116.7684"
           b"&location_accuracy=30&location_source=gps&device_number=%2B6281200000001")
    headers = {"Content-Type": content_type}
    if actor == SIGNED:
        headers.update(signed_headers(SECRETS[kind], raw))
    return Req(url, content=raw, headers=headers)


def _request(kind: str, method: str, path: str, actor: str, w: World) -> Req:
    """One request of this kind as `actor` would send it, preparing what it acts on."""
    url = _fill(path, w, kind, fresh=method != "GET")
    if kind in WEBHOOK_KINDS:
        return _webhook(kind, w, actor, url)
    after = None
    if kind == "units":  # another agency's fleet is out of scope for a bound user
        url += "?agency_code=DAMKAR"
    elif kind == "search":
        url += "?q=penajam"
    elif kind == "period":
        url += "?from=2026-11-01&to=2026-12-01"
    elif kind == "month":
        url += "?month=2026-11&format=xlsx"
    elif kind == "progress":
        w.dispatched({"id": url.split("/")[4]})
    elif kind == "user" and url.endswith("/enable"):
        w.admin.post(url.replace("/enable", "/disable"))
    elif kind == "unit_status":
        unit_id = url.split("/")[4]
        after = lambda got: got == 200 and w.restore_unit(unit_id)  # noqa: E731
    elif kind == "password":
        person = w.people.get(actor)
        after = lambda got: got == 204 and person.post(url, json={  # noqa: E731
            "current_password": "baru-sekali-112", "new_password": PASSWORD})
    elif kind == "landmark_import":
        csv = f"name,kind,lat,lon\nPasar Uji {w.n()},market,{PENAJAM['lat']},{PENAJAM['lon']}\n"
        return Req(url, content=csv.encode(), headers={"Content-Type": "text/csv"})
    n = w.n()
    body = {
        "create": lambda: w.incident_body(), "resolve": lambda: {"status": "resolved"},
        "note": lambda: {"text": "catatan"}, "reroute": lambda: {"type_code": "FLOOD"},
        "route": lambda: {"agency_code": "POLRES", "action": "lead"},
        "support": lambda: {"agency_code": "DLH", "reason": "limbah"},
        "dispatch": lambda: {"unit_id": w.damkar_units()[-1]},
        "progress": lambda: {"status": "en_route"}, "decline": lambda: {"reason": "bukan tugas kami"},
        "call": lambda: {"outcome": "prank"}, "position": lambda: {"lat": -1.25, "lon": 116.77},
        "classify": lambda: {"description": "kebakaran rumah"},
        "password": lambda: {"current_password": PASSWORD, "new_password": "baru-sekali-112"},
        "token": lambda: {"name": "alat baru"}, "set_password": lambda: {"new_password": "baru-sekali-112"},
        "unit_create": lambda: {"call_sign": f"SAR-U{n}", "agency_code": "SAR", "kind": "rescue_team"},
        "unit_update": lambda: {"home_station": "Pos Damkar Penajam"},
        "unit_status": lambda: {"status": "out_of_service"},
        "positions": lambda: {"positions": [{"unit_id": w.unit(fresh=False), **PENAJAM}]},
        "landmark": lambda: {"kind": "school", "name": f"SD Uji {n}", **PENAJAM},
        "landmark_update": lambda: {"aliases": [f"uji {n}"]},
        "outcome": lambda: {"outcome": "information"},
        "link": lambda: {"incident_id": w.fire(fresh=False)["id"]},
        "verify": lambda: {}, "close": lambda: {"outcome": "information"},
        "block": lambda: {"phone": w.phone(), "reason": "iseng berulang"},
        "decide": lambda: {"note": "sudah diperiksa"}, "release": lambda: {"note": "nomor dipakai warga lain"},
        "handover": w.handover_body,
        "alert": w.alert_body, "alert_update": lambda: {"severity": "Severe"},
        "alert_cancel": lambda: {"note": "Air sudah surut."},
        "shift": w.handoff_body, "shift_ack": lambda: {},
        "web_report": lambda: {"description": "Jalan tertutup longsor", "notify": "none", **PENAJAM},
    }.get(kind, lambda: None)()
    return Req(url, json=body, after=after)


WEBHOOK_KINDS = {"sms", "whatsapp", "telephony", "aml", "handshake"}


def _stream_status(base_url: str, url: str, headers: dict[str, str]) -> int:
    with httpx.stream("GET", base_url + url, headers=headers, timeout=10) as response:
        return response.status_code


def _answer(world: World, live_server: str, method: str, path: str, kind: str, actor: str) -> int:
    req = _request(kind, method, path, actor, world)
    person = world.people.get(actor)
    headers = {**req.headers, **(person.headers if person else {})}
    if kind == "stream":
        got = _stream_status(live_server, req.url, headers)
    else:
        got = world.client.request(method, req.url, json=req.json, content=req.content,
                                   headers=headers).status_code
    if req.after:
        req.after(got)
    world.finish()
    return got


def test_every_api_route_answers_every_role_as_the_table_says(world, live_server):
    wrong = []
    for (method, path), (kind, expected) in RULES.items():
        for actor, want in expected.items():
            got = _answer(world, live_server, method, path, kind, actor)
            if got != want:
                wrong.append(f"{method} {path} as {actor}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


# Scope, not only role: the same users holding `read` tokens.
READ_TOKENS = {"admin_read": "admin", "damkar_read": "damkar", "telephony_read": "telephony"}


def test_a_read_token_reads_what_its_user_reads_and_changes_nothing(world, live_server, ctx):
    """Every route × a read-only token of three users: a read answers as the user's full token
    does; anything else is 403 (the public pages and the signed webhooks take no token at all)."""
    from siaga112.auth.service import issue_token

    with ctx.db.transaction() as conn:
        for alias, user in READ_TOKENS.items():
            token = issue_token(conn, username=user, name="hanya baca", scope="read")
            world.people[alias] = type(world.admin)(alias, world.client, token)
    wrong = []
    for (method, path), (kind, expected) in RULES.items():
        tokenless = kind in WEBHOOK_KINDS or expected[ANONYMOUS] != 401
        for alias, user in READ_TOKENS.items():
            want = expected[user] if method == "GET" or tokenless else 403
            got = _answer(world, live_server, method, path, kind, alias)
            if got != want:
                wrong.append(f"{method} {path} as {alias}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
