"""The first row of each email, kept compactly: about 17 bytes an email instead of a dict entry.

A dict of a million addresses costs about 180 MB: the strings, the row numbers and the entries.
What the "first" duplicate policy needs is less: for each address a 64-bit key and the row it was
first seen in. :class:`FirstRowTable` keeps exactly that, in two flat arrays in the order the
keys came, found through a table of 4-byte entry numbers searched by linear probing (about 17 MB
at a million addresses), and :class:`CompactSeenEmails` keys it by Python's own string hash,
which a ``str`` computes once and caches.

Only the table of entry numbers is rebuilt when it grows: the keys and rows stay where they are,
so a table that could not be sized up front briefly holds 4 bytes a slot twice, not 12 (a million
addresses: 21 MB at the peak, where a table of keys and rows took 38).

Two addresses sharing a 64-bit key (about one chance in 30 million at a million addresses) would
report the second as a duplicate of the first. Python's string hash is salted per process, so a
rerun does not meet the same pair again.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Final

#: The table of entry numbers grows past this share of its slots taken. Linear probing stays
#: short up to here (a new key looks at two or three slots on average while the table fills);
#: it is 1/0.75 = 1.33 slots, 5.3 bytes, an address, beside the 12 of its key and row.
_MAX_LOAD: Final = 0.75
#: Slots in the smallest table.
_MIN_SLOTS: Final = 1 << 12
#: How much room for entries is added at once, as a share of the entries held: small, since an
#: array grows in place, and it is memory held until the table is dropped.
_ENTRY_GROWTH: Final = 8


class FirstRowTable:
    """Row numbers by 64-bit key: the row each key was first recorded with.

    Args:
        expected: How many distinct keys to expect, when known (a counted source): the table is
            sized for them up front, since growing costs time and briefly holds two tables of
            entry numbers.
    """

    __slots__ = ("_count", "_keys", "_room", "_rows", "_slots")

    def __init__(self, expected: int = 0) -> None:
        self._count = 0
        # Entry 0 is never used: a slot holding 0 is empty.
        self._keys = array("q", [0]) * (expected + 1)
        self._rows = array("i", [0]) * (expected + 1)  # a row past 2**31 raises OverflowError
        self._allocate(max(_MIN_SLOTS, int(expected / _MAX_LOAD) + 1))
        self._room = 0
        self._make_room(expected)

    def __len__(self) -> int:
        return self._count

    def first_row_of(self, key: int, row: int) -> int:
        """The row ``key`` was first recorded with; records ``row`` for it when it is new."""
        return self.first_rows_of((key,), row)[0]  # type: ignore[return-value]

    def first_rows_of(self, keys: Sequence[int | None], first: int) -> list[int | None]:
        """:meth:`first_row_of` for each key of consecutive rows numbered from ``first``:
        ``None`` for a ``None`` key (a row with nothing to record).

        One loop over the batch, with the table in local names: this runs once a row, and a
        method call a row would cost more than the search itself.
        """
        if self._count + len(keys) > self._room:
            self._make_room(self._count + len(keys))
        slots, keys_of, rows_of = self._slots, self._keys, self._rows
        size = len(slots)
        entry = self._count  # the last entry taken
        kept: list[int | None] = []
        append = kept.append
        row = first
        for key in keys:
            if key is None:
                append(None)
                row += 1
                continue
            slot = key % size
            while found := slots[slot]:
                if keys_of[found] == key:
                    break
                slot += 1
                if slot == size:
                    slot = 0
            if found:
                append(rows_of[found])
            else:
                entry += 1
                slots[slot] = entry
                keys_of[entry] = key
                rows_of[entry] = row
                append(row)
            row += 1
        self._count = entry
        return kept

    def _make_room(self, needed: int) -> None:
        """Make room for ``needed`` entries in all: in the arrays of keys and rows, and in the
        table of entry numbers (rebuilt at least twice as large when it must grow)."""
        held = len(self._keys) - 1
        if needed > held:
            more = max(needed - held, held // _ENTRY_GROWTH)
            self._keys.extend(array("q", [0]) * more)
            self._rows.extend(array("i", [0]) * more)
        size = len(self._slots)
        if needed > int(size * _MAX_LOAD):
            self._allocate(max(2 * size, int(needed / _MAX_LOAD) + 1))
            slots, size = self._slots, len(self._slots)
            keys = islice(self._keys, 1, self._count + 1)
            for entry, key in enumerate(keys, 1):
                slot = key % size
                while slots[slot]:
                    slot = slot + 1 if slot + 1 < size else 0
                slots[slot] = entry
        self._room = min(len(self._keys) - 1, int(len(self._slots) * _MAX_LOAD))

    def _allocate(self, size: int) -> None:
        self._slots = array("i", [0]) * size


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
