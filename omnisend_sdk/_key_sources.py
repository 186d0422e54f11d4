"""Where a saved connection's key is read from: the keychain, an environment variable or a file.

A profile never holds the key. It holds a :class:`KeySource`, and the key's fingerprint, which
:func:`read_key` checks the key against: a variable or file that now holds another key (a rotated
secret, the wrong file) is refused rather than used under an acknowledgement given for the old one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import attrs

from omnisend_sdk import _keychain
from omnisend_sdk._auth import ApiKey
from omnisend_sdk._errors import ConfigurationError

KeyKind: TypeAlias = Literal["keychain", "env", "file"]
_KINDS: Final[tuple[KeyKind, ...]] = ("keychain", "env", "file")
#: A portable environment variable name (POSIX shells accept no other).
_VARIABLE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_where(instance: KeySource, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("a key source needs a place (an entry, a variable, a file)")
    if instance.kind == "env" and not _VARIABLE.fullmatch(value):
        raise ConfigurationError(f"{value!r} is not an environment variable name")
    if instance.kind == "file" and not Path(value).is_absolute():
        # A relative path would mean another file for a process started elsewhere (cron).
        raise ConfigurationError(f"a key file must be given by its absolute path, not {value!r}")


def _check_kind(instance: KeySource, attribute: attrs.Attribute[str], value: object) -> None:
    if value not in _KINDS:
        raise ConfigurationError(f"unknown key source {value!r}; use one of {', '.join(_KINDS)}")


@attrs.frozen
class KeySource:
    """Where a saved connection's key is kept.

    Attributes:
        kind: ``"keychain"`` (the operating system's, through ``keyring``), ``"env"`` (an
            environment variable) or ``"file"`` (a file holding only the key).
        where: The keychain entry (under the service ``omnisend-sdk``), the variable's name, or
            the file's absolute path.
    """

    kind: KeyKind = attrs.field(validator=_check_kind)
    where: str = attrs.field(validator=_check_where)

    @classmethod
    def keychain(cls, connection: str, key_fingerprint: str) -> KeySource:
        """The keychain entry for a connection's key: its name and the key's fingerprint, so
        that two state directories saving "prod" with different keys never share an entry."""
        return cls("keychain", f"{connection} ({key_fingerprint})")

    def to_dict(self) -> dict[str, str]:
        """As JSON-safe data."""
        return {"kind": self.kind, "where": self.where}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeySource:
        """What :meth:`to_dict` gave.

        Raises:
            ConfigurationError: Not a key source.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError("a key source must be a table")
        return cls(data.get("kind"), data.get("where"))  # type: ignore[arg-type]  # validated

    def __str__(self) -> str:
        if self.kind == "keychain":
            return f"in the keychain ({_keychain.KEYCHAIN_SERVICE}: {self.where})"
        if self.kind == "env":
            return f"read from ${self.where}"
        return f"read from {self.where}"


def read_key(source: KeySource, *, connection: str, key_fingerprint: str) -> ApiKey:
    """The key ``source`` holds for ``connection``, checked against its saved fingerprint.

    Raises:
        ConfigurationError: The key is not there (no keychain, an unset variable, a missing
            file), or it is another key than the one the connection was saved with.
    """
    text = _raw_key(source, connection)
    if not text or not text.strip():
        raise ConfigurationError(f"connection {connection!r}: {_missing(source)}")
    key = ApiKey(text)
    if key.fingerprint != key_fingerprint:
        raise ConfigurationError(
            f"connection {connection!r} was saved with key {key_fingerprint}, but the key "
            f"{source} is {key.fingerprint}: save the connection again to use the new key "
            "(its privacy acknowledgement is per key)"
        )
    return key


def _raw_key(source: KeySource, connection: str) -> str | None:
    if source.kind == "keychain":
        try:
            return _keychain.read_key(source.where)
        except ConfigurationError as err:
            raise ConfigurationError(
                f"connection {connection!r} keeps its key in the keychain: {err}. On a machine "
                "without one, save it with the key in an environment variable or a file"
            ) from None
    if source.kind == "env":
        return os.environ.get(source.where)
    try:
        return Path(source.where).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigurationError(
            f"connection {connection!r}: cannot read its key file {source.where}: {err.strerror}"
        ) from None


def _missing(source: KeySource) -> str:
    if source.kind == "keychain":
        return f"its key is no longer in the keychain (entry {source.where!r}); connect it again"
    if source.kind == "env":
        return f"its key is read from ${source.where}, which is not set"
    return f"its key is read from {source.where}, which does not exist or is empty"
