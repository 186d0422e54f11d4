"""The members' snapshot: loading through it gives exactly what reading the members table gives."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnisend_sdk.export._journal import BatchRow, DoneRow, Journal, read_members
from omnisend_sdk.export._member_snapshot import (
    MemberArrays,
    keep_snapshot,
    load_members,
    unnoted_while_no_snapshot,
)
from omnisend_sdk.export._members import MemberIndex, email_key

KeyRow = tuple[int, int, int, int, int]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A state file made by the journal, opened as plain SQLite to change its members at will."""
    path = tmp_path / "state.sqlite"
    Journal(path, "k", segment_tag="VIP").close()
    db = sqlite3.connect(path, isolation_level=None)
    yield db
    db.close()


def table(db: sqlite3.Connection) -> list[KeyRow]:
    query = "SELECT key, fingerprint, tagged, leaving, record FROM members ORDER BY key"
    return [tuple(row) for row in db.execute(query)]  # type: ignore[misc]


def described(members: MemberArrays) -> list[KeyRow]:
    flags = members.flags
    return [
        (key, fingerprint, flags[at] & 1, flags[at] >> 1 & 1, record)
        for at, (key, fingerprint, record) in enumerate(
            zip(members.keys, members.fingerprints, members.records, strict=True)
        )
    ]


def random_key(chance: random.Random) -> int:
    return chance.getrandbits(64) - 2**63


def insert(db: sqlite3.Connection, rows: list[KeyRow]) -> None:
    with db:  # one transaction
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO members (key, email, fingerprint, tagged, leaving, record) "
            "VALUES (?, 'x', ?, ?, ?, ?)",
            rows,
        )


def changes(db: sqlite3.Connection) -> int:
    (count,) = db.execute("SELECT count(*) FROM member_changes").fetchone()
    return int(count)


def load(db: sqlite3.Connection) -> MemberArrays:
    return load_members(db)


def keep(db: sqlite3.Connection) -> None:
    """What a run's end does: the snapshot made again, if it is due."""
    db.execute("BEGIN")
    keep_snapshot(db)
    db.execute("COMMIT")


def snapshot_size(db: sqlite3.Connection) -> int | None:
    """Members in the snapshot; ``None`` without one."""
    (parts, size) = db.execute(
        "SELECT count(*), total(length(flags)) FROM member_snapshot"
    ).fetchone()
    return int(size) if parts else None


def test_nothing_is_noted_before_there_is_a_snapshot(state: sqlite3.Connection) -> None:
    chance = random.Random(1)
    insert(state, [(random_key(chance), 1, 1, 0, 0) for _ in range(100_000)])
    assert changes(state) == 0  # a first export's members cost the triggers nothing
    assert described(load(state)) == table(state)  # read from the table
    keep(state)  # made in parts of about 16,384 members
    assert snapshot_size(state) == 100_000
    assert described(load(state)) == table(state)
    insert(state, [(5, 1, 1, 0, 0)])
    assert changes(state) == 1


def test_every_kind_of_change_is_merged_as_the_table_holds_it(state: sqlite3.Connection) -> None:
    chance = random.Random(2)
    insert(state, [(random_key(chance), chance.randrange(9), 1, 0, 7) for _ in range(2_000)])
    keep(state)
    merged = rebuilt = 0
    for _ in range(16):
        keys = [row[0] for row in table(state)]
        edits = chance.randrange(1, 25)
        new = [(random_key(chance), 3, 0, 0, 0) for _ in range(edits)]
        new += [(-(2**63), 4, 1, 0, 1), (2**63 - 1, 5, 1, 1, 2)]  # the smallest and largest
        insert(state, new)
        insert(state, [(key, 6, 1, 0, 9) for key in chance.sample(keys, edits)])  # replaced
        for key in chance.sample(keys, edits):
            state.execute("UPDATE members SET leaving = 1 - leaving WHERE key = ?", (key,))
            state.execute("UPDATE members SET record = record + 1 WHERE key = ?", (key,))
        state.executemany(
            "DELETE FROM members WHERE key = ?", [(key,) for key in chance.sample(keys, edits)]
        )
        assert changes(state) > 0
        assert described(load(state)) == table(state)  # the snapshot and the changes merged
        keep(state)
        if changes(state):
            merged += 1  # too few to make the snapshot again: they wait for the next load
        else:
            rebuilt += 1  # past a fifth of the members
            assert snapshot_size(state) == len(table(state))
        assert described(load(state)) == table(state)
    assert merged
    assert rebuilt


def test_many_changes_are_read_from_the_table(state: sqlite3.Connection) -> None:
    chance = random.Random(3)
    insert(state, [(random_key(chance), 1, 1, 0, 0) for _ in range(500)])
    keep(state)
    state.execute("UPDATE members SET tagged = 0")  # another tag: every member changes
    assert changes(state) == 500
    assert described(load(state)) == table(state)
    keep(state)
    assert changes(state) == 0
    assert described(load(state)) == table(state)
    state.execute("DELETE FROM members")
    assert described(load(state)) == table(state) == []
    keep(state)
    assert snapshot_size(state) is None  # no members, no parts: the table is read (empty)
    assert described(load(state)) == []


