"""Prometheus metrics: counts a command centre watches (no labels that could carry personal data)."""
from prometheus_client import Counter, Gauge

INCIDENTS_CREATED = Counter("siaga112_incidents_created_total", "Incidents created",
                            ["type_code", "channel"])
CALLS_RECORDED = Counter("siaga112_calls_recorded_total", "Calls recorded without a new incident",
                         ["outcome"])
ESCALATIONS = Counter("siaga112_escalations_total", "Assignments escalated to the command centre",
                      ["reason"])
EVENT_STREAMS = Gauge("siaga112_event_streams", "Open Server-Sent Event streams")
