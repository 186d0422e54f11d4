"""The in-process transport: hand it to ``httpx.Client`` or ``httpx.AsyncClient``."""

from __future__ import annotations

import time

import anyio
import httpx

from ._app import Application


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport, sync and async, answered by the emulator without any socket.

    Injected latency sleeps (``time.sleep`` for sync clients, ``anyio.sleep`` for async ones);
    injected timeouts and resets raise the exception httpx would raise (``httpx.ReadTimeout``,
    ``httpx.ConnectError`` or, after processing, ``httpx.RemoteProtocolError``) at once, without
    waiting for the client's own timeout.
    """

    def __init__(self, app: Application) -> None:
        """Create a transport in front of ``app``."""
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from a sync client."""
        request.read()
        exchange = self._app.exchange(request)
        if exchange.latency:
            time.sleep(exchange.latency)
        return exchange.deliver(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request from an async client."""
        await request.aread()
        exchange = self._app.exchange(request)
        if exchange.latency:
            await anyio.sleep(exchange.latency)
        return exchange.deliver(request)
