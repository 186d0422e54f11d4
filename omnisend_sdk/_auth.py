"""Authentication: the API key, held so that it cannot leak, and the headers that carry it."""

from __future__ import annotations

from collections.abc import Generator

import httpx

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
