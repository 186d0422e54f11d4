"""The deadline of one attempt, from connecting to the answer's last byte.

httpx's timeouts bound each phase and each read, so a server that sends a byte every few seconds
(in the headers or the body) never trips them and holds the client for ever. A
:class:`Deadline` bounds the whole exchange: the clients check it between the chunks of a body,
and the sockets of a sync client's own connection pool shorten every wait to what is left of it.
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class Deadline:
    """When one attempt must be over, on the monotonic clock: from connecting to the last byte.

    httpx's timeouts bound each phase and each read, so a server that sends a byte every few
    seconds (in the headers or the body) never trips them and holds the client for ever. The
    deadline bounds the whole exchange.
    """

    __slots__ = ("_ends", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._ends = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (zero or less once passed), or None without a deadline."""
        return None if self._ends is None else self._ends - time.monotonic()

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def check(self, request: httpx.Request) -> None:
        """Raise a read timeout once the deadline has passed: called between chunks of a body."""
        if self.passed():
            raise httpx.ReadTimeout("the request's deadline passed", request=request)

    def bound(
        self, timeout: float | None, expired: type[httpcore.TimeoutException]
    ) -> float | None:
        """A socket operation's timeout, shortened to what is left of the deadline.

        Raises ``expired`` once nothing is left: a zero socket timeout would make the socket
        non-blocking, and its failure would read as a broken connection, not a timeout.
        """
        remaining = self.remaining()
        if remaining is None:
            return timeout
        if remaining <= 0:
            raise expired("the request's deadline passed")
        return remaining if timeout is None else min(timeout, remaining)


#: The deadline of the attempt running in this thread, read by the sockets of a sync client's own
#: connection pool. A context variable, as one pool serves every thread sharing the client.
ACTIVE_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "omnisend_sdk_deadline", default=None
)


def _bound(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    deadline = ACTIVE_DEADLINE.get()
    return timeout if deadline is None else deadline.bound(timeout, expired)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every wait ends by the running attempt's deadline.

    This is what makes the deadline hold while a sync client waits for headers: httpx offers no
    hook between the reads of a response head, and a thread blocked in ``recv`` cannot be
    interrupted from outside.
    """

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _bound(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, handing out sockets bound by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host,
            port,
            _bound(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _bound(timeout, httpcore.ConnectTimeout), socket_options=socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bind_sockets_to_deadlines(http_client: httpx.Client) -> bool:
    """Make the sockets of a sync client the SDK created end their waits by the deadline.

    httpx takes no network backend, so the one its connection pools were built with is wrapped
    in place (direct connections and any proxy from the environment), before any connection
    exists. Only done to a client the SDK owns, never to a user's. Should a later httpx lay out
    its pools differently, nothing is wrapped and the deadline is checked between body chunks
    only: the answer is False then.
    """
    transports = [getattr(http_client, "_transport", None)]
    transports += list(getattr(http_client, "_mounts", {}).values())
    bound = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            if not isinstance(backend, _DeadlineBackend):
                pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
            bound = True
    return bound
