"""Every page route × every role × own/other agency: the consoles under /konsol (browser sessions
from POST /login, htmx actions with the X-CSRF-Token of the page), the public pages (/lacak,
/lapor), Open311 (api_key = an API token), and the rest of what is not the JSON API.

The routes come from the app: a page added without a row here fails
`test_every_page_route_has_a_rule`. As on the API, what a user may not see answers 404 and what a
role may never do answers 403. Integration accounts cannot log in to the console (401 at the
login form); on pages they count as no session, even with their bearer token: 303 to /login,
like `anonymous` (no cookie at all).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from matrix_helpers import (  # noqa: F401
    ACTORS,
    ANONYMOUS,
    INTEGRATIONS,
    PASSWORD,
    PENAJAM,
    World,
    everyone,
    page_routes,
    settings,
    world,
)
from tests_security_helpers import API

pytestmark = pytest.mark.timeout(900)

NO_SESSION = (*INTEGRATIONS, ANONYMOUS)


def page(default: int, **per_actor: int) -> dict[str, int]:
    """Expected status per actor; without a session (integrations, anonymous) 303 unless named."""
    table = {a: per_actor.get(a, default) for a in ACTORS if a not in NO_SESSION}
    return {**table, **{a: per_actor.get(a, 303) for a in NO_SESSION}}


def same(status: int) -> dict[str, int]:
    """Pages that answer everyone alike (public, or a redirect for all)."""
    return {a: status for a in (*ACTORS, ANONYMOUS)}


FLOOR = page(403, admin=200, call_taker=200, commander=200)
AGENCY = page(403, damkar=200, pln=200, dlh=200, viewer_damkar=200, viewer_dlh=200)
COMMAND = page(403, admin=200, commander=200, viewer=200)
ADMIN = page(403, admin=200)
# The house fire's panel: as GET /api/v1/incidents/{id}; DLH is not on it.
SEES_FIRE = page(200, dlh=404, viewer_dlh=404)
ON_DAMKAR_ASSIGNMENT = page(403, admin=200, commander=200, damkar=200, dlh=404, viewer_dlh=404)

# (method, path): [(request kind, expected status per actor), ...]; several kinds where one
# route does several things ({action}).
RULES: dict[tuple[str, str], list[tuple[str, dict[str, int]]]] = {
    ("GET", "/"): [("get", same(303))],
    ("GET", "/login"): [("get", same(200))],
    ("POST", "/login"): [("login", page(303, telephony=401, telephony_other=401, anonymous=401))],
    ("POST", "/logout"): [("logout", same(303))],
    ("GET", "/bahasa/{lang}"): [("get", same(303))],
    ("GET", "/favicon.ico"): [("get", same(204))],
    ("GET", "/peta/batas.geojson"): [("get", same(200))],  # public boundaries, no personal data
    ("GET", "/healthz"): [("get", same(200))],
    ("GET", "/readyz"): [("get", same(200))],  # writes one row of its own, nothing else
    # Counts by type and outcome only, but not for the internet: the metrics token or a
    # configured address (tests/security/test_public_surfaces.py), never a user's token.
    ("GET", "/metrics"): [("get", same(401))],
    ("GET", "/openapi.json"): [("get", same(200))],
    ("GET", "/docs"): [("get", same(200))],
    ("GET", "/docs/oauth2-redirect"): [("get", same(200))],
    ("GET", "/redoc"): [("get", same(200))],
    ("GET", "/konsol"): [("get", same(303))],  # to the role's own console, or to /login
    ("GET", "/konsol/peta/insiden.json"): [("get", page(200))],  # scoped inside, like the lists
    # The call-taker's console.
    ("GET", "/konsol/panggilan"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/antrean"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/riwayat"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/wilayah"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/duplikat"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/sesi/{session_id}"): [("get", FLOOR)],
    ("GET", "/konsol/panggilan/laporan/{report_id}"): [("get", FLOOR)],
    ("POST", "/konsol/panggilan/saran"): [("suggest", FLOOR)],
    # 200: the answer is the ticket card for the call just handled (empty for a prank).
    ("POST", "/konsol/panggilan/hasil"): [("outcome", page(403, admin=200, call_taker=200, commander=200))],
    ("POST", "/konsol/panggilan/insiden"): [("intake", page(403, admin=201, call_taker=201, commander=201))],
    # The agency dispatcher's console: a user bound to an agency (dispatcher or viewer).
    ("GET", "/konsol/dinas"): [("get", AGENCY)],
    ("GET", "/konsol/dinas/antrean"): [("get", AGENCY)],
    ("GET", "/konsol/dinas/unit"): [("get", AGENCY)],
    # A DAMKAR unit: another agency does not see it; a viewer never moves it.
    ("POST", "/konsol/dinas/unit/{unit_id}/status"): [
        ("unit_status", page(403, damkar=200, pln=404, dlh=404))],  # viewers never: 403
    # One incident's panel and its actions: the same answers as the API's.
    ("GET", "/konsol/insiden/{incident_id}"): [("get", SEES_FIRE)],
    ("POST", "/konsol/insiden/{incident_id}/{action}"): [
        ("terima", ON_DAMKAR_ASSIGNMENT), ("kirim", ON_DAMKAR_ASSIGNMENT),
        ("progres", ON_DAMKAR_ASSIGNMENT), ("tolak", ON_DAMKAR_ASSIGNMENT),
        ("bantuan", page(403, admin=200, commander=200, damkar=200, pln=200, dlh=404, viewer_dlh=404)),
        ("catatan", page(200, viewer=403, viewer_damkar=403, viewer_dlh=403, dlh=404)),
        # Resolving: the lead (DAMKAR) or staff; PLN only supports the fire.
        ("status", page(403, admin=200, call_taker=200, commander=200, damkar=200,
                        dlh=404, viewer_dlh=404)),
        ("alihkan", page(403, admin=200, commander=200)),
        ("rute", page(403, admin=200, commander=200))],
    # The command centre (and viewers of everything).
    ("GET", "/konsol/komando"): [("get", COMMAND)],
    # Ticket search: staff only; no incident has the ticket the matrix asks for.
    ("GET", "/konsol/cari"): [("get", page(403, admin=404, call_taker=404, commander=404))],
    ("GET", "/konsol/komando/ringkasan"): [("get", COMMAND)],
    # The reports dashboard: the command centre and leadership (viewers of everything).
    ("GET", "/konsol/laporan"): [("get", COMMAND)],
    # The public-alerts screen: the command centre (its viewers read); issuing is BPBD's.
    ("GET", "/konsol/peringatan"): [("get", COMMAND)],
    ("POST", "/konsol/peringatan"): [("alert_form", page(403, admin=204, commander=204))],
    ("POST", "/konsol/peringatan/{alert_id}/perbarui"): [("alert_update", page(403, admin=204, commander=204))],
    ("POST", "/konsol/peringatan/{alert_id}/cabut"): [("alert_cancel", page(403, admin=204, commander=204))],
    # The shift hand-over log (the commander wrote the one the admin takes over).
    ("GET", "/konsol/serah-terima"): [("get", page(403, admin=200, call_taker=200, commander=200, viewer=200))],
    ("GET", "/konsol/serah-terima/{handoff_id}/cetak"): [
        ("get", page(403, admin=200, call_taker=200, commander=200, viewer=200))],
    ("POST", "/konsol/serah-terima"): [("shift", page(403, admin=201, commander=201))],
    ("POST", "/konsol/serah-terima/{handoff_id}/terima"): [("shift_ack", page(403, admin=200, commander=409))],
    # Announcing a BMKG warning to the public: the command centre's button (not its viewers).
    ("POST", "/konsol/komando/peringatan-masuk/{warning_id}/lokal"): [("post", page(403, admin=200, commander=200))],
    ("GET", "/konsol/laporan/data.json"): [("get", COMMAND)],
    # Administration.
    ("GET", "/konsol/admin"): [("get", ADMIN)],
    ("GET", "/konsol/admin/audit"): [("get", ADMIN)],
    ("GET", "/konsol/admin/jejak"): [("get", ADMIN)],
    ("GET", "/konsol/admin/dinas"): [("get", ADMIN)],
    ("GET", "/konsol/admin/dinas/{code}"): [("get", ADMIN)],
    ("POST", "/konsol/admin/dinas/{code}"): [("agency_save", ADMIN)],
    ("GET", "/konsol/admin/pengguna"): [("get", ADMIN)],
    ("GET", "/konsol/admin/pengguna/baru"): [("get", ADMIN)],
    ("POST", "/konsol/admin/pengguna"): [("user_create", page(403, admin=201))],
    ("GET", "/konsol/admin/pengguna/{user_id}"): [("get", ADMIN)],
    ("POST", "/konsol/admin/pengguna/{user_id}"): [("user_save", ADMIN)],
    ("POST", "/konsol/admin/pengguna/{user_id}/{action}"): [
        ("nonaktifkan", ADMIN), ("aktifkan", ADMIN), ("sandi", ADMIN)],
    ("GET", "/konsol/admin/sop"): [("get", ADMIN)],
    ("GET", "/konsol/admin/sop.yaml"): [("get", ADMIN)],
    ("GET", "/konsol/admin/sop/jenis/{code}"): [("get", ADMIN)],
    ("POST", "/konsol/admin/sop/jenis/{code}"): [("sop_type", ADMIN)],
    ("GET", "/konsol/admin/sop/prioritas/{level}"): [("get", ADMIN)],
    ("POST", "/konsol/admin/sop/prioritas/{level}"): [("sop_priority", ADMIN)],
    # Public: the reporter's ticket page and the web form; no login, no personal data.
    ("GET", "/lacak"): [("get", same(200))],
    ("GET", "/lacak/{ticket}"): [("get", same(200))],
    ("POST", "/lacak/{ticket}/berhenti"): [("post", same(200))],
    ("GET", "/lapor"): [("get", same(200))],
    ("GET", "/lapor/lokasi.js"): [("get", same(200))],
    ("POST", "/lapor"): [("report", same(303))],
    # Public alerts: for everyone alike (a code that names no alert is the same 404 for all).
    ("GET", "/peringatan"): [("get", same(200))],
    ("GET", "/peringatan/{code}"): [("get", same(404))],
    ("GET", "/alerts.atom"): [("get", same(200))],
    # Open311: reading is public; creating takes the api_key of a role that may create incidents
    # (GeoReport answers 403 for a missing or insufficient key).
    ("GET", "/open311/v2/services.{fmt}"): [("get", same(200))],
    ("GET", "/open311/v2/services/{code}.{fmt}"): [("get", same(200))],
    ("GET", "/open311/v2/requests.{fmt}"): [("get", same(200))],
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): [("get", same(200))],
    ("POST", "/open311/v2/requests.{fmt}"): [(
        "open311", {**same(403), "admin": 201, "call_taker": 201, "commander": 201,
                    "telephony": 201, "telephony_other": 201})],
}

INCIDENT_ACTIONS = ("terima", "kirim", "progres", "tolak", "bantuan", "catatan", "status", "alihkan", "rute")
USER_ACTIONS = ("nonaktifkan", "aktifkan", "sandi")
QUERIES = {
    "/konsol/panggilan/riwayat": {"phone": "081234567890"},
    "/konsol/laporan/data.json": {"from": "2026-11-01", "to": "2026-11-02"},
    "/konsol/panggilan/wilayah": {"desa_q": "penajam"},
    "/konsol/panggilan/duplikat": {"type_code": "FIRE-BLDG", **PENAJAM},
    "/bahasa/{lang}": {"kembali": "/lacak"},
    "/konsol/cari": {"tiket": "ZZZZ-ZZZZ"},
}


def test_every_page_route_has_a_rule(app):
    routes = page_routes(app)
    assert routes - RULES.keys() == set(), "page routes without a rule in RULES"
    assert RULES.keys() - routes == set(), "rules for page routes that no longer exist"
    for (method, path), cases in RULES.items():
        assert cases, f"{method} {path} has no case"
        for _, expected in cases:
            assert expected.keys() == {*ACTORS, ANONYMOUS}, f"{method} {path} misses actors"


def _csrf_of(html: str) -> str | None:
    found = re.search(r'<body[^>]*\sdata-csrf="([^"]+)"', html)
    return found.group(1) if found else None


class Browser:
    """One actor's browser: its own cookie jar, logged in through the login form if it can."""

    def __init__(self, app, actor: str, token_headers: dict[str, str]):
        self.app, self.actor = app, actor
        self.client = TestClient(app, follow_redirects=False)
        # An integration's bearer token goes with every request: it must open no page.
        self.client.headers.update(token_headers)
        self.csrf: str | None = None

    def login(self) -> int:
        r = self.client.post("/login", data={"username": self.actor, "password": PASSWORD})
        if r.status_code == 303:
            self.csrf = _csrf_of(self.client.get(r.headers["location"]).text)
            assert self.csrf, f"no data-csrf on {self.actor}'s landing page"
        return r.status_code

    def send(self, method: str, url: str, form: dict | None):
        if method == "GET":
            return self.client.get(url)
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        return self.client.post(url, data=form or {}, headers=headers)


