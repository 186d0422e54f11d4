"""The members as packed arrays beside their table: a refresh loads a million in a blink.

Loading the members row by row from SQLite costs about 1.3 µs a member (a tuple and five
integers made by the sqlite3 module for each): a fifth of a refresh's first pass. So the state
also keeps the members' index whole, four BLOBs of packed arrays (``member_snapshot``), made at
the end of a run from the members table; triggers on the table note the key of every member
written since (``member_changes``). A load reads the BLOBs and merges in the members noted since,
read again from the table: its cost follows what changed, not the segment.

The members table stays the truth. The triggers write in the same transaction as the change
that fires them, so a snapshot never misses a change, and they note nothing while there is no
snapshot (during a first export). A run's end makes the snapshot again, streamed into the BLOBs
a chunk at a time (memory stays flat), only when there is none or when enough members changed
since that merging them costs a load more than reading the table would.
"""

from __future__ import annotations

import bisect
import sqlite3
import sys
from array import array
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol

from omnisend_sdk.export._members import MemberIndex

#: The tables and triggers, added to every state when it is opened.
SNAPSHOT_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS member_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    keys BLOB NOT NULL,
    fingerprints BLOB NOT NULL,
    records BLOB NOT NULL,
    flags BLOB NOT NULL  -- tagged | leaving << 1, as the members table holds them
);
CREATE TABLE IF NOT EXISTS member_changes (key INTEGER PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS member_inserted AFTER INSERT ON members
    WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN INSERT OR IGNORE INTO member_changes VALUES (NEW.key); END;
CREATE TRIGGER IF NOT EXISTS member_updated AFTER UPDATE ON members
    WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN
        INSERT OR IGNORE INTO member_changes VALUES (OLD.key);
        INSERT OR IGNORE INTO member_changes VALUES (NEW.key);
    END;
CREATE TRIGGER IF NOT EXISTS member_deleted AFTER DELETE ON members
    WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN INSERT OR IGNORE INTO member_changes VALUES (OLD.key); END;
"""
#: The members' columns, as the index is made of them.
_COLUMNS: Final = "key, fingerprint, tagged, leaving, record"
#: Above this share of the members changed, reading the whole table is cheaper than merging.
_MERGE_SHARE: Final = 0.2
#: A run's end makes the snapshot again past this share of the members changed since: a load
#: then merges at most about this many (a few hundredths of a second at a million members),
#: and a segment that changes 1% a run is rewritten every few runs, not every run.
_REBUILD_SHARE: Final = 0.05
#: Members written to the snapshot's BLOBs at a time when it is made again.
_CHUNK: Final = 65_536
#: The BLOBs are little-endian, whatever machine wrote them.
_SWAP: Final = sys.byteorder != "little"


class _Database(Protocol):
    """A SQLite connection, or the state's wrapper of one."""

    def execute(self, sql: str, parameters: Any = ...) -> Any: ...


BlobOpener = Callable[[str], sqlite3.Blob]
"""Opens a column of the snapshot's row for writing, a chunk at a time."""


class MemberArrays:
    """The members' index as four arrays in key order (what :class:`MemberIndex` is made of)."""

    __slots__ = ("fingerprints", "flags", "keys", "records")

    def __init__(self) -> None:
        self.keys = array("q")
        self.fingerprints = array("q")
        self.records = array("q")
        self.flags = bytearray()

    def __len__(self) -> int:
        return len(self.keys)

    def append(self, key: int, fingerprint: int, tagged: int, leaving: int, record: int) -> None:
        """Add a member after the others (its key the largest yet)."""
        self.keys.append(key)
        self.fingerprints.append(fingerprint)
        self.records.append(record)
        self.flags.append((1 if tagged else 0) | (2 if leaving else 0))

    def extend(self, other: MemberArrays, start: int, stop: int) -> None:
        """Add ``other``'s members from ``start`` to ``stop``."""
        self.keys.extend(other.keys[start:stop])
        self.fingerprints.extend(other.fingerprints[start:stop])
        self.records.extend(other.records[start:stop])
        self.flags.extend(other.flags[start:stop])

    def write(self, *blobs: sqlite3.Blob) -> None:
        """Write the keys, fingerprints, records and flags on at each BLOB's position."""
        columns = (self.keys, self.fingerprints, self.records)
        for column, blob in zip(columns, blobs[:3], strict=True):
            blob.write(_packed(column))
        blobs[3].write(bytes(self.flags))

    def index(self) -> MemberIndex:
        """The index of these members (it takes the arrays over)."""
        return MemberIndex.from_arrays(self.keys, self.fingerprints, self.records, self.flags)


def load_members(db: _Database) -> MemberArrays:
    """The members in key order: the snapshot with the members written since merged in, or the
    whole table when there is no snapshot or too many changes for a merge to pay. Writes
    nothing (a read-only connection will do)."""
    snapshot = _read_snapshot(db)
    if snapshot is None:
        return _read_table(db)
    changed = [key for (key,) in db.execute("SELECT key FROM member_changes ORDER BY key")]
    if not changed:
        return snapshot
    if len(changed) > _MERGE_SHARE * len(snapshot):
        return _read_table(db)
    return _merged(snapshot, changed, db)


def keep_snapshot(db: _Database, blobs: BlobOpener) -> None:
    """At a run's end, in its transaction: make the snapshot again from the members table when
    there is none, or when more members changed since than :data:`_REBUILD_SHARE` of them."""
    (members,) = db.execute("SELECT count(*) FROM members").fetchone()
    if _read_snapshot_size(db) is not None:
        (changed,) = db.execute("SELECT count(*) FROM member_changes").fetchone()
        if changed <= _REBUILD_SHARE * members:
            return
    db.execute(
        "INSERT OR REPLACE INTO member_snapshot (id, keys, fingerprints, records, flags) "
        "VALUES (1, zeroblob(?), zeroblob(?), zeroblob(?), zeroblob(?))",
        (8 * members, 8 * members, 8 * members, members),
    )
    db.execute("DELETE FROM member_changes")
    rows = db.execute(f"SELECT {_COLUMNS} FROM members ORDER BY key")  # noqa: S608 - fixed text
    with (
        blobs("keys") as keys,
        blobs("fingerprints") as fingerprints,
        blobs("records") as records,
        blobs("flags") as flags,
    ):
        chunk = MemberArrays()
        for row in rows:
            chunk.append(*row)
            if len(chunk) == _CHUNK:
                chunk.write(keys, fingerprints, records, flags)
                chunk = MemberArrays()
        chunk.write(keys, fingerprints, records, flags)


def _read_table(db: _Database) -> MemberArrays:
    members = MemberArrays()
    append = members.append
    for key, fingerprint, tagged, leaving, record in db.execute(
        f"SELECT {_COLUMNS} FROM members ORDER BY key"  # noqa: S608 - fixed text
    ):
        append(key, fingerprint, tagged, leaving, record)
    return members


def _merged(snapshot: MemberArrays, changed: list[int], db: _Database) -> MemberArrays:
    """The snapshot with the changed members as the table holds them now (gone if deleted).

    A slice of untouched members is copied at a time, in C; only the changed ones are handled
    one by one.
    """
    now = {
        row[0]: row
        for row in db.execute(
            f"SELECT {_COLUMNS} FROM members WHERE key IN (SELECT key FROM member_changes)"  # noqa: S608
        )
    }
    members = MemberArrays()
    keys, done = snapshot.keys, 0
    for key in changed:
        at = bisect.bisect_left(keys, key, done)
        members.extend(snapshot, done, at)
        done = at + 1 if at < len(keys) and keys[at] == key else at  # its old entry goes
        if (row := now.get(key)) is not None:
            members.append(*row)
    members.extend(snapshot, done, len(keys))
    return members


def _read_snapshot_size(db: _Database) -> int | None:
    """The members the snapshot holds; ``None`` when there is none (or, in a state file not
    opened since this version, no table for one)."""
    table = "SELECT 1 FROM sqlite_master WHERE name = 'member_snapshot'"
    if db.execute(table).fetchone() is None:
        return None
    found = db.execute("SELECT length(flags) FROM member_snapshot WHERE id = 1").fetchone()
    return None if found is None else int(found[0])


def _read_snapshot(db: _Database) -> MemberArrays | None:
    if _read_snapshot_size(db) is None:
        return None
    found = db.execute(
        "SELECT keys, fingerprints, records, flags FROM member_snapshot WHERE id = 1"
    ).fetchone()
    members = MemberArrays()
    columns = (members.keys, members.fingerprints, members.records)
    for column, blob in zip(columns, found[:3], strict=True):
        column.frombytes(blob)
        if _SWAP:
            column.byteswap()
    members.flags = bytearray(found[3])
    return members


def _packed(column: array[int]) -> memoryview | bytes:
    if not _SWAP:
        return memoryview(column)
    swapped = array(column.typecode, column)
    swapped.byteswap()
    return swapped.tobytes()


def without_tags(flags: Iterable[int]) -> bytearray:
    """The flags with no tag confirmed (the members wear another tag than the one asked for)."""
    return bytearray(flags).translate(bytes(value & ~1 for value in range(256)))
