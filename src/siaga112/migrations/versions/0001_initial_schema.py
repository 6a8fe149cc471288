"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 00:30:11.763627
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import siaga112.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('external', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_agencies'))
    )
    op.create_table('event_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('agencies', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_log'))
    )
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.create_index('ix_event_log_incident_id', ['incident_id'], unique=False)

    op.create_table('priorities',
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('label_id', sa.Text(), nullable=False),
    sa.Column('label_en', sa.Text(), nullable=False),
    sa.Column('ack_seconds', sa.Integer(), nullable=False),
    sa.Column('dispatch_seconds', sa.Integer(), nullable=False),
    sa.CheckConstraint('ack_seconds > 0 AND dispatch_seconds >= ack_seconds', name=op.f('ck_priorities_deadlines')),
    sa.PrimaryKeyConstraint('level', name=op.f('pk_priorities'))
    )
    op.create_table('wilayah',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_code', sa.String(length=16), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_wilayah'))
    )
    op.create_table('incident_types',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_id', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('keywords', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['priority'], ['priorities.level'], name=op.f('fk_incident_types_priority_priorities')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_incident_types'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role != 'dispatcher' OR agency_code IS NOT NULL", name=op.f('ck_users_dispatcher_agency')),
    sa.CheckConstraint("role IN ('admin','call_taker','commander','dispatcher','viewer','integration')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_users_agency_code_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('ticket', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('caller_name', sa.Text(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('geo_cell', sa.BigInteger(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('desa_code', sa.String(length=16), nullable=True),
    sa.Column('kecamatan_code', sa.String(length=16), nullable=True),
    sa.Column('location_source', sa.String(length=16), nullable=True),
    sa.Column('out_of_area', sa.Boolean(), nullable=False),
    sa.Column('classified_type', sa.String(length=32), nullable=True),
    sa.Column('classification_confidence', sa.Float(), nullable=True),
    sa.Column('classification_alternatives', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('attention', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('new','dispatched','on_scene','resolved','closed','cancelled')", name=op.f('ck_incidents_status')),
    sa.CheckConstraint('priority BETWEEN 1 AND 4', name=op.f('ck_incidents_priority')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_incidents_created_by_users')),
    sa.ForeignKeyConstraint(['type_code'], ['incident_types.code'], name=op.f('fk_incidents_type_code_incident_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('ticket', name=op.f('uq_incidents_ticket'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_caller_phone', ['caller_phone'], unique=False)
        batch_op.create_index('ix_incidents_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_incidents_geo_cell_created_at', ['geo_cell', 'created_at'], unique=False)
        batch_op.create_index('ix_incidents_status_created_at', ['status', 'created_at'], unique=False)

    op.create_table('sop_routes',
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'support')", name=op.f('ck_sop_routes_role')),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_sop_routes_agency_code_agencies')),
    sa.ForeignKeyConstraint(['type_code'], ['incident_types.code'], name=op.f('fk_sop_routes_type_code_incident_types')),
    sa.PrimaryKeyConstraint('type_code', 'agency_code', name=op.f('pk_sop_routes'))
    )
    op.create_table('calls',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('caller_name', sa.Text(), nullable=True),
    sa.Column('received_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('transferred_to', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('taken_by', sa.Integer(), nullable=True),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('call','sms','whatsapp','web','app','radio','walk_in')", name=op.f('ck_calls_channel')),
    sa.CheckConstraint("outcome IN ('emergency','information','prank','silent','misdial','out_of_area','duplicate')", name=op.f('ck_calls_outcome')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_calls_incident_id_incidents')),
    sa.ForeignKeyConstraint(['taken_by'], ['users.id'], name=op.f('fk_calls_taken_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_caller_phone_received_at', ['caller_phone', 'received_at'], unique=False)
        batch_op.create_index('ix_calls_incident_id', ['incident_id'], unique=False)
        batch_op.create_index('ix_calls_received_at', ['received_at'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('timeline_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('agency_code', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_timeline_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timeline_entries_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_entries'))
    )
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_entries_incident_id_id', ['incident_id', 'id'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('call_sign', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('home_station', sa.Text(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('position_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('available','dispatched','en_route','on_scene','transporting','returning','out_of_service')", name=op.f('ck_units_status')),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_units_agency_code_agencies')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_units_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('call_sign', name=op.f('uq_units_call_sign'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_agency_status', ['agency_code', 'status'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ack_due_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_scene_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', siaga112.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unit_id', sa.String(length=36), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('created_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', siaga112.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('lead','support')", name=op.f('ck_assignments_role')),
    sa.CheckConstraint("status IN ('pending','acknowledged','dispatched','en_route','on_scene','completed','declined','cancelled')", name=op.f('ck_assignments_status')),
    sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'], name=op.f('fk_assignments_agency_code_agencies')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_assignments_incident_id_incidents')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assignments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('incident_id', 'agency_code', name='uq_assignments_incident_agency')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_agency_status', ['agency_code', 'status'], unique=False)
        batch_op.create_index('ix_assignments_status_ack_due_at', ['status', 'ack_due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_status_ack_due_at')
        batch_op.drop_index('ix_assignments_agency_status')

    op.drop_table('assignments')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_agency_status')

    op.drop_table('units')
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_entries_incident_id_id')

    op.drop_table('timeline_entries')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_received_at')
        batch_op.drop_index('ix_calls_incident_id')
        batch_op.drop_index('ix_calls_caller_phone_received_at')

    op.drop_table('calls')
    op.drop_table('sop_routes')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_status_created_at')
        batch_op.drop_index('ix_incidents_geo_cell_created_at')
        batch_op.drop_index('ix_incidents_created_at_id')
        batch_op.drop_index('ix_incidents_caller_phone')

    op.drop_table('incidents')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('incident_types')
    op.drop_table('wilayah')
    op.drop_table('priorities')
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.drop_index('ix_event_log_incident_id')

    op.drop_table('event_log')
    op.drop_table('agencies')
