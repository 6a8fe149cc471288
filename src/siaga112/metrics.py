"""Prometheus metrics: counts a command centre watches (no labels that could carry personal data)."""
import asyncio

from prometheus_client import Counter, Gauge, Histogram

INCIDENTS_CREATED = Counter("siaga112_incidents_created_total", "Incidents created",
                            ["type_code", "channel"])
CALLS_RECORDED = Counter("siaga112_calls_recorded_total", "Calls recorded without a new incident",
                         ["outcome"])
ESCALATIONS = Counter("siaga112_escalations_total", "Assignments escalated to the command centre",
                      ["reason"])
EVENT_STREAMS = Gauge("siaga112_event_streams", "Open Server-Sent Event streams")
EVENT_LOOP_LAG = Histogram(
    "siaga112_event_loop_lag_seconds",
    "How late a timer on the server's event loop fired: time the loop spent on other work",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))


async def watch_loop_lag(interval: float) -> None:
    """Sample the event loop's lag every `interval` seconds, for as long as the server runs.

    Every event stream of a process shares its loop: work that blocks it delays every screen.
    """
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        EVENT_LOOP_LAG.observe(max(0.0, loop.time() - start - interval))


DB_ERRORS = Counter("siaga112_database_errors_total",
                    "Requests answered 503/507 because the database could not serve them",
                    ["kind"])
REQUESTS_TIMED_OUT = Counter("siaga112_requests_timed_out_total",
                             "Requests cut off by the request guard", ["reason"])
REQUEST_LATENCY = Histogram(
    "siaga112_request_duration_seconds", "Time until a request's answer starts, by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PENDING_ASSIGNMENTS = Gauge("siaga112_assignments_pending",
                            "Assignments no agency has acknowledged yet (sampled every 5 s)")
OUTBOX_WAITING = Gauge("siaga112_notifications_waiting",
                       "Texts to citizens not yet sent (sampled every 5 s)")
