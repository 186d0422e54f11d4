"""Validation of the client's settings: base URL, API version, timeout, TLS."""

from __future__ import annotations

import ipaddress
import ssl

import httpx

from omnisend_sdk._constants import (
    API_VERSIONS,
    DEFAULT_BASE_URLS,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    ApiVersion,
)
from omnisend_sdk._errors import ConfigurationError


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
