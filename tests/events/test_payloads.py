"""Every event has one shape, checked when it is written, and the README lists those shapes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from siaga112.events import Event, EventName, record_events
from siaga112.events.payloads import PAYLOADS, AuthRevoked, events_markdown
from siaga112.models import event_log

API = "/api/v1"
README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_event_name_has_a_payload_model():
    assert set(PAYLOADS) == set(EventName)


def test_a_payload_refuses_unknown_fields():
    with pytest.raises(ValidationError):
        AuthRevoked(user_id=1, token_id=None, password="x")


def test_record_events_takes_only_payload_models(ctx):
    with ctx.db.transaction() as conn, pytest.raises(TypeError):
        record_events(conn, ctx.db, [{"name": "incident.updated", "data": {"which": "raw"}}])
    with ctx.db.transaction() as conn, pytest.raises(TypeError):
        record_events(conn, ctx.db, [Event({"user_id": 1})])  # type: ignore[arg-type]


def _events(ctx, name: str, incident_id: str) -> list[dict]:
    with ctx.db.transaction(write=False) as conn:
        return [r.data for r in conn.execute(select(event_log.c.data).where(
            event_log.c.name == name, event_log.c.incident_id == incident_id)
            .order_by(event_log.c.id))]


def test_assignment_created_has_one_shape_whoever_wrote_it(actors, incident_body, ctx):
    # Intake routes FIRE-BLDG; a re-route to FLOOD brings BPBD's route; support brings DLH.
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    r = actors["commander"].post(f"{API}/incidents/{fire['id']}/reroute",
                                 json={"type_code": "FLOOD", "note": "ternyata banjir"})
    assert r.status_code == 200, r.text
    r = actors["commander"].post(f"{API}/incidents/{fire['id']}/assignments",
                                 json={"agency_code": "DLH", "reason": "limbah terbawa banjir"})
    assert r.status_code == 201, r.text
    created = _events(ctx, "assignment.created", fire["id"])
    by_agency = {e["agency_code"]: e for e in created}
    assert "DLH" in by_agency and len(created) > len(fire["assignments"])
    shapes = {tuple(sorted(e)) for e in created}
    assert len(shapes) == 1, shapes
    assert by_agency["DLH"]["reason"] == "limbah terbawa banjir"
    assert by_agency["DLH"]["type_code"] == "FLOOD"


def test_the_readme_lists_the_events_as_the_models_define_them():
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- events:begin -->\n(.*?)<!-- events:end -->", text, re.S)
    assert found, "README has no events:begin/events:end block"
    assert found.group(1) == events_markdown(), \
        "README's event list is stale: replace the block with `siaga112 docs events`"
