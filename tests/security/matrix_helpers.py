"""What the two role matrices share (API routes in test_role_matrix.py, pages in
test_page_matrix.py): who asks, the routes of the app, and a `World` that prepares what each
request acts on (an incident, a unit, a landmark, a call session, a citizen report, a number
block, a hand-over ...).

Imported by name, not a conftest.py: a second conftest.py would shadow the top-level one.
"""
from __future__ import annotations

import itertools
import json

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from tests_security_helpers import API, create

from siaga112.auth.service import create_user, issue_token
from siaga112.config import Settings
from siaga112.interop.signing import signed_headers
from siaga112.models import citizen_reports, users

# Who asks. The incident is a house fire reported through `telephony`: DAMKAR leads, PLN
# supports, DLH is not involved. `_other` actors are of the same kind but outside it.
ACTORS = ("admin", "call_taker", "commander", "damkar", "pln", "dlh", "viewer", "viewer_damkar",
          "viewer_dlh", "telephony", "telephony_other")
INTEGRATIONS = ("telephony", "telephony_other")
# Pseudo-actors: no token (or session) at all; a partner system signing its webhook.
ANONYMOUS = "anonymous"
SIGNED = "signed"
EXTRA_USERS = [("viewer_dlh", "viewer", "DLH"), ("telephony_other", "integration", None),
               ("cadangan", "viewer", None)]
PASSWORD = "rahasia-112"
SECRETS = {"sms": "sms-rahasia", "whatsapp": "wa-rahasia", "telephony": "tel-rahasia",
           "aml": "aml-rahasia"}
VERIFY_TOKEN = "verifikasi-wa"
PENAJAM = {"lat": -1.2563, "lon": 116.7684}


# --------------------------------------------------------------------------- the app's routes

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


def app_routes(app) -> set[tuple[str, str]]:
    return {(m, path) for path, methods in _flatten(app.routes) for m in methods if m != "HEAD"}


def api_routes(app) -> set[tuple[str, str]]:
    return {(m, p) for m, p in app_routes(app) if p.startswith("/api/")}


def page_routes(app) -> set[tuple[str, str]]:
    """Everything that is not the JSON API: consoles, public pages, Open311, docs, operations."""
    return {(m, p) for m, p in app_routes(app) if not p.startswith("/api/")}


# --------------------------------------------------------------------------- fixtures

@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    """Webhook secrets for the signed requests; limits and background workers out of the way
    (a thousand requests from one address in a minute is the test, not an attack)."""
    return Settings(database_url=database_url, var_dir=tmp_path / "var", webhook_secrets=SECRETS,
                    whatsapp_verify_token=VERIFY_TOKEN, rate_limits=False,
                    public_rate_per_minute=1_000_000, public_misses_per_10_minutes=1_000_000,
                    escalation_interval_seconds=0, notify_interval_seconds=0)


@pytest.fixture
def everyone(actors, ctx, client, tokens):
    people = dict(actors)
    with ctx.db.transaction() as conn:
        for name, role, agency in EXTRA_USERS:
            create_user(conn, username=name, role=role, agency_code=agency, password=PASSWORD)
            people[name] = type(actors["admin"])(name, client, issue_token(conn, username=name))
    return people


@pytest.fixture
def world(everyone, ctx, client, incident_body):
    return World(everyone, ctx, client, incident_body)


# --------------------------------------------------------------------------- what requests act on

