"""Saved connection profiles: what a named connection is, kept in the state directory.

One directory per connection under ``<state dir>/connections/<name>/``, owner-only (0700), with
owner-only files (0600), each written whole or not at all:

- ``connection.json``: the profile (name, URL, API version, the key's fingerprint and where the
  key is read from, who may use it, who saved it and when). Never the key.
- ``last-export.json``: when the last export through it started, and who ran it. A file of its
  own so that an export recording itself never overwrites a change to who may use it.
- ``removed.json``: left when the connection is removed, so that an export by that name refuses
  with a message saying so (instead of quietly taking a key from the environment).

The privacy acknowledgement is not copied here: it belongs to the key and URL
(:mod:`omnisend_sdk._privacy`), where every export already looks for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs

from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._key_sources import KeySource
from omnisend_sdk._privacy import (
    AcknowledgementStore,
    PrivacyAcknowledgement,
    aware_utc,
    is_loopback_url,
)
from omnisend_sdk._state import DIR_MODE, state_dir_or_default, write_atomically

logger = logging.getLogger(LOGGER_NAME)

#: Sub-directory of the state directory holding one directory per saved connection.
CONNECTIONS_DIR: Final = "connections"
_PROFILE_FILE: Final = "connection.json"
_LAST_EXPORT_FILE: Final = "last-export.json"
_REMOVED_FILE: Final = "removed.json"
#: Version of the files' layout, so a later SDK can read older ones.
_FORMAT: Final = 1
#: A connection's name is its directory's name: letters, digits, ``.``, ``_``, ``-``, no leading
#: dot (a hidden directory) and short enough for any file system.
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_saveable_name(name: object) -> bool:
    """Whether ``name`` could be a saved connection's (``"built-in emulator"`` never is)."""
    return isinstance(name, str) and _NAME.fullmatch(name.strip()) is not None


