"""The emulator's in-memory store: contacts, their identifier index, segments, batches, counters.

Nothing here knows HTTP. Every mutation happens under the emulator's lock, held by the caller.
"""

from __future__ import annotations

import collections
import random
from typing import Any, Literal

import attrs

from ._rules import IDENTIFIER_TYPES, SegmentDefinition
from ._settings import Settings
from ._work import WorkQueue


@attrs.define
class StoredIdentifier:
    """An identifier of a contact with the state of its one channel (email or sms)."""

    type: str
    id: str
    status: str
    status_changed_at: float
    source: str | None = None


@attrs.define
class StoredContact:
    """A contact as the emulator keeps it; rendered to JSON only when answered.

    Its collections are tuples, replaced rather than changed in place: the garbage collector's
    scans of every kept object are the largest cost of storing a million contacts, and it scans a
    tuple faster than a list, a tuple of strings or flat dicts not at all, the empty tuple once.
    """

    id: str
    seq: int
    created_at: float
    updated_at: float
    identifiers: tuple[StoredIdentifier, ...] = ()
    profile: dict[str, str] = attrs.Factory(dict)
    tags: tuple[str, ...] = ()
    custom_properties: dict[str, Any] = attrs.Factory(dict)
    consents: tuple[dict[str, str], ...] = ()
    opt_ins: tuple[dict[str, str], ...] = ()


ItemOutcome = tuple[int, str | None, str | None]
"""A processed batch item: its ``responseCode`` and either the id of its contact (a success) or its
problem as JSON text (a failure). A plain tuple of strings, which the garbage collector stops
scanning."""


@attrs.define
class Batch:
    """A batch and its progress.

    Kept compact because a benchmark keeps a million items for the 7-day retention: the body as
    sent (the items' requests are decoded from it again when the items are read) and, per item,
    its id and, once processed, its :data:`ItemOutcome`, in tuples of strings that the garbage
    collector does not scan (scanning a million objects is what storing a million contacts costs
    most). A success keeps the id of its contact, rendered when the items are read, so it shows the
    contact's state at reading time.

    Attributes:
        item_ids: the items' ids, in the order sent.
        sent: the request body as sent.
        report_order: the order in which ``GET /batches/{id}/items`` lists the items.
        unprocessed: the decoded requests of the items not processed yet, next first (decoded
            with the body when it was accepted; processing takes them in the order sent).
        outcomes: the outcome of each processed item, in the order sent.
    """

    id: str
    method: str
    endpoint: str
    origin: str | None
    created_at: float
    item_ids: tuple[str, ...]
    sent: bytes
    report_order: tuple[int, ...]
    unprocessed: collections.deque[Any]
    outcomes: list[ItemOutcome] = attrs.Factory(list)
    status: str = "pending"
    started_at: float | None = None
    ended_at: float | None = None
    errors_count: int = 0

    @property
    def total_count(self) -> int:
        """The number of items."""
        return len(self.item_ids)

    @property
    def finished_count(self) -> int:
        """The number of items processed, failed ones included."""
        return len(self.outcomes)


SegmentStatus = Literal["building", "ready"]
"""The statuses the emulator gives a segment (``archived`` is not emulated)."""


@attrs.define
class StoredSegment:
    """A segment made through ``POST /segments``.

    Attributes:
        definition: its name and tag rules, as last sent.
        status: ``building`` after a create or update, then ``ready``.
        build: numbers the builds, so the end of a build readies the segment only when no later
            build has started since.
        members_while_building: the members when the build started, i.e. as of the last time the
            segment was ready (none for a new one); the API shows them until the build ends.
    """

    id: str
    seq: int
    created_at: float
    updated_at: float
    definition: SegmentDefinition
    status: SegmentStatus = "building"
    build: int = 0
    members_while_building: frozenset[str] = frozenset()


@attrs.define
class EmulatorStats:
    """Counters for tests; ``OmnisendEmulator.stats`` returns a copy.

    Attributes:
        requests: requests received per endpoint family (``contacts``, ``tags``, ``batches``,
            ``segments``, ``segment_writes``, ``other``), whatever their answer.
        rate_limited: 429 answers sent (limit reached or injected).
        faults_injected: injected faults of any kind.
        contacts_created: contacts created (single calls and batch items).
        contacts_updated: existing contacts written to.
        welcome_messages: welcome messages Omnisend would have sent (new identifiers, welcome
            workflow on, ``sendWelcomeMessage`` not false).
        status_changes: channel statuses of existing identifiers that changed value.
        resubscriptions: channel statuses that went from ``unsubscribed`` to ``subscribed``.
        tag_replacements: contact writes whose ``tags`` removed at least one existing tag.
        batches_created: batches accepted by ``POST /batches``.
    """

    requests: dict[str, int] = attrs.Factory(dict)
    rate_limited: int = 0
    faults_injected: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    welcome_messages: int = 0
    status_changes: int = 0
    resubscriptions: int = 0
    tag_replacements: int = 0
    batches_created: int = 0

    def copy(self) -> EmulatorStats:
        """A snapshot that later requests do not change."""
        return attrs.evolve(self, requests=dict(self.requests))


class State:
    """All the emulator's data."""

    def __init__(self, settings: Settings, seed: int | None) -> None:
        """Create an empty store.

        Args:
            settings: the behaviour switches.
            seed: seed for ids and item order; None draws one from the operating system.
        """
        self.settings = settings
        self.rng = random.Random(seed)  # noqa: S311 - ids must be unique, not unguessable
        self.contacts: dict[str, StoredContact] = {}
        # Identifier type -> identifier -> contact id. Compared exactly: Omnisend treats identifiers
        # case-sensitively. A dict per type spares a (type, id) key tuple per identifier.
        self.owners: dict[str, dict[str, str]] = {kind: {} for kind in IDENTIFIER_TYPES}
        self.segments: dict[str, StoredSegment] = {}
        # Segment id -> contact ids, for segments whose members a test sets by hand
        # (``OmnisendEmulator.add_to_segment``) instead of by rules the emulator evaluates.
        self.seeded_segments: dict[str, set[str]] = {}
        self.batches: dict[str, Batch] = {}
        self.stats = EmulatorStats()
        self.work = WorkQueue()
        self._seq = 0

    def new_id(self) -> str:
        """A fresh 24-hex-digit id, the shape of Omnisend's ids."""
        return f"{self.rng.getrandbits(96):024x}"

    def next_seq(self) -> int:
        """A creation sequence number, the tie-breaker for equal timestamps."""
        self._seq += 1
        return self._seq

    def owner(self, kind: str, value: str) -> StoredContact | None:
        """The contact holding identifier ``(kind, value)``, if any."""
        contact_id = self.owners[kind].get(value)
        return self.contacts[contact_id] if contact_id is not None else None

    def claim(self, kind: str, value: str, contact: StoredContact) -> None:
        """Record that ``contact`` holds identifier ``(kind, value)``."""
        self.owners[kind][value] = contact.id