class World:
    """Things to act on. Reads share one of each; every change gets a fresh one, so no request
    depends on what the previous actor did. Incidents made for a request are cancelled after it
    (`finish`), which frees the units they took."""

    def __init__(self, people, ctx, client, incident_body):
        self.people, self.ctx, self.client, self.incident_body = people, ctx, client, incident_body
        self.admin = people["admin"]
        self._counter = itertools.count(1)
        self._shared: dict[str, object] = {}
        self._fires: list[str] = []

    def n(self) -> int:
        return next(self._counter)

    def phone(self) -> str:
        return f"0812{self.n():08d}"

    def shared(self, name: str, make):
        if name not in self._shared:
            self._shared[name] = make()
        return self._shared[name]

    def finish(self) -> None:
        for incident_id in self._fires:
            self.admin.post(f"{API}/incidents/{incident_id}/status", json={"status": "cancelled"})
        self._fires.clear()

    # incidents, units ------------------------------------------------------------------------
    def fire(self, *, fresh: bool = True) -> dict:
        """The house fire (DAMKAR lead, PLN support), reported by `telephony`."""
        if not fresh:
            return self.shared("fire", lambda: create(self.people["telephony"], self.incident_body()))
        made = create(self.people["telephony"], self.incident_body())
        self._fires.append(made["id"])
        return made

    def damkar_units(self, status: str | None = "available") -> list[str]:
        params = {"agency_code": "DAMKAR", **({"status": status} if status else {})}
        found = self.admin.get(f"{API}/units", params=params).json()
        assert found, "no DAMKAR unit left"
        return [u["id"] for u in found]

    def unit(self, *, fresh: bool = True) -> str:
        if not fresh:
            return self.shared("unit", lambda: self.damkar_units(None)[0])
        return self.damkar_units()[0]

    def dispatched(self, fire: dict) -> str:
        unit_id = self.damkar_units()[0]
        r = self.admin.post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
                            json={"unit_id": unit_id})
        assert r.status_code == 200, r.text
        return unit_id

    def restore_unit(self, unit_id: str) -> None:
        """Back to available after a test moved it (out of service)."""
        self.admin.post(f"{API}/units/{unit_id}/status", json={"status": "available"})

    # places ----------------------------------------------------------------------------------
    def landmark(self, *, fresh: bool = True) -> int:
        def make() -> int:
            r = self.admin.post(f"{API}/landmarks", json={"kind": "mosque",
                                                           "name": f"Masjid Uji {self.n()}", **PENAJAM})
            assert r.status_code == 201, r.text
            return r.json()["id"]
        return make() if fresh else self.shared("landmark", make)

    # partner systems and citizens --------------------------------------------------------------
    def signed(self, integration: str, body: bytes, content_type: str = "application/json"):
        """A webhook as the partner sends it: signed with its secret, no bearer token."""
        return self.client.post(f"{API}/webhooks/{integration}", content=body, headers={
            "Content-Type": content_type, **signed_headers(SECRETS[integration], body)})

    def session(self, *, fresh: bool = True) -> str:
        """A 112 call ringing, as the PBX reports it through the signed telephony webhook."""
        def make() -> str:
            body = json.dumps({"call_id": f"pbx-{self.n()}", "event": "ringing",
                               "caller": self.phone()}).encode()
            r = self.signed("telephony", body)
            assert r.status_code == 200, r.text
            return r.json()["session_id"]
        return make() if fresh else self.shared("session", make)

    def report(self, *, fresh: bool = True) -> str:
        """A citizen report from the public web form, waiting for a call-taker."""
        def make() -> str:
            r = self.client.post(f"{API}/public/reports", json={
                "description": "Pohon tumbang menutup jalan", "notify": "none", **PENAJAM})
            assert r.status_code == 201, r.text
            with self.ctx.db.transaction(write=False) as conn:
                return conn.execute(select(citizen_reports.c.id).where(
                    citizen_reports.c.ticket == r.json()["ticket"])).scalar_one()
        return make() if fresh else self.shared("report", make)

    def ticket(self) -> str:
        return self.fire(fresh=False)["ticket"]

    def block(self, *, fresh: bool = True, confirmed: bool = False) -> int:
        def make() -> int:
            r = self.admin.post(f"{API}/number-blocks", json={"phone": self.phone(),
                                                               "reason": "iseng berulang"})
            assert r.status_code == 201, r.text
            if confirmed:
                ok = self.admin.post(f"{API}/number-blocks/{r.json()['id']}/confirm", json={})
                assert ok.status_code == 200, ok.text
            return r.json()["id"]
        return make() if fresh else self.shared("block", make)

    def handover(self) -> str:
        def make() -> str:
            r = self.admin.post(f"{API}/handovers", json=self.handover_body())
            assert r.status_code == 201, r.text
            return r.json()["id"]
        return self.shared("handover", make)

    def alert(self, *, fresh: bool = True) -> str:
        """A public alert for Kecamatan Sepaku (a fresh one for each update or cancellation)."""
        def make() -> str:
            r = self.admin.post(f"{API}/alerts", json=self.alert_body())
            assert r.status_code == 201, r.text
            return r.json()["id"]
        return make() if fresh else self.shared("alert", make)

    def warning(self) -> str:
        """A fresh BMKG warning over Sepaku, as the feed reader keeps it."""
        from defusedxml import ElementTree as SafeET

        from cap_samples import SEPAKU_BOX, cap
        from siaga112.alerts.incoming import parse, store
        from siaga112.models import incoming_warnings

        identifier = f"W-matrix-{self.n()}"
        with self.ctx.db.transaction() as conn:
            store(self.ctx, conn, parse(self.ctx, SafeET.fromstring(
                cap(identifier, headline="Hujan lebat di Sepaku", area="Sepaku", polygon=SEPAKU_BOX))))
            return conn.execute(incoming_warnings.select().where(
                incoming_warnings.c.identifier == identifier)).one().id

    def handoff(self) -> str:
        """A fresh shift hand-over written by the commander (the admin is the incoming supervisor)."""
        r = self.people["commander"].post(f"{API}/shift-handovers", json=self.handoff_body())
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def handoff_body(self) -> dict:
        return {"notes": "Shift tenang.", "todo": "Pantau banjir Sepaku."}

    def alert_body(self) -> dict:
        return {"event": "Banjir", "category": "Met", "headline": "Banjir di Sepaku",
                "description": "Air Sungai Sepaku naik.", "areas": {"codes": ["64.09.04"]}}

    def handover_body(self) -> dict:
        return {"target": "BALIKPAPAN", "caller": {"phone": self.phone()},
                "description": "Kecelakaan di Km 12 arah Balikpapan"}

    def open311_request(self) -> str:
        def make() -> str:
            r = self.client.post("/open311/v2/requests.json", data={
                "api_key": self.people["telephony"].headers["Authorization"][7:],
                "service_code": "jalan-rusak", "description": "Jalan berlubang besar",
                "lat": PENAJAM["lat"], "long": PENAJAM["lon"]})
            assert r.status_code == 201, r.text
            return r.json()[0]["service_request_id"]
        return self.shared("open311", make)

    def user_id(self, username: str = "cadangan") -> int:
        with self.ctx.db.transaction(write=False) as conn:
            return conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
