"""The members as packed arrays beside their table: a refresh loads a million in a blink.

Loading the members row by row from SQLite costs about 1.3 µs a member (a tuple and five
integers made by the sqlite3 module for each): a fifth of a refresh's first pass. So the state
also keeps the members' index whole as packed arrays (``member_snapshot``: the keys,
fingerprints, records and flags of about 16,384 members a row), made at the end of a run from the
members table; triggers on the table note the key of every member written since
(``member_changes``). A load reads the arrays and merges in the members noted since, read again
from the table: its cost follows what changed, not the segment (0.07 s for a million members,
0.26 s with 1% of them changed, against 1.5 to 2.3 s from the table).

The members table stays the truth. The triggers write in the same transaction as the change
that fires them, so a snapshot never misses a change, and they note nothing while there is no
snapshot (during a first export, whose fold sets them aside: see
:func:`unnoted_while_no_snapshot`). A run's end makes the snapshot again, a part at a time
(memory holds one), only when there is none or when so many members changed since that a load
would read the table instead.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import sys
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, Final, Protocol

from omnisend_sdk.export._members import MemberIndex

#: The triggers that note the key of every member written while there is a snapshot, by name.
_TRIGGERS: Final = {
    "member_inserted": """AFTER INSERT ON members WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN INSERT OR IGNORE INTO member_changes VALUES (NEW.key); END""",
    "member_updated": """AFTER UPDATE ON members WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN
        INSERT OR IGNORE INTO member_changes VALUES (OLD.key);
        INSERT OR IGNORE INTO member_changes VALUES (NEW.key);
    END""",
    "member_deleted": """AFTER DELETE ON members WHEN EXISTS (SELECT 1 FROM member_snapshot)
    BEGIN INSERT OR IGNORE INTO member_changes VALUES (OLD.key); END""",
}
_CREATE_TRIGGERS: Final = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in _TRIGGERS.items()
)
#: The tables and triggers, added to every state when it is opened.
SNAPSHOT_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS member_snapshot (
    part INTEGER PRIMARY KEY,  -- the members in key order, _CHUNK of them a part
    keys BLOB NOT NULL,
    fingerprints BLOB NOT NULL,
    records BLOB NOT NULL,
    flags BLOB NOT NULL  -- MemberIndex.flags_of(tagged, leaving)
);
CREATE TABLE IF NOT EXISTS member_changes (key INTEGER PRIMARY KEY);
""" + "".join(f"{create};\n" for create in _CREATE_TRIGGERS)
#: A member as the index holds it, ``(key, fingerprint, record, flags)``: SQLite makes the flags
#: as :meth:`MemberIndex.flags_of` does (a Python step a member cost more than reading it).
_MEMBER: Final = (
    "SELECT key, fingerprint, record, "
    "(CASE WHEN tagged THEN :tagged ELSE 0 END) | (CASE WHEN leaving THEN :leaving ELSE 0 END) "
    "FROM members"
)
_FLAG_PARAMETERS: Final = {"tagged": MemberIndex.TAGGED, "leaving": MemberIndex.LEAVING}
#: Above this share of the members changed since the snapshot, a load reads the whole table
#: (cheaper than merging so many), and so a run's end makes the snapshot again (about the cost
#: of one load from the table): a segment that changes 1% a run is rewritten about every tenth
#: run, and a load merges the members changed since (a member changed in place costs a few µs;
#: one added or gone, a copy of the stretch beside it).
_MERGE_SHARE: Final = 0.2
#: Members a part of the snapshot holds, at most.
_CHUNK: Final = 16_384
#: Rows of the members table read at a time (tuples of Python integers, 240 bytes a row).
_FETCH: Final = 4_096
#: The BLOBs are little-endian, whatever machine wrote them.
_SWAP: Final = sys.byteorder != "little"


class _Database(Protocol):
    """A SQLite connection, or the state's wrapper of one."""

    def execute(self, sql: str, parameters: Any = ...) -> Any: ...


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

    def append(self, key: int, fingerprint: int, record: int, flags: int) -> None:
        """Add a member after the others (its key the largest yet)."""
        self.keys.append(key)
        self.fingerprints.append(fingerprint)
        self.records.append(record)
        self.flags.append(flags)

    def set(self, at: int, member: tuple[int, int, int, int]) -> None:
        """Give the member at ``at`` what the members table holds for it now (its key is the
        same): ``(key, fingerprint, record, flags)``, as :data:`_MEMBER` reads it."""
        _, self.fingerprints[at], self.records[at], self.flags[at] = member

    def extend(self, other: MemberArrays, start: int, stop: int) -> None:
        """Add ``other``'s members from ``start`` to ``stop``."""
        self.keys.extend(other.keys[start:stop])
        self.fingerprints.extend(other.fingerprints[start:stop])
        self.records.extend(other.records[start:stop])
        self.flags.extend(other.flags[start:stop])

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


