"""The export's state: the journal of the current run, and the members Omnisend confirmed.

One SQLite file per store and segment holds both, so that confirming a row in the run's journal and
recording it as a member are one transaction: a killed process never leaves a row confirmed in one
and unknown to the other.

- **The run's journal.** A batch moves ``built -> sent -> accepted (batch id) -> reconciled``; a
  batch whose ``POST`` answer was lost stays ``sent`` until it is found in Omnisend's batch list.
  Rows that reached a final outcome (exported or rejected) are recorded with it, and whether their
  segment tag was added. A refresh also keeps its work list here (the rows its first pass found
  new or changed), so a rerun after a crash finishes the same refresh.
- **Whole batches, and rows one by one.** Nearly every batch comes back with all its rows in the
  same outcome and nothing to report: such a batch is reconciled *whole*, in its own journal row
  (its outcome, and a digit per row for where that row's segment tag stands), without a journal
  row per contact: that cost more than the rest of the journal together. Every other row with an
  outcome (a rejection, a failure, a batch that came back mixed) is recorded one by one in the
  ``rows`` table, as before. Every question about done rows (which, their outcomes, the tag
  backlog, the members a run confirmed) reads both; a row is in one or the other, never both.
  A whole batch's contacts are also staged in ``run_members`` as it is reconciled, in the same
  step: what the members table gains when the run ends.
- **The members.** For each email Omnisend accepted: a fingerprint of the body it accepted, whether
  its segment tag is confirmed, and whether it left the segment and still wears the tag. The next
  run diffs its source against them (see :mod:`omnisend_sdk.export._refresh`).

SQLite in WAL mode: every step is committed before the engine moves on, so a killed process loses
at most the step it was taking. A step that cannot be written (a full disk) is not taken at all:
SQLite rolls it back whole and :class:`~omnisend_sdk.export._storage.ExportStateError` says why.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
import heapq
import json
import os
import re
import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeAlias, get_args

import attrs

from omnisend_sdk import _json
from omnisend_sdk._privacy import KeyHolder
from omnisend_sdk._state import FILE_MODE
from omnisend_sdk.export._member_snapshot import (
    SNAPSHOT_SCHEMA,
    keep_snapshot,
    load_members,
    unnoted_while_no_snapshot,
    without_tags,
)
from omnisend_sdk.export._members import MemberIndex, email_key
from omnisend_sdk.export._storage import StateDatabase, private_file, state_errors

BatchState: TypeAlias = Literal["built", "sent", "accepted", "reconciled"]
WorkRow: TypeAlias = tuple[int, str, int, bool, bytes, int]
"""A row of a refresh's work list: ``(row, email, fingerprint, tag, body, record)``."""
RowOutcome: TypeAlias = Literal["created", "updated", "upserted", "failed"]
RunKind: TypeAlias = Literal["export", "refresh"]


class TagState(enum.IntEnum):
    """Where a row's segment tag stands, as stored in ``rows.tagged``."""

    TO_TAG = 0  # exported, waiting for a tag call
    TAGGED = 1  # Omnisend accepted the tag call
    IN_CALL = 2  # claimed by a tag call under way (written by earlier versions; now in memory)
    FAILED = 3  # the tag call failed; a later run tries again
    NOT_NEEDED = 4  # no tag call: the tag is confirmed already, or membership is not marked

    @property
    def digit(self) -> str:
        """The state as a whole batch's ``tags`` text holds it, one character per row."""
        return str(self.value)


#: The outcomes in the order :class:`DoneRows` codes them (code = index + 1; 0: not done).
_OUTCOMES: tuple[RowOutcome, ...] = get_args(RowOutcome)


#: Columns added to the state after its first version, by table; a file from before them gets
#: them, with their defaults, when it is opened.
#:
#: - A row's ``key``, ``fingerprint``, ``member`` and ``record``: what it adds to the members
#:   once its run finishes (see :meth:`Journal._fold_into_members`). The defaults fold nothing:
#:   the version before them wrote its members directly.
#: - ``record``: the fingerprint of the source record a body was mapped from (0: unknown), so the
#:   next refresh can skip mapping records it met before (see :mod:`omnisend_sdk.mapping`).
#: - A batch's ``outcome``, ``tags`` and ``to_tag``: set when it was reconciled whole (see
#:   :meth:`Journal.batch_reconciled`): the outcome of all its rows, a :class:`TagState` digit per
#:   row in the order of its ``rows``, and how many of them wait for a tag call. ``NULL``
#:   outcome: its rows are recorded one by one, as every earlier version recorded them, so a
#:   journal an earlier version left unfinished resumes as it is.
#: - A batch's ``staged``: 1 once its contacts are in ``run_members`` (see
#:   :data:`_STAGED_SCHEMA`). A whole batch with 0 was reconciled by a version that does not
#:   stage; it is staged from its JSON when this version opens the file.
_ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "batches": (
        ("outcome", "TEXT"),
        ("tags", "TEXT"),
        ("to_tag", "INTEGER NOT NULL DEFAULT 0"),
        ("staged", "INTEGER NOT NULL DEFAULT 0"),
    ),
    "rows": (
        ("key", "INTEGER"),
        ("fingerprint", "INTEGER NOT NULL DEFAULT 0"),
        ("member", "INTEGER NOT NULL DEFAULT 0"),
        ("record", "INTEGER NOT NULL DEFAULT 0"),
    ),
    "members": (("record", "INTEGER NOT NULL DEFAULT 0"),),
    "work": (("record", "INTEGER NOT NULL DEFAULT 0"),),
}


#: The rows recorded one by one that wait for a tag call. Written out in each query, never bound
#: as a parameter: SQLite uses the partial index on it only for the very same text, and a
#: parameter makes it plan the query again at every call.
_TO_TAG_ROWS = f"tagged = {TagState.TO_TAG:d} AND outcome != 'failed'"


