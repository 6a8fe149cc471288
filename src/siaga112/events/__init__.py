"""Events: typed payloads (payloads.py), rows written in the change's transaction and the
wake-up bus (log.py)."""
from siaga112.events.log import (
                                 NOTIFY_CHANNEL,
                                 SEQUENCER_LOCK,
                                 Event,
                                 LocalBus,
                                 PgListener,
                                 event_of,
                                 record_event,
                                 record_events,
                                 sequence_and_wake,
                                 sequence_events,
)
from siaga112.events.payloads import PAYLOADS, EventName, EventPayload

__all__ = ["NOTIFY_CHANNEL", "SEQUENCER_LOCK", "Event", "EventName", "EventPayload", "LocalBus",
           "PAYLOADS", "PgListener", "event_of", "record_event", "record_events",
           "sequence_and_wake", "sequence_events"]
