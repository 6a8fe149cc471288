"""Retention and public-alert subscriptions: a stopped subscription's number goes after the
retention period; a subscription still wanted stays, however old."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from siaga112.db import utcnow
from siaga112.models import alert_subscriptions
from siaga112.privacy.retention import apply_retention


def test_retention_deletes_stopped_alert_subscriptions_and_keeps_wanted_ones(ctx):
    long_ago = utcnow() - timedelta(days=500)
    with ctx.db.transaction() as conn:
        conn.execute(insert(alert_subscriptions), [
            {"phone": "+6281255550101", "channel": "sms", "area_code": "64.09.01",
             "created_at": long_ago, "opted_out_at": None},
            {"phone": "+6281255550102", "channel": "sms", "area_code": "64.09.01",
             "created_at": long_ago, "opted_out_at": long_ago + timedelta(days=1)},
            {"phone": "+6281255550103", "channel": "whatsapp", "area_code": "64.09.01",
             "created_at": long_ago, "opted_out_at": utcnow() - timedelta(days=3)},
        ])
    with ctx.db.transaction() as conn:
        result = apply_retention(conn, days=365)
    assert result.others and result.others["alert_subscriptions"] == 1
    with ctx.db.transaction(write=False) as conn:
        left = sorted(conn.execute(select(alert_subscriptions.c.phone)).scalars())
    assert left == ["+6281255550101", "+6281255550103"]
