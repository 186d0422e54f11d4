"""The export journal: where each batch stands, so an interrupted export resumes without resending.

A batch moves ``built -> sent -> accepted (batch id) -> reconciled``; a batch whose ``POST`` answer
was lost stays ``sent`` until it is found in Omnisend's batch list. Rows that reached a final
outcome (exported or rejected) are recorded with it, and whether their segment tag was added.
SQLite in WAL mode: every step is committed before the engine moves on, so a killed process loses
at most the step it was taking.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

import attrs

from omnisend_sdk._privacy import KeyHolder

BatchState: TypeAlias = Literal["built", "sent", "accepted", "reconciled"]
RowOutcome: TypeAlias = Literal["created", "updated", "upserted", "failed"]


class TagState(enum.IntEnum):
    """Where a row's segment tag stands, as stored in ``rows.tagged``."""

    TO_TAG = 0  # exported, waiting for a tag call
    TAGGED = 1  # Omnisend accepted the tag call
    IN_CALL = 2  # claimed by a tag call under way
    FAILED = 3  # the tag call failed; a later run tries again


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    batch_id TEXT,
    sent_at TEXT,
    rows TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    outcome TEXT NOT NULL,
    tagged INTEGER NOT NULL DEFAULT {TagState.TO_TAG:d},  -- a TagState
    issue TEXT
);
-- The tag backlog: exported rows still to tag, in row order, without scanning every row.
CREATE INDEX IF NOT EXISTS rows_to_tag ON rows (row)
    WHERE tagged = {TagState.TO_TAG:d} AND outcome != 'failed';
