"""Property tests: random sequences of dispatch actions keep the incident, its assignments and the
units consistent with a simple model, and every illegal move answers 409 and changes nothing."""
from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

API = "/api/v1"
AGENCIES = ["DAMKAR", "DINKES", "PLN"]
INCIDENT_MOVES = {
    "new": {"dispatched", "on_scene", "resolved", "cancelled"},
    "dispatched": {"on_scene", "resolved", "cancelled"},
    "on_scene": {"resolved"},
    "resolved": {"closed"},
    "closed": set(),
    "cancelled": set(),
}
ASSIGNMENT_MOVES = {
    "pending": {"acknowledged", "dispatched", "declined"},
    "acknowledged": {"dispatched", "declined", "completed"},
    "dispatched": {"en_route", "on_scene", "completed"},
    "en_route": {"on_scene", "completed"},
    "on_scene": {"completed"},
}


def test_dispatch_actions_follow_the_state_machines(actors, incident_body):
    commander = actors["commander"]
    fleet = {a: [u["id"] for u in commander.get(f"{API}/units", params={"agency_code": a}).json()]
             for a in AGENCIES}

    class Dispatching(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            inc = commander.post(f"{API}/incidents", json=incident_body()).json()
            self.url = f"{API}/incidents/{inc['id']}"
            self.incident_id = inc["id"]
            self.status = "new"
            self.assignments = {a: "pending" for a in ("DAMKAR", "BPBD", "DINKES", "PLN")}
            self.unit_of: dict[str, str] = {}   # agency -> unit sent
            self.busy: dict[str, str] = {}      # unit -> state while on this incident

        def _expect(self, response, allowed: bool):
            assert response.status_code == (200 if allowed else 409), response.text

        def _release_units(self):
            self.busy.clear()

        @rule(agency=st.sampled_from(AGENCIES))
        def acknowledge(self, agency):
            r = commander.post(f"{self.url}/assignments/{agency}/acknowledge")
            ok = self.assignments[agency] == "pending"
            self._expect(r, ok)
            if ok:
                self.assignments[agency] = "acknowledged"

        @rule(agency=st.sampled_from(AGENCIES), pick=st.integers(0, 5))
        def dispatch(self, agency, pick):
            unit = fleet[agency][pick % len(fleet[agency])]
            r = commander.post(f"{self.url}/assignments/{agency}/dispatch", json={"unit_id": unit})
            ok = (self.status in ("new", "dispatched", "on_scene")
                  and self.assignments[agency] in ("pending", "acknowledged")
                  and unit not in self.busy)
            self._expect(r, ok)
            if ok:
                self.assignments[agency] = "dispatched"
                self.unit_of[agency] = unit
                self.busy[unit] = "dispatched"
                if self.status == "new":
                    self.status = "dispatched"

        @rule(agency=st.sampled_from(AGENCIES), to=st.sampled_from(["en_route", "on_scene", "completed"]))
        def progress(self, agency, to):
            # A reason always: completing a P1 lead that never sent a unit needs one.
            r = commander.post(f"{self.url}/assignments/{agency}/progress",
                               json={"status": to, "note": "dicatat oleh model"})
            ok = to in ASSIGNMENT_MOVES.get(self.assignments[agency], set())
            self._expect(r, ok)
            if not ok:
                return
            self.assignments[agency] = to
            unit = self.unit_of.get(agency)
            if unit in self.busy:
                if to == "completed":
                    del self.busy[unit]
                else:
                    self.busy[unit] = to
            if to == "on_scene" and self.status in ("new", "dispatched"):
                self.status = "on_scene"

        @rule(agency=st.sampled_from(AGENCIES))
        def decline(self, agency):
            r = commander.post(f"{self.url}/assignments/{agency}/decline", json={"reason": "bukan wewenang"})
            ok = self.assignments[agency] in ("pending", "acknowledged")
            self._expect(r, ok)
            if ok:
                self.assignments[agency] = "declined"

        @rule(to=st.sampled_from(["dispatched", "on_scene", "resolved", "closed", "cancelled"]))
        def set_status(self, to):
            r = commander.post(f"{self.url}/status", json={"status": to})
            ok = to in INCIDENT_MOVES[self.status]
            self._expect(r, ok)
            if not ok:
                return
            self.status = to
            if to in ("resolved", "closed", "cancelled"):
                for agency, state in self.assignments.items():
                    if state in ("pending", "acknowledged"):
                        self.assignments[agency] = "cancelled"
                    elif state in ("dispatched", "en_route", "on_scene"):
                        self.assignments[agency] = "cancelled" if to == "cancelled" else "completed"
                self._release_units()

        @invariant()
        def server_agrees_with_the_model(self):
            inc = commander.get(self.url).json()
            assert inc["status"] == self.status
            assert {a["agency_code"]: a["status"] for a in inc["assignments"]} == self.assignments
            units = {u["id"]: u for u in commander.get(f"{API}/units").json()}
            for unit_id, u in units.items():
                if unit_id in self.busy:
                    assert u["status"] == self.busy[unit_id] and u["incident_id"] == self.incident_id
                else:
                    assert u["status"] == "available" and u["incident_id"] is None

        def teardown(self):
            # End the incident so its units are free for the next example.
            path = {"new": ["cancelled"], "dispatched": ["cancelled"], "on_scene": ["resolved", "closed"],
                    "resolved": ["closed"]}.get(self.status, [])
            for to in path:
                assert commander.post(f"{self.url}/status", json={"status": to}).status_code == 200

    run_state_machine_as_test(Dispatching, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
