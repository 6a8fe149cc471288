"""The administrator's page over the hash-chained audit trail."""
from __future__ import annotations


def test_admin_searches_the_trail_and_checks_the_chain(browse, actors, incident_body):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body()).json()
    actors["call_taker"].get("/api/v1/callers/081234567890")  # a view of the caller's data
    admin = browse("admin")
    page = admin.page("/konsol/admin/jejak?action=incident.")
    assert page.status_code == 200
    assert 'data-action="incident.created"' in page.text and fire["id"] in page.text
    by_caller = admin.page("/konsol/admin/jejak", params={"target": "0812-3456-7890"}).text
    assert 'data-action="caller.history_viewed"' in by_caller
    assert "6281234567890" not in by_caller and "0812-3456-7890" not in by_caller.split("<table")[1]
    checked = admin.page("/konsol/admin/jejak", params={"periksa": "1"}).text
    assert 'id="chain-check"' in checked and "Rantai utuh" in checked
    searched = actors["admin"].get("/api/v1/audit", params={"action": "audit.searched"}).json()
    assert searched["items"], "looking at the trail is itself recorded"


def test_only_the_admin_sees_the_trail(browse):
    assert browse("commander").page("/konsol/admin/jejak").status_code == 403


def test_the_check_compares_the_trail_with_the_signed_checkpoints(browse, actors, ctx, incident_body):
    from sqlalchemy import func, select, text

    from siaga112.audit.service import checkpoint_if_due
    from siaga112.models import audit_log

    for _ in range(3):
        actors["call_taker"].post("/api/v1/incidents", json=incident_body())
    assert checkpoint_if_due(ctx, ctx.settings.checkpoint_path(), 24) is not None
    admin = browse("admin")
    checked = admin.page("/konsol/admin/jejak", params={"periksa": "1"}).text
    assert "1 titik periksa bertanda tangan cocok" in checked
    # Someone with the database owner's rights cuts the last entries off: the chain still holds.
    with ctx.db.transaction() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        head = conn.execute(select(func.max(audit_log.c.id))).scalar_one()
        conn.execute(audit_log.delete().where(audit_log.c.id >= head - 3))
    cut = admin.page("/konsol/admin/jejak", params={"periksa": "1"}).text
    assert "Rantai utuh" in cut and 'id="checkpoint-check"' in cut and "Titik periksa tidak cocok" in cut
