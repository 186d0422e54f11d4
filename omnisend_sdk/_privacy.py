"""Personal data leaving the user's boundary: the privacy acknowledgement, and naming secrets.

Exporting a segment sends people's personal data to Omnisend, outside the compliance boundary of
whoever holds the data. Before the first export through a key, a named person must say they accept
that. The record (:class:`PrivacyAcknowledgement`) says who and when, names the key by its
fingerprint only, and is stored as a small JSON file in the state directory, so that every later
process using the same key and URL finds it.

An emulator on this machine (a loopback base URL) needs no acknowledgement: nothing leaves.
Personal values are masked where issues are made (``omnisend_sdk.mapping.mask_value``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import attrs
import httpx

from omnisend_sdk._config import _is_loopback
from omnisend_sdk._constants import LOGGER_NAME
from omnisend_sdk._errors import ConfigurationError, PrivacyAcknowledgementError
from omnisend_sdk._state import write_atomically

logger = logging.getLogger(LOGGER_NAME)

#: Sub-directory of the state directory holding one acknowledgement file per key and URL.
ACKNOWLEDGEMENTS_DIR: Final = "privacy"
#: Version of the acknowledgement file's layout, so a later SDK can read older files.
_RECORD_FORMAT: Final = 1


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible id for a secret (the first 12 hex digits of its SHA-256).

    Lets a report say which key was used without holding the key.
    """
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def is_loopback_url(base_url: str) -> bool:
    """Whether a URL points at this machine (an emulator): personal data sent there stays here."""
    return _is_loopback(httpx.URL(base_url).host)


class KeyHolder(Protocol):
    """Anything that names a key and a URL: a connection or either client."""

    @property
    def key_fingerprint(self) -> str:
        """The key's fingerprint."""
        ...

    @property
    def base_url(self) -> str:
        """The URL requests go to."""
        ...


def aware_utc(value: datetime) -> datetime:
    """A stored time in UTC; a naive one is refused (its moment would depend on the machine)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError("a saved time must be timezone-aware")
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
    at: datetime = attrs.field(converter=aware_utc)
    key_fingerprint: str
    base_url: str

    @classmethod
    def given_now(
        cls, by: str, holder: KeyHolder, *, connection_name: str | None
    ) -> PrivacyAcknowledgement:
        """The acknowledgement ``by`` gives now for ``holder``'s key and URL.

        Raises:
            ConfigurationError: ``by`` is empty.
        """
        return cls(
            connection_name=connection_name,
            by=_person(by),
            at=datetime.now(UTC),
            key_fingerprint=holder.key_fingerprint,
            base_url=holder.base_url,
        )

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


class AcknowledgementStore:
    """One JSON file per key and URL, under ``<state dir>/privacy``.

    A file per key (not one shared file) means two processes acknowledging different keys never
    overwrite each other's records.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._dir = state_dir / ACKNOWLEDGEMENTS_DIR

    def path_for(self, key_fingerprint: str, base_url: str) -> Path:
        # Hash the pair so any URL gives a safe file name; the record repeats both in full.
        digest = hashlib.sha256(f"{key_fingerprint}\n{base_url}".encode()).hexdigest()[:32]
        return self._dir / f"{digest}.json"

    def load(self, holder: KeyHolder) -> PrivacyAcknowledgement | None:
        """The acknowledgement stored for ``holder``'s key and URL, if any readable one."""
        key_fingerprint, base_url = holder.key_fingerprint, holder.base_url
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
        """Write ``record`` (owner-only, atomically), replacing any earlier one for its key."""
        path = self.path_for(record.key_fingerprint, record.base_url)
        text = json.dumps({"format": _RECORD_FORMAT, "acknowledgement": record.to_dict()}, indent=2)
        write_atomically(path, text + "\n")
        return path

    def require(self, holder: KeyHolder, *, how: str) -> PrivacyAcknowledgement | None:
        """The acknowledgement an export through ``holder`` needs; ``None`` for a loopback URL.

        Args:
            holder: The connection or client that will export.
            how: The call that gives the acknowledgement, for the error message.

        Raises:
            PrivacyAcknowledgementError: Nobody has acknowledged this key and URL.
        """
        if is_loopback_url(holder.base_url):
            return None
        record = self.load(holder)
        if record is not None:
            return record
        raise PrivacyAcknowledgementError(
            f"no privacy acknowledgement for key {holder.key_fingerprint} at {holder.base_url}: "
            "exporting sends people's personal data to Omnisend, outside your compliance "
            f"boundary. The person responsible for that data must accept this once: call {how} "
            f"(it is recorded in {self.state_dir})"
        )


def _person(by: object) -> str:
    name = by.strip() if isinstance(by, str) else ""
    if not name:
        raise ConfigurationError("acknowledge_privacy needs the name of the person accepting")
    return name