def test_a_change_rolled_back_is_not_noted(state: sqlite3.Connection) -> None:
    insert(state, [(1, 1, 1, 0, 0), (2, 2, 1, 0, 0)])
    keep(state)
    state.execute("BEGIN")
    state.execute("UPDATE members SET fingerprint = 9 WHERE key = 1")
    state.execute("ROLLBACK")
    assert changes(state) == 0
    assert described(load(state)) == table(state)


def triggers(db: sqlite3.Connection) -> list[str]:
    found = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    return [name for (name,) in found]


def test_members_written_with_no_snapshot_leave_the_triggers_as_they_were(
    state: sqlite3.Connection,
) -> None:
    every = ["member_deleted", "member_inserted", "member_updated"]
    state.execute("BEGIN")
    with unnoted_while_no_snapshot(state):
        assert triggers(state) == []  # set aside: there is nothing to keep up
        state.execute("INSERT INTO members (key, email, fingerprint, tagged) VALUES (1, 'x', 1, 1)")
    state.execute("COMMIT")
    assert triggers(state) == every

    state.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError), unnoted_while_no_snapshot(state):
        state.execute("INSERT INTO members (key, email, fingerprint, tagged) VALUES (1, 'y', 2, 1)")
    state.execute("ROLLBACK")  # the run's end failed: its transaction goes, triggers and all
    assert triggers(state) == every
    assert table(state) == [(1, 1, 1, 0, 0)]

    keep(state)
    state.execute("BEGIN")
    with unnoted_while_no_snapshot(state):  # a snapshot to keep up: every write is noted
        state.execute("UPDATE members SET fingerprint = 3")
        assert triggers(state) == every
    state.execute("COMMIT")
    assert changes(state) == 1
    assert described(load(state)) == table(state) == [(1, 3, 1, 0, 0)]


def test_a_load_changes_nothing(state: sqlite3.Connection) -> None:
    insert(state, [(1, 1, 1, 0, 0), (2, 2, 1, 0, 0)])
    keep(state)
    insert(state, [(3, 3, 0, 0, 0)])
    assert described(load(state)) == table(state)
    assert changes(state) == 1


def email(i: int) -> str:
    return f"user{i}@example.com"


def confirm(journal: Journal, rows: list[tuple[int, str, int, bool]]) -> None:
    seq = journal.batch_built([BatchRow(*row) for row in rows])
    journal.batch_reconciled(
        seq, [DoneRow(row, address, "upserted") for row, address, _, _ in rows]
    )


def same(one: MemberIndex, other: MemberIndex) -> bool:
    return [
        (one.key(at), one.fingerprint(at), one.record(at), one.tag_confirmed(at))
        for at in range(len(one))
    ] == [
        (other.key(at), other.fingerprint(at), other.record(at), other.tag_confirmed(at))
        for at in range(len(other))
    ]


def test_runs_load_their_members_through_the_snapshot_as_from_the_table(tmp_path: Path) -> None:
    """An export, then refreshes that confirm, change and drop members: every load, the
    journal's and a dry run's (under the same and another tag), is the table's."""
    path = tmp_path / "state.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    confirm(journal, [(i, email(i), 100 + i, True) for i in range(2_000)])
    journal.finish()
    journal.close()
    for run in range(3):
        journal = Journal(path, "k", segment_tag="VIP")
        index = journal.member_index()
        assert same(index, MemberIndex(table_of(path)))
        fresh = range(2_000 + 10 * run, 2_010 + 10 * run)
        confirm(journal, [(i, email(i), 7 * run + i, True) for i in (*fresh, run)])
        journal.rows_tagged(journal.claim_untagged(100))
        journal.members_untagged([email_key(email(40 + run))])
        journal.finish()
        journal.close()
        with sqlite3.connect(path) as db:
            assert snapshot_size(db) is not None  # made at the export's end, kept since
            noted = changes(db)
        for tag in ("VIP", "Other"):
            slow = read_members_from_table(path, same_tag=tag == "VIP")
            assert same(read_members(path, tag), slow)
        assert noted or run == 0  # later runs' changes are merged in, not read from the table


def table_of(path: Path) -> list[KeyRow]:
    with sqlite3.connect(path) as db:
        return table(db)


def read_members_from_table(path: Path, *, same_tag: bool) -> MemberIndex:
    return MemberIndex(
        (key, fingerprint, bool(tagged) and same_tag, bool(leaving), record)
        for key, fingerprint, tagged, leaving, record in table_of(path)
    )


def test_a_state_from_before_the_snapshot_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    confirm(journal, [(i, email(i), i, True) for i in range(5)])
    journal.finish()
    journal.close()
    with sqlite3.connect(path) as db:  # as the version before this one left it
        for name in ("member_inserted", "member_updated", "member_deleted"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE member_snapshot")
        db.execute("DROP TABLE member_changes")
    assert same(read_members(path, "VIP"), read_members_from_table(path, same_tag=True))
    reopened = Journal(path, "k", segment_tag="VIP")  # gets the tables, and a first snapshot
    assert same(reopened.member_index(), read_members_from_table(path, same_tag=True))
    reopened.close()
