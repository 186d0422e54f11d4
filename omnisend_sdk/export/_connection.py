"""Connections: a named link to one Omnisend store, and the privacy acknowledgement it needs.

Exporting a segment sends people's personal data to Omnisend, outside the compliance boundary of
whoever holds the data. Before the first export through a key, a named person must say they
accept that (:meth:`Connection.acknowledge_privacy`). The record says who and when, and names the
key by its fingerprint only; it is stored as a small JSON file in the state directory so that
every later process using the same key and URL finds it.

An emulator on this machine (a loopback base URL) needs no acknowledgement: nothing leaves.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import attrs
import httpx

from omnisend_sdk._auth import ApiKey
from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient
from omnisend_sdk._config import _is_loopback, checked_api_version, checked_base_url
from omnisend_sdk._constants import DEFAULT_API_VERSION, LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError, PrivacyAcknowledgementError

logger = logging.getLogger(LOGGER_NAME)

#: Where the SDK keeps state between runs (privacy acknowledgements, export journals).
ENV_STATE_DIR: Final = "OMNISEND_SDK_STATE_DIR"
#: The state directory when ``OMNISEND_SDK_STATE_DIR`` is not set, under the user's home.
DEFAULT_STATE_DIR_NAME: Final = ".omnisend_sdk"
#: Sub-directory of the state directory holding one acknowledgement file per key and URL.
_ACKNOWLEDGEMENTS_DIR: Final = "privacy"
#: Version of the acknowledgement file's layout, so a later SDK can read older files.
_RECORD_FORMAT: Final = 1
#: Owner-only: the files name people and keys (by fingerprint), nobody else needs to read them.
_FILE_MODE: Final = 0o600
_DIR_MODE: Final = 0o700
#: Settings a connection owns; passing them to ``client()`` would bypass the acknowledgement.
_CONNECTION_SETTINGS: Final = frozenset({"api_key", "base_url", "api_version"})


class UserNotAllowedError(PrivacyAcknowledgementError):
    """The user running an export is not in the connection's ``allowed_users``."""


class KeyHolder(Protocol):
    """Anything that names a key and a URL: a :class:`Connection` or either client."""

    @property
    def key_fingerprint(self) -> str:
        """The key's fingerprint."""
        ...

    @property
    def base_url(self) -> str:
        """The URL requests go to."""
        ...


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError("an acknowledgement time must be timezone-aware")
    return value.astimezone(UTC)


@attrs.frozen(kw_only=True)
class PrivacyAcknowledgement:
    """A person's acceptance that exports through a key send personal data to Omnisend.

    Attributes:
        connection_name: The connection it was given through, or ``None`` for a bare client.
        by: Who accepted, as they named themselves.
        at: When, in UTC.
        key_fingerprint: The key's fingerprint (never the key).
        base_url: The Omnisend URL the key is used with.
    """

    connection_name: str | None
    by: str
    at: datetime = attrs.field(converter=_utc)
    key_fingerprint: str
    base_url: str

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-safe data (``at`` in ISO 8601)."""
        return {
            "connection_name": self.connection_name,
            "by": self.by,
            "at": self.at.isoformat(),
            "key_fingerprint": self.key_fingerprint,
            "base_url": self.base_url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrivacyAcknowledgement:
        """The record :meth:`to_dict` gave.

        Raises:
            ConfigurationError: Missing or mistyped fields.
        """
        try:
            name = data["connection_name"]
            texts = [data["by"], data["at"], data["key_fingerprint"], data["base_url"]]
            if not all(isinstance(t, str) for t in texts) or not isinstance(name, str | None):
                raise TypeError("a field has the wrong type")
            return cls(
                connection_name=name,
                by=data["by"],
                at=datetime.fromisoformat(data["at"]),
                key_fingerprint=data["key_fingerprint"],
                base_url=data["base_url"],
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigurationError(f"not a privacy acknowledgement record: {err}") from err

    def __str__(self) -> str:
        return f"acknowledged by {self.by} at {self.at:%Y-%m-%d %H:%M} UTC"


def default_state_dir() -> Path:
    """The state directory: ``$OMNISEND_SDK_STATE_DIR``, else ``~/.omnisend_sdk``."""
    configured = os.environ.get(ENV_STATE_DIR, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / DEFAULT_STATE_DIR_NAME


def current_user() -> str | None:
    """The operating-system user running this process, or ``None`` when it cannot be told.

    Containers often run as a uid with no name, where :func:`getpass.getuser` fails.
    """
    try:
        return getpass.getuser() or None
    except (OSError, KeyError):  # OSError from Python 3.13, KeyError (pwd lookup) before
        return None


def is_loopback_url(base_url: str) -> bool:
    """Whether a URL points at this machine (an emulator): personal data sent there stays here."""
    return _is_loopback(httpx.URL(base_url).host)


class _AcknowledgementStore:
    """One JSON file per key and URL, under ``<state dir>/privacy``.

    A file per key (not one shared file) means two processes acknowledging different keys never
    overwrite each other's records.
    """

    def __init__(self, state_dir: Path) -> None:
        self._dir = state_dir / _ACKNOWLEDGEMENTS_DIR

    def path_for(self, key_fingerprint: str, base_url: str) -> Path:
        # Hash the pair so any URL gives a safe file name; the record repeats both in full.
        digest = hashlib.sha256(f"{key_fingerprint}\n{base_url}".encode()).hexdigest()[:32]
        return self._dir / f"{digest}.json"

    def load(self, key_fingerprint: str, base_url: str) -> PrivacyAcknowledgement | None:
        path = self.path_for(key_fingerprint, base_url)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = PrivacyAcknowledgement.from_dict(data["acknowledgement"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            # A damaged record must not count as consent; acknowledging again rewrites it.
            logger.warning("ignoring unreadable privacy acknowledgement %s: %s", path, err)
            return None
        if (record.key_fingerprint, record.base_url) != (key_fingerprint, base_url):
            logger.warning("ignoring privacy acknowledgement %s made for another key", path)
            return None
        return record

    def save(self, record: PrivacyAcknowledgement) -> Path:
        path = self.path_for(record.key_fingerprint, record.base_url)
        text = json.dumps({"format": _RECORD_FORMAT, "acknowledgement": record.to_dict()}, indent=2)
        _write_atomically(path, text + "\n")
        return path


def _write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a crash mid-write never leaves half a record behind."""
    path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600 already; chmod again in case of an odd umask/OS.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _checked_person(by: str) -> str:
    by = by.strip() if isinstance(by, str) else by
    if not isinstance(by, str) or not by:
        raise ConfigurationError("acknowledge_privacy needs the name of the person accepting")
    return by