def keep_snapshot(db: _Database) -> None:
    """At a run's end, in its transaction: make the snapshot again from the members table when
    there is none, or when more members changed since than :data:`_MERGE_SHARE` of them. It
    is written a part of :data:`_CHUNK` members at a time, so memory holds one part."""
    if _has_snapshot(db):
        (members,) = db.execute("SELECT count(*) FROM members").fetchone()
        (changed,) = db.execute("SELECT count(*) FROM member_changes").fetchone()
        if changed <= _MERGE_SHARE * members:
            return
    db.execute("DELETE FROM member_snapshot")
    db.execute("DELETE FROM member_changes")
    for part, chunk in enumerate(_table_chunks(db)):
        db.execute(
            "INSERT INTO member_snapshot (part, keys, fingerprints, records, flags) "
            "VALUES (?, ?, ?, ?, ?)",
            (part, *map(_packed, (chunk.keys, chunk.fingerprints, chunk.records)), chunk.flags),
        )


@contextlib.contextmanager
def unnoted_while_no_snapshot(db: _Database) -> Iterator[None]:
    """Write the members, in the caller's transaction, without the triggers when there is no
    snapshot for them to keep up (a first export's end): a trigger costs a quarter of each
    write even when its condition is false (3,300 instructions of 13,300 for a row folded in).
    They are made again before the transaction ends, so a rollback undoes both."""
    if _has_snapshot(db):
        yield
        return
    for name in _TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
    yield
    for create in _CREATE_TRIGGERS:
        db.execute(create)


def _read_table(db: _Database) -> MemberArrays:
    members = MemberArrays()
    for chunk in _table_chunks(db):
        members.extend(chunk, 0, len(chunk))
    return members


def _table_chunks(db: _Database) -> Iterator[MemberArrays]:
    """The members table in key order, :data:`_CHUNK` members at a time (fetched
    :data:`_FETCH` rows at a time, so that memory holds few of SQLite's rows at once).

    Each fetch is turned into arrays a column at a time (``zip`` and the ``array`` constructor,
    in C): a Python step a member cost more than reading it.
    """
    rows = iter(db.execute(_MEMBER + " ORDER BY key", _FLAG_PARAMETERS))
    chunk = MemberArrays()
    while found := list(itertools.islice(rows, _FETCH)):
        keys, fingerprints, records, flags = zip(*found, strict=True)
        chunk.keys += array("q", keys)
        chunk.fingerprints += array("q", fingerprints)
        chunk.records += array("q", records)
        chunk.flags += bytes(flags)
        if len(chunk.keys) >= _CHUNK:
            yield chunk
            chunk = MemberArrays()
    if chunk.keys:
        yield chunk


def _merged(snapshot: MemberArrays, changed: list[int], db: _Database) -> MemberArrays:
    """The snapshot with the changed members as the table holds them now.

    A member still there is updated in place; only members added or gone change the arrays'
    shape, and those are merged in by copying the untouched stretches between them, in C.
    """
    now = {
        row[0]: row
        for row in db.execute(
            _MEMBER + " WHERE key IN (SELECT key FROM member_changes)",  # noqa: S608 - fixed text
            _FLAG_PARAMETERS,
        )
    }
    keys = snapshot.keys
    # (position, 0 to drop the member there | 1 to add a row before it, the row)
    reshaped: list[tuple[int, int, tuple[int, int, int, int]]] = []
    for key in changed:
        at = bisect.bisect_left(keys, key)
        there = at < len(keys) and keys[at] == key
        row = now.get(key)
        if there and row is not None:
            snapshot.set(at, row)
        elif there:
            reshaped.append((at, 0, (key, 0, 0, 0)))
        elif row is not None:
            reshaped.append((at, 1, row))
    if not reshaped:
        return snapshot
    members, done = MemberArrays(), 0
    for at, add, row in sorted(reshaped):
        members.extend(snapshot, done, at)
        if add:
            done = max(done, at)
            members.append(*row)
        else:
            done = at + 1
    members.extend(snapshot, done, len(keys))
    return members


def _has_snapshot(db: _Database) -> bool:
    """Whether there is a snapshot (a state file not opened since this version has no table
    for one)."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'member_snapshot'").fetchone() is None:
        return False
    return db.execute("SELECT 1 FROM member_snapshot LIMIT 1").fetchone() is not None


def _read_snapshot(db: _Database) -> MemberArrays | None:
    if not _has_snapshot(db):
        return None
    members = MemberArrays()
    columns = (members.keys, members.fingerprints, members.records)
    for *packed, flags in db.execute(
        "SELECT keys, fingerprints, records, flags FROM member_snapshot ORDER BY part"
    ):
        for column, blob in zip(columns, packed, strict=True):
            column.frombytes(blob)
        members.flags += flags
    if _SWAP:
        for column in columns:
            column.byteswap()
    return members


def _packed(column: array[int]) -> memoryview | bytes:
    if not _SWAP:
        return memoryview(column)
    swapped = array(column.typecode, column)
    swapped.byteswap()
    return swapped.tobytes()


def without_tags(flags: Iterable[int]) -> bytearray:
    """The flags with no tag confirmed (the members wear another tag than the one asked for)."""
    untagged = bytes(value & ~MemberIndex.TAGGED for value in range(256))
    return bytearray(flags).translate(untagged)
