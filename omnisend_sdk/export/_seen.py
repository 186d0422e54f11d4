"""The emails a run has seen so far: the first row of each email wins.

Two tables, both small at a million emails (a dict of the addresses costs about 140 MB), rebuilt
by each run while reading its source, so never journaled:

- :class:`DiskSeenEmails`, an export's: a private temporary SQLite database, its page cache (a
  few MB) in memory, about 4 µs a row, which an export paced at Omnisend's 40,000 contacts a
  minute never notices;
- :class:`SeenEmailKeys`, a refresh's first pass, which reads the whole source before sending and
  must be fast: a row number per member (4 MB at a million), and 64-bit keys in memory for the
  other emails, about 2 µs a row.
"""

from __future__ import annotations

import sqlite3
import tempfile
from array import array
from pathlib import Path

from omnisend_sdk.export._members import MemberIndex, email_key
from omnisend_sdk.export._storage import state_errors
from omnisend_sdk.mapping import FirstRowTable


class SeenEmailKeys:
    """The emails seen so far: the members' in an array by position, the others by 64-bit
    :func:`email_key` in a :class:`~omnisend_sdk.mapping.FirstRowTable` (12 bytes a slot).

    Two addresses sharing a key (about one chance in 30 million at a million rows) would report
    the second as a duplicate of the first.

    Args:
        expected: The rows expected that are not members, when known (a counted file): the
            table is sized for them up front, since growing costs time and briefly holds both
            tables.
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


#: Rows between commits: one transaction per row would cost a sync each; this many keeps the
#: write-ahead log small.
_ROWS_PER_TRANSACTION = 10_000


class DiskSeenEmails:
    """Emails seen so far, in a private temporary SQLite database (deleted when closed)."""

    def __init__(self) -> None:
        # An empty file name makes SQLite create a private temporary database on disk.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA synchronous=OFF")  # temporary: nothing to keep after a crash
        self._db.execute(
            "CREATE TABLE seen (email TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID"
        )
        self._db.execute("BEGIN")
        self._uncommitted = 0

    def first_row(self, email: str, row: int) -> int:
        """The row an email was first seen in; records ``row`` for it when it is new.

        Raises:
            ExportStateError: The temporary directory is full: said so, not as SQLite's error.
        """
        try:  # a bare try: this runs once a row, and costs nothing until it fails
            return self._first_row(email, row)
        except sqlite3.Error:
            with state_errors(Path(tempfile.gettempdir()), what="the temporary file of emails in"):
                raise

    def _first_row(self, email: str, row: int) -> int:
        inserted = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (email, row))
        self._uncommitted += 1
        if self._uncommitted >= _ROWS_PER_TRANSACTION:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._uncommitted = 0
        if inserted.rowcount == 1:
            return row
        (first,) = self._db.execute("SELECT row FROM seen WHERE email = ?", (email,)).fetchone()
        return int(first)

    def close(self) -> None:
        """Drop the database."""
        self._db.close()
