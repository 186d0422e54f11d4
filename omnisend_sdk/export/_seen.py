"""The emails an export or a refresh has seen so far: the first row of each email wins.

Each run rebuilds the index while reading the source, so it is not journaled.
"""

from __future__ import annotations

from array import array

from omnisend_sdk.export._members import email_key


class SeenEmailKeys:
    """The emails seen so far, by 64-bit key in an open-addressing table (12 bytes a slot).

    Exports and refreshes must stay fast and small at a million rows: a dict of the addresses
    costs about 140 MB, and a table on disk about 8 µs a row (5 µs of SQLite, 3 of hashing and
    the call), four times this table's 2 µs. Two addresses sharing a key (about one chance in 30
    million at a million rows) would report the second as a duplicate of the first.

    Args:
        expected: The rows expected, when known (a counted file; a refresh expects about as
            many as its members): the table is sized for them up front, since growing costs
            time and briefly holds both tables.
    """

    def __init__(self, expected: int = 0) -> None:
        capacity = 1 << max(16, (2 * expected).bit_length())
        self._keys = _table(capacity, "q")
        self._rows = _table(capacity, "I")
        self._mask = capacity - 1
        self._size = 0

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new."""
        return self.first_row_of(email_key(email), row)

    def first_row_of(self, key: int, row: int) -> int:
        """:meth:`first_row` for an email known by its key (:func:`email_key`)."""
        key = key or 1  # 0 marks an empty slot
        keys, mask = self._keys, self._mask
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return self._rows[slot]
            if found == 0:
                break
            slot = (slot + 1) & mask
        keys[slot] = key
        self._rows[slot] = row
        self._size += 1
        if self._size * 2 > len(keys):
            self._grow()
        return row

    def _grow(self) -> None:
        old_keys, old_rows = self._keys, self._rows
        capacity = len(old_keys) * 2
        self._keys = _table(capacity, "q")
        self._rows = _table(capacity, "I")
        self._mask = capacity - 1
        for key, row in zip(old_keys, old_rows, strict=True):
            if key:
                slot = key & self._mask
                while self._keys[slot]:
                    slot = (slot + 1) & self._mask
                self._keys[slot] = key
                self._rows[slot] = row


def _table(count: int, typecode: str) -> array[int]:
    return array(typecode, [0]) * count
