"""Helpers the tests import by name (`from support import ...`).

They live here, not in conftest.py: several folders have a conftest.py of their own, and
`from conftest import` would find whichever was loaded last.
"""
from __future__ import annotations


def edit(text: str, old: str, new: str) -> str:
    """Replace the single occurrence of `old` in `text` (for making broken SOP variants)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """1-based number of the single line of `text` containing `fragment`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, f"{fragment!r} is on lines {hits}"
    return hits[0]


class SSEStream:
    """A client of /api/v1/events read on a background thread; `next` waits for one event."""

    def __init__(self, base_url: str, token: str, last_event_id: int | None = None):
        import queue
        import threading

        import httpx

        self.events: queue.Queue = queue.Queue()
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=None))
        self._response = self._client.send(self._client.build_request("GET", "/api/v1/events", headers=headers),
                                           stream=True)
        assert self._response.status_code == 200, self._response.read()
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "stream did not start"

    def _read(self) -> None:
        import json

        frame: dict = {}
        try:
            for line in self._response.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("id: "):
                    frame["id"] = int(line[4:])
                elif line.startswith("event: "):
                    frame["event"] = line[7:]
                elif line.startswith("data: "):
                    frame["data"] = json.loads(line[6:])
                elif line == "" and "id" in frame:
                    self.events.put(frame)
                    frame = {}
        except Exception:  # noqa: BLE001 — the stream was closed by the test
            pass
        self.events.put(None)

    def next(self, timeout: float = 5.0) -> dict | None:
        import queue

        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def until(self, predicate, timeout: float = 10.0) -> list[dict]:
        """Events up to and including the first that satisfies `predicate`."""
        import time

        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next(timeout=max(0.01, deadline - time.monotonic()))
            if event is None:
                break
            seen.append(event)
            if predicate(event):
                return seen
        raise AssertionError(f"no matching event; saw {[(e['id'], e['event']) for e in seen]}")

    def close(self) -> None:
        import contextlib
        import socket

        # Closing a socket that the reader thread is blocked on neither wakes the thread nor
        # sends a FIN: the server kept the stream open until its shutdown gave up on it, 2 s later.
        # Shutting it down ends both at once, as closing a browser tab does.
        network = self._response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._response.close()
        self._client.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_priority() -> None:
    """For a child process (`preexec_fn`): run ahead of the machine's other work, where allowed."""
    import os

    try:
        os.nice(-20)
    except PermissionError:  # not root: the server runs at the usual priority
        pass


def start_server(url: str, tmp_path, workers: int = 1, env: dict | None = None,
                 high_priority: bool = False, args: tuple[str, ...] = ()):
    """`siaga112 serve` as its own process on `url`; returns (process, base URL) once healthy.

    `high_priority` runs it ahead of the machine's other work (the rest of the suite, other
    processes), for a test that measures the server's own behaviour rather than the machine's load.
    Its log lines (stdout) go to the file `process.log_path`.
    """
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    port = free_port()
    # Request-sized database bounds sized for a shared test machine (see TEST_DB_TIMEOUT in
    # conftest.py); the tests of the bounds pass their own.
    environment = {**os.environ, "SIAGA112_DATABASE_URL": url,
                   "SIAGA112_VAR_DIR": str(Path(tmp_path) / "var"), "SIAGA112_LOG_LEVEL": "WARNING",
                   "SIAGA112_DB_TIMEOUT_SECONDS": "30", "SIAGA112_REQUEST_TIMEOUT_SECONDS": "35",
                   **(env or {})}
    siaga112 = str(Path(sys.executable).parent / "siaga112")
    log_path = Path(tmp_path) / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([siaga112, "serve", "--port", str(port), "--workers", str(workers), *args],
                                env=environment, cwd=tmp_path, stdout=log,
                                stderr=subprocess.PIPE, preexec_fn=raise_priority if high_priority else None)
    proc.log_path = log_path
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling a process that is starting up, not waiting out a race
    proc.kill()
    raise RuntimeError("server did not start")


class PausableProxy:
    """A loopback TCP proxy the test can pause: while paused it accepts connections and keeps
    every socket open but forwards nothing, as a network path that silently drops traffic does
    (no FIN, no RST: the client waits for an answer that does not come)."""

    def __init__(self, target_host: str, target_port: int):
        import socket
        import threading

        self.target = (target_host, target_port)
        self.flowing = threading.Event()
        self.flowing.set()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        import socket
        import threading

        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)

            def connect(client=client) -> None:
                self.flowing.wait()
                try:
                    upstream = socket.create_connection(self.target)
                except OSError:
                    client.close()
                    return
                self._sockets.append(upstream)
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

            threading.Thread(target=connect, daemon=True).start()

    def _pump(self, src, dst) -> None:
        import select

        try:
            while not self._closed.is_set():
                self.flowing.wait()
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = src.recv(65536)
                if not data:
                    dst.shutdown(1)
                    return
                # Bytes read just before a pause are held back too, not slipped through.
                self.flowing.wait()
                dst.sendall(data)
        except (OSError, ValueError):  # closed by close()
            pass

    def close(self) -> None:
        self._closed.set()
        self.flowing.set()
        self._listener.close()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
