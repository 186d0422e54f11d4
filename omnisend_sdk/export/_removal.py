"""Removing a saved connection: its profile, its key, its acknowledgement and its export states.

What belongs to the *store* (the key's fingerprint and the URL) rather than to the name, the
privacy acknowledgement and the export states, goes only when no other saved connection uses the
same key and URL: removing one of two names for a store must not break the other.

An export state (``<state dir>/exports/*.sqlite``, the journal and refresh state of one segment)
keeps the key fingerprint and URL of its store, which say whose it is. A state written before it
kept them is the store's when its kept tag, hashed with the store, gives its kept hash; one of
those without a tag (``membership="none"``) cannot be told apart and stays, as does a state
written to a custom ``state_file`` outside the state directory.

Each state is locked as a run would lock it, so a removal never pulls the state from under an
export that is running: it refuses, and removes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path
from typing import Final

import attrs

from omnisend_sdk import _keychain
from omnisend_sdk._connection import require_may_manage
from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError
from omnisend_sdk._privacy import AcknowledgementStore, KeyHolder
from omnisend_sdk._profiles import ConnectionProfile, ProfileStore
from omnisend_sdk._state import state_dir_or_default
from omnisend_sdk.export._journal import export_key
from omnisend_sdk.export._lock import ExportLockedError, RunLock

logger = logging.getLogger(LOGGER_NAME)

#: Where export states live under the state directory (see ``journal_path``).
_EXPORTS_DIR: Final = "exports"
#: What SQLite keeps beside a database in WAL mode, or after a crash in rollback mode.
_SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")


@attrs.frozen(kw_only=True)
class ConnectionRemoval:
    """What removing a saved connection deleted, and what it left and why.

    Attributes:
        name: The connection removed.
        deleted: Every file deleted: the profile, the acknowledgement, export states.
        key_deleted: Whether its key was deleted from the keychain.
        key_note: Why the key was not deleted, if it was not (kept in a variable or a file, no
            keychain here...).
        shared_with: Other saved connections with the same key and URL, for whose sake the
            acknowledgement and export states were kept.
    """

    name: str
    deleted: tuple[Path, ...]
    key_deleted: bool
    key_note: str | None
    shared_with: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"removed connection {self.name!r}"]
        lines.append(
            "  key: deleted from the keychain" if self.key_deleted else f"  key: {self.key_note}"
        )
        if self.shared_with:
            lines.append(
                "  privacy acknowledgement and export states kept: the same key and URL are "
                f"saved as {', '.join(self.shared_with)}"
            )
        lines += [f"  deleted {path}" for path in self.deleted]
        return "\n".join(lines)


def remove_connection(
    name: str, *, by: str | None = None, state_dir: str | Path | None = None
) -> ConnectionRemoval:
    """Remove a saved connection: its profile, its key in the keychain, its privacy
    acknowledgement and every export state (journal and refresh state) of its store.

    Afterwards exports by that name refuse, saying when and by whom it was removed, until it is
    saved again. Contacts already in Omnisend are not touched.

    Args:
        name: The saved connection.
        by: Who removes it (one of its allowed users); defaults to the operating-system user.
        state_dir: Where it is saved; defaults to :func:`~omnisend_sdk.export.default_state_dir`.

    Returns:
        What was deleted and what was kept.

    Raises:
        ConfigurationError: No connection saved by that name.
        UserNotAllowedError: ``by`` may not use the connection.
        ExportLockedError: An export through it is running; nothing was removed.
    """
    store = ProfileStore(state_dir_or_default(state_dir))
    profile = store.require(name)
    who = require_may_manage(profile, by)
    shared_with = tuple(
        other.name
        for other in store.profiles()
        if other.name != profile.name and _same_store(other, profile)
    )
    states = [] if shared_with else store_states(store.state_dir, profile)
    deleted: list[Path] = []
    with contextlib.ExitStack() as locks:
        for state in states:
            try:
                locks.enter_context(RunLock(state, holder=f"removal of {profile.name!r} by {who}"))
            except ExportLockedError as err:
                raise ExportLockedError(
                    f"an export through connection {profile.name!r} is running ({state.name}): "
                    f"remove it once that export has ended; nothing was removed. {err}"
                ) from err
        # The profile first: from here on no export can start by this name.
        deleted += store.delete(profile.name, by=who)
        key_deleted, key_note = _delete_key(profile)
        if not shared_with:
            acknowledgement = AcknowledgementStore(store.state_dir).path_for(
                profile.key_fingerprint, profile.base_url
            )
            deleted += _unlink(acknowledgement)
        for state in states:
            deleted += _unlink(state, *(_companion(state, end) for end in _SQLITE_COMPANIONS))
    for state in states:  # released: a lock file cannot be deleted while held (Windows)
        deleted += _unlink(state.with_name(state.name + ".lock"))
    return ConnectionRemoval(
        name=profile.name,
        deleted=tuple(deleted),
        key_deleted=key_deleted,
        key_note=key_note,
        shared_with=shared_with,
    )


def store_states(state_dir: Path, store: KeyHolder) -> list[Path]:
    """The export states under ``state_dir`` that belong to ``store`` (key and URL)."""
    exports = state_dir / _EXPORTS_DIR
    if not exports.is_dir():
        return []
    return [path for path in sorted(exports.glob("*.sqlite")) if _belongs(path, store)]


def _belongs(path: Path, store: KeyHolder) -> bool:
    kept = _kept_facts(path)
    if "key_fingerprint" in kept and "base_url" in kept:  # a state that names its store
        return (kept["key_fingerprint"], kept["base_url"]) == (
            store.key_fingerprint,
            store.base_url,
        )
    tag, key = kept.get("segment_tag"), kept.get("export_key")
    # The tag is the segment's name unless the export chose another one.
    return bool(tag) and key is not None and export_key(tag or "", store) == key


def _kept_facts(path: Path) -> dict[str, str]:
    """The facts a state file keeps from run to run (its ``state`` table), read-only."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            return dict(db.execute("SELECT key, value FROM state").fetchall())
    except sqlite3.Error as err:
        logger.warning("cannot read export state %s, leaving it: %s", path, err)
        return {}


def _same_store(one: ConnectionProfile, other: ConnectionProfile) -> bool:
    return (one.key_fingerprint, one.base_url) == (other.key_fingerprint, other.base_url)


def _delete_key(profile: ConnectionProfile) -> tuple[bool, str | None]:
    source = profile.key_source
    if source.kind != "keychain":
        return False, f"left where it is ({source}): the SDK did not put it there"
    try:
        if _keychain.delete_key(source.where):
            return True, None
    except ConfigurationError as err:
        return False, f"not deleted ({err}); delete the keychain entry {source.where!r} by hand"
    return False, "was no longer in the keychain"


def _companion(path: Path, ending: str) -> Path:
    return path.with_name(path.name + ending)


def _unlink(*paths: Path) -> list[Path]:
    deleted = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            deleted.append(path)
    return deleted
