"""The client's settings: read from the environment, and validated (base URL, API version,
timeout, deadline, response size cap, TLS)."""

from __future__ import annotations

import ipaddress
import math
import os
import ssl
from typing import Required, TypedDict

import httpx

from omnisend_sdk._constants import (
    API_VERSIONS,
    DEFAULT_BASE_URLS,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_DEADLINE_TIMEOUTS,
    ENV_API_KEY,
    ENV_API_VERSION,
    ENV_BASE_URL,
    ApiVersion,
)
from omnisend_sdk._errors import ConfigurationError


class EnvSettings(TypedDict, total=False):
    """Keyword arguments for a client or a connection, as the environment gives them.

    Only ``api_key`` is always there; the others are present when their variable is set, so that
    a missing variable leaves the constructor's default in place.
    """

    api_key: Required[str]
    base_url: str
    api_version: str


def settings_from_env(*, api_key: str | None = None) -> EnvSettings:
    """The settings in ``OMNISEND_API_KEY``, ``OMNISEND_BASE_URL`` and ``OMNISEND_API_VERSION``.

    The one reader of these variables, so that the clients, connections and the CLI give them
    the same meaning. Values are returned as they are; the constructors validate them.

    Args:
        api_key: A key from elsewhere (a key file): it wins, and ``OMNISEND_API_KEY`` need not
            be set.

    Returns:
        ``api_key``, plus ``base_url`` and ``api_version`` where their variables are not empty.

    Raises:
        ConfigurationError: No key given and ``OMNISEND_API_KEY`` is not set or blank.
    """
    api_key = api_key or os.environ.get(ENV_API_KEY, "").strip()
    if not api_key:
        raise ConfigurationError(
            f"{ENV_API_KEY} is not set: create a key with contacts permissions in Omnisend "
            "(Store settings > API keys) and put it in that variable"
        )
    settings = EnvSettings(api_key=api_key)
    if base_url := os.environ.get(ENV_BASE_URL):
        settings["base_url"] = base_url
    if api_version := os.environ.get(ENV_API_VERSION):
        settings["api_version"] = api_version
    return settings


def checked_api_version(value: str) -> ApiVersion:
    """The API version, if the SDK speaks it."""
    for version in API_VERSIONS:
        if value == version:
            return version
    raise ConfigurationError(
        f"unsupported Omnisend API version {value!r}; use one of {', '.join(API_VERSIONS)}"
    )


def checked_base_url(value: str | None, api_version: ApiVersion) -> str:
    """The base URL without a trailing slash; plain http only to this machine.

    Sending the API key and people's data unencrypted over a network is never right; a local
    emulator on loopback is the one exception.
    """
    url = httpx.URL(value if value is not None else DEFAULT_BASE_URLS[api_version])
    if url.scheme == "https" and url.host:
        return str(url).rstrip("/")
    if url.scheme == "http" and _is_loopback(url.host):
        return str(url).rstrip("/")
    raise ConfigurationError(
        f"base URL must be https:// (plain http:// only to a loopback address), got "
        f"{url.scheme}://{url.host}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_timeout(value: float | httpx.Timeout) -> httpx.Timeout:
    """An httpx timeout; a number sets every phase, connecting capped at the connect default."""
    if isinstance(value, httpx.Timeout):
        return value
    if value <= 0:
        raise ConfigurationError("timeout must be a positive number of seconds")
    return httpx.Timeout(value, connect=min(value, DEFAULT_CONNECT_TIMEOUT_SECONDS))


def checked_deadline(value: float | None, timeout: httpx.Timeout) -> float | None:
    """Seconds one attempt may take in all, or None for no deadline.

    Args:
        value: The deadline asked for: None derives it from the timeout (the longest of its
            phases, :data:`DEFAULT_DEADLINE_TIMEOUTS` times), ``math.inf`` turns it off.
        timeout: The client's timeout, already checked.
    """
    if value is None:
        phases = [t for t in timeout.as_dict().values() if t is not None]
        # A timeout without any limit asked to wait as long as it takes: no deadline either.
        return DEFAULT_DEADLINE_TIMEOUTS * max(phases) if phases else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError("deadline must be a positive number of seconds")
    return None if math.isinf(value) else float(value)


def checked_max_response_bytes(value: int) -> int:
    """The largest answer the client reads, in bytes."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError("max_response_bytes must be a whole number of bytes, at least 1")
    return value


def refuse_unverified_tls(http_client: httpx.Client | httpx.AsyncClient) -> None:
    """Refuse a user-supplied client whose default transport does not verify certificates.

    httpx keeps the SSL context on its pool; a custom transport (a mock, an emulator) has none and
    is accepted as is.
    """
    transport = getattr(http_client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    if isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_NONE:
        raise ConfigurationError(
            "the http client does not verify TLS certificates; the SDK never sends the API key "
            "or personal data over an unverified connection"
        )
