"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn bounds the idle time between requests (keep-alive) but not the time a client takes to
send its headers: one byte every few seconds keeps a connection (and its memory) forever, and a
few hundred such clients exhaust the server. Here the headers of each request must be complete
within `header_timeout` seconds of the connection opening or the previous answer ending.
The body has its own bound in the request guard (ops/guard.py).
"""
from __future__ import annotations

import asyncio
from typing import Any

import structlog

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover — uvicorn without httptools
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]

log = structlog.get_logger(__name__)


class HeaderDeadlineProtocol(_Base):
    # Set by create_app from SIAGA112_HEADER_TIMEOUT_SECONDS in each server process.
    header_timeout = 10.0

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        # A new request replaces `cycle`; still the same one at the deadline means no headers came.
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late, self.cycle)

    def _headers_late(self, armed: Any) -> None:
        self._header_deadline = None
        if self.cycle is armed and not self.transport.is_closing():
            log.warning("request_headers_too_slow", limit_seconds=self.header_timeout)
            self.transport.close()
