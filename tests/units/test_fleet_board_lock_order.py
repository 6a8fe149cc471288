"""A unit moved on the fleet board while the incident panel moves its assignment, or ends the
incident, on PostgreSQL: one of the two may lose (409) or wait, but neither answers 500.

Every incident action locks the incident row first and then moves the unit. The fleet board's
move must not take the unit first and the incident second (its timeline entry's foreign key
takes a share lock on the incident): two clicks in that order deadlock, and PostgreSQL aborts
one of them. Row locks are PostgreSQL's; SQLite runs one writer at a time.
"""
from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from siaga112.auth.service import principal_for_token
from siaga112.dispatch import service as dispatch
from siaga112.incidents import service as incidents
from siaga112.incidents.reads import load_visible
from siaga112.models.status import AssignmentStatus, IncidentStatus

API = "/api/v1"


@pytest.fixture
def database_url(pg_database_url, request):
    request.node.backend = "postgresql"
    return pg_database_url


def _call(live_server, token, method, path, body=None):
    r = httpx.request(method, f"{live_server}{API}{path}", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, r.text
    return r.json()


def _waiting_on_a_lock(ctx) -> bool:
    with ctx.db.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event <> 'advisory' "
            "AND pid <> pg_backend_pid()")).scalar())


@pytest.mark.parametrize("panel", ["progress", "resolve"])
def test_a_fleet_board_move_racing_the_incident_panel_is_never_a_500(panel, live_server, tokens, ctx,
                                                                      incident_body):
    fire = _call(live_server, tokens["call_taker"], "POST", "/incidents", incident_body())
    unit = _call(live_server, tokens["damkar"], "GET", "/units?agency_code=DAMKAR&status=available")[0]
    _call(live_server, tokens["damkar"], "POST", f"/incidents/{fire['id']}/assignments/DAMKAR/dispatch",
          {"unit_id": unit["id"]})
    actor = "damkar" if panel == "progress" else "commander"
    with ctx.db.transaction(write=False) as conn:
        who, _ = principal_for_token(conn, tokens[actor])

    fleet: dict[str, httpx.Response] = {}

    def move_on_the_fleet_board() -> None:
        fleet["response"] = httpx.post(f"{live_server}{API}/units/{unit['id']}/status",
                                       json={"status": "returning"}, timeout=30,
                                       headers={"Authorization": f"Bearer {tokens['damkar']}"})

    mover = threading.Thread(target=move_on_the_fleet_board)
    try:
        with ctx.db.transaction() as conn:
            # The panel's action has taken the incident row, as every incident action does first ...
            load_visible(ctx, who, fire["id"], conn=conn, lock=True)
            mover.start()
            # ... when the fleet board's click arrives and has to wait for it (a condition, not a
            # clock) ...
            deadline = time.monotonic() + 10
            while mover.is_alive() and not _waiting_on_a_lock(ctx):
                assert time.monotonic() < deadline, "the fleet board's move neither waited nor finished"
                mover.join(0.01)
            # ... and the panel's action goes on to move the unit.
            if panel == "progress":
                dispatch.progress(ctx, who, fire["id"], "DAMKAR", AssignmentStatus.EN_ROUTE, None,
                                  conn=conn)
            else:
                incidents.change_status(ctx, who, fire["id"], IncidentStatus.RESOLVED, None, conn=conn)
    except DBAPIError as exc:  # the panel, not the fleet board, was the one aborted
        pytest.fail(f"the incident panel's action failed: {type(exc.orig).__name__}")
    finally:
        if mover.ident is not None:
            mover.join(30)
    response = fleet["response"]
    assert response.status_code in (200, 409), (response.status_code, response.text[:200])
