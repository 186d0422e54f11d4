"""The destination of an export: the store it sends to, through which client, under whose consent.

An export (or a test send) is given either a client or a :class:`~omnisend_sdk.Connection`.
:func:`open_destination` checks the user and the privacy acknowledgement, makes the client when a
connection is given, wraps it for the engine, and closes what it made when the export ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import attrs

from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient
from omnisend_sdk._connection import Connection, require_privacy_acknowledgement
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._privacy import PrivacyAcknowledgement
from omnisend_sdk.export._gateway import ExportGateway, ThreadedClientGateway, gateway_for

Client: TypeAlias = OmnisendClient | AsyncOmnisendClient


@attrs.frozen(kw_only=True)
class Destination:
    """The store one export sends to.

    Attributes:
        client: The client requests go through.
        gateway: The client as the engine calls it.
        connection_name: The connection's name, or ``None`` for a bare client.
        privacy: The acknowledgement the export runs under; ``None`` for a loopback emulator.
    """

    client: Client
    gateway: ExportGateway
    connection_name: str | None
    privacy: PrivacyAcknowledgement | None


@contextlib.asynccontextmanager
async def open_destination(
    *,
    client: Client | None,
    connection: Connection | None,
    run_by: str | None,
    state_dir: str | Path | None,
    client_options: Mapping[str, Any],
    prefer_async: bool,
) -> AsyncIterator[Destination]:
    """The destination of one export, checked; closes what it made on the way out.

    Args:
        client: The user's client (exactly one of ``client`` and ``connection``).
        connection: Or a connection, which makes the client and checks ``run_by``.
        run_by: Who exports, for the connection's ``allowed_users``.
        state_dir: Where a bare client's acknowledgement is looked up (``None``: the default).
        client_options: Options for the client a connection makes.
        prefer_async: Make an async client from a connection (for ``export_segment_async``).

    Raises:
        ConfigurationError: Neither or both of ``client`` and ``connection``.
        UserNotAllowedError: ``run_by`` may not use the connection.
        PrivacyAcknowledgementError: Nobody acknowledged that data leaves for Omnisend.
    """
    if (client is None) == (connection is None):
        raise ConfigurationError("pass exactly one of client= or connection=")
    if connection is not None:
        privacy = connection.check_can_export(run_by)
        made: Client = (
            connection.async_client(**client_options)
            if prefer_async
            else connection.client(**client_options)
        )
        name: str | None = connection.name
    else:
        assert client is not None
        privacy = require_privacy_acknowledgement(client, state_dir=state_dir)
        made, name = client, None
    gateway = gateway_for(made)
    try:
        yield Destination(client=made, gateway=gateway, connection_name=name, privacy=privacy)
    finally:
        if isinstance(gateway, ThreadedClientGateway):
            gateway.close()
        if connection is not None:  # the client is ours: we made it from the connection
            if isinstance(made, AsyncOmnisendClient):
                await made.aclose()
            else:
                made.close()
