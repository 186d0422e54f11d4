"""Connections: a named link to one Omnisend store, and who may export through it.

A :class:`Connection` holds a key (never shown), a URL and an API version, makes clients for
them, and checks before an export that the user may use it and that somebody gave the privacy
acknowledgement (:mod:`omnisend_sdk._privacy`) for its key and URL.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from omnisend_sdk._auth import ApiKey, StoreAccess
from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient
from omnisend_sdk._config import settings_from_env
from omnisend_sdk._constants import DEFAULT_API_VERSION
from omnisend_sdk._errors import ConfigurationError, UserNotAllowedError
from omnisend_sdk._privacy import (
    AcknowledgementStore,
    KeyHolder,
    PrivacyAcknowledgement,
    is_loopback_url,
)
from omnisend_sdk._state import state_dir_or_default

#: Settings a connection owns; passing them to ``client()`` would bypass the acknowledgement.
_CONNECTION_SETTINGS: Final = frozenset({"api_key", "base_url", "api_version"})


def current_user() -> str | None:
    """The operating-system user running this process, or ``None`` when it cannot be told.

    Containers often run as a uid with no name, where :func:`getpass.getuser` fails.
    """
    try:
        return getpass.getuser() or None
    except (OSError, KeyError):  # OSError from Python 3.13, KeyError (pwd lookup) before
        return None


def _checked_users(users: Iterable[str] | None) -> frozenset[str] | None:
    if users is None:
        return None
    if isinstance(users, str):  # a lone name would otherwise become a set of its letters
        users = [users]
    checked = frozenset(u.strip() for u in users if isinstance(u, str) and u.strip())
    if not checked:
        raise ConfigurationError(
            "allowed_users is empty, so nobody could export; pass None to allow every user"
        )
    return checked


class Connection(StoreAccess):
    """A named link to one Omnisend store: its key, URL and API version, and who may export.

    The key is wrapped in :class:`~omnisend_sdk.ApiKey` at once and never shown; the repr names it
    by fingerprint. Exports through a connection need a privacy acknowledgement
    (:meth:`acknowledge_privacy`) unless the URL is a loopback address (an emulator).

    Args:
        name: What to call the connection (``"prod"``); saved export definitions refer to it.
        api_key: An Omnisend API key with contacts read and write permissions.
        base_url: Where the API lives; defaults to Omnisend's URL for ``api_version``.
        api_version: ``"2026-03-15"`` (default) or ``"v3"``.
        allowed_users: If given, only these operating-system users may export through it.
        state_dir: Where acknowledgements are kept; defaults to
            :func:`~omnisend_sdk.export.default_state_dir`.

    Raises:
        ConfigurationError: An empty name or key, a bad URL or version, an empty user list.
    """

    __slots__ = ("_allowed_users", "_name", "_state_dir")

    def __init__(
        self,
        name: str,
        api_key: str | ApiKey,
        *,
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        allowed_users: Iterable[str] | None = None,
        state_dir: str | Path | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError("a connection needs a name")
        self._name = name.strip()
        super().__init__(api_key, base_url=base_url, api_version=api_version)
        self._allowed_users = _checked_users(allowed_users)
        self._state_dir = state_dir_or_default(state_dir)

    @classmethod
    def from_env(cls, name: str = "default", **options: Any) -> Connection:
        """A connection configured from ``OMNISEND_API_KEY`` (and optionally
        ``OMNISEND_BASE_URL``, ``OMNISEND_API_VERSION``); keyword options override them
        (``api_key=`` from a key file, ``base_url=``, ``state_dir=``...).

        Raises:
            ConfigurationError: No ``api_key`` given and ``OMNISEND_API_KEY`` is not set.
        """
        # The client reads the same variables; one reader keeps their meaning in one place.
        settings = settings_from_env(api_key=options.pop("api_key", None))
        return cls(name, **{**settings, **options})

    @property
    def name(self) -> str:
        """The connection's name."""
        return self._name

    @property
    def allowed_users(self) -> frozenset[str] | None:
        """The users who may export through it, or ``None`` for everyone."""
        return self._allowed_users

    @property
    def state_dir(self) -> Path:
        """Where acknowledgements are kept."""
        return self._state_dir

    @property
    def is_loopback(self) -> bool:
        """Whether the URL is on this machine (an emulator), exempt from acknowledgement."""
        return is_loopback_url(self._base_url)

    @property
    def acknowledgement(self) -> PrivacyAcknowledgement | None:
        """The stored privacy acknowledgement for this key and URL, if anyone gave one."""
        return AcknowledgementStore(self._state_dir).load(self)

    def acknowledge_privacy(self, by: str) -> PrivacyAcknowledgement:
        """Record that ``by`` accepts that exports send personal data to Omnisend.

        The record (who, when, key fingerprint, URL; never the key) is written atomically to the
        state directory, readable by the owner only, and replaces any earlier one for this key.

        Raises:
            ConfigurationError: ``by`` is empty.
        """
        record = PrivacyAcknowledgement.given_now(by, self, connection_name=self._name)
        AcknowledgementStore(self._state_dir).save(record)
        return record

    def check_can_export(self, user: str | None = None) -> PrivacyAcknowledgement | None:
        """Check that ``user`` may export through this connection now.

        Args:
            user: Who is exporting; defaults to the operating-system user.

        Returns:
            The acknowledgement to record in the report, or ``None`` for a loopback URL.

        Raises:
            UserNotAllowedError: ``allowed_users`` is set and ``user`` is not in it.
            PrivacyAcknowledgementError: Nobody has acknowledged this key and URL.
        """
        if self._allowed_users is not None:
            who = user if user is not None else current_user()
            if who is None or who.strip() not in self._allowed_users:
                raise UserNotAllowedError(
                    f"user {who or '<unknown>'!r} may not export through connection "
                    f"{self._name!r}; allowed: {', '.join(sorted(self._allowed_users))}"
                )
        return AcknowledgementStore(self._state_dir).require(self, how=_HOW_FOR_CONNECTION)

    def client(self, **options: Any) -> OmnisendClient:
        """A client for this connection; options (``retry``, ``rate_limiter``, ``http_client``,
        ``timeout``...) pass through to :class:`OmnisendClient`."""
        return OmnisendClient(self._api_key, **self._client_settings(options))

    def async_client(self, **options: Any) -> AsyncOmnisendClient:
        """An async client for this connection; options pass through to
        :class:`AsyncOmnisendClient`."""
        return AsyncOmnisendClient(self._api_key, **self._client_settings(options))

    def verify(self, **options: Any) -> None:
        """Prove the key works and may read contacts, with one cheap request.

        Raises:
            AuthenticationError: The key is missing or invalid (401).
            PermissionDeniedError: The key lacks contacts permission or is blocked (403).
        """
        with self.client(**options) as client:
            client.verify()

    def _client_settings(self, options: Mapping[str, Any]) -> dict[str, Any]:
        clashing = sorted(_CONNECTION_SETTINGS & set(options))
        if clashing:
            raise ConfigurationError(
                f"a connection sets {', '.join(clashing)} itself; make another Connection"
            )
        return {"base_url": self._base_url, "api_version": self._api_version, **options}

    def __repr__(self) -> str:
        return (
            f"Connection({self._name!r}, base_url={self._base_url!r}, "
            f"api_version={self._api_version!r}, key={self._api_key.fingerprint})"
        )

    def __reduce__(self) -> str | tuple[object, ...]:
        # The key would travel with the pickle (a task queue, a cache); rebuild it from env there.
        raise TypeError("a Connection holds an API key and cannot be pickled")


