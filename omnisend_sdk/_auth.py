"""Authentication: the API key, held so that it cannot leak, and the headers that carry it."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from omnisend_sdk._config import checked_api_version, checked_base_url
from omnisend_sdk._constants import ApiVersion
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._privacy import fingerprint


class ApiKey:
    """An Omnisend API key that never shows itself in a repr, str, log record or pickle.

    Only :meth:`reveal` returns the key, and only the auth flow calls it.
    """

    __slots__ = ("_fingerprint", "_value")

    def __init__(self, value: str) -> None:
        value = value.strip() if isinstance(value, str) else value
        if not isinstance(value, str) or not value:
            raise ConfigurationError("the Omnisend API key is empty")
        self._value = value
        self._fingerprint = fingerprint(value)

    @property
    def fingerprint(self) -> str:
        """A short, non-reversible id of the key, safe to log and store."""
        return self._fingerprint

    def reveal(self) -> str:
        """The key itself: for the request headers only."""
        return self._value

    def __repr__(self) -> str:
        return f"ApiKey({self._fingerprint})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would write the key to wherever the pickle goes (a cache, a task queue).
        raise TypeError("an Omnisend API key cannot be pickled")


class StoreAccess:
    """What reaching one Omnisend store takes: a key (never shown), an API version and a URL.

    Checked once here for the clients and for connections, which share these three and the
    properties that show them safely.
    """

    __slots__ = ("_api_key", "_api_version", "_base_url")

    def __init__(self, api_key: str | ApiKey, *, base_url: str | None, api_version: str) -> None:
        self._api_key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key)
        self._api_version: ApiVersion = checked_api_version(api_version)
        self._base_url = checked_base_url(base_url, self._api_version)

    @property
    def api_version(self) -> ApiVersion:
        """The Omnisend API version spoken."""
        return self._api_version

    @property
    def base_url(self) -> str:
        """The URL requests go to."""
        return self._base_url

    @property
    def key_fingerprint(self) -> str:
        """A non-reversible id of the API key, safe to log and store."""
        return self._api_key.fingerprint


class OmnisendAuth(httpx.Auth):
    """Sets the key and version headers on every request.

    Version 2026-03-15 reads ``Authorization: Omnisend-API-Key <key>`` and ``Omnisend-Version``;
    v3 reads ``X-API-KEY``.
    """

    def __init__(self, api_key: ApiKey, api_version: ApiVersion) -> None:
        self._api_key = api_key
        self._api_version = api_version

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._api_version == "v3":
            request.headers["X-API-KEY"] = self._api_key.reveal()
        else:
            request.headers["Authorization"] = f"Omnisend-API-Key {self._api_key.reveal()}"
            request.headers["Omnisend-Version"] = self._api_version
        yield request

    def __repr__(self) -> str:
        return f"OmnisendAuth({self._api_key!r}, {self._api_version!r})"
