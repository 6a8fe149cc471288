"""Tables, one module per family; importing this package registers them all on `metadata`."""
from siaga112.db import metadata
from siaga112.models.admin import admin_changes
from siaga112.models.agency import agencies, incident_types, priorities, sop_routes, sop_state
from siaga112.models.assignment import assignments
from siaga112.models.call import calls
from siaga112.models.event_log import event_log
from siaga112.models.incident import idempotency_keys, incidents, timeline_entries
from siaga112.models.session import web_sessions
from siaga112.models.unit import units
from siaga112.models.user import api_tokens, users
from siaga112.models.wilayah import wilayah

__all__ = [
    "metadata", "agencies", "priorities", "incident_types", "sop_routes", "assignments", "calls",
    "event_log", "incidents", "timeline_entries", "idempotency_keys", "units", "users",
    "api_tokens", "wilayah", "web_sessions", "admin_changes", "sop_state",
]