#: How to give the missing acknowledgement, for the error an export raises without one.
_HOW_FOR_CONNECTION: Final = "connection.acknowledge_privacy(by='<your full name>')"
_HOW_FOR_CLIENT: Final = "omnisend_sdk.acknowledge_privacy(client, by='<your full name>')"


def _store_for(holder: KeyHolder, state_dir: str | Path | None) -> AcknowledgementStore:
    """Where ``holder``'s acknowledgement lives: ``state_dir`` if given, else the connection's
    own state directory, else the default one."""
    if state_dir is None and isinstance(holder, Connection):
        return AcknowledgementStore(holder.state_dir)
    return AcknowledgementStore(state_dir_or_default(state_dir))


def privacy_acknowledgement(
    holder: KeyHolder, *, state_dir: str | Path | None = None
) -> PrivacyAcknowledgement | None:
    """The stored acknowledgement for a connection's or client's key and URL, if any."""
    return _store_for(holder, state_dir).load(holder)


def acknowledge_privacy(
    client_or_connection: KeyHolder,
    by: str,
    *,
    connection_name: str | None = None,
    state_dir: str | Path | None = None,
) -> PrivacyAcknowledgement:
    """Record that ``by`` accepts that exports through this key send personal data to Omnisend.

    For a :class:`Connection` this is :meth:`Connection.acknowledge_privacy`; a bare client
    works too, since the record needs only the key's fingerprint and the URL.

    Args:
        client_or_connection: A :class:`Connection`, :class:`OmnisendClient` or
            :class:`AsyncOmnisendClient`.
        by: The name of the person accepting.
        connection_name: The name to record for a bare client (a connection records its own).
        state_dir: Where to store the record; defaults to the connection's or
            :func:`~omnisend_sdk.export.default_state_dir`.
    """
    if isinstance(client_or_connection, Connection):
        connection_name = client_or_connection.name
    record = PrivacyAcknowledgement.given_now(
        by, client_or_connection, connection_name=connection_name
    )
    _store_for(client_or_connection, state_dir).save(record)
    return record


def require_privacy_acknowledgement(
    holder: KeyHolder, *, state_dir: str | Path | None = None
) -> PrivacyAcknowledgement | None:
    """The acknowledgement an export through ``holder`` needs; ``None`` for a loopback URL.

    Raises:
        PrivacyAcknowledgementError: Nobody has acknowledged this key and URL; the message says
            how to.
    """
    how = _HOW_FOR_CONNECTION if isinstance(holder, Connection) else _HOW_FOR_CLIENT
    return _store_for(holder, state_dir).require(holder, how=how)
