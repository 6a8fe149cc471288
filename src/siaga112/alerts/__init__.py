"""Public alerts: CAP 1.2 messages, their feed and page, and the broadcast to subscribers."""
