"""The operating system's keychain, through the optional ``keyring`` package.

``keyring`` is an extra (``pip install 'omnisend-sdk[keyring]'``), imported only when a saved
connection needs it. A machine may have the package and still no keychain: a CI runner or a
container gets keyring's *fail* backend (priority 0), which raises on every call, or its *null*
backend, which forgets what it is given. Both count as "no keychain" here, so a connection saved
there names an environment variable or a key file instead of pretending the key was stored.

Error messages never include the key; an error from a backend is scrubbed of it, in case a
backend repeats what it was given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from omnisend_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: The keychain "service" every saved key is filed under (what keychain apps show).
KEYCHAIN_SERVICE: Final = "omnisend-sdk"
#: How to get the extra, for messages.
_INSTALL_HINT: Final = "pip install 'omnisend-sdk[keyring]'"


def _backend() -> KeyringBackend | None:
    """The keyring backend in use, if the package is installed and the backend keeps secrets."""
    try:
        keyring = importlib.import_module("keyring")
    except ImportError:
        return None
    try:
        backend: KeyringBackend = keyring.get_keyring()
        # keyring's own rule: priority 0 or below is a backend that cannot keep anything
        # (fail, null, or a chainer with nothing to chain). A non-viable one raises here.
        usable = float(backend.priority) > 0
    except Exception:  # any backend failure means "no keychain here"
        return None
    return backend if usable else None


def keychain_available() -> bool:
    """Whether this machine has a keychain the SDK can keep keys in."""
    return _backend() is not None


def describe_keychain() -> str:
    """What stands in for the keychain here, for messages: the backend, or why there is none."""
    backend = _backend()
    if backend is not None:
        return f"the keychain ({type(backend).__module__}.{type(backend).__name__})"
    try:
        importlib.import_module("keyring")
    except ImportError:
        return f"no keychain (the keyring package is not installed: {_INSTALL_HINT})"
    return "no keychain (keyring has no usable backend here, as on a CI runner or in a container)"


def _required() -> KeyringBackend:
    backend = _backend()
    if backend is None:
        raise ConfigurationError(f"cannot use the keychain: this machine has {describe_keychain()}")
    return backend


def _scrubbed(error: Exception, secret: str | None) -> str:
    text = f"{type(error).__name__}: {error}"
    return text.replace(secret, "***") if secret else text


def store_key(entry: str, key: str) -> None:
    """Keep ``key`` in the keychain under ``entry``, replacing what was there.

    Raises:
        ConfigurationError: No keychain, or the keychain refused (locked, denied).
    """
    backend = _required()
    try:
        backend.set_password(KEYCHAIN_SERVICE, entry, key)
    except Exception as err:
        raise ConfigurationError(
            f"the keychain did not store the key for {entry!r}: {_scrubbed(err, key)}"
        ) from None  # the chained error might carry the key in its arguments


def read_key(entry: str) -> str | None:
    """The key kept under ``entry``, or ``None`` when the keychain has none.

    Raises:
        ConfigurationError: No keychain, or the keychain refused (locked, denied).
    """
    backend = _required()
    try:
        return backend.get_password(KEYCHAIN_SERVICE, entry)
    except Exception as err:
        raise ConfigurationError(
            f"the keychain did not give the key for {entry!r}: {_scrubbed(err, None)}"
        ) from None


def delete_key(entry: str) -> bool:
    """Delete the key kept under ``entry``; ``False`` when there was none.

    Raises:
        ConfigurationError: No keychain, or the keychain refused (locked, denied).
    """
    backend = _required()
    try:
        if backend.get_password(KEYCHAIN_SERVICE, entry) is None:
            return False
        backend.delete_password(KEYCHAIN_SERVICE, entry)
    except Exception as err:
        raise ConfigurationError(
            f"the keychain did not delete the key for {entry!r}: {_scrubbed(err, None)}"
        ) from None
    return True
