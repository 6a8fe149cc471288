"""Slow clients: headers or a body sent a byte at a time no longer hold a connection open forever
(before: a body at one byte a second stayed open as long as the client liked)."""
from __future__ import annotations

import socket
import time

import pytest

from support import start_server

LIMIT = 2.0
ENV = {"SIAGA112_HEADER_TIMEOUT_SECONDS": str(LIMIT), "SIAGA112_REQUEST_TIMEOUT_SECONDS": str(LIMIT)}


@pytest.fixture(scope="module")
def server(templates, tmp_path_factory):
    import shutil

    tmp = tmp_path_factory.mktemp("slow")
    db = tmp / "siaga112.db"
    shutil.copyfile(templates["sqlite"].url.removeprefix("sqlite:///"), db)
    proc, base = start_server(f"sqlite:///{db}", tmp, env=ENV)
    yield base.rsplit(":", 1)[1], templates["sqlite"].tokens
    proc.terminate()
    proc.wait(timeout=20)


def _trickle(port: str, head: bytes, body: bytes = b"", *, every: float = 0.5) -> tuple[float, bytes]:
    """Send `head` whole, then `body` a byte every `every` s; what the server answered, and when
    it closed the connection (seconds from the start)."""
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
    start = time.monotonic()
    answer = b""
    try:
        sock.sendall(head)
        sock.setblocking(False)
        for byte in body:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            deadline = time.monotonic() + every
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    time.sleep(0.05)  # the client's own pace, not a wait for the server
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    return time.monotonic() - start, answer
                answer += chunk
        sock.setblocking(True)
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass
    finally:
        sock.close()
    return time.monotonic() - start, answer


def test_headers_sent_a_byte_at_a_time_are_cut_off(server):
    port, _ = server
    took, answer = _trickle(port, b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100)
    assert answer == b""  # no request was ever served on it
    assert LIMIT - 0.5 < took < LIMIT + 3


def test_a_body_sent_a_byte_at_a_time_gets_408(server):
    port, tokens = server
    body = b'{"description": "' + b"x" * 200 + b'"}'
    head = (f"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tokens['call_taker']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    took, answer = _trickle(port, head, body)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive in time" in answer
    assert LIMIT - 0.5 < took < LIMIT + 3


def test_a_prompt_client_on_a_kept_alive_connection_is_served(server):
    port, _ = server
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"}"):
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer
