"""The loopback server: the emulator behind a real threaded HTTP/1.1 server on 127.0.0.1.

Other processes (and other languages) can use it, and benchmarks measure a real network path. Each
connection gets a thread; the application's lock keeps the state consistent across them.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ._app import Application, Exchange

# How long an injected timeout holds the connection open without answering, in real seconds, unless
# the client gives up first (it should: Omnisend recommends a 10 s client timeout).
DEFAULT_HOLD = 60.0
# How often a held connection checks whether the client gave up or the server is stopping.
_POLL = 0.02
# How long stopping the server may wait for its accept loop to notice; short, as tests start and
# stop a server per test, and 100 idle wake-ups a second cost nothing measurable.
_ACCEPT_POLL = 0.01


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Application, hold: float) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.hold = hold
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        # Wakes handler threads blocked reading an idle keep-alive connection, to join them.
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Omnisend's clients use
    # Headers and body go out in separate writes; with Nagle's algorithm on, the second write waits
    # for the client's delayed ACK (about 40 ms per answer on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the emulator has its own request log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        host, port = self.server.server_address[:2]
        request = httpx.Request(
            self.command,
            f"http://{host!s}:{port}{self.path}",
            headers=[
                (name, value)
                for name, value in self.headers.items()
                if name.lower() not in ("content-length", "transfer-encoding")
            ],
            content=body,
        )
        exchange = self.server.app.exchange(request)
        if exchange.latency and self.server.stopping.wait(exchange.latency):
            self.close_connection = True
            return
        if exchange.failure is not None:
            self._fail(exchange)
            return
        assert exchange.response is not None
        self._write(exchange.response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fail(self, exchange: Exchange) -> None:
        self.close_connection = True
        if exchange.failure == "timeout":
            self._hold()
        else:
            # Linger 0: closing sends a TCP reset instead of an orderly shutdown.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET,
                    socket.SO_LINGER,
                    struct.pack("ii", 1, 0),
                )

    def _hold(self) -> None:
        """Say nothing until the client gives up, the hold time passes, or the server stops."""
        waited = 0.0
        while waited < self.server.hold and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], _POLL)
            if readable:
                with contextlib.suppress(OSError):
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # the client closed the connection
                return
            waited += _POLL

    def _write(self, response: httpx.Response) -> None:
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)


@contextlib.contextmanager
def serve(
    app: Application,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/api",
    hold: float = DEFAULT_HOLD,
) -> Iterator[str]:
    """Run ``app`` on a loopback server for the duration of the ``with`` block.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321/api``.
    """
    server = _Server((host, port), app, hold)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _ACCEPT_POLL},
        name="omnisend-emulator",
        daemon=True,
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    try:
        yield f"http://{bound_host!s}:{bound_port}{path}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins the handler threads
        thread.join()
