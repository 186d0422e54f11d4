"""The first row of each email, kept compactly: 12 bytes a slot instead of a dict entry.

A dict of a million addresses costs about 180 MB: the strings, the row numbers and the entries.
What the "first" duplicate policy needs is less: for each address a 64-bit key and the row it was
first seen in. :class:`FirstRowTable` keeps exactly that, in two flat arrays searched by linear
probing (about 17 MB at a million addresses), and :class:`CompactSeenEmails` keys it by Python's
own string hash, which a ``str`` computes once and caches.

Two addresses sharing a 64-bit key (about one chance in 30 million at a million addresses) would
report the second as a duplicate of the first. Python's string hash is salted per process, so a
rerun does not meet the same pair again.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Final

#: The table grows past this share of its slots taken. Linear probing stays short up to about
#: 0.7 (two or three slots looked at for a new key on average); the table is 1/0.7 = 1.43 slots
#: an address, 17 MB at a million addresses, where a power-of-two table at half load takes 25 MB.
_MAX_LOAD: Final = 0.7
#: Slots in the smallest table.
_MIN_SLOTS: Final = 1 << 12


class FirstRowTable:
    """Row numbers by 64-bit key: the row each key was first recorded with.

    Key 0 marks an empty slot, so it counts as key 1: one more pair of keys, among 2**64, that
    share a row.

    Args:
        expected: How many distinct keys to expect, when known (a counted source): the table is
            sized for them up front, since growing costs time and briefly holds both tables.
    """

    __slots__ = ("_keys", "_limit", "_rows", "_size")

    def __init__(self, expected: int = 0) -> None:
        self._size = 0
        self._allocate(max(_MIN_SLOTS, int(expected / _MAX_LOAD) + 1))

    def __len__(self) -> int:
        return self._size

    def first_row_of(self, key: int, row: int) -> int:
        """The row ``key`` was first recorded with; records ``row`` for it when it is new."""
        return self.first_rows_of((key,), row)[0]  # type: ignore[return-value]

    def first_rows_of(self, keys: Sequence[int | None], first: int) -> list[int | None]:
        """:meth:`first_row_of` for each key of consecutive rows numbered from ``first``:
        ``None`` for a ``None`` key (a row with nothing to record).

        One loop over the batch, with the table in local names: this runs once a row, and a
        method call a row would cost more than the search itself.
        """
        if (self._size + len(keys)) > self._limit:
            self._grow(self._size + len(keys))
        table, rows = self._keys, self._rows
        slots = len(table)
        size = self._size
        kept: list[int | None] = []
        append = kept.append
        row = first
        for key in keys:
            if key is None:
                append(None)
                row += 1
                continue
            key = key or 1  # noqa: PLW2901 - 0 marks an empty slot
            slot = key % slots
            while True:
                found = table[slot]
                if found == key:
                    append(rows[slot])
                    break
                if not found:
                    table[slot] = key
                    rows[slot] = row
                    size += 1
                    append(row)
                    break
                slot += 1
                if slot == slots:
                    slot = 0
            row += 1
        self._size = size
        return kept

    def _allocate(self, slots: int) -> None:
        self._keys = array("q", [0]) * slots
        self._rows = array("i", [0]) * slots  # a row past 2**31 would raise OverflowError
        self._limit = int(slots * _MAX_LOAD)

    def _grow(self, needed: int) -> None:
        """Move the entries to a table that holds ``needed`` keys (at least twice as many)."""
        old_keys, old_rows = self._keys, self._rows
        self._allocate(max(2 * len(old_keys), int(needed / _MAX_LOAD) + 1))
        table, rows = self._keys, self._rows
        slots = len(table)
        for key, row in zip(old_keys, old_rows, strict=True):
            if key:
                slot = key % slots
                while table[slot]:
                    slot = slot + 1 if slot + 1 < slots else 0
                table[slot] = key
                rows[slot] = row


class CompactSeenEmails:
    """The emails seen so far, as :class:`FirstRowTable` keys (see the module's notes):
    :func:`~omnisend_sdk.mapping.map_rows`' default.

    Args:
        expected: How many distinct emails to expect, when known.
    """

    __slots__ = ("_table",)

    def __init__(self, expected: int = 0) -> None:
        self._table = FirstRowTable(expected)

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new."""
        return self._table.first_row_of(hash(email), row)

    def first_rows(self, emails: Iterable[str | None], first: int) -> list[int | None]:
        """:meth:`first_row` for the emails of consecutive rows numbered from ``first``
        (``None`` for a row without one)."""
        keys = [None if email is None else hash(email) for email in emails]
        return self._table.first_rows_of(keys, first)
