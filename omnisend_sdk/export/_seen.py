"""The emails an export has sent so far, kept on disk so memory does not grow with the segment.

A dict of a million addresses costs about 140 MB; a private temporary SQLite database costs its
page cache (a few MB) and about 8 µs a row, which an export paced at Omnisend's 40,000 contacts a
minute never notices. Each run rebuilds it while reading the source, so it is not journaled.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from omnisend_sdk.export._storage import state_errors

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
