"""Structured logs (structlog) to stderr; events carry ids and codes, never callers' data."""
from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    # One line at a time even into a file or a pipe (systemd's journal): a block buffer would
    # hold the lines back until it fills, and lose them if the process is killed.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=level.upper(), format="%(message)s")
    # Library chatter (Alembic's "Context impl", httpx's request lines with URLs) stays out.
    for noisy in ("alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        # merge_contextvars: the request id (ops/observe.py) on every line a request writes.
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso"), structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
