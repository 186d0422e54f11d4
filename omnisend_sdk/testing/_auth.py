"""API keys, their scopes, and the ``Authorization`` header check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from ._problems import ApiProblem

# The key the emulator accepts unless told otherwise. Not a secret: it opens only the emulator.
EMULATOR_API_KEY = "omnisend-emulator-key"

# Scope names as Omnisend's OpenAPI documents them.
CONTACTS_READ = "contacts.read"
CONTACTS_WRITE = "contacts.write"
SEGMENTS_READ = "segments.read"
SEGMENTS_WRITE = "segments.write"
FULL_ACCESS = frozenset({CONTACTS_READ, CONTACTS_WRITE, SEGMENTS_READ, SEGMENTS_WRITE})
READ_ONLY = frozenset({CONTACTS_READ, SEGMENTS_READ})
WRITE_ONLY = frozenset({CONTACTS_WRITE, SEGMENTS_WRITE})

_SCHEME = "omnisend-api-key"


def _scope_set(scopes: Iterable[str]) -> frozenset[str]:
    # A typed converter: with the bare ``frozenset`` type checkers reject ``scopes=READ_ONLY``.
    return frozenset(scopes)


@attrs.frozen
class ScopedKey:
    """An API key the emulator accepts, with the scopes it grants.

    Attributes:
        key: the secret text sent as ``Authorization: Omnisend-API-Key <key>``.
        scopes: granted scopes; contact, tag and batch reads need ``contacts.read`` and writes
            ``contacts.write``; ``/segments`` needs ``segments.read`` or ``segments.write``
            (a write scope does not imply the read scope, as the scopes are separate in Omnisend).
    """

    key: str
    scopes: frozenset[str] = attrs.field(default=FULL_ACCESS, converter=_scope_set)

    def __repr__(self) -> str:
        """Never show the key itself."""
        return f"ScopedKey(key='***', scopes={sorted(self.scopes)!r})"


def index_keys(keys: Iterable[ScopedKey | str]) -> dict[str, ScopedKey]:
    """Map key text to key, accepting plain strings as full-access keys."""
    result: dict[str, ScopedKey] = {}
    for item in keys:
        key = ScopedKey(item) if isinstance(item, str) else item
        result[key.key] = key
    return result


def authenticate(headers: Mapping[str, str], keys: Mapping[str, ScopedKey]) -> ScopedKey:
    """Find the key of a request.

    Raises:
        ApiProblem: 401 when the header is missing, malformed or names an unknown key.
    """
    header = headers.get("authorization")
    if header is None:
        hint = " (X-API-KEY is the v3 header)" if "x-api-key" in headers else ""
        raise ApiProblem(401, "unauthorized", f"missing Authorization header{hint}")
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != _SCHEME or not secret.strip():
        raise ApiProblem(
            401,
            "unauthorized",
            "the Authorization header must be 'Omnisend-API-Key <key>'",
        )
    key = keys.get(secret.strip())
    if key is None:
        raise ApiProblem(401, "unauthorized", "invalid API key")
    return key


def authorize(key: ScopedKey, scope: str) -> None:
    """Check that ``key`` grants ``scope``.

    Raises:
        ApiProblem: 403 when it does not.
    """
    if scope not in key.scopes:
        raise ApiProblem(403, "forbidden", f"the API key lacks the {scope} scope")
