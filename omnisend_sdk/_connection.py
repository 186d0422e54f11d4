"""Connections: a named link to one Omnisend store, and who may export through it.

A :class:`Connection` holds a key (never shown), a URL and an API version, makes clients for
them, and checks before an export that the user may use it and that somebody gave the privacy
acknowledgement (:mod:`omnisend_sdk._privacy`) for its key and URL.

A connection can be saved by name (:meth:`Connection.save`) and loaded by it
(:meth:`Connection.load`): the profile (:mod:`omnisend_sdk._profiles`) sits in the state
directory, the key in the keychain or, where there is none, in an environment variable or a file
the profile names (:mod:`omnisend_sdk._key_sources`).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs

from omnisend_sdk import _keychain
from omnisend_sdk._auth import ApiKey, StoreAccess
from omnisend_sdk._client import AsyncOmnisendClient, OmnisendClient
from omnisend_sdk._config import settings_from_env
from omnisend_sdk._constants import DEFAULT_API_VERSION, LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError, UserNotAllowedError
from omnisend_sdk._key_sources import KeySource, read_key
from omnisend_sdk._privacy import (
    AcknowledgementStore,
    KeyHolder,
    PrivacyAcknowledgement,
    is_loopback_url,
)
from omnisend_sdk._profiles import (
    ConnectionProfile,
    ProfileStore,
    SavedConnection,
    checked_name,
    is_saveable_name,
)
from omnisend_sdk._state import state_dir_or_default

logger = logging.getLogger(LOGGER_NAME)

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

    :meth:`save` keeps it by name (the key in the keychain) and :meth:`load` brings it back; a
    saved connection's profile then says who may use it (:meth:`allow`, :meth:`disallow`).

    Args:
        name: What to call the connection (``"prod"``); saved export definitions refer to it.
        api_key: An Omnisend API key with contacts read and write permissions.
        base_url: Where the API lives; defaults to Omnisend's URL for ``api_version``.
        api_version: ``"2026-03-15"`` (default) or ``"v3"``.
        allowed_users: If given, only these operating-system users may export through it.
        state_dir: Where acknowledgements and saved connections are kept; defaults to
            :func:`~omnisend_sdk.export.default_state_dir`.

    Raises:
        ConfigurationError: An empty name or key, a bad URL or version, an empty user list.
    """

    __slots__ = ("_allowed_users", "_name", "_saved", "_state_dir")

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
        # True once saved or loaded: its profile, not this object, then says who may use it.
        self._saved = False

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

    @classmethod
    def load(cls, name: str, *, state_dir: str | Path | None = None) -> Connection:
        """The connection saved as ``name`` (by :meth:`save` or ``omnisend-export connect``).

        The key is read from where the profile says (the keychain, a variable, a file) and
        checked against the fingerprint it was saved with.

        Raises:
            ConfigurationError: No connection saved by that name, or it was removed; its key
                cannot be read, or is another key than the one saved.
        """
        store = ProfileStore(state_dir_or_default(state_dir))
        profile = store.require(name)
        key = read_key(
            profile.key_source, connection=profile.name, key_fingerprint=profile.key_fingerprint
        )
        connection = cls(
            profile.name,
            key,
            base_url=profile.base_url,
            api_version=profile.api_version,
            allowed_users=profile.allowed_users,
            state_dir=store.state_dir,
        )
        connection._saved = True
        return connection

    @classmethod
    def named(cls, name: str, *, state_dir: str | Path | None = None) -> Connection:
        """The connection called ``name``: the saved one if there is one, else from the
        environment (:meth:`from_env`), for pipelines that keep the key in their own secret
        store.

        Raises:
            ConfigurationError: ``name`` was saved and then removed (exports by a removed name
                refuse, rather than quietly taking a key from the environment); or, for a name
                never saved, no ``OMNISEND_API_KEY``.
        """
        store = ProfileStore(state_dir_or_default(state_dir))
        if is_saveable_name(name) and (
            store.load(name.strip()) is not None or store.removal(name.strip()) is not None
        ):
            return cls.load(name, state_dir=store.state_dir)
        return cls.from_env(name, state_dir=store.state_dir)

    @property
    def name(self) -> str:
        """The connection's name."""
        return self._name

    @property
    def allowed_users(self) -> frozenset[str] | None:
        """The users who may export through it, or ``None`` for everyone."""
        return self._allowed_users

    @property
    def is_saved(self) -> bool:
        """Whether it was saved or loaded by name (its profile then governs it)."""
        return self._saved

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

        A saved connection is checked against its profile as it is now, so a user removed from
        it, or a removal of the connection, takes effect even for an object loaded earlier;
        once the checks pass, the profile records this as its last export.

        Args:
            user: Who is exporting; defaults to the operating-system user.

        Returns:
            The acknowledgement to record in the report, or ``None`` for a loopback URL.

        Raises:
            ConfigurationError: The connection's name was saved and has been removed, or the
                saved connection now holds another key or URL.
            UserNotAllowedError: ``allowed_users`` is set and ``user`` is not in it.
            PrivacyAcknowledgementError: Nobody has acknowledged this key and URL.
        """
        store = ProfileStore(self._state_dir)
        if self._saved:
            self._allowed_users = self._current_profile(store).allowed_users
        elif is_saveable_name(self._name):
            store.refuse_if_removed(self._name)
        who = user if user is not None else current_user()
        if self._allowed_users is not None and (
            who is None or who.strip() not in self._allowed_users
        ):
            how = (
                f"; one of them can add you: omnisend-export connections allow {self._name} "
                f"{who or '<user>'}  (or Connection.allow)"
                if self._saved
                else ""
            )
            raise UserNotAllowedError(
                f"user {who or '<unknown>'!r} may not export through connection "
                f"{self._name!r}; allowed: {', '.join(sorted(self._allowed_users))}{how}"
            )
        record = AcknowledgementStore(self._state_dir).require(self, how=_HOW_FOR_CONNECTION)
        if self._saved:
            try:
                store.record_export(self._name, who)
            except OSError as err:  # the listing's "last export" is not worth failing an export
                logger.warning("could not record the export in connection %r: %s", self._name, err)
        return record

    def _current_profile(self, store: ProfileStore) -> ConnectionProfile:
        """The saved profile as it is now, refusing if it no longer describes this key and URL."""
        profile = store.require(self._name)
        if (profile.key_fingerprint, profile.base_url) != (self.key_fingerprint, self.base_url):
            raise ConfigurationError(
                f"connection {self._name!r} was saved again with key {profile.key_fingerprint} "
                f"at {profile.base_url}: load it again"
            )
        return profile

    # --- saving -------------------------------------------------------------------------------

    def save(
        self,
        *,
        allowed_users: Iterable[str] | None = None,
        key_env: str | None = None,
        key_file: str | Path | None = None,
        replace: bool = False,
        by: str | None = None,
    ) -> SavedConnection:
        """Save this connection by its name, for :meth:`load`, definitions and the CLI.

        The profile (never the key) goes to ``<state dir>/connections/<name>/``, owner-only. The
        key goes to the operating system's keychain (``pip install 'omnisend-sdk[keyring]'``);
        where there is none (a CI runner, a container), pass ``key_env`` or ``key_file`` and the
        profile names that place instead, and :meth:`load` reads the key there.

        Who may use it: the person saving it (``by``, default the operating-system user), plus
        ``allowed_users`` (default: the users this connection was made with).

        Args:
            allowed_users: Other operating-system users who may export through it.
            key_env: Keep the key out of the keychain: read it from this environment variable.
            key_file: Keep the key out of the keychain: read it from this file (only the key).
            replace: Overwrite a connection saved under this name before.
            by: Who saves it; defaults to the operating-system user.

        Returns:
            The saved connection, as the listing shows it.

        Raises:
            ConfigurationError: A name that cannot be saved, or already saved (without
                ``replace``); no keychain and neither ``key_env`` nor ``key_file``; a variable
                or file that holds another key.
            UserNotAllowedError: Replacing a saved connection ``by`` may not use.
        """
        name = checked_name(self._name)
        creator = _who(by)
        store = ProfileStore(self._state_dir)
        existing = _existing(store, name, replace=replace)
        if existing is not None and not replace:
            raise ConfigurationError(
                f"a connection called {name!r} is saved already: pass replace=True to overwrite "
                "it, or remove it first"
            )
        if existing is not None:  # replacing someone's connection takes being one of its users
            require_may_manage(existing, creator)
        clash = store.same_name_in_other_case(name)
        if clash is not None:
            raise ConfigurationError(
                f"a connection called {clash!r} is saved already; names differing only in case "
                "would share a folder on some systems"
            )
        others = allowed_users if allowed_users is not None else (self._allowed_users or ())
        source = self._keep_key(key_env, key_file)
        profile = ConnectionProfile(
            name=name,
            base_url=self.base_url,
            api_version=self.api_version,
            key_fingerprint=self.key_fingerprint,
            key_source=source,
            allowed_users={creator, *_names(others)},
            created_by=creator,
            created_at=datetime.now(UTC),
        )
        old = existing.key_source if existing is not None else None
        try:
            store.save(profile)
        except BaseException:
            if source.kind == "keychain" and source != old:  # do not leave an orphan key
                with contextlib.suppress(ConfigurationError):
                    _keychain.delete_key(source.where)
            raise
        if old is not None and old.kind == "keychain" and old != source:
            try:  # the key it replaced is no longer used by anything
                _keychain.delete_key(old.where)
            except ConfigurationError as err:
                logger.warning("could not delete the replaced key of %r: %s", name, err)
        self._saved = True
        self._allowed_users = profile.allowed_users
        return store.listed(profile)

    def _keep_key(self, key_env: str | None, key_file: str | Path | None) -> KeySource:
        """Where the saved key will be read from; stores it in the keychain when that is it."""
        if key_env is not None and key_file is not None:
            raise ConfigurationError("pass key_env or key_file, not both")
        if key_file is not None:
            source = KeySource("file", str(Path(key_file).expanduser().resolve()))
            read_key(source, connection=self._name, key_fingerprint=self.key_fingerprint)
            return source
        if key_env is not None:
            source = KeySource("env", key_env.strip())
            if os.environ.get(source.where, "").strip():  # unset is fine: set where it runs
                read_key(source, connection=self._name, key_fingerprint=self.key_fingerprint)
            return source
        source = KeySource.keychain(self._name, self.key_fingerprint)
        if not _keychain.keychain_available():
            raise ConfigurationError(
                f"cannot keep the key of {self._name!r} in the keychain: this machine has "
                f"{_keychain.describe_keychain()}. Save it with key_env='OMNISEND_API_KEY' "
                "or key_file='/path/to/key' to read the key from there instead"
            )
        _keychain.store_key(source.where, self._api_key.reveal())
        return source

    def _require_saved(self) -> None:
        # An object built by hand may hold another key than the profile of the same name.
        if not self._saved:
            raise ConfigurationError(
                f"connection {self._name!r} is not saved: save() it, or Connection.load() it"
            )

    def allow(self, *users: str, by: str | None = None) -> frozenset[str]:
        """Let ``users`` export through this saved connection too; returns who may now.

        Args:
            *users: Operating-system user names.
            by: Who makes the change (one of the allowed users); defaults to the
                operating-system user.

        Raises:
            ConfigurationError: The connection is not saved, or no user is named.
            UserNotAllowedError: ``by`` may not use the connection.
        """
        return self._change_users(by, add=users)

    def disallow(self, *users: str, by: str | None = None) -> frozenset[str]:
        """Stop ``users`` exporting through this saved connection; returns who still may.

        Raises:
            ConfigurationError: The connection is not saved, or nobody would be left.
            UserNotAllowedError: ``by`` may not use the connection.
        """
        return self._change_users(by, remove=users)

    def _change_users(
        self, by: str | None, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> frozenset[str]:
        self._require_saved()
        profile = change_allowed_users(
            self._name, add=add, remove=remove, by=by, state_dir=self._state_dir
        )
        self._allowed_users = profile.allowed_users
        return profile.allowed_users

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


# --- saved connections -----------------------------------------------------------------------


def _who(by: str | None) -> str:
    """The person acting: ``by``, else the operating-system user."""
    who = by.strip() if isinstance(by, str) and by.strip() else current_user()
    if who is None:
        raise ConfigurationError(
            "cannot tell which user you are (this process's user has no name): pass by="
        )
    return who


def _existing(store: ProfileStore, name: str, *, replace: bool) -> ConnectionProfile | None:
    """The profile saved as ``name``; a damaged one is no obstacle when replacing it."""
    try:
        return store.load(name)
    except ConfigurationError:
        if not replace:
            raise
        logger.warning("replacing the unreadable saved connection %r", name)
        return None


def require_may_manage(profile: ConnectionProfile, by: str | None) -> str:
    """Who is changing a saved connection, if they may: one of its allowed users.

    A guard against mistakes on a shared machine, like the export check: anyone who can write
    the state directory can still edit the files.

    Raises:
        UserNotAllowedError: ``by`` (default: the operating-system user) is not allowed.
    """
    who = by.strip() if isinstance(by, str) and by.strip() else current_user()
    if who is None or who not in profile.allowed_users:
        raise UserNotAllowedError(
            f"user {who or '<unknown>'!r} may not change connection {profile.name!r}; "
            f"allowed: {', '.join(sorted(profile.allowed_users))}"
        )
    return who


def change_allowed_users(
    name: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    by: str | None = None,
    state_dir: str | Path | None = None,
) -> ConnectionProfile:
    """Add or remove users of a saved connection, without reading its key; the new profile.

    Raises:
        ConfigurationError: Not saved, no user named, or nobody would be left.
        UserNotAllowedError: ``by`` may not use the connection.
    """
    store = ProfileStore(state_dir_or_default(state_dir))
    profile = store.require(name)
    require_may_manage(profile, by)
    added, removed = _names(add), _names(remove)
    if not added and not removed:
        raise ConfigurationError("name the users to allow or disallow")
    users = (profile.allowed_users | added) - removed
    if not users:
        raise ConfigurationError(
            f"that would leave nobody who may use connection {profile.name!r}; allow someone "
            "else first, or remove the connection"
        )
    changed = attrs.evolve(profile, allowed_users=users)
    store.save(changed)
    return changed


def _names(users: Iterable[str]) -> frozenset[str]:
    if isinstance(users, str):
        users = [users]
    return frozenset(u.strip() for u in users if isinstance(u, str) and u.strip())


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