"""


def journal_path(state_dir: Path, segment: str, source: object, store: KeyHolder) -> Path:
    """Where the journal of one export lives: the same segment, source and store resume it."""
    identity = (
        str(Path(source).resolve())
        if isinstance(source, str | os.PathLike)
        else type(source).__name__
    )
    key = f"{segment}\0{identity}\0{store.key_fingerprint}\0{store.base_url}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", segment).strip("-").lower()[:40] or "segment"
    return state_dir / "exports" / f"{slug}-{digest}.sqlite"


@attrs.frozen
class JournalBatch:
    """A batch the journal knows of but has not reconciled."""

    seq: int
    state: BatchState
    batch_id: str | None
    sent_at: datetime | None
    rows: tuple[tuple[int, str], ...]


@attrs.frozen
class DoneRow:
    """A row with a final outcome."""

    row: int
    email: str
    outcome: RowOutcome
    issue: dict[str, Any] | None = None


class RowSet:
    """A compact set of row numbers (one bit per row), for skipping done rows on resume."""

    def __init__(self, rows: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._size = 0
        for row in rows:
            self.add(row)

    def add(self, row: int) -> None:
        index, bit = divmod(row, 8)
        if index >= len(self._bits):
            self._bits.extend(bytes(index + 1 - len(self._bits)))
        if not self._bits[index] & (1 << bit):
            self._bits[index] |= 1 << bit
            self._size += 1

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int) or row < 0:
            return False
        index, bit = divmod(row, 8)
        return index < len(self._bits) and bool(self._bits[index] & (1 << bit))

    def __len__(self) -> int:
        return self._size


class Journal:
    """One export's journal.

    Args:
        path: The SQLite file; ``None`` keeps the journal in memory (no resume).
        export_key: Identifies the export; a file holding another export's journal is refused.
    """

    def __init__(self, path: Path | None, export_key: str) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(
            str(path) if path is not None else ":memory:", isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL survives a killed process (the case resume is for); only an OS crash may lose
        # the last commits, which reconciliation then repairs.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        stored = self._meta("export_key")
        if stored is not None and stored != export_key:
            raise ValueError(f"{path} is the journal of another export")
        self.resumed = self._meta("status") == "running"
        if self.resumed:
            # Tag calls of the earlier run that were under way or failed: try them again.
            self._db.execute(
                "UPDATE rows SET tagged = ? WHERE tagged IN (?, ?)",
                (TagState.TO_TAG, TagState.IN_CALL, TagState.FAILED),
            )
        else:
            self._reset(export_key)

    def _reset(self, export_key: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM batches")
            self._db.execute("DELETE FROM rows")
            self._db.execute("DELETE FROM meta")
            self._set_meta("export_key", export_key)
            self._set_meta("status", "running")
            self._set_meta("started_at", datetime.now(UTC).isoformat())

    def _meta(self, key: str) -> str | None:
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    @property
    def started_at(self) -> datetime:
        """When the export (its first run, if resumed) started."""
        return datetime.fromisoformat(self._meta("started_at") or datetime.now(UTC).isoformat())

    # --- batches -------------------------------------------------------------------------------

    def batch_built(self, rows: Sequence[tuple[int, str]]) -> int:
        """Record a new batch about to be sent; returns its sequence number."""
        cursor = self._db.execute(
            "INSERT INTO batches (state, rows) VALUES ('built', ?)", (json.dumps(rows),)
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def batch_sent(self, seq: int, at: datetime) -> None:
        """The batch's ``POST`` is about to go out."""
        self._db.execute(
            "UPDATE batches SET state = 'sent', sent_at = ? WHERE seq = ?", (at.isoformat(), seq)
        )

    def batch_accepted(self, seq: int, batch_id: str) -> None:
        """Omnisend took the batch under this id."""
        self._db.execute(
            "UPDATE batches SET state = 'accepted', batch_id = ? WHERE seq = ?", (batch_id, seq)
        )

    def batch_dropped(self, seq: int) -> None:
        """Forget a batch whose rows are not (or no longer) in Omnisend's hands."""
        self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))

    def batch_reconciled(self, seq: int, done: Sequence[DoneRow]) -> None:
        """Every row of the batch has its outcome, or was handed to another batch."""
        with self._transaction():
            self.rows_finished(done)
            self._db.execute("UPDATE batches SET state = 'reconciled' WHERE seq = ?", (seq,))

    def unresolved_batches(self) -> list[JournalBatch]:
        """Batches sent or accepted but not reconciled (built-only batches never left)."""
        found = self._db.execute(
            "SELECT seq, state, batch_id, sent_at, rows FROM batches "
            "WHERE state IN ('sent', 'accepted') ORDER BY seq"
        ).fetchall()
        return [
            JournalBatch(
                seq=seq,
                state=state,
                batch_id=batch_id,
                sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
                rows=tuple((row, email) for row, email in json.loads(rows)),
            )
            for seq, state, batch_id, sent_at, rows in found
        ]

    # --- rows ----------------------------------------------------------------------------------

    def rows_finished(self, done: Sequence[DoneRow]) -> None:
        """Record rows' final outcomes."""
        self._db.executemany(
            "INSERT OR REPLACE INTO rows (row, email, outcome, issue) VALUES (?, ?, ?, ?)",
            [(d.row, d.email, d.outcome, json.dumps(d.issue) if d.issue else None) for d in done],
        )

    def rows_done(self) -> RowSet:
        """Every row with a final outcome."""
        return RowSet(row for (row,) in self._db.execute("SELECT row FROM rows"))

    def outcome_of(self, row: int) -> RowOutcome:
        """The recorded outcome of a done row."""
        found = self._db.execute("SELECT outcome FROM rows WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise KeyError(row)
        outcome: RowOutcome = found[0]
        return outcome

    def outcome_counts(self) -> dict[str, int]:
        """How many rows ended in each outcome."""
        counts = self._db.execute("SELECT outcome, count(*) FROM rows GROUP BY outcome")
        return dict(counts.fetchall())

    def failure_issues(self) -> list[dict[str, Any]]:
        """The issues of rows Omnisend rejected, as recorded."""
        found = self._db.execute("SELECT issue FROM rows WHERE issue IS NOT NULL ORDER BY row")
        return [json.loads(issue) for (issue,) in found]

    def rows_tagged(self, rows: Iterable[int]) -> None:
        """The segment tag was added to these rows' contacts."""
        self._set_tag_state(rows, TagState.TAGGED)

    def claim_untagged(self, limit: int) -> list[tuple[int, str]]:
        """Take up to ``limit`` exported rows still to tag, marking them as in a tag call.

        The backlog of rows to tag stays here, not in memory: tagging is the slower stream (60
        calls a minute), so for a big export it grows to most of the segment.
        """
        claimed = self._db.execute(
            "UPDATE rows SET tagged = ? WHERE row IN (SELECT row FROM rows WHERE tagged = ? "
            "AND outcome != 'failed' ORDER BY row LIMIT ?) RETURNING row, email",
            (TagState.IN_CALL, TagState.TO_TAG, limit),
        ).fetchall()
        return [(row, email) for row, email in claimed]

    def rows_tag_failed(self, rows: Iterable[int]) -> None:
        """A tag call for these rows failed; a later run tries again."""
        self._set_tag_state(rows, TagState.FAILED)

    def _set_tag_state(self, rows: Iterable[int], state: TagState) -> None:
        self._db.executemany("UPDATE rows SET tagged = ? WHERE row = ?", ((state, r) for r in rows))

    def untagged_count(self) -> int:
        """Exported rows still to tag."""
        found = self._db.execute(
            "SELECT count(*) FROM rows WHERE tagged = ? AND outcome != 'failed'",
            (TagState.TO_TAG,),
        ).fetchone()
        return int(found[0])

    def untagged(self) -> Iterator[tuple[int, str]]:
        """Exported rows whose segment tag was not added yet."""
        yield from self._db.execute(
            "SELECT row, email FROM rows WHERE tagged = ? AND outcome != 'failed' ORDER BY row",
            (TagState.TO_TAG,),
        )

    def tagged_count(self) -> int:
        """Rows whose segment tag was added."""
        found = self._db.execute("SELECT count(*) FROM rows WHERE tagged = ?", (TagState.TAGGED,))
        return int(found.fetchone()[0])

    def finish(self) -> None:
        """The export is complete: a rerun starts afresh."""
        self._set_meta("status", "finished")

    def close(self) -> None:
        """Close the database."""
        self._db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
