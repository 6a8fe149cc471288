"""Tables, one module per family; importing this package registers them all on `metadata`."""
from siaga112.db import metadata
from siaga112.models.admin import admin_changes
from siaga112.models.agency import agencies, incident_types, priorities, sop_routes, sop_state
from siaga112.models.alert import alert_subscriptions, alerts, incoming_warnings
from siaga112.models.assignment import assignments
from siaga112.models.audit import audit_log, login_attempts, rate_limit_buckets
from siaga112.models.call import calls
from siaga112.models.citizen import (
                                     aml_locations,
                                     call_sessions,
                                     citizen_reports,
                                     handovers,
                                     inbound_messages,
                                     notification_cursor,
                                     notification_optouts,
                                     notification_outbox,
                                     notification_subscriptions,
                                     number_block_audit,
                                     number_blocks,
                                     open311_requests,
                                     webhook_nonces,
)
from siaga112.models.event_log import event_log
from siaga112.models.incident import idempotency_keys, incidents, timeline_entries
from siaga112.models.landmark import landmarks
from siaga112.models.ops import readiness_probe
from siaga112.models.session import web_sessions
from siaga112.models.shift import shift_handoffs
from siaga112.models.unit import unit_positions, units
from siaga112.models.user import api_tokens, users
from siaga112.models.wilayah import wilayah

__all__ = [
    "metadata", "agencies", "priorities", "incident_types", "sop_routes", "assignments", "calls",
    "event_log", "incidents", "timeline_entries", "idempotency_keys", "units", "users",
    "api_tokens", "wilayah", "unit_positions", "landmarks", "web_sessions", "readiness_probe",
    "citizen_reports", "inbound_messages", "webhook_nonces", "call_sessions", "aml_locations",
    "number_blocks", "number_block_audit", "handovers", "open311_requests",
    "notification_subscriptions", "notification_outbox", "notification_optouts",
    "notification_cursor",
    "audit_log", "login_attempts", "rate_limit_buckets",
    "admin_changes", "sop_state",
    "alerts", "alert_subscriptions", "incoming_warnings", "shift_handoffs",
]
