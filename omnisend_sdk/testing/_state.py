"""The emulator's in-memory store: contacts, their identifier index, segments, batches, counters.

Nothing here knows HTTP. Every mutation happens under the emulator's lock, held by the caller.
"""

from __future__ import annotations

import random
from typing import Any, Literal

import attrs

from ._rules import SegmentDefinition
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
    """A contact as the emulator keeps it; rendered to JSON only when answered."""

    id: str
    seq: int
    created_at: float
    updated_at: float
    identifiers: list[StoredIdentifier] = attrs.Factory(list)
    profile: dict[str, str] = attrs.Factory(dict)
    tags: list[str] = attrs.Factory(list)
    custom_properties: dict[str, Any] = attrs.Factory(dict)
    consents: list[dict[str, str]] = attrs.Factory(list)
    opt_ins: list[dict[str, str]] = attrs.Factory(list)


@attrs.define
class BatchItem:
    """One item of a batch and, once processed, its answer.

    Kept compact because a benchmark keeps a million of them for the 7-day retention: the request
    and an error answer as JSON text, a successful answer as the id of its contact (rendered when
    the items are read, so it shows the contact's state at reading time).
    """

    item_id: str
    request_json: str
    response_code: int | None = None
    contact_id: str | None = None
    problem_json: str | None = None


@attrs.define
class Batch:
    """A batch and its progress."""

    id: str
    method: str
    endpoint: str
    origin: str | None
    created_at: float
    items: list[BatchItem]
    report_order: list[int]
    status: str = "pending"
    started_at: float | None = None
    ended_at: float | None = None
    finished_count: int = 0
    errors_count: int = 0


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
        # (type, id) -> contact id. Compared exactly: Omnisend treats identifiers case-sensitively.
        self.owners: dict[tuple[str, str], str] = {}
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
        contact_id = self.owners.get((kind, value))
        return self.contacts[contact_id] if contact_id is not None else None