@pytest.fixture
def browsers(app, world, client):
    opened = {}
    for actor in (*ACTORS, ANONYMOUS):
        person = world.people.get(actor)
        b = Browser(app, actor, person.headers if actor in INTEGRATIONS else {})
        if actor != ANONYMOUS:
            assert b.login() == (401 if actor in INTEGRATIONS else 303), f"login of {actor}"
        opened[actor] = b
    yield opened
    for b in opened.values():
        b.client.close()


@dataclass
class Req:
    url: str
    form: dict = field(default_factory=dict)
    after: Callable[[int], None] | None = None
    browser: Browser | None = None  # another browser than the actor's own (login, logout)


def _fill(path: str, kind: str, w: World, fresh: bool) -> str:
    values = {
        "incident_id": lambda: w.fire(fresh=fresh)["id"],
        "unit_id": lambda: w.unit(fresh=fresh),
        "session_id": lambda: w.session(fresh=False),
        "report_id": lambda: w.report(fresh=False),
        "user_id": lambda: str(w.user_id()),
        "action": lambda: kind,
        "lang": lambda: "en",
        "code": lambda: ("ANIMAL" if "/sop/" in path else "jalan-rusak" if "open311" in path
                         else "DLH"),
        "level": lambda: "4",
        "fmt": lambda: "json",
        "ticket": w.ticket,
        "request_id": w.open311_request,
        "warning_id": w.warning,
        "handoff_id": w.handoff,
        "alert_id": lambda: w.alert(fresh=fresh),
    }
    for name, make in values.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", make())
    assert "{" not in path, f"no value for a parameter of {path}"
    return path


