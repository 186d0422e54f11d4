"""Packing contacts into batches: at most the API's item count and about 1 MB per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from omnisend_sdk import _json
from omnisend_sdk._constants import MAX_BATCH_BYTES
from omnisend_sdk.export._members import body_fingerprint

#: Room kept for the envelope around the items (``{"method":...,"items":[...]}``), in bytes.
_ENVELOPE_BYTES = 1_024


@attrs.define(slots=True)
class PendingItem:
    """One contact on its way to Omnisend, with where it came from.

    Attributes:
        row: The source row number.
        email: The normalised email, which identifies the item in Omnisend's batch answers.
        body: The contact's request body, encoded as JSON (empty for an earlier run's row whose
            body this run has not made): only the bytes are kept, which are sent as they are
            and, unlike a dict of lists and dicts, leave the garbage collector nothing to scan.
        size: The body's size in bytes (plus its separator).
        attempts: Times Omnisend processed the item and answered "not now" (429 or 5xx): what
            ``max_item_attempts`` counts. A batch refused whole, lost or stopped before the item
            does not count against it.
        sends: Batches the item has been sent in, whatever became of them (a safety stop).
        fingerprint: The fingerprint of the encoded body, which the members record once
            Omnisend accepts it.
        tag: Whether the contact needs the segment tag once exported (not when it wears it
            already, or without membership).
        record: The fingerprint of the source record the body was mapped from (0: unknown),
            which the members record with the body's.
    """

    row: int
    email: str
    body: bytes
    size: int
    attempts: int = 0
    sends: int = 0
    fingerprint: int = 0
    tag: bool = True
    record: int = 0

    @classmethod
    def of(
        cls, row: int, email: str, body: Mapping[str, Any], *, tag: bool = True, record: int = 0
    ) -> PendingItem:
        """An item, encoded once: measured so batches can be cut before 1 MB, and fingerprinted."""
        return cls.encoded(row, email, _json.dumps(body), tag=tag, record=record)

    @classmethod
    def encoded(
        cls, row: int, email: str, encoded: bytes, *, tag: bool = True, record: int = 0
    ) -> PendingItem:
        """An item whose body is already encoded as JSON."""
        return cls(
            row=row,
            email=email,
            body=encoded,
            size=len(encoded) + 1,
            fingerprint=body_fingerprint(encoded),
            tag=tag,
            record=record,
        )


@attrs.frozen
class PreparedRow:
    """A row the first pass admitted and found to send, as the work list keeps it."""

    row: int
    email: str
    fingerprint: int
    tag: bool
    body: bytes
    record: int = 0

    def item(self) -> PendingItem:
        """The row as the engine packs it."""
        return PendingItem(
            row=self.row,
            email=self.email,
            body=self.body,
            size=len(self.body) + 1,
            fingerprint=self.fingerprint,
            tag=self.tag,
            record=self.record,
        )


class Batcher:
    """Collects items and hands out full batches.

    Args:
        max_items: Items per batch (100 in version 2026-03-15).
        max_bytes: The request size not to exceed.
    """

    def __init__(self, max_items: int, max_bytes: int = MAX_BATCH_BYTES) -> None:
        self._max_items = max_items
        self._max_bytes = max_bytes - _ENVELOPE_BYTES
        self._items: list[PendingItem] = []
        self._bytes = 0

    def add(self, item: PendingItem) -> list[list[PendingItem]]:
        """Add an item; returns the batches it completed (usually none, at most two)."""
        ready = []
        if self._items and self._bytes + item.size > self._max_bytes:
            ready.append(self._take())
        self._items.append(item)
        self._bytes += item.size
        if len(self._items) >= self._max_items:
            ready.append(self._take())
        return ready

    def flush(self) -> list[PendingItem] | None:
        """The items collected so far as a batch, or None if there are none."""
        return self._take() if self._items else None

    def _take(self) -> list[PendingItem]:
        batch, self._items, self._bytes = self._items, [], 0
        return batch

    def __len__(self) -> int:
        return len(self._items)