def privacy_acknowledgement(
    target: KeyHolder, *, state_dir: str | Path | None = None
) -> PrivacyAcknowledgement | None:
    """The stored acknowledgement for a connection's or client's key and URL, if any."""
    if isinstance(target, Connection) and state_dir is None:
        return target.acknowledgement
    store = _AcknowledgementStore(Path(state_dir) if state_dir else default_state_dir())
    return store.load(target.key_fingerprint, target.base_url)


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
            :func:`default_state_dir`.
    """
    if isinstance(client_or_connection, Connection):
        if state_dir is None:
            return client_or_connection.acknowledge_privacy(by)
        connection_name = client_or_connection.name
    record = PrivacyAcknowledgement(
        connection_name=connection_name,
        by=_checked_person(by),
        at=datetime.now(UTC),
        key_fingerprint=client_or_connection.key_fingerprint,
        base_url=client_or_connection.base_url,
    )
    _AcknowledgementStore(Path(state_dir) if state_dir else default_state_dir()).save(record)
    return record


def require_privacy_acknowledgement(
    target: KeyHolder, *, state_dir: str | Path | None = None
) -> PrivacyAcknowledgement | None:
    """The acknowledgement an export through ``target`` needs; ``None`` for a loopback URL.

    Raises:
        PrivacyAcknowledgementError: Nobody has acknowledged this key and URL; the message says
            how to.
    """
    if is_loopback_url(target.base_url):
        return None
    directory = Path(state_dir) if state_dir else default_state_dir()
    if isinstance(target, Connection) and state_dir is None:
        directory = target.state_dir
    record = _AcknowledgementStore(directory).load(target.key_fingerprint, target.base_url)
    if record is not None:
        return record
    how = (
        "connection.acknowledge_privacy(by='<your full name>')"
        if isinstance(target, Connection)
        else "omnisend_sdk.acknowledge_privacy(client, by='<your full name>')"
    )
    raise PrivacyAcknowledgementError(
        f"no privacy acknowledgement for key {target.key_fingerprint} at {target.base_url}: "
        "exporting sends people's personal data to Omnisend, outside your compliance boundary. "
        f"The person responsible for that data must accept this once: call {how} "
        f"(it is recorded in {directory})"
    )


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


class Connection:
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
        state_dir: Where acknowledgements are kept; defaults to :func:`default_state_dir`.

    Raises:
        ConfigurationError: An empty name or key, a bad URL or version, an empty user list.
    """

    __slots__ = ("_allowed_users", "_api_key", "_api_version", "_base_url", "_name", "_state_dir")

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
        self._api_key = api_key if isinstance(api_key, ApiKey) else ApiKey(api_key)
        self._api_version = checked_api_version(api_version)
        self._base_url = checked_base_url(base_url, self._api_version)
        self._allowed_users = _checked_users(allowed_users)
        self._state_dir = Path(state_dir).expanduser() if state_dir else default_state_dir()

    @classmethod
    def from_env(cls, name: str = "default", **options: Any) -> Connection:
        """A connection configured from ``OMNISEND_API_KEY`` (and optionally
        ``OMNISEND_BASE_URL``, ``OMNISEND_API_VERSION``); keyword options override them.

        Raises:
            ConfigurationError: ``OMNISEND_API_KEY`` is not set.
        """
        # The client reads the same variables; one reader keeps their meaning in one place.
        settings = OmnisendClient._settings_from_env()
        return cls(name, **{**settings, **options})

    @property
    def name(self) -> str:
        """The connection's name."""
        return self._name

    @property
    def key_fingerprint(self) -> str:
        """A non-reversible id of the key, safe to log and store."""
        return self._api_key.fingerprint

    @property
    def base_url(self) -> str:
        """The URL requests go to."""
        return self._base_url

    @property
    def api_version(self) -> str:
        """The Omnisend API version spoken."""
        return self._api_version

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
        return _AcknowledgementStore(self._state_dir).load(self.key_fingerprint, self._base_url)

    def acknowledge_privacy(self, by: str) -> PrivacyAcknowledgement:
        """Record that ``by`` accepts that exports send personal data to Omnisend.

        The record (who, when, key fingerprint, URL; never the key) is written atomically to the
        state directory, readable by the owner only, and replaces any earlier one for this key.

        Raises:
            ConfigurationError: ``by`` is empty.
        """
        record = PrivacyAcknowledgement(
            connection_name=self._name,
            by=_checked_person(by),
            at=datetime.now(UTC),
            key_fingerprint=self.key_fingerprint,
            base_url=self._base_url,
        )
        _AcknowledgementStore(self._state_dir).save(record)
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
        return require_privacy_acknowledgement(self)

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