def checked_name(name: object) -> str:
    """A connection name that can be saved.

    Raises:
        ConfigurationError: Empty, or with characters a directory name cannot safely hold.
    """
    text = name.strip() if isinstance(name, str) else ""
    if not _NAME.fullmatch(text):
        raise ConfigurationError(
            f"cannot save a connection called {name!r}: use 1 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return text


def _users(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):  # a lone name would otherwise become a set of its letters
        value = [value]
    users = frozenset(u.strip() for u in value if isinstance(u, str) and u.strip())
    if not users:
        raise ConfigurationError("a saved connection needs at least one user who may use it")
    return users


@attrs.frozen(kw_only=True)
class ConnectionProfile:
    """A saved connection, as stored: everything but the key.

    Attributes:
        name: The connection's name.
        base_url: The Omnisend URL.
        api_version: The API version spoken.
        key_fingerprint: The key's fingerprint (never the key).
        key_source: Where the key is read from.
        allowed_users: The operating-system users who may export through it.
        created_by: Who saved it.
        created_at: When, in UTC.
    """

    name: str = attrs.field(converter=checked_name)
    base_url: str
    api_version: str
    key_fingerprint: str
    key_source: KeySource
    allowed_users: frozenset[str] = attrs.field(converter=_users)
    created_by: str
    created_at: datetime = attrs.field(converter=aware_utc)

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data."""
        return {
            "name": self.name,
            "base_url": self.base_url,
            "api_version": self.api_version,
            "key_fingerprint": self.key_fingerprint,
            "key_source": self.key_source.to_dict(),
            "allowed_users": sorted(self.allowed_users),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConnectionProfile:
        """What :meth:`to_dict` gave.

        Raises:
            ConfigurationError: Missing or mistyped fields.
        """
        try:
            texts = ("name", "base_url", "api_version", "key_fingerprint", "created_by")
            if not all(isinstance(data[field], str) for field in texts):
                raise TypeError("a field has the wrong type")
            users = data["allowed_users"]
            if not isinstance(users, list):
                raise TypeError("allowed_users must be a list")
            return cls(
                name=data["name"],
                base_url=data["base_url"],
                api_version=data["api_version"],
                key_fingerprint=data["key_fingerprint"],
                key_source=KeySource.from_dict(data["key_source"]),
                allowed_users=users,
                created_by=data["created_by"],
                created_at=datetime.fromisoformat(data["created_at"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigurationError(f"not a saved connection: {err}") from err


@attrs.frozen(kw_only=True)
class _Stamp:
    """When something happened to a saved connection, and who did it."""

    at: datetime = attrs.field(converter=aware_utc)
    by: str | None

    def _when_and_who(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} UTC by {self.by or '<unknown user>'}"


@attrs.frozen(kw_only=True)
class LastExport(_Stamp):
    """The last export through a saved connection: when it started, and who ran it.

    Recorded when an export (a dry run or a test send too) has passed the connection's checks,
    before its first request; its report says how it went.
    """

    def __str__(self) -> str:
        return self._when_and_who()


@attrs.frozen(kw_only=True)
class Removal(_Stamp):
    """When a saved connection was removed, and by whom."""

    def __str__(self) -> str:
        return f"removed at {self._when_and_who()}"


@attrs.frozen(kw_only=True)
class SavedConnection:
    """One saved connection as ``omnisend-export connections`` lists it. Never holds the key.

    Attributes:
        profile: What was saved: name, URL, key fingerprint, key source, allowed users.
        acknowledgement: The privacy acknowledgement for its key and URL, if anyone gave it.
        last_export: The last export through it, if any ran.
    """

    profile: ConnectionProfile
    acknowledgement: PrivacyAcknowledgement | None
    last_export: LastExport | None

    @property
    def name(self) -> str:
        """The connection's name."""
        return self.profile.name

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data (``connections --json``)."""
        ack, last = self.acknowledgement, self.last_export
        return {
            **self.profile.to_dict(),
            "acknowledgement": ack.to_dict() if ack else None,
            "last_export": {"at": last.at.isoformat(), "by": last.by} if last else None,
        }

    def __str__(self) -> str:
        profile, ack = self.profile, self.acknowledgement
        privacy = (
            str(ack)
            if ack is not None
            else "not needed: the URL is on this machine"
            if is_loopback_url(profile.base_url)
            else "not acknowledged"
        )
        lines = [
            profile.name,
            f"  url:          {profile.base_url} (API {profile.api_version})",
            f"  key:          {profile.key_fingerprint}, {profile.key_source}",
            f"  may use it:   {', '.join(sorted(profile.allowed_users))}",
            f"  saved:        {profile.created_at:%Y-%m-%d %H:%M} UTC by {profile.created_by}",
            f"  privacy:      {privacy}",
            f"  last export:  {self.last_export or 'none yet'}",
        ]
        return "\n".join(lines)


def _stamp(at: datetime, by: str | None) -> dict[str, Any]:
    return {"format": _FORMAT, "at": at.isoformat(), "by": by}


def _read_stamp(path: Path) -> tuple[datetime, str | None] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        by = data["by"]
        if not isinstance(by, str | None):
            raise TypeError("by must be text")
        return aware_utc(datetime.fromisoformat(data["at"])), by
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, ConfigurationError) as err:
        logger.warning("ignoring unreadable %s: %s", path, err)
        return None


class ProfileStore:
    """The saved connections of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.root = state_dir / CONNECTIONS_DIR

    def directory(self, name: str) -> Path:
        """The directory of the connection called ``name``."""
        return self.root / checked_name(name)

    def _private_directory(self, name: str) -> Path:
        """The connection's directory, made owner-only with every level the SDK creates.

        ``mkdir(parents=True)`` would give the levels above the last the umask's mode (often
        0755); the profile must sit in directories only its owner can list.
        """
        directory = self.directory(name)
        for level in (self.state_dir, self.root, directory):
            if not level.is_dir():
                level.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                os.chmod(level, DIR_MODE)
        for level in (self.root, directory):  # ours alone: repair a mode loosened by hand
            os.chmod(level, DIR_MODE)
        return directory

    # --- the profile ------------------------------------------------------------------------

    def load(self, name: str) -> ConnectionProfile | None:
        """The profile saved as ``name``, or ``None`` when there is none.

        Raises:
            ConfigurationError: The file exists but cannot be read as a profile (naming it):
                a damaged profile must not quietly turn into "not saved".
        """
        path = self.directory(name) / _PROFILE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ConfigurationError(f"cannot read saved connection {path}: {err}") from err
        if not isinstance(data, Mapping) or not isinstance(data.get("connection"), Mapping):
            raise ConfigurationError(f"{path} is not a saved connection")
        try:
            profile = ConnectionProfile.from_dict(data["connection"])
        except ConfigurationError as err:
            raise ConfigurationError(f"{path}: {err}") from err
        if profile.name != name:
            raise ConfigurationError(f"{path} holds connection {profile.name!r}, not {name!r}")
        return profile

    def require(self, name: str) -> ConnectionProfile:
        """The profile saved as ``name``.

        Raises:
            ConfigurationError: Never saved (naming those that are), or removed.
        """
        name = checked_name(name)
        profile = self.load(name)
        if profile is not None:
            return profile
        self.refuse_if_removed(name)
        saved = ", ".join(self.names()) or "none"
        raise ConfigurationError(
            f"no saved connection {name!r} in {self.root} (saved: {saved}); save it with "
            f"omnisend-export connect {name}"
        )

    def refuse_if_removed(self, name: str) -> None:
        """Refuse a name whose connection was removed (and not saved again).

        Raises:
            ConfigurationError: Saying when and by whom it was removed, and how to save it again.
        """
        removal = self.removal(name)
        if removal is not None:
            raise ConfigurationError(
                f"connection {name!r} was {removal}; exports through it refuse. Save it again "
                f"(omnisend-export connect {name}) to use it"
            )

    def listed(self, profile: ConnectionProfile) -> SavedConnection:
        """``profile`` with its privacy acknowledgement and last export, for the listing."""
        return SavedConnection(
            profile=profile,
            acknowledgement=AcknowledgementStore(self.state_dir).load(profile),
            last_export=self.last_export(profile.name),
        )

    def save(self, profile: ConnectionProfile) -> Path:
        """Write ``profile`` (owner-only, atomically); a removal left under its name goes."""
        directory = self._private_directory(profile.name)
        path = directory / _PROFILE_FILE
        text = json.dumps({"format": _FORMAT, "connection": profile.to_dict()}, indent=2)
        write_atomically(path, text + "\n")
        (directory / _REMOVED_FILE).unlink(missing_ok=True)
        return path

    def names(self) -> list[str]:
        """The names of the saved connections, sorted (removed ones left out)."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if _NAME.fullmatch(entry.name) and (entry / _PROFILE_FILE).is_file()
        )

    def profiles(self) -> list[ConnectionProfile]:
        """Every readable saved profile, sorted by name; an unreadable one is logged."""
        found = []
        for name in self.names():
            try:
                profile = self.load(name)
            except ConfigurationError as err:
                logger.warning("skipping saved connection %r: %s", name, err)
                continue
            if profile is not None:
                found.append(profile)
        return found

    def same_name_in_other_case(self, name: str) -> str | None:
        """A saved connection whose name differs from ``name`` only in case.

        On a case-insensitive file system (macOS, Windows) the two would share a directory.
        """
        return next(
            (other for other in self.names() if other != name and other.lower() == name.lower()),
            None,
        )

    # --- the last export, and removal ---------------------------------------------------------

    def record_export(self, name: str, by: str | None, at: datetime | None = None) -> None:
        """Record that an export through ``name`` is starting now (``at``), run by ``by``."""
        path = self._private_directory(name) / _LAST_EXPORT_FILE
        write_atomically(path, json.dumps(_stamp(at or datetime.now(UTC), by)) + "\n")

    def last_export(self, name: str) -> LastExport | None:
        """The last export recorded for ``name``, if any."""
        stamp = _read_stamp(self.directory(name) / _LAST_EXPORT_FILE)
        return LastExport(at=stamp[0], by=stamp[1]) if stamp else None

    def removal(self, name: str) -> Removal | None:
        """When ``name`` was removed, if it was (and not saved again since)."""
        stamp = _read_stamp(self.directory(name) / _REMOVED_FILE)
        return Removal(at=stamp[0], by=stamp[1]) if stamp else None

    def delete(self, name: str, *, by: str | None) -> list[Path]:
        """Delete the profile and its records, leaving a note of the removal; the paths deleted."""
        directory = self._private_directory(name)
        write_atomically(
            directory / _REMOVED_FILE, json.dumps(_stamp(datetime.now(UTC), by)) + "\n"
        )
        deleted = []
        for file in (_PROFILE_FILE, _LAST_EXPORT_FILE):
            path = directory / file
            if path.exists():
                path.unlink()
                deleted.append(path)
        return deleted


def saved_connections(*, state_dir: str | Path | None = None) -> list[SavedConnection]:
    """The saved connections, sorted by name: URL, key fingerprint and where the key is read
    from, who may use each, the privacy acknowledgement and the last export. Reads no key.

    Args:
        state_dir: Where they are saved; defaults to
            :func:`~omnisend_sdk.export.default_state_dir`.
    """
    store = ProfileStore(state_dir_or_default(state_dir))
    return [store.listed(profile) for profile in store.profiles()]