def _added(table: str) -> str:
    return "".join(f",\n    {name} {kind}" for name, kind in _ADDED_COLUMNS[table])


#: The members this run's whole batches confirmed, appended as each batch is reconciled: one
#: row per contact, at the table's end (no random page written), so the run's end merges them
#: into the members without reading each batch's JSON again (23,900 instructions a row, which
#: the end would take while nothing else runs). ``place``: the contact's place in its batch,
#: where the batch's ``tags`` text holds its tag state.
_STAGED_SCHEMA = """CREATE TABLE IF NOT EXISTS run_members (
    seq INTEGER NOT NULL,
    place INTEGER NOT NULL,
    key INTEGER NOT NULL,
    email TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    record INTEGER NOT NULL
);"""


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    batch_id TEXT,
    sent_at TEXT,
    -- '': the rows are in batch_rows (versions before it kept them here)
    rows TEXT NOT NULL{_added("batches")}
);
-- A batch's rows (about 10 KB for 100), apart from its state: each step of the batch and each
-- tag call rewrites a few bytes of the batches table, not the rows. Written once.
CREATE TABLE IF NOT EXISTS batch_rows (seq INTEGER PRIMARY KEY, rows TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    outcome TEXT NOT NULL,
    tagged INTEGER NOT NULL DEFAULT {TagState.TO_TAG:d},  -- a TagState
    issue TEXT{_added("rows")}
);
-- The tag backlog: exported rows still to tag, in row order, without scanning every row.
CREATE INDEX IF NOT EXISTS rows_to_tag ON rows (row) WHERE {_TO_TAG_ROWS};
-- What Omnisend confirmed, kept from run to run. The key is email_key(email), so a scan in key
-- order (the table's own order) loads the refresh's sorted index without sorting.
CREATE TABLE IF NOT EXISTS members (
    key INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    tagged INTEGER NOT NULL,  -- 1: Omnisend accepted the segment tag for the contact
    leaving INTEGER NOT NULL DEFAULT 0  -- 1: left the segment; the tag is still to remove
    {_added("members")}
);
-- Facts that outlive a run (the Omnisend segment's id, the tag the members wear).
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- A refresh's work list, from its first pass: the rows to send, encoded.
CREATE TABLE IF NOT EXISTS work (
    row INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    tag INTEGER NOT NULL,
    body BLOB NOT NULL{_added("work")}
);
CREATE TABLE IF NOT EXISTS work_issues (row INTEGER NOT NULL, issue TEXT NOT NULL);
{_STAGED_SCHEMA}
{SNAPSHOT_SCHEMA}"""

#: The tables of one run, emptied when the next starts.
_RUN_TABLES = ("batches", "batch_rows", "rows", "run_members", "meta", "work", "work_issues")

#: Indexes on columns added since the first version: created once the columns exist.
_ADDED_INDEXES = """
-- The tag backlog of whole batches: those with rows still to tag, in order.
CREATE INDEX IF NOT EXISTS batches_to_tag ON batches (seq) WHERE to_tag > 0;
"""


#: The members this run's rows confirmed, as the members table will hold them: a row's tag is
#: confirmed when its tag call was accepted, or when it needed none because it wore the tag
#: already (only under membership: ``:tagging`` says whether the run marks it). First the rows
#: recorded one by one, then those of whole batches, staged in ``run_members`` (their tag state
#: is the batch's ``tags`` digit at their place).
_RUN_MEMBERS_ONE_BY_ONE = (
    "SELECT key, email, fingerprint, tagged IN (:tagged, :not_needed) AND :tagging AS tagged, "
    "0 AS leaving, record FROM rows WHERE member = 1"
)


def _whole_batch_members(contacts: str) -> str:
    """The members the whole batches' ``contacts`` make (``run_members``, or a query of the
    same columns), each with its batch's tag digit at its place."""
    return (
        "SELECT m.key, m.email, m.fingerprint, CAST(substr(b.tags, m.place + 1, 1) AS INTEGER) "  # noqa: S608 - fixed text
        "IN (:tagged, :not_needed) AND :tagging AS tagged, 0 AS leaving, m.record "
        f"FROM {contacts} AS m JOIN batches AS b USING (seq)"
    )


_RUN_MEMBERS_STAGED = _whole_batch_members("run_members")
#: Whole batches, and those of them not staged yet (conditions on a batch ``b``).
_WHOLE = "b.outcome IS NOT NULL"
_UNSTAGED = "b.outcome IS NOT NULL AND b.staged = 0"


def _contacts_in_json(batches: str) -> str:
    """The contacts of the whole ``batches`` as ``run_members`` holds them, read from the
    batches' JSON (each element of a batch's ``rows`` is a :class:`BatchRow` as a JSON array):
    to stage batches a version that does not stage reconciled, or to read them without
    changing the file."""
    return (
        "SELECT seq, place, coalesce(key, email_key(email)) AS key, email, fingerprint, record "  # noqa: S608 - fixed text
        "FROM (SELECT b.seq, r.key AS place, json_extract(r.value, '$[5]') AS key, "
        "json_extract(r.value, '$[1]') AS email, "
        "coalesce(json_extract(r.value, '$[2]'), 0) AS fingerprint, "
        "coalesce(json_extract(r.value, '$[4]'), 0) AS record "
        "FROM batches AS b JOIN batch_rows AS c USING (seq), json_each(c.rows) AS r "
        f"WHERE {batches})"
    )


def _members_in_json(batches: str) -> str:
    """The members of the whole ``batches``, their contacts read from the batches' JSON."""
    return _whole_batch_members(f"({_contacts_in_json(batches)})")


def _run_members(whole: str | None = _RUN_MEMBERS_STAGED) -> str:
    """The query of :data:`_RUN_MEMBERS_ONE_BY_ONE` and ``whole``, the whole batches' members as
    the file keeps them (see :func:`_whole_batches_members`)."""
    if whole is None:
        return _RUN_MEMBERS_ONE_BY_ONE
    return f"{_RUN_MEMBERS_ONE_BY_ONE} UNION ALL {whole}"


def _whole_batches_members(db: sqlite3.Connection) -> str | None:
    """The query of the whole batches' members for a file read without changing it: those
    staged, and from their JSON those a version that does not stage reconciled (all of them in
    a file this version never opened); none when no version with whole batches opened it."""
    columns = _columns(db, "batches")
    if "staged" in columns:
        return f"{_RUN_MEMBERS_STAGED} UNION ALL {_members_in_json(_UNSTAGED)}"
    return _members_in_json(_WHOLE) if "outcome" in columns else None


def _run_members_parameters(tagging: bool) -> dict[str, object]:
    return {"tagged": TagState.TAGGED, "not_needed": TagState.NOT_NEEDED, "tagging": tagging}


def export_key(segment: str, store: KeyHolder) -> str:
    """What identifies an export's state: its segment and its store (never the key itself)."""
    key = f"{segment}\0{store.key_fingerprint}\0{store.base_url}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def journal_path(state_dir: Path, segment: str, store: KeyHolder) -> Path:
    """Where the state of one segment in one store lives (its journal and its members)."""
    digest = export_key(segment, store)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", segment).strip("-").lower()[:40] or "segment"
    return state_dir / "exports" / f"{slug}-{digest}.sqlite"


def source_identity(source: object) -> str:
    """What a run read, as the journal records it: an interrupted run resumes only on the same."""
    if isinstance(source, str | os.PathLike):
        return str(Path(source).resolve())
    return type(source).__name__


class BatchRow(NamedTuple):
    """A row as a batch carries it: where it came from, and what confirming it records."""

    row: int
    email: str
    fingerprint: int = 0
    tag: bool = True  # the row needs the segment tag once exported
    record: int = 0  # the fingerprint of the source record it was mapped from (0: unknown)
    #: The email's key (:func:`email_key`), recorded with the batch so that its members are
    #: folded in without hashing in SQL; 0: not recorded (a batch of an earlier version).
    key: int = 0


def _members_query(
    *, unfolded: bool, tagging: bool, whole: str | None = _RUN_MEMBERS_STAGED
) -> tuple[str, dict[str, object]]:
    """The members in key order as ``(key, fingerprint, tagged, leaving, record)``, and its
    parameters.

    With ``unfolded``, the rows of a run not finished yet count too, as its end will record them
    (``whole``: see :func:`_run_members`).
    """
    query = "SELECT key, fingerprint, tagged, leaving, record FROM members"
    if not unfolded:
        return query + " ORDER BY key", {}
    run = _run_members(whole)
    query = f"WITH run AS ({run}) {query} WHERE key NOT IN (SELECT key FROM run) UNION ALL "  # noqa: S608 - fixed text
    query += "SELECT key, fingerprint, tagged, leaving, record FROM run"
    return query + " ORDER BY key", _run_members_parameters(tagging)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {column[1] for column in db.execute(f"PRAGMA table_info({table})")}


def _unfolded_run(db: sqlite3.Connection) -> bool:
    """Whether the state holds a run not finished yet, whose rows are not among the members."""
    status = db.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
    return "member" in _columns(db, "rows") and status is not None and status[0] == "running"


def _has_run_members(
    db: sqlite3.Connection | StateDatabase, whole: str | None = _RUN_MEMBERS_STAGED
) -> bool:
    """Whether rows of a run not finished yet are to join the members (a resumed run's): the
    first of :func:`_run_members`, if any."""
    query = f"SELECT 1 FROM ({_run_members(whole)}) LIMIT 1"  # noqa: S608 - fixed text
    return db.execute(query, _run_members_parameters(tagging=False)).fetchone() is not None


def read_members(path: Path | None, segment_tag: str | None) -> MemberIndex:
    """The members an export's state holds, read without changing anything (for dry runs).

    Returns:
        The members; none when the state does not exist. Under another tag than the one the
        members wear, no tag counts as confirmed, as a real run would find.
    """
    if path is None or not path.exists():
        return MemberIndex()
    with state_errors(path, doing="read"):
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _add_functions(db)
            kept = db.execute("SELECT value FROM state WHERE key = 'segment_tag'").fetchone()
            same_tag = kept is not None and kept[0] == (segment_tag or "")
            unfolded = _unfolded_run(db)
            whole = _whole_batches_members(db)
            if not (unfolded and _has_run_members(db, whole)):
                members = load_members(db)
                if not same_tag:
                    members.flags = without_tags(members.flags)
                return members.index()
            query, parameters = _members_query(
                unfolded=unfolded, tagging=bool(kept and kept[0]), whole=whole
            )
            return MemberIndex(
                (key, fingerprint, bool(tagged) and same_tag, bool(leaving), record)
                for key, fingerprint, tagged, leaving, record in db.execute(query, parameters)
            )
        finally:
            db.close()


@attrs.frozen
class JournalBatch:
    """A batch the journal knows of but has not reconciled."""

    seq: int
    state: BatchState
    batch_id: str | None
    sent_at: datetime | None
    rows: tuple[BatchRow, ...]


class DoneRow(NamedTuple):
    """A row with a final outcome (a tuple: one is made for every row exported)."""

    row: int
    email: str
    outcome: RowOutcome
    issue: dict[str, Any] | None = None


class DoneRows:
    """The rows with a final outcome, and each one's outcome (a byte per row), for resume.

    A resumed run skips every done row and counts its recorded outcome: a lookup in memory,
    whichever way the row was recorded (a query per row would not find a whole batch's rows).
    """

    def __init__(self) -> None:
        self._codes = bytearray()
        self._size = 0

    def add(self, row: int, outcome: RowOutcome) -> None:
        if row >= len(self._codes):
            self._codes.extend(bytes(row + 1 - len(self._codes)))
        self._size += self._codes[row] == 0
        self._codes[row] = _OUTCOMES.index(outcome) + 1

    def outcome(self, row: int) -> RowOutcome:
        """The row's outcome; ``KeyError`` when it is not done."""
        if row not in self:
            raise KeyError(row)
        return _OUTCOMES[self._codes[row] - 1]

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and 0 <= row < len(self._codes) and self._codes[row] != 0

    def __len__(self) -> int:
        return self._size


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
    """One segment's state in one store: the current run's journal and the confirmed members.

    Args:
        path: The SQLite file; ``None`` keeps everything in memory (no resume, no refresh).
        export_key: Identifies the export; a file holding another export's state is refused.
        source: What this run reads (:func:`source_identity`): an interrupted run resumes only
            with the same source; with another, its journal is abandoned (what Omnisend
            confirmed stays among the members) and this run starts afresh.
        segment_tag: The tag that marks membership, or ``None`` without membership. When it
            differs from the one the members wear, no member's tag counts as confirmed.
        store: The store the export goes to: its key fingerprint and URL are kept in the file,
            so removing a saved connection finds every state of its store, whatever the file's
            name or tag.
    """

    def __init__(
        self,
        path: Path | None,
        export_key: str,
        *,
        source: str = "",
        segment_tag: str | None = None,
        store: KeyHolder | None = None,
    ) -> None:
        if path is not None:
            private_file(path)  # it names every member: owner-only, like all state
            _repair_sidecars(path)
        self.path = path
        self.segment_tag = segment_tag
        # Rows in tag calls under way: a whole batch's as (seq, place), others as None; and how
        # many of each whole batch's rows are claimed.
        self._claimed: dict[int, tuple[int, int] | None] = {}
        self._claimed_in: dict[int, int] = {}
        self._db = StateDatabase(path)
        try:
            self._open(export_key, source, store)
        except BaseException:
            self._db.close()  # a state that cannot be opened (a full disk) is not left open
            raise

    def _open(self, export_key: str, source: str, store: KeyHolder | None) -> None:
        segment_tag = self.segment_tag
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL survives a killed process (the case resume is for); only an OS crash may lose
        # the last commits, which reconciliation then repairs.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_columns()
        self._db.executescript(_ADDED_INDEXES)
        _add_functions(self._db)
        stored = self.kept("export_key")
        if stored is not None and stored != export_key:
            raise ValueError(f"{self.path} is the state of another export")
        self.abandoned = self._meta("status") == "running" and self._meta("source") != source
        self.resumed = self._meta("status") == "running" and not self.abandoned
        with self._transaction():
            self._move_batch_rows()
            self._stage_unstaged_batches()
            if self.abandoned:
                # What Omnisend confirmed for the run left unfinished stays among the members,
                # under the tag that run marked.
                self._fold_into_members(tagging=bool(self.kept("segment_tag")))
            self.keep("export_key", export_key)
            if store is not None:
                self.keep("key_fingerprint", store.key_fingerprint)
                self.keep("base_url", store.base_url)
            if self.kept("segment_tag") != (segment_tag or ""):
                # Another tag (or none before): no member wears this one yet, nor does a row
                # a resumed run tagged before, which this run tags again.
                self._db.execute("UPDATE members SET tagged = 0")
                self._tag_again(TagState.TAGGED, TagState.NOT_NEEDED)
                self.keep("segment_tag", segment_tag or "")
        if self.resumed:
            # Tag calls of the earlier run that were under way or failed: try them again.
            with self._transaction():
                self._tag_again(TagState.IN_CALL, TagState.FAILED)
        else:
            self._reset(source)

    def _add_columns(self) -> None:
        """Give a state file from an earlier version the columns added since."""
        for table, columns in _ADDED_COLUMNS.items():
            found = self._db.execute(f"PRAGMA table_info({table})").fetchall()
            have = {column[1] for column in found}
            for name, kind in columns:
                if name not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _move_batch_rows(self) -> None:
        """Move the rows of batches an earlier version recorded to their own table."""
        self._db.execute(
            "INSERT OR IGNORE INTO batch_rows SELECT seq, rows FROM batches WHERE rows != ''"
        )
        self._db.execute("UPDATE batches SET rows = '' WHERE rows != ''")

    def _stage_unstaged_batches(self) -> None:
        """Stage the contacts of whole batches a version that does not stage reconciled (none,
        unless an earlier version ran on this file), from their JSON."""
        self._db.execute(f"INSERT INTO run_members {_contacts_in_json(_UNSTAGED)}")
        self._db.execute(f"UPDATE batches AS b SET staged = 1 WHERE {_UNSTAGED}")  # noqa: S608

    def _tag_again(self, *states: TagState) -> None:
        """Put the rows in these tag states back to tag, one by one and in whole batches."""
        self._db.execute(
            "UPDATE rows SET tagged = ? WHERE tagged IN (SELECT value FROM json_each(?))",
            (TagState.TO_TAG, json.dumps(states)),
        )
        tags = "tags"
        for state in states:  # digits only: the text is fixed
            tags = f"replace({tags}, '{state.digit}', '{TagState.TO_TAG.digit}')"
        to_tag = f"length({tags}) - length(replace({tags}, '{TagState.TO_TAG.digit}', ''))"
        self._db.execute(
            f"UPDATE batches SET tags = {tags}, to_tag = {to_tag} WHERE outcome IS NOT NULL"  # noqa: S608
        )

    def _reset(self, source: str) -> None:
        """Start a new run: the last run's journal goes; the members and kept facts stay."""
        with self._transaction():
            for table in _RUN_TABLES:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self._set_meta("status", "running")
            self._set_meta("source", source)
            self._set_meta("started_at", datetime.now(UTC).isoformat())

    def _meta(self, key: str) -> str | None:
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def kept(self, key: str) -> str | None:
        """A fact kept from run to run (``segment_id``...), or ``None``."""
        found = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def keep(self, key: str, value: str | None) -> None:
        """Keep a fact from run to run; ``None`` forgets it."""
        if value is None:
            self._db.execute("DELETE FROM state WHERE key = ?", (key,))
        else:
            self._db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    @property
    def started_at(self) -> datetime:
        """When the export (its first run, if resumed) started."""
        return datetime.fromisoformat(self._meta("started_at") or datetime.now(UTC).isoformat())

    # --- batches -------------------------------------------------------------------------------

    def batch_built(self, rows: Sequence[tuple[int, str]] | Sequence[BatchRow]) -> int:
        """Record a new batch about to be sent; returns its sequence number."""
        carried = [row if isinstance(row, BatchRow) else BatchRow(*row) for row in rows]
        text = _json.dumps(
            [
                (r.row, r.email, r.fingerprint, r.tag, r.record, r.key or email_key(r.email))
                for r in carried
            ]
        ).decode()
        with self._transaction():
            cursor = self._db.execute("INSERT INTO batches (state, rows) VALUES ('built', '')")
            seq = cursor.lastrowid
            assert seq is not None
            # Each row is the list _batch_rows() reads back as a BatchRow.
            self._db.execute("INSERT INTO batch_rows VALUES (?, ?)", (seq, text))
        return seq

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
        """Forget a batch whose rows are not (or no longer) in Omnisend's hands.

        Only a batch not reconciled is dropped, so none of its contacts is staged as a member.
        """
        with self._transaction():
            self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
            self._db.execute("DELETE FROM batch_rows WHERE seq = ?", (seq,))

    def batch_reconciled(self, seq: int, done: Sequence[DoneRow]) -> None:
        """Every row of the batch has its outcome, or was handed to another batch.

        The exported rows become members, with the fingerprint of the body the batch carried, in
        the same step. A batch whose every row came back in one outcome, with nothing to report,
        is recorded whole: one statement on its journal row, and its contacts staged for the
        members (appended, see :meth:`_fold_into_members`). Any other is recorded row by row.
        """
        found = self._db.execute("SELECT rows FROM batch_rows WHERE seq = ?", (seq,)).fetchone()
        carried = _batch_rows(found[0]) if found else ()
        outcome = _whole_outcome(carried, done)
        if outcome is not None:
            tags = "".join(_TAG_DIGITS[r.tag] for r in carried)
            with self._transaction():
                self._db.execute(
                    "UPDATE batches SET state = 'reconciled', outcome = ?, tags = ?, to_tag = ?, "
                    "staged = 1 WHERE seq = ?",
                    (outcome, tags, tags.count(TagState.TO_TAG.digit), seq),
                )
                self._stage(seq, carried)
            return
        with self._transaction():
            self.rows_finished(done, {r.row: r for r in carried})
            self._db.execute("UPDATE batches SET state = 'reconciled' WHERE seq = ?", (seq,))

    def _stage(self, seq: int, carried: Sequence[BatchRow]) -> None:
        """Append a whole batch's contacts to ``run_members``, in one statement a part.

        One statement, not one a contact as ``executemany`` runs them: 7,100 instructions a
        contact instead of 10,500, and the GIL let go and taken back once a batch, not once a
        contact (the client's threads wait for it).
        """
        for start in range(0, len(carried), _STAGED_A_STATEMENT):
            part = carried[start : start + _STAGED_A_STATEMENT]
            values: list[object] = []
            for place, r in enumerate(part, start):
                key = r.key or email_key(r.email)  # 0: a batch built by an earlier version
                values += (seq, place, key, r.email, r.fingerprint, r.record)
            self._db.execute(_staging_insert(len(part)), values)

    def unresolved_batches(self) -> list[JournalBatch]:
        """Batches sent or accepted but not reconciled (built-only batches never left)."""
        found = self._db.execute(
            "SELECT seq, state, batch_id, sent_at, c.rows FROM batches JOIN batch_rows AS c "
            "USING (seq) WHERE state IN ('sent', 'accepted') ORDER BY seq"
        ).fetchall()
        return [
            JournalBatch(
                seq=seq,
                state=state,
                batch_id=batch_id,
                sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
                rows=_batch_rows(rows),
            )
            for seq, state, batch_id, sent_at, rows in found
        ]

    # --- rows ----------------------------------------------------------------------------------

    def rows_finished(
        self, done: Sequence[DoneRow], carried: Mapping[int, BatchRow] | None = None
    ) -> None:
        """Record rows' final outcomes one by one; exported rows the batch ``carried`` become
        members.

        They join the members table when the run ends (:meth:`_fold_into_members`); until then
        the rows table holds what they will add.
        """
        carried = carried or {}
        records = []
        for d in done:
            sent = carried.get(d.row)
            needs_tag = sent.tag if sent is not None else True
            member = sent is not None and d.outcome != "failed"
            records.append(
                (
                    d.row,
                    d.email,
                    d.outcome,
                    TagState.TO_TAG if needs_tag else TagState.NOT_NEEDED,
                    json.dumps(d.issue) if d.issue else None,
                    email_key(d.email),
                    sent.fingerprint if member else 0,  # type: ignore[union-attr]
                    member,
                    sent.record if member else 0,  # type: ignore[union-attr]
                )
            )
        self._db.executemany(
            "INSERT OR REPLACE INTO rows "
            "(row, email, outcome, tagged, issue, key, fingerprint, member, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            records,
        )

    def _fold_into_members(self, *, tagging: bool) -> None:
        """Make the run's confirmed rows members, in one pass in key order.

        Done at the run's end (or while it waits for its last batches, see
        :meth:`fold_confirmed`), rather than as each batch is reconciled: the members are
        keyed by a hash of the email, so a write per row lands on a random page of the table,
        and each such page costs a 4 KiB write to the log at every commit. What can be done
        sooner is: each whole batch appends its contacts to ``run_members`` as it is
        reconciled, while the run mostly waits for the rate limit, so the end only sorts them
        and writes them (9,400 instructions a contact, where reading them out of each batch's
        JSON here cost 28,300).

        Staged contacts folded before are not folded again when the run marks no tag: nothing
        about them changes after they are staged. Under a tag, their tag calls go on, so every
        one is folded with its tag as it stands (rows recorded one by one, few, always are).

        Args:
            tagging: Whether the run marked membership with a tag (else no tag is confirmed).
        """
        folded = 0 if tagging else int(self._meta("folded_through") or 0)
        with unnoted_while_no_snapshot(self._db):
            self._db.execute(
                "INSERT OR REPLACE INTO members (key, email, fingerprint, tagged, leaving, record) "
                + _run_members(_RUN_MEMBERS_STAGED + " WHERE m.rowid > :folded")
                + " ORDER BY key",
                {**_run_members_parameters(tagging), "folded": folded},
            )
        if not tagging:
            (last,) = self._db.execute("SELECT coalesce(max(rowid), 0) FROM run_members").fetchone()
            self._set_meta("folded_through", str(last))

    def fold_confirmed(self) -> None:
        """Fold the members confirmed so far and make their snapshot, while the run waits for
        its last batches: its end then folds only the rest, and notes them for the snapshot.

        Only for a run that marks no tag (else the tag calls still under way would change
        what is folded, and the end folds every contact again). Any run may do it any time:
        a member folded early is what the end would write, and until then the run's own
        rows take precedence over the members in every read of a run not finished.
        """
        if self.segment_tag is not None:
            return
        with self._transaction():
            self._fold_into_members(tagging=False)
            keep_snapshot(self._db)

    def _done_rows(self) -> Iterator[tuple[int, str, RowOutcome, int | None]]:
        """``(row, email, outcome, key)`` of every done row, one by one or in whole batches
        (key: ``None`` where an earlier version did not record it)."""
        yield from self._db.execute("SELECT row, email, outcome, key FROM rows")
        yield from self._db.execute(
            "SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), b.outcome, "
            "json_extract(r.value, '$[5]') "
            "FROM batches AS b JOIN batch_rows AS c USING (seq), json_each(c.rows) AS r "
            "WHERE b.outcome IS NOT NULL"
        )

    def row_keys(self) -> array[int]:
        """The email key of each done row, by row number (0 where no row is done): 8 bytes a row."""
        keys = array("q")
        for row, email, _, key in self._done_rows():
            if row >= len(keys):
                keys.extend(array("q", [0]) * (max(row + 1, 2 * len(keys)) - len(keys)))
            keys[row] = email_key(email) if key is None else key  # None: not kept with the row
        return keys

    def rows_done(self) -> DoneRows:
        """Every row with a final outcome, with its outcome."""
        done = DoneRows()
        for row, _, outcome, _ in self._done_rows():
            done.add(row, outcome)
        return done

    def outcome_of(self, row: int) -> RowOutcome:
        """The recorded outcome of a done row (a resumed run reads them all: :meth:`rows_done`)."""
        return self.rows_done().outcome(row)

    def outcome_counts(self) -> dict[str, int]:
        """How many rows ended in each outcome."""
        counts: dict[str, int] = {}
        for outcome, count in self._db.execute(
            "SELECT outcome, count(*) FROM rows GROUP BY outcome UNION ALL "
            "SELECT outcome, sum(length(tags)) FROM batches WHERE outcome IS NOT NULL "
            "GROUP BY outcome"
        ):
            counts[outcome] = counts.get(outcome, 0) + count
        return counts

    def failure_issues(self) -> list[dict[str, Any]]:
        """The issues of rows Omnisend rejected, as recorded."""
        found = self._db.execute("SELECT issue FROM rows WHERE issue IS NOT NULL ORDER BY row")
        return [json.loads(issue) for (issue,) in found]

    def rows_tagged(self, rows: Sequence[tuple[int, str]]) -> None:
        """The segment tag was added to these ``(row, email)``: their members wear it now."""
        self._set_tag_state((row for row, _ in rows), TagState.TAGGED)

    def claim_untagged(self, limit: int) -> list[tuple[int, str]]:
        """Take up to ``limit`` exported rows still to tag, for a tag call.

        The backlog of rows to tag stays here, not in memory: tagging is the slower stream (60
        calls a minute), so for a big export it grows to most of the segment. Only the claims
        of the calls under way are held in memory: a run that dies leaves their rows to tag,
        which is all a rerun needs, so writing each claim down would buy nothing.
        """
        one_by_one = self._db.execute(
            f"SELECT row, email, NULL FROM rows WHERE {_TO_TAG_ROWS} ORDER BY row LIMIT ?",  # noqa: S608 - fixed text
            (limit + len(self._claimed),),
        ).fetchall()
        found = self._untagged_in_batches(limit)
        if one_by_one:  # rare (rows of mixed batches): then the lowest rows first
            unclaimed = [f for f in one_by_one if f[0] not in self._claimed]
            found = sorted(unclaimed + found, key=lambda f: f[0])
        claimed = found[:limit]
        for row, _, at in claimed:
            self._claimed[row] = at
            if at is not None:
                self._claimed_in[at[0]] = self._claimed_in.get(at[0], 0) + 1
        return [(row, email) for row, email, _ in claimed]

    def _untagged_in_batches(
        self, limit: int, *, with_claimed: bool = False
    ) -> list[tuple[int, str, tuple[int, int] | None]]:
        """Up to ``limit`` rows of whole batches still to tag, in batch order, as ``(row,
        email, (seq, place))``; without ``with_claimed``, none claimed already."""
        found: list[tuple[int, str, tuple[int, int] | None]] = []
        waiting = TagState.TO_TAG.digit
        after = 0
        while len(found) < limit:
            batches = self._db.execute(
                "SELECT seq, c.rows, tags, to_tag FROM batches JOIN batch_rows AS c USING (seq) "
                "WHERE to_tag > 0 AND seq > ? ORDER BY seq LIMIT ?",
                (after, _BATCHES_A_READ),
            ).fetchall()
            for seq, rows, tags, to_tag in batches:
                taken = 0 if with_claimed else self._claimed_in.get(seq, 0)
                if taken >= to_tag:
                    continue  # all in calls under way: not even decoded
                carried = _json.loads(rows)
                for place, digit in enumerate(tags):
                    if digit == waiting and not (taken and carried[place][0] in self._claimed):
                        found.append((carried[place][0], carried[place][1], (seq, place)))
                if len(found) >= limit:
                    return found[:limit]
            if len(batches) < _BATCHES_A_READ:
                break
            after = batches[-1][0]
        return found

    def rows_tag_failed(self, rows: Iterable[int]) -> None:
        """A tag call for these rows failed; a later run tries again."""
        self._set_tag_state(rows, TagState.FAILED)

    def _set_tag_state(self, rows: Iterable[int], state: TagState) -> None:
        """Set rows' tag state (one step, however many rows) and release their claims.

        Rows of whole batches are known by their claims; any other row is one recorded alone.
        """
        numbers = list(rows)
        one_by_one = [row for row in numbers if self._claimed.get(row) is None]
        places: dict[int, list[int]] = {}
        for row in numbers:
            at = self._claimed.get(row)
            if at is not None:
                places.setdefault(at[0], []).append(at[1])
        with self._transaction():
            if one_by_one:
                self._db.execute(
                    "UPDATE rows SET tagged = ? WHERE row IN (SELECT value FROM json_each(?))",
                    (state, json.dumps(one_by_one)),
                )
            digit = state.digit
            for seq, batch_places in places.items():
                (tags,) = self._db.execute(
                    "SELECT tags FROM batches WHERE seq = ?", (seq,)
                ).fetchone()
                digits = list(tags)
                for place in batch_places:
                    digits[place] = digit
                tags = "".join(digits)
                self._db.execute(
                    "UPDATE batches SET tags = ?, to_tag = ? WHERE seq = ?",
                    (tags, tags.count(TagState.TO_TAG.digit), seq),
                )
        for row in numbers:
            at = self._claimed.pop(row, None)
            if at is not None:
                self._claimed_in[at[0]] -= 1

    def untagged_count(self) -> int:
        """Exported rows still to tag."""
        found = self._db.execute(
            f"SELECT (SELECT count(*) FROM rows WHERE {_TO_TAG_ROWS}) + "  # noqa: S608 - fixed text
            "(SELECT coalesce(sum(to_tag), 0) FROM batches WHERE to_tag > 0)"
        ).fetchone()
        return max(int(found[0]) - len(self._claimed), 0)

    def untagged(self) -> Iterator[tuple[int, str]]:
        """Exported rows whose segment tag was not added yet, in row order."""
        one_by_one = self._db.execute(
            f"SELECT row, email FROM rows WHERE {_TO_TAG_ROWS} ORDER BY row"  # noqa: S608 - fixed text
        ).fetchall()
        every = self._untagged_in_batches(2**62, with_claimed=True)
        in_batches = sorted((row, email) for row, email, _ in every)
        yield from heapq.merge(one_by_one, in_batches)

    def tagged_count(self) -> int:
        """Rows whose segment tag was added."""
        found = self._db.execute(
            "SELECT (SELECT count(*) FROM rows WHERE tagged = ?) + (SELECT coalesce(sum("
            "length(tags) - length(replace(tags, ?, ''))), 0) FROM batches "
            "WHERE outcome IS NOT NULL)",
            (TagState.TAGGED, TagState.TAGGED.digit),
        )
        return int(found.fetchone()[0])

    # --- members -------------------------------------------------------------------------------

    def member_index(self) -> MemberIndex:
        """The members, loaded for a diff (25 bytes each): from their snapshot and the members
        written since (see :mod:`omnisend_sdk.export._member_snapshot`); with a resumed run's
        confirmed rows read as members too, from the tables."""
        if self._meta("status") == "running" and _has_run_members(self._db):
            query, parameters = _members_query(unfolded=True, tagging=self.segment_tag is not None)
            return MemberIndex(self._db.execute(query, parameters))
        return load_members(self._db).index()

    def has_members(self) -> bool:
        """Whether any member is known, staying or leaving: then a run is a refresh."""
        return self._db.execute("SELECT 1 FROM members LIMIT 1").fetchone() is not None

    def member_count(self) -> int:
        """Members that have not left."""
        found = self._db.execute("SELECT count(*) FROM members WHERE leaving = 0").fetchone()
        return int(found[0])

    def leaving(self, after: int | None, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` members whose tag is still to remove, in key order after ``after``."""
        found = self._db.execute(
            "SELECT key, email FROM members WHERE leaving = 1 AND key > ? ORDER BY key LIMIT ?",
            (-(2**63) if after is None else after, limit),
        )
        return [(key, email) for key, email in found]

    def leaving_count(self) -> int:
        """Members whose tag is still to remove."""
        found = self._db.execute("SELECT count(*) FROM members WHERE leaving = 1").fetchone()
        return int(found[0])

    def members_untagged(self, keys: Sequence[int]) -> None:
        """Omnisend accepted the removal of these members' tag: they are members no more."""
        with self._transaction():
            self._db.executemany("DELETE FROM members WHERE key = ?", ((k,) for k in keys))

    # --- a refresh's work list ----------------------------------------------------------------

    @property
    def kind(self) -> RunKind | None:
        """What this run is: ``"export"`` (every valid row is sent), ``"refresh"``, or unset."""
        kind = self._meta("kind")
        return kind if kind in ("export", "refresh") else None  # type: ignore[return-value]

    def start(self, kind: RunKind) -> None:
        """Say what this run is, before its first row: a rerun after a crash takes the same path."""
        with self._transaction():
            self._set_meta("kind", kind)
            self._drop_work()

    def refresh_planned(
        self,
        tally: Mapping[str, Any],
        issues: Iterable[dict[str, Any]],
        *,
        left: Sequence[int],
        rejoined: Sequence[int],
        untag: bool,
        new_records: Iterable[tuple[int, int]] = (),
    ) -> None:
        """The first pass is done and the guard passed: keep its counts, issues and leavers.

        One transaction, so a rerun either plans the refresh again from scratch or finds it
        whole. Leavers are marked for tag removal (``untag``) or forgotten. ``new_records``:
        ``(record, key)`` of unchanged members the pass mapped from a record other than the one
        kept, in key order, so the next refresh knows them.
        """
        with self._transaction():
            self._set_meta("work", json.dumps(tally))
            self._db.executemany(
                "INSERT INTO work_issues VALUES (?, ?)",
                ((issue["row"], json.dumps(issue)) for issue in issues),
            )
            self._db.executemany(
                "UPDATE members SET leaving = 0, tagged = 0 WHERE key = ?",
                ((key,) for key in rejoined),
            )
            self._db.executemany("UPDATE members SET record = ? WHERE key = ?", new_records)
            self._db.executemany(
                "UPDATE members SET leaving = 1 WHERE key = ?"
                if untag
                else "DELETE FROM members WHERE key = ?",
                ((key,) for key in left),
            )

    def refused(self) -> None:
        """The shrink guard refused the refresh: drop its work list; a rerun starts afresh."""
        with self._transaction():
            self._drop_work()
            self._set_meta("status", "refused")

    def _drop_work(self) -> None:
        self._db.execute("DELETE FROM work")
        self._db.execute("DELETE FROM work_issues")

    def planned_work(self) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The first pass's counts and issues, when this run is a refresh that planned its work."""
        tally = self._meta("work")
        if tally is None:
            return None
        found = self._db.execute("SELECT issue FROM work_issues ORDER BY rowid")
        return json.loads(tally), [json.loads(issue) for (issue,) in found]

    def add_work(self, rows: Sequence[WorkRow]) -> None:
        """Rows the first pass found to send."""
        self._db.executemany(
            "INSERT OR REPLACE INTO work (row, email, fingerprint, tag, body, record) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def work(self, *, chunk: int = 1_000) -> Iterator[WorkRow]:
        """The work list, in row order (read in chunks: the engine writes between them)."""
        after = -1
        while True:
            found = self._db.execute(
                "SELECT row, email, fingerprint, tag, body, record FROM work WHERE row > ? "
                "ORDER BY row LIMIT ?",
                (after, chunk),
            ).fetchall()
            for row, email, fingerprint, tag, body, record in found:
                yield row, email, fingerprint, bool(tag), body, record
            if len(found) < chunk:
                return
            after = found[-1][0]

    def finish(self) -> None:
        """The run is complete: a rerun is a refresh."""
        with self._transaction():
            self._fold_into_members(tagging=self.segment_tag is not None)
            keep_snapshot(self._db)
            self._set_meta("status", "finished")
            self._db.execute("DELETE FROM work")
            self.keep("finished_at", datetime.now(UTC).isoformat())

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _batch_rows(text: str) -> tuple[BatchRow, ...]:
    return tuple(BatchRow(*row) for row in _json.loads(text))


#: Contacts staged by one statement at most: six values each, under SQLite's limit of 32,766.
_STAGED_A_STATEMENT = 1_000


@functools.cache
def _staging_insert(contacts: int) -> str:
    """The statement that stages this many contacts (batches come in a few sizes)."""
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * contacts)
    return f"INSERT INTO run_members VALUES {rows}"  # noqa: S608 - placeholders only


#: Whole batches read at a time for their rows to tag: a tag call of 250 needs three of 100.
_BATCHES_A_READ = 4
#: A whole batch's tag digit for a row, by whether it needs the segment tag.
_TAG_DIGITS = {True: TagState.TO_TAG.digit, False: TagState.NOT_NEEDED.digit}


def _whole_outcome(carried: Sequence[BatchRow], done: Sequence[DoneRow]) -> RowOutcome | None:
    """The one outcome of every row the batch carried, when it can be recorded whole.

    Only then: every row carried is done (none handed to another batch), all in the same
    outcome, exported, with no issue to keep.
    """
    if not done or len(done) != len(carried):
        return None
    outcome = done[0].outcome
    if outcome == "failed" or any(d.outcome != outcome or d.issue for d in done):
        return None
    if {d.row for d in done} != {r.row for r in carried}:
        return None
    return outcome


def _add_functions(db: sqlite3.Connection | StateDatabase) -> None:
    """The Python functions the journal's queries call (a whole batch's members' keys)."""
    db.create_function("email_key", 1, email_key, deterministic=True)


def _repair_sidecars(path: Path) -> None:
    """Owner-only ``-wal`` and ``-shm`` files: an older version may have left them readable."""
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            with state_errors(sidecar, doing="protect"):
                os.chmod(sidecar, FILE_MODE)


class _Transaction:
    """Several writes as one step: all of them recorded, or none."""

    def __init__(self, db: StateDatabase) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()  # a COMMIT that failed (a full disk) leaves nothing half done
                raise
        else:
            self._roll_back()

    def _roll_back(self) -> None:
        # SQLite may have rolled back already (it does on a full disk); a second ROLLBACK would
        # fail and hide the error that matters.
        if self._db.in_transaction:
            with contextlib.suppress(Exception):
                self._db.execute("ROLLBACK")
