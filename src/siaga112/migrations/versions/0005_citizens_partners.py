"""citizens and partner systems: reports, call sessions, AML, blocks, hand-overs, Open311, outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:16:15.422737
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import siaga112.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aml_locations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('form', sa.String(length=8), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('received_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Float(), nullable=True),
    sa.Column('positioned_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('problems', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('call_session_id', sa.String(length=36), nullable=True),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aml_locations'))
    )
    with op.batch_alter_table('aml_locations', schema=None) as batch_op:
        batch_op.create_index('ix_aml_locations_phone_received_at', ['phone', 'received_at'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('received_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('channel', 'external_id', name='uq_inbound_messages_channel_external_id')
    )
    op.create_table('notification_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_notification_cursor'))
    )
    op.create_table('notification_optouts',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_notification_optouts'))
    )
    op.create_table('notification_subscriptions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket', sa.String(length=16), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opted_out_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_subscriptions')),
    sa.UniqueConstraint('ticket', 'phone', 'channel', name='uq_notification_subscriptions_ticket')
    )
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_notification_subscriptions_incident_id', ['incident_id'], unique=False)
        batch_op.create_index('ix_notification_subscriptions_report_id', ['report_id'], unique=False)

    op.create_table('webhook_nonces',
    sa.Column('integration', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('seen_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('integration', 'nonce', name=op.f('pk_webhook_nonces'))
    )
    with op.batch_alter_table('webhook_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_nonces_seen_at'), ['seen_at'], unique=False)

    op.create_table('notification_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=96), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=160), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending','sending','sent','failed','cancelled')", name=op.f('ck_notification_outbox_status')),
    sa.ForeignKeyConstraint(['subscription_id'], ['notification_subscriptions.id'], name=op.f('fk_notification_outbox_subscription_id_notification_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_outbox_dedupe_key'))
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notification_outbox_status_due_at', ['status', 'due_at'], unique=False)

    op.create_table('number_blocks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('proposed_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('expires_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('end_note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('proposed','active','released','rejected','expired')", name=op.f('ck_number_blocks_status')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_number_blocks_confirmed_by_users')),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], name=op.f('fk_number_blocks_ended_by_users')),
    sa.ForeignKeyConstraint(['proposed_by'], ['users.id'], name=op.f('fk_number_blocks_proposed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_blocks'))
    )
    with op.batch_alter_table('number_blocks', schema=None) as batch_op:
        batch_op.create_index('ix_number_blocks_phone', ['phone'], unique=False)
        batch_op.create_index('uq_number_blocks_open_phone', ['phone'], unique=True, postgresql_where=sa.text("status IN ('proposed', 'active')"), sqlite_where=sa.text("status IN ('proposed', 'active')"))

    op.create_table('citizen_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('ticket', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('reporter_name', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('location_source', sa.String(length=16), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('received_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('sms','whatsapp','web')", name=op.f('ck_citizen_reports_channel')),
    sa.CheckConstraint("status IN ('waiting','verified','closed')", name=op.f('ck_citizen_reports_status')),
    sa.ForeignKeyConstraint(['handled_by'], ['users.id'], name=op.f('fk_citizen_reports_handled_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_citizen_reports_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_reports')),
    sa.UniqueConstraint('ticket', name=op.f('uq_citizen_reports_ticket'))
    )
    with op.batch_alter_table('citizen_reports', schema=None) as batch_op:
        batch_op.create_index('ix_citizen_reports_incident_id', ['incident_id'], unique=False)
        batch_op.create_index('ix_citizen_reports_reporter_phone_received_at', ['reporter_phone', 'received_at'], unique=False)
        batch_op.create_index('ix_citizen_reports_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('number_block_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_number_block_audit_actor_id_users')),
    sa.ForeignKeyConstraint(['block_id'], ['number_blocks.id'], name=op.f('fk_number_block_audit_block_id_number_blocks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_block_audit'))
    )
    with op.batch_alter_table('number_block_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_block_audit_block_id'), ['block_id'], unique=False)

    op.create_table('open311_requests',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_open311_requests_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_open311_requests'))
    )
    with op.batch_alter_table('open311_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_requests_created_at'), ['created_at'], unique=False)

    op.create_table('call_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('external_id', sa.String(length=160), nullable=False),
    sa.Column('trunk', sa.String(length=64), nullable=True),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('ringing_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.String(length=36), nullable=True),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('aml_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('ringing','answered','ended','abandoned')", name=op.f('ck_call_sessions_state')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_call_sessions_answered_by_users')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_sessions_call_id_calls')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_call_sessions_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_sessions')),
    sa.UniqueConstraint('external_id', name=op.f('uq_call_sessions_external_id'))
    )
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_call_sessions_caller_phone_ringing_at', ['caller_phone', 'ringing_at'], unique=False)
        batch_op.create_index('ix_call_sessions_ringing_at', ['ringing_at'], unique=False)
        batch_op.create_index('ix_call_sessions_state', ['state'], unique=False)

    op.create_table('handovers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=36), nullable=True),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('call_session_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_handovers_call_id_calls')),
    sa.ForeignKeyConstraint(['call_session_id'], ['call_sessions.id'], name=op.f('fk_handovers_call_session_id_call_sessions')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_handovers_created_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_handovers_incident_id_incidents')),
    sa.ForeignKeyConstraint(['report_id'], ['citizen_reports.id'], name=op.f('fk_handovers_report_id_citizen_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    # Reporters are told about changes from now on, not about the history before this upgrade.
    op.execute("INSERT INTO notification_cursor (name, position) "
               "SELECT 'notify', coalesce(max(position), 0) FROM event_log")


def downgrade() -> None:
    op.drop_table('handovers')
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_call_sessions_state')
        batch_op.drop_index('ix_call_sessions_ringing_at')
        batch_op.drop_index('ix_call_sessions_caller_phone_ringing_at')

    op.drop_table('call_sessions')
    with op.batch_alter_table('open311_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_requests_created_at'))

    op.drop_table('open311_requests')
    with op.batch_alter_table('number_block_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_number_block_audit_block_id'))

    op.drop_table('number_block_audit')
    with op.batch_alter_table('citizen_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_citizen_reports_status_received_at')
        batch_op.drop_index('ix_citizen_reports_reporter_phone_received_at')
        batch_op.drop_index('ix_citizen_reports_incident_id')

    op.drop_table('citizen_reports')
    with op.batch_alter_table('number_blocks', schema=None) as batch_op:
        batch_op.drop_index('uq_number_blocks_open_phone', postgresql_where=sa.text("status IN ('proposed', 'active')"), sqlite_where=sa.text("status IN ('proposed', 'active')"))
        batch_op.drop_index('ix_number_blocks_phone')

    op.drop_table('number_blocks')
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_outbox_status_due_at')

    op.drop_table('notification_outbox')
    with op.batch_alter_table('webhook_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_nonces_seen_at'))

    op.drop_table('webhook_nonces')
    with op.batch_alter_table('notification_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_subscriptions_report_id')
        batch_op.drop_index('ix_notification_subscriptions_incident_id')

    op.drop_table('notification_subscriptions')
    op.drop_table('notification_optouts')
    op.drop_table('notification_cursor')
    op.drop_table('inbound_messages')
    with op.batch_alter_table('aml_locations', schema=None) as batch_op:
        batch_op.drop_index('ix_aml_locations_phone_received_at')

    op.drop_table('aml_locations')
