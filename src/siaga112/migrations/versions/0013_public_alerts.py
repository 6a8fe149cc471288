"""public alerts (CAP 1.2), their subscribers, warnings received from other centres, and the
shift hand-over log

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

from siaga112.db import JSONType, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("identifier", sa.String(120), nullable=False),
        sa.Column("sender", sa.String(120), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("msg_type", sa.String(8), nullable=False),
        sa.Column("references_id", sa.String(36),
                  sa.ForeignKey("alerts.id", name="fk_alerts_references_id_alerts")),
        sa.Column("superseded_at", UTCDateTime(timezone=True)),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("certainty", sa.String(16), nullable=False),
        sa.Column("response_type", sa.String(16)),
        sa.Column("headline", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("instruction", sa.Text),
        sa.Column("onset_at", UTCDateTime(timezone=True)),
        sa.Column("expires_at", UTCDateTime(timezone=True)),
        sa.Column("area_desc", sa.Text, nullable=False),
        sa.Column("area_codes", JSONType, nullable=False),
        sa.Column("polygon", JSONType),
        sa.Column("desa_codes", JSONType, nullable=False),
        sa.Column("incident_id", sa.String(36),
                  sa.ForeignKey("incidents.id", name="fk_alerts_incident_id_incidents")),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", name="fk_alerts_created_by_users")),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("request_key", sa.String(80)),
        sa.CheckConstraint("msg_type IN ('Alert','Update','Cancel')", name=op.f("ck_alerts_msg_type")),
        sa.UniqueConstraint("code", name="uq_alerts_code"),
        sa.UniqueConstraint("identifier", name="uq_alerts_identifier"),
        sa.UniqueConstraint("request_key", name="uq_alerts_request_key"),
    )
    op.create_index("ix_alerts_sent_at", "alerts", ["sent_at"])
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("area_code", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("opted_out_at", UTCDateTime(timezone=True)),
        sa.UniqueConstraint("phone", "channel", "area_code", name="uq_alert_subscriptions_phone"),
    )
    op.create_index("ix_alert_subscriptions_area_code", "alert_subscriptions", ["area_code"])
    op.create_table(
        "incoming_warnings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("msg_type", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("headline", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("instruction", sa.Text),
        sa.Column("category", sa.String(16)),
        sa.Column("urgency", sa.String(16)),
        sa.Column("severity", sa.String(16)),
        sa.Column("certainty", sa.String(16)),
        sa.Column("onset_at", UTCDateTime(timezone=True)),
        sa.Column("expires_at", UTCDateTime(timezone=True)),
        sa.Column("area_desc", sa.Text),
        sa.Column("polygons", JSONType),
        sa.Column("touches_ppu", sa.Boolean, nullable=False),
        sa.Column("kecamatan_codes", JSONType),
        sa.Column("replaced_at", UTCDateTime(timezone=True)),
        sa.Column("local_alert_id", sa.String(36),
                  sa.ForeignKey("alerts.id", name="fk_incoming_warnings_local_alert_id_alerts")),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sender", "identifier", name="uq_incoming_warnings_sender"),
    )
    op.create_index("ix_incoming_warnings_received_at", "incoming_warnings", ["received_at"])
    op.create_table(
        "shift_handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("written_by", sa.Integer, sa.ForeignKey("users.id", name="fk_shift_handoffs_written_by_users"),
                  nullable=False),
        sa.Column("written_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("todo", sa.Text, nullable=False),
        sa.Column("open_incidents", JSONType, nullable=False),
        sa.Column("acknowledged_by", sa.Integer,
                  sa.ForeignKey("users.id", name="fk_shift_handoffs_acknowledged_by_users")),
        sa.Column("acknowledged_at", UTCDateTime(timezone=True)),
        sa.Column("acknowledgement_note", sa.Text),
    )
    op.create_index("ix_shift_handoffs_written_at", "shift_handoffs", ["written_at"])


def downgrade() -> None:
    op.drop_index("ix_shift_handoffs_written_at", "shift_handoffs")
    op.drop_table("shift_handoffs")
    op.drop_index("ix_incoming_warnings_received_at", "incoming_warnings")
    op.drop_table("incoming_warnings")
    op.drop_index("ix_alert_subscriptions_area_code", "alert_subscriptions")
    op.drop_table("alert_subscriptions")
    op.drop_index("ix_alerts_sent_at", "alerts")
    op.drop_table("alerts")