def _request(kind: str, method: str, path: str, actor: str, w: World, app) -> Req:
    """One request of this kind as `actor`'s browser sends it, preparing what it acts on."""
    url = _fill(path, kind, w, fresh=method != "GET")
    query = QUERIES.get(path)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    person = w.people.get(actor)
    sop = w.ctx.sop
    if kind in ("login", "logout"):
        # A browser of its own: the actor's session and CSRF token stay as they are.
        fresh_browser = Browser(app, actor, {})
        if kind == "logout" and actor not in NO_SESSION:
            assert fresh_browser.login() == 303
        form = {"username": actor, "password": PASSWORD} if kind == "login" else {}
        return Req(url, form, browser=fresh_browser)
    if kind == "unit_status":
        unit_id = url.split("/")[4]
        return Req(url, {"status": "out_of_service"},
                   after=lambda got: got == 200 and w.restore_unit(unit_id))
    if kind == "progres":
        w.dispatched({"id": url.split("/")[3]})
    if kind in ("nonaktifkan", "aktifkan"):  # so that the action changes something
        w.admin.post(f"{API}/auth/users/cadangan/{'disable' if kind == 'aktifkan' else 'enable'}")
    animal, p4 = sop.incident_types["ANIMAL"], sop.priorities[4]
    form = {
        "suggest": lambda: {"description": "kebakaran rumah"},
        "outcome": lambda: {"outcome": "information", "channel": "call", "phone": w.phone()},
        "intake": lambda: {"channel": "call", "description": "Rumah terbakar", "type_code": "FIRE-BLDG",
                           "priority": "1", "phone": w.phone(), "form_key": str(uuid.uuid4()),
                           "lat": PENAJAM["lat"], "lon": PENAJAM["lon"]},
        "terima": lambda: {"agency_code": "DAMKAR"},
        "shift": w.handoff_body, "shift_ack": lambda: {},
        "alert_form": lambda: {"event": "Banjir", "category": "Met", "headline": "Banjir di Sepaku",
                               "description": "Air sungai naik.", "codes": "64.09.04", "form_key": str(uuid.uuid4())},
        "alert_update": lambda: {"headline": "Banjir meluas di Sepaku"},
        "alert_cancel": lambda: {"note": "Air sudah surut."},
        "kirim": lambda: {"agency_code": "DAMKAR", "unit_id": w.damkar_units()[-1]},
        "progres": lambda: {"agency_code": "DAMKAR", "status": "en_route"},
        "tolak": lambda: {"agency_code": "DAMKAR", "reason": "bukan tugas kami"},
        "bantuan": lambda: {"agency_code": "DLH", "reason": "limbah"},
        "catatan": lambda: {"text": "catatan"},
        "status": lambda: {"status": "resolved"},
        "alihkan": lambda: {"type_code": "FLOOD"},
        "rute": lambda: {"agency_code": "POLRES", "route": "lead"},
        # Administration forms re-submit what is there: the SOP must stay as the matrix knows it.
        "agency_save": lambda: {"name": sop.agencies["DLH"].name, "active": "on"},
        "user_create": lambda: {"username": f"uji{w.n()}", "full_name": "Pengguna Uji", "role": "viewer"},
        "user_save": lambda: {"full_name": "Cadangan", "role": "viewer"},
        "sop_type": lambda: {"name_id": animal.name_id, "name_en": animal.name_en,
                             "priority": str(animal.priority), "lead": animal.lead or "",
                             "support": list(animal.support)},
        "sop_priority": lambda: {"label_id": p4.label_id, "label_en": p4.label_en,
                                 "ack_seconds": str(p4.ack_seconds),
                                 "dispatch_seconds": str(p4.dispatch_seconds)},
        "report": lambda: {"description": "Pohon tumbang menutup jalan", "notify": "none",
                           "address": "Jl. Provinsi Km 5"},
        "open311": lambda: {"service_code": "sampah", "description": "Sampah menumpuk",
                            "lat": PENAJAM["lat"], "long": PENAJAM["lon"],
                            **({"api_key": person.headers["Authorization"][7:]} if person else {})},
    }.get(kind, dict)()
    return Req(url, form)


def test_every_page_answers_every_role_as_the_table_says(world, browsers, app):
    wrong = []
    for (method, path), cases in RULES.items():
        for kind, expected in cases:
            for actor, want in expected.items():
                req = _request(kind, method, path, actor, world, app)
                browser = req.browser or browsers[actor]
                got = browser.send(method, req.url, req.form).status_code
                if req.browser:
                    req.browser.client.close()
                if req.after:
                    req.after(got)
                world.finish()
                if got != want:
                    wrong.append(f"{method} {path} [{kind}] as {actor}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
