"""The first row of each email, kept compactly: about 15 bytes an email instead of a dict entry.

A dict of a million addresses costs about 180 MB: the strings, the row numbers and the entries.
What the "first" duplicate policy needs is less: for each address a 64-bit key and the row it was
first seen in. :class:`FirstRowTable` keeps the keys as they come, 8 bytes a row (repeats
included), found through a table of 4-byte positions searched by linear probing (about 15 MB at
a million addresses), and :class:`CompactSeenEmails` keys it by Python's own string hash, which a
``str`` computes once and caches.

A row number is not stored with each key: rows come in runs of consecutive numbers (a batch's,
or a whole source's), so a position's row is its run's first row plus its place in the run. A
source whose rows skip numbers (one mapped a row at a time records only rows with an email)
starts a run at each gap, 16 bytes, and a repeat's row is then found by a binary search.
Only the table of positions is rebuilt when it grows, so a table that could not be sized up
front briefly holds 4 bytes a slot twice (a million addresses: about 17 MB at the peak, where a
table of keys and rows by slot took 37).

The price of keeping no row numbers is 8 bytes for every row looked up, a repeat or a row
without an email too: right for a segment of profiles, one row a person with a few repeats.
A source that repeats each email many times (an orders table, five rows a customer) takes more
than the 12-byte slots did (five million rows of a million customers: 46 MB against 24,
36 while they grew).

Two addresses sharing a 64-bit key (about one chance in 30 million at a million addresses) would
report the second as a duplicate of the first. Python's string hash is salted per process, so a
rerun does not meet the same pair again.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Final, cast

#: The table of positions grows past this share of its slots taken. A look at a taken slot costs
#: two array reads (the position, then its key), so the table is kept sparser than one of keys
#: would be: 1/0.6 = 1.67 slots, 6.7 bytes, an address, beside the 8 of its key.
_MAX_LOAD: Final = 0.6
#: Slots in the smallest table.
_MIN_SLOTS: Final = 1 << 12


class FirstRowTable:
    """Row numbers by 64-bit key: the row each key was first recorded with.

    Args:
        expected: How many distinct keys to expect, when known (a counted source): the table is
            sized for them up front, since growing costs time.
    """

    __slots__ = (
        "_count",
        "_keys",
        "_limit",
        "_next_row",
        "_row_shift",
        "_run_positions",
        "_run_rows",
        "_slots",
    )

    def __init__(self, expected: int = 0) -> None:
        self._count = 0
        # The key at each position: every key looked up, in order (0 for a row without one).
        self._keys = array("q")
        # Where each run of consecutive rows starts: its first position and its first row.
        self._run_positions = array("q")
        self._run_rows = array("q")
        self._next_row: int | None = None  # the row a run going on would number next
        self._row_shift: int | None = None
        self._allocate(max(_MIN_SLOTS, int(expected / _MAX_LOAD) + 1))

    def __len__(self) -> int:
        return self._count

    def first_row_of(self, key: int, row: int) -> int:
        """The row ``key`` was first recorded with; records ``row`` for it when it is new.

        A source mapped a row at a time calls this for every row, so the row that goes on the
        current run, in a table with room, is looked up here: :meth:`first_rows_of`'s loop for
        one key, without the batch's lists (about 0.2 µs a row less).
        """
        if row != self._next_row or self._count >= self._limit:
            return self.first_rows_of((key,), row)[0]  # type: ignore[return-value]
        self._next_row = row + 1
        keys_of, slots = self._keys, self._slots
        position = len(keys_of)
        keys_of.append(key)
        size = len(slots)
        slot = key % size
        while found := slots[slot]:
            if keys_of[found - 1] == key:
                shift = self._row_shift
                return self._row_at(found - 1) if shift is None else found - 1 + shift
            slot += 1
            if slot == size:
                slot = 0
        slots[slot] = position + 1
        self._count += 1
        return row

    def first_rows_of(self, keys: Sequence[int | None], first: int) -> list[int | None]:
        """:meth:`first_row_of` for each key of consecutive rows numbered from ``first``:
        ``None`` for a ``None`` key (a row with nothing to record).

        One loop over the batch, with the table in local names: this runs once a row, and a
        method call a row would cost more than the search itself.
        """
        if not keys:
            return []
        count = self._count
        if count + len(keys) > self._limit:
            self._grow(count + len(keys))
        keys_of = self._keys
        position = len(keys_of)  # the first key's
        if first != self._next_row:
            self._start_run(position, first)
        self._next_row = first + len(keys)
        if None in keys:  # a row without a key still takes a position: its rows stay a sum
            keys_of.extend([0 if key is None else key for key in keys])
        else:
            keys_of.extend(cast("Sequence[int]", keys))
        row_shift = self._row_shift
        slots = self._slots
        size = len(slots)
        kept: list[int | None] = []
        append = kept.append
        row = first
        for key in keys:
            if key is None:
                append(None)
            else:
                slot = key % size
                while found := slots[slot]:
                    if keys_of[found - 1] == key:
                        break
                    slot += 1
                    if slot == size:
                        slot = 0
                if found:
                    append(self._row_at(found - 1) if row_shift is None else found - 1 + row_shift)
                else:
                    slots[slot] = position + 1
                    count += 1
                    append(row)
            row += 1
            position += 1
        self._count = count
        return kept

    def _start_run(self, position: int, row: int) -> None:
        """Number the keys from ``position`` on from ``row``."""
        self._run_positions.append(position)
        self._run_rows.append(row)
        # While there is one run, a position's row is a sum (see _row_at).
        self._row_shift = row - position if len(self._run_rows) == 1 else None

    def _row_at(self, position: int) -> int:
        """The row the key at ``position`` came with."""
        run = bisect_right(self._run_positions, position) - 1
        return self._run_rows[run] + position - self._run_positions[run]

    def _grow(self, needed: int) -> None:
        """Rebuild the table of positions for ``needed`` keys (at least twice as large)."""
        old = self._slots
        self._allocate(max(2 * len(old), int(needed / _MAX_LOAD) + 1))
        slots, keys_of = self._slots, self._keys
        size = len(slots)
        for found in old:
            if found:
                slot = keys_of[found - 1] % size
                while slots[slot]:
                    slot = slot + 1 if slot + 1 < size else 0
                slots[slot] = found

    def _allocate(self, size: int) -> None:
        self._slots = array("i", [0]) * size  # a position past 2**31 raises OverflowError
        self._limit = int(size * _MAX_LOAD)


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
