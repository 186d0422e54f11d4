"""The emails a run has seen so far: the first row of each email wins.

Two tables, both small at a million emails (a dict of the addresses costs about 140 MB), rebuilt
by each run while reading its source, so never journaled:

- :class:`DiskSeenEmails`, an export's: a private temporary SQLite database, its page cache (a
  few MB) and a filter of 2 bytes an email in memory, which spares nearly every new email a
  lookup on disk;
- :class:`SeenEmailKeys`, a refresh's first pass, which reads the whole source before sending and
  must be fast: a row number per member (4 MB at a million), and 64-bit keys in memory for the
  other emails, about 2 µs a row.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from array import array
from pathlib import Path

from omnisend_sdk.export._members import MemberIndex, email_key
from omnisend_sdk.export._storage import state_errors
from omnisend_sdk.mapping import FirstRowTable


class SeenEmailKeys:
    """The emails seen so far: the members' in an array by position, the others by 64-bit
    :func:`email_key` in a :class:`~omnisend_sdk.mapping.FirstRowTable` (about 15 bytes a key).

    Two addresses sharing a key (about one chance in 30 million at a million rows) would report
    the second as a duplicate of the first.

    Args:
        expected: The rows expected that are not members, when known (a counted file): the
            table is sized for them up front, since growing costs time.
        members: The members of a refresh: their rows are kept by position (see
            :attr:`member_rows`), and a known member costs no lookup by key.

    Attributes:
        member_rows: For each member, by position, the first row its email was seen in plus
            one; 0 while it is not seen (then its :attr:`MemberIndex.EMAIL_SEEN` flag is not
            set either). A loop that knows a row's member may set both itself.
    """

    def __init__(self, expected: int = 0, *, members: MemberIndex | None = None) -> None:
        self._others = FirstRowTable(expected)
        self._members = members
        self.member_rows = array("I", [0]) * (len(members) if members is not None else 0)

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new."""
        return self.first_row_of(email_key(email), row)

    def first_row_of_member(self, position: int, key: int, row: int) -> int:
        """:meth:`first_row` for the member at ``position`` of the members, whose key is ``key``
        (the members given to the table, if any; else looked up by key)."""
        if self._members is None:
            return self.first_row_of(key, row)
        rows = self.member_rows
        first = rows[position]
        if first:
            return first - 1
        rows[position] = row + 1
        self._members.flags[position] |= MemberIndex.EMAIL_SEEN
        return row

    def first_row_of(self, key: int, row: int) -> int:
        """:meth:`first_row` for an email known by its key (:func:`email_key`)."""
        if self._members is not None and (position := self._members.find(key)) >= 0:
            return self.first_row_of_member(position, key, row)
        return self._others.first_row_of(key, row)


#: Bits of the filter an expected email takes (two are set for each): with 16, once the expected
#: emails are in, about one new email in 70 is taken for one maybe seen and looked up on disk.
_FILTER_BITS_PER_EMAIL = 16
#: The filter's smallest and largest sizes, in bits: 128 KB, and 16 MB (8 million emails).
_FILTER_MIN_BITS = 1 << 20
_FILTER_MAX_BITS = 1 << 27
#: New emails kept in memory before they are written to disk in one statement (and one
#: transaction): a statement a row cost more than the rest of the check together.
_PENDING_ROWS = 10_000


class DiskSeenEmails:
    """Emails seen so far, in a private temporary SQLite database (deleted when closed).

    Most emails of a segment are new, and asking SQLite about each (an insert, then a select
    for repeats) cost 6 to 10 µs a row on the 2-core machine. A filter in memory (two bits an
    email in a bit array, a Bloom filter of Python's own string hash) tells nearly all new
    emails apart without asking: only an email whose bits are both set already is looked up,
    among the emails not written yet and then on disk. New emails are written 10,000 in one
    statement. The filter never misses an email it was given, so the answers are exact; an
    email wrongly taken for seen costs one lookup, no more.

    Args:
        expected: How many distinct emails to expect (a counted source's rows); the filter is
            sized for them, 2 bytes an email (2 MB at a million, 16 MB at most). More emails
            than that only make lookups more frequent.
    """

    def __init__(self, expected: int = 0) -> None:
        # An empty file name makes SQLite create a private temporary database on disk.
        self._db = sqlite3.connect("", isolation_level=None)
        # Temporary: nothing to keep after a crash, nor after a failed write (the run stops),
        # so no syncs and no rollback journal, which doubled the cost of writing.
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute(
            "CREATE TABLE seen (email TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID"
        )
        bits = _FILTER_MIN_BITS
        while bits < min(expected * _FILTER_BITS_PER_EMAIL, _FILTER_MAX_BITS):
            bits *= 2
        self._filter = bytearray(bits // 8)
        self._mask = bits - 1
        #: New emails not written to disk yet, with their rows.
        self._pending: dict[str, int] = {}

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new.

        Raises:
            ExportStateError: The temporary directory is full: said so, not as SQLite's error.
        """
        # The filter's two bits, from the two halves of the hash, tested and set inline: this
        # runs once a row.
        hashed = hash(email)
        mask, bits = self._mask, self._filter
        low, high = hashed & mask, (hashed >> 32) & mask
        low_bit, high_bit = 1 << (low & 7), 1 << (high & 7)
        if bits[low >> 3] & low_bit and bits[high >> 3] & high_bit:  # maybe seen: look it up
            first = self._pending.get(email)
            if first is None:
                first = self._on_disk(email)
            if first is not None:
                return first
        else:
            bits[low >> 3] |= low_bit
            bits[high >> 3] |= high_bit
        self._pending[email] = row
        if len(self._pending) >= _PENDING_ROWS:
            self._write_pending()
        return row

    def _on_disk(self, email: str) -> int | None:
        """The first row of an email written to disk, if it was."""
        with _temporary_file_errors():
            found = self._db.execute("SELECT row FROM seen WHERE email = ?", (email,)).fetchone()
        return None if found is None else int(found[0])

    def _write_pending(self) -> None:
        """Write the new emails kept in memory, in one transaction."""
        with _temporary_file_errors():
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO seen VALUES (?, ?)", self._pending.items())
            self._db.execute("COMMIT")
        self._pending.clear()

    def close(self) -> None:
        """Drop the database."""
        self._db.close()


def _temporary_file_errors() -> contextlib.AbstractContextManager[None]:
    """The temporary directory's failures (a full disk) as an ``ExportStateError`` saying so."""
    return state_errors(Path(tempfile.gettempdir()), what="the temporary file of emails in")
