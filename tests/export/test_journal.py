"""The export journal: batch states, done rows, tagging, and what reopening a journal file means."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk.export._journal import (
    BatchRow,
    DoneRow,
    DoneRows,
    Journal,
    RowSet,
    read_members,
)
from omnisend_sdk.export._members import MemberIndex, email_key

SENT_AT = datetime(2026, 3, 20, 12, 30, tzinfo=UTC)


def rows(*numbers: int) -> list[tuple[int, str]]:
    return [(n, f"person{n}@example.com") for n in numbers]


def states(journal: Journal) -> dict[int, str]:
    return {b.seq: b.state for b in journal.unresolved_batches()}


def test_a_batch_moves_built_sent_accepted_reconciled() -> None:
    journal = Journal(None, "k")

    seq = journal.batch_built(rows(1, 2))
    assert journal.unresolved_batches() == []  # built only: it never left

    journal.batch_sent(seq, SENT_AT)
    (sent,) = journal.unresolved_batches()
    assert (sent.seq, sent.state, sent.batch_id, sent.sent_at) == (seq, "sent", None, SENT_AT)
    assert [(r.row, r.email) for r in sent.rows] == [
        (1, "person1@example.com"),
        (2, "person2@example.com"),
    ]

    journal.batch_accepted(seq, "b-1")
    (accepted,) = journal.unresolved_batches()
    assert (accepted.state, accepted.batch_id, accepted.sent_at) == ("accepted", "b-1", SENT_AT)

    journal.batch_reconciled(
        seq,
        [
            DoneRow(1, "person1@example.com", "created"),
            DoneRow(2, "person2@example.com", "updated"),
        ],
    )
    assert journal.unresolved_batches() == []
    assert journal.outcome_of(1) == "created"
    assert journal.outcome_of(2) == "updated"


def test_unresolved_batches_are_the_sent_and_accepted_ones_in_order() -> None:
    journal = Journal(None, "k")
    built = journal.batch_built(rows(1))
    sent = journal.batch_built(rows(2))
    journal.batch_sent(sent, SENT_AT)
    accepted = journal.batch_built(rows(3))
    journal.batch_sent(accepted, SENT_AT)
    journal.batch_accepted(accepted, "b-3")
    reconciled = journal.batch_built(rows(4))
    journal.batch_sent(reconciled, SENT_AT)
    journal.batch_accepted(reconciled, "b-4")
    journal.batch_reconciled(reconciled, [DoneRow(4, "person4@example.com", "upserted")])
    dropped = journal.batch_built(rows(5))
    journal.batch_sent(dropped, SENT_AT)
    journal.batch_dropped(dropped)

    assert states(journal) == {sent: "sent", accepted: "accepted"}
    assert built not in states(journal)


def test_rows_done_and_their_outcomes_issues_and_tags() -> None:
    journal = Journal(None, "k")
    issue = {"row": 7, "code": "rejected_by_omnisend"}
    journal.rows_finished(
        [
            DoneRow(3, "person3@example.com", "created"),
            DoneRow(7, "person7@example.com", "failed", issue),
            DoneRow(9, "person9@example.com", "upserted"),
        ]
    )

    done = journal.rows_done()
    assert (len(done), [n in done for n in range(11)]) == (
        3,
        [n in (3, 7, 9) for n in range(11)],
    )
    assert journal.outcome_counts() == {"created": 1, "failed": 1, "upserted": 1}
    assert journal.failure_issues() == [issue]
    with pytest.raises(KeyError):
        journal.outcome_of(4)

    assert list(journal.untagged()) == rows(3, 9)  # failed rows are never tagged
    journal.rows_tagged([(9, "person9@example.com")])
    assert list(journal.untagged()) == rows(3)
    assert journal.tagged_count() == 1


def test_a_journal_reopened_while_running_resumes(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite"
    first = Journal(path, "k")
    assert not first.resumed
    seq = first.batch_built(rows(1))
    first.batch_sent(seq, SENT_AT)
    first.rows_finished([DoneRow(2, "person2@example.com", "created")])
    started = first.started_at
    first.close()

    again = Journal(path, "k")

    assert again.resumed
    assert [b.seq for b in again.unresolved_batches()] == [seq]
    assert 2 in again.rows_done()
    assert again.started_at == started


def test_a_journal_reopened_after_finish_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    first = Journal(path, "k")
    seq = first.batch_built(rows(1))
    first.batch_sent(seq, SENT_AT)
    first.rows_finished([DoneRow(2, "person2@example.com", "created")])
    first.finish()
    first.close()

    again = Journal(path, "k")

    assert not again.resumed
    assert again.unresolved_batches() == []
    assert len(again.rows_done()) == 0
    assert again.outcome_counts() == {}


def test_a_journal_of_another_export_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path, "segment-a").close()

    with pytest.raises(ValueError, match="another export"):
        Journal(path, "segment-b")
    assert Journal(path, "segment-a").resumed  # and left as it was


def test_an_in_memory_journal_never_resumes() -> None:
    assert not Journal(None, "k").resumed
    assert Journal(None, "k").path is None


@pytest.mark.parametrize(
    "members",
    [
        [],
        [0],
        [7, 8],
        [1, 1_000_000],
        [3, 5_000_003, 49_999_999],
        list(range(0, 10_000, 7)),
    ],
)
def test_rowset_membership(members: list[int]) -> None:
    found = RowSet(members)

    assert len(found) == len(set(members))
    assert all(n in found for n in members)
    probes = {p for n in members for p in (n - 1, n + 1, n + 8, n * 2 + 1)} - set(members)
    assert not any(p in found for p in probes)
    assert -1 not in found
    assert "3" not in found


def test_rowset_counts_a_row_added_twice_once() -> None:
    found = RowSet([5, 5])
    found.add(5)

    assert len(found) == 1


def test_done_rows_keep_each_rows_outcome() -> None:
    done = DoneRows()
    done.add(3, "created")
    done.add(1_000, "failed")
    done.add(3, "updated")  # recorded again: the last outcome stands, counted once

    assert (len(done), 3 in done, 1_000 in done, 4 in done, -1 in done) == (
        2,
        True,
        True,
        False,
        False,
    )
    assert (done.outcome(3), done.outcome(1_000)) == ("updated", "failed")
    with pytest.raises(KeyError):
        done.outcome(4)


# --- whole batches and rows one by one ----------------------------------------------------------


def person(n: int) -> str:
    return f"person{n}@example.com"


def sent_batch(journal: Journal, numbers: range, *, tag: bool = True) -> int:
    seq = journal.batch_built([BatchRow(n, person(n), 100 + n, tag) for n in numbers])
    journal.batch_sent(seq, SENT_AT)
    journal.batch_accepted(seq, f"b-{seq}")
    return seq


def read_only(path: Path, query: str) -> list[tuple[Any, ...]]:
    """The rows a query finds in the journal file, opened read-only."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def journal_rows(path: Path) -> int:
    """Rows the journal file records one by one."""
    return int(read_only(path, "SELECT count(*) FROM rows")[0][0])


def members_seen(index: MemberIndex, numbers: Iterable[int]) -> list[tuple[int, bool]]:
    return [
        (
            index.fingerprint(index.find(email_key(person(n)))),
            index.tag_confirmed(index.find(email_key(person(n)))),
        )
        for n in numbers
    ]


def test_a_batch_that_came_back_clean_is_one_journal_row_and_means_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    clean = sent_batch(journal, range(0, 4))
    untagged = sent_batch(journal, range(4, 6), tag=False)  # wore the tag already
    mixed = sent_batch(journal, range(6, 9))

    journal.batch_reconciled(clean, [DoneRow(n, person(n), "upserted") for n in (3, 1, 0, 2)])
    journal.batch_reconciled(untagged, [DoneRow(n, person(n), "created") for n in (4, 5)])
    assert journal_rows(path) == 0  # no row per contact for a clean batch
    journal.batch_reconciled(
        mixed,
        [DoneRow(6, person(6), "created"), DoneRow(7, person(7), "failed", {"row": 7})],
    )  # row 8: handed to another batch
    assert journal_rows(path) == 2

    done = journal.rows_done()
    assert [n for n in range(10) if n in done] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [done.outcome(n) for n in (0, 4, 6, 7)] == ["upserted", "created", "created", "failed"]
    assert journal.outcome_of(5) == "created"
    assert journal.outcome_counts() == {"upserted": 4, "created": 3, "failed": 1}
    assert journal.failure_issues() == [{"row": 7}]
    assert [(b.seq, b.state) for b in journal.unresolved_batches()] == []
    assert list(journal.untagged()) == rows(0, 1, 2, 3, 6)
    assert journal.untagged_count() == 5
    assert journal.row_keys()[5] == email_key(person(5))

    first = journal.claim_untagged(3)
    assert [row for row, _ in first] == [0, 1, 2]
    assert journal.untagged_count() == 2
    rest = journal.claim_untagged(3)
    assert [row for row, _ in rest] == [3, 6]  # never a row twice, whole batch or not
    assert journal.claim_untagged(3) == []
    journal.rows_tagged(first)
    journal.rows_tag_failed(row for row, _ in rest)
    assert (journal.tagged_count(), journal.untagged_count()) == (3, 0)

    expected = [(100, True), (101, True), (102, True), (103, False), (104, True), (105, True)]
    expected += [(106, False)]
    assert members_seen(journal.member_index(), range(7)) == expected  # as the run's end will
    assert members_seen(read_members(path, "VIP"), range(7)) == expected
    journal.close()

    resumed = Journal(path, "k", segment_tag="VIP")  # a failed tag call is tried again
    assert [row for row, _ in resumed.claim_untagged(10)] == [3, 6]
    resumed.rows_tagged(list(resumed.untagged()))
    resumed.finish()
    resumed.close()
    index = read_members(path, "VIP")
    assert members_seen(index, range(7)) == [(100 + n, True) for n in range(7)]
    assert len(index) == 7  # the failed row is no member


def test_a_new_tag_unconfirms_the_tags_of_whole_batches_too(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    first = Journal(path, "k", segment_tag="VIP")
    seq = sent_batch(first, range(3))
    first.batch_reconciled(seq, [DoneRow(n, person(n), "upserted") for n in range(3)])
    first.rows_tagged(first.claim_untagged(2))
    first.close()

    again = Journal(path, "k", segment_tag="VIP 2027")  # resumed under another tag

    assert again.resumed
    assert (again.tagged_count(), again.untagged_count()) == (0, 3)


#: The state file as the version before whole batches wrote it (November 2026): each batch's
#: rows in the batches table, and every done row in the rows table.
_PREVIOUS_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL,
    batch_id TEXT, sent_at TEXT, rows TEXT NOT NULL);
CREATE TABLE rows (row INTEGER PRIMARY KEY, email TEXT NOT NULL, outcome TEXT NOT NULL,
    tagged INTEGER NOT NULL DEFAULT 0, issue TEXT, key INTEGER,
    fingerprint INTEGER NOT NULL DEFAULT 0, member INTEGER NOT NULL DEFAULT 0,
    record INTEGER NOT NULL DEFAULT 0);
CREATE INDEX rows_to_tag ON rows (row) WHERE tagged = 0 AND outcome != 'failed';
CREATE TABLE members (key INTEGER PRIMARY KEY, email TEXT NOT NULL, fingerprint INTEGER NOT NULL,
    tagged INTEGER NOT NULL, leaving INTEGER NOT NULL DEFAULT 0,
    record INTEGER NOT NULL DEFAULT 0);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE work (row INTEGER PRIMARY KEY, email TEXT NOT NULL, fingerprint INTEGER NOT NULL,
    tag INTEGER NOT NULL, body BLOB NOT NULL, record INTEGER NOT NULL DEFAULT 0);
CREATE TABLE work_issues (row INTEGER NOT NULL, issue TEXT NOT NULL);
INSERT INTO meta VALUES ('status', 'running'), ('source', ''), ('kind', 'export'),
    ('started_at', '2026-11-30T09:00:00+00:00');
INSERT INTO state VALUES ('export_key', 'k'), ('segment_tag', 'VIP');
"""


def previous_versions_journal(path: Path) -> None:
    """A run of the version before, stopped with one batch settled and one in flight."""
    db = sqlite3.connect(path)
    db.executescript(_PREVIOUS_SCHEMA)
    settled = [[n, person(n), 100 + n, True, 0] for n in (0, 1, 2)]
    in_flight = [[n, person(n), 100 + n, True, 0] for n in (3, 4)]
    db.execute(
        "INSERT INTO batches VALUES (1, 'reconciled', 'b-1', ?, ?)",
        (SENT_AT.isoformat(), json.dumps(settled)),
    )
    db.execute(
        "INSERT INTO batches VALUES (2, 'accepted', 'b-2', ?, ?)",
        (SENT_AT.isoformat(), json.dumps(in_flight)),
    )
    for n, outcome, tagged in ((0, "created", 1), (1, "updated", 0)):
        db.execute(
            "INSERT INTO rows VALUES (?, ?, ?, ?, NULL, ?, ?, 1, 0)",
            (n, person(n), outcome, tagged, email_key(person(n)), 100 + n),
        )
    db.execute(
        "INSERT INTO rows VALUES (2, ?, 'failed', 0, ?, ?, 0, 0, 0)",
        (person(2), json.dumps({"row": 2}), email_key(person(2))),
    )
    db.commit()
    db.close()


def test_a_journal_the_version_before_left_unfinished_resumes_exactly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    previous_versions_journal(path)
    # Read before this version ever opened it (a dry run): the run's members as its end will be.
    assert members_seen(read_members(path, "VIP"), range(2)) == [(100, True), (101, False)]

    journal = Journal(path, "k", segment_tag="VIP")

    assert journal.resumed
    (in_flight,) = journal.unresolved_batches()
    assert (in_flight.seq, in_flight.state, in_flight.batch_id) == (2, "accepted", "b-2")
    assert [(r.row, r.email, r.fingerprint) for r in in_flight.rows] == [
        (3, person(3), 103),
        (4, person(4), 104),
    ]
    done = journal.rows_done()
    assert [n for n in range(6) if n in done] == [0, 1, 2]
    assert journal.outcome_counts() == {"created": 1, "updated": 1, "failed": 1}
    assert journal.failure_issues() == [{"row": 2}]
    assert list(journal.untagged()) == rows(1)
    assert list(journal.row_keys()[:3]) == [email_key(person(n)) for n in range(3)]

    # This version settles the batch the earlier one left in flight, whole.
    journal.batch_reconciled(2, [DoneRow(n, person(n), "upserted") for n in (3, 4)])
    assert journal.outcome_counts() == {"created": 1, "updated": 1, "failed": 1, "upserted": 2}
    claimed = journal.claim_untagged(10)
    assert [row for row, _ in claimed] == [1, 3, 4]
    journal.rows_tagged(claimed)
    assert journal.tagged_count() == 4
    journal.finish()
    journal.close()

    index = read_members(path, "VIP")
    assert len(index) == 4  # the failed row is no member
    assert members_seen(index, range(0, 2)) == [(100, True), (101, True)]
    assert members_seen(index, range(3, 5)) == [(103, True), (104, True)]


def staged_contacts(path: Path) -> list[tuple[Any, ...]]:
    """``(seq, place, key)`` of each contact the journal staged as a member."""
    return read_only(path, "SELECT seq, place, key FROM run_members ORDER BY seq, place")


def test_whole_batches_stage_their_contacts_as_they_are_reconciled(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    clean = sent_batch(journal, range(0, 3))
    mixed = sent_batch(journal, range(3, 5))
    dropped = sent_batch(journal, range(5, 7))
    assert staged_contacts(path) == []  # nothing is a member before Omnisend confirms it

    journal.batch_reconciled(clean, [DoneRow(n, person(n), "created") for n in (2, 0, 1)])
    journal.batch_reconciled(
        mixed, [DoneRow(3, person(3), "created"), DoneRow(4, person(4), "failed", {"row": 4})]
    )
    journal.batch_dropped(dropped)

    # In the order the batch carried them, at their place in its tag digits; a mixed batch's
    # rows are recorded one by one instead.
    assert staged_contacts(path) == [(clean, n, email_key(person(n))) for n in range(3)]
    journal.close()
    journal = Journal(path, "k", segment_tag="VIP")  # resumed: nothing staged again
    assert staged_contacts(path) == [(clean, n, email_key(person(n))) for n in range(3)]
    journal.rows_tagged(journal.claim_untagged(1))  # row 0's tag confirmed
    journal.finish()
    journal.close()
    index = read_members(path, "VIP")
    assert len(index) == 4
    assert members_seen(index, range(4)) == [(100, True), (101, False), (102, False), (103, False)]

    Journal(path, "k", segment_tag="VIP").close()  # the next run starts with none staged
    assert staged_contacts(path) == []


def test_a_journal_of_the_version_before_staging_resumes_exactly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    clean = sent_batch(journal, range(0, 3))
    untagged = sent_batch(journal, range(3, 5), tag=False)  # wore the tag already
    in_flight = sent_batch(journal, range(5, 7))
    journal.batch_reconciled(clean, [DoneRow(n, person(n), "upserted") for n in range(3)])
    journal.batch_reconciled(untagged, [DoneRow(n, person(n), "updated") for n in (3, 4)])
    journal.rows_tagged(journal.claim_untagged(2))  # rows 0 and 1
    journal.close()
    # As that version left it: whole batches' contacts only in each batch's JSON.
    db = sqlite3.connect(path)
    db.execute("DROP TABLE run_members")
    db.execute("ALTER TABLE batches DROP COLUMN staged")
    db.commit()
    db.close()
    expected = [(100, True), (101, True), (102, False), (103, True), (104, True)]
    # Read before this version opens it (a dry run), from the JSON.
    assert members_seen(read_members(path, "VIP"), range(5)) == expected

    resumed = Journal(path, "k", segment_tag="VIP")

    assert resumed.resumed
    staged = [(clean, n, email_key(person(n))) for n in range(3)]
    staged += [(untagged, n - 3, email_key(person(n))) for n in (3, 4)]
    assert staged_contacts(path) == staged  # staged once, when this version first opened it
    assert members_seen(resumed.member_index(), range(5)) == expected
    assert [b.seq for b in resumed.unresolved_batches()] == [in_flight]
    resumed.close()
    resumed = Journal(path, "k", segment_tag="VIP")
    assert staged_contacts(path) == staged  # never twice
    resumed.batch_reconciled(in_flight, [DoneRow(n, person(n), "created") for n in (5, 6)])
    resumed.rows_tagged(resumed.claim_untagged(10))
    resumed.finish()
    resumed.close()

    index = read_members(path, "VIP")
    assert len(index) == 7
    assert members_seen(index, range(7)) == [(100 + n, True) for n in range(7)]


def test_a_batch_larger_than_one_staging_statement_is_staged_whole(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k")
    seq = sent_batch(journal, range(2_345))  # more contacts than a statement stages
    journal.batch_reconciled(seq, [DoneRow(n, person(n), "created") for n in range(2_345)])

    assert staged_contacts(path) == [(seq, n, email_key(person(n))) for n in range(2_345)]
    journal.finish()
    journal.close()
    assert len(read_members(path, None)) == 2_345


def test_batches_a_version_that_does_not_stage_reconciled_are_staged_and_stale_ones_ignored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    first = Journal(path, "k")
    seq = sent_batch(first, range(3))
    first.batch_reconciled(seq, [DoneRow(n, person(n), "created") for n in range(3)])
    first.finish()
    first.close()
    # The version before starts the next run: it empties the tables it knows (not run_members,
    # whose contacts of the batch gone stay behind), and reconciles a batch whole without
    # staging it.
    db = sqlite3.connect(path)
    for table in ("batches", "batch_rows", "rows", "meta"):
        db.execute(f"DELETE FROM {table}")
    db.execute("INSERT INTO meta VALUES ('status', 'running'), ('source', '')")
    carried = [[n, person(n), 900 + n, False, 0, email_key(person(n))] for n in (0, 3)]
    db.execute(
        "INSERT INTO batches (state, batch_id, sent_at, rows, outcome, tags, to_tag) "
        "VALUES ('reconciled', 'b-2', ?, '', 'updated', '44', 0)",
        (SENT_AT.isoformat(),),
    )
    db.execute("INSERT INTO batch_rows VALUES (last_insert_rowid(), ?)", (json.dumps(carried),))
    db.commit()
    db.close()
    (stale,) = {seq for seq, _, _ in staged_contacts(path)}
    expected = [(900, False), (101, False), (102, False), (903, False)]
    assert members_seen(read_members(path, None), range(4)) == expected  # a dry run, read-only

    journal = Journal(path, "k")

    assert journal.resumed
    later = {s for s, _, _ in staged_contacts(path)} - {stale}
    assert len(later) == 1  # the batch staged from its JSON, at its places
    assert [(place, key) for s, place, key in staged_contacts(path) if s in later] == [
        (0, email_key(person(0))),
        (1, email_key(person(3))),
    ]
    assert members_seen(journal.member_index(), range(4)) == expected
    journal.finish()
    journal.close()
    # The contacts left staged by the batch gone (person 0 at 100) are not members again.
    assert members_seen(read_members(path, None), range(4)) == expected


def member_changes(path: Path) -> int:
    """Members noted as written since the snapshot."""
    return int(read_only(path, "SELECT count(*) FROM member_changes")[0][0])


def untagged_run(path: Path, *, fold_early: bool, stop_after_fold: bool = False) -> Journal:
    """An untagged run of 20 batches of 20 (the 4th mixed), folded early after the 18th if
    asked."""
    journal = Journal(path, "k")
    for b in range(20):
        numbers = range(b * 20, b * 20 + 20)
        seq = sent_batch(journal, numbers, tag=False)
        done = [DoneRow(n, person(n), "upserted") for n in numbers]
        if b == 3:
            done[5] = DoneRow(65, person(65), "failed", {"row": 65})
        journal.batch_reconciled(seq, done)
        if b == 17 and fold_early:
            journal.fold_confirmed()
            if stop_after_fold:
                journal.close()  # killed while waiting for the last batches
                journal = Journal(path, "k")
                assert journal.resumed
    return journal


#: The rows of :func:`untagged_run` that become members (Omnisend rejected row 65).
MEMBERS = [n for n in range(400) if n != 65]


def test_members_folded_early_end_as_those_folded_at_the_end(tmp_path: Path) -> None:
    at_end = untagged_run(tmp_path / "at-end.sqlite", fold_early=False)
    at_end.finish()
    at_end.close()
    expected = members_seen(read_members(tmp_path / "at-end.sqlite", None), MEMBERS)
    assert expected == [(100 + n, False) for n in MEMBERS]

    early = untagged_run(tmp_path / "early.sqlite", fold_early=True)
    # Before the end: the members so far are in the table, and the run reads as before.
    assert members_seen(early.member_index(), MEMBERS) == expected
    early.finish()
    early.close()
    index = read_members(tmp_path / "early.sqlite", None)
    assert members_seen(index, MEMBERS) == expected
    assert len(index) == 399
    assert index.find(email_key(person(65))) == -1
    # The snapshot made early stays. Noted for it: the 40 members of the last two batches, and
    # the 19 of the mixed batch, recorded one by one and folded again at the end.
    assert member_changes(tmp_path / "early.sqlite") == 59


def test_a_run_killed_after_folding_early_resumes_exactly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    resumed = untagged_run(path, fold_early=True, stop_after_fold=True)
    resumed.finish()
    resumed.close()
    index = read_members(path, None)
    assert len(index) == 399
    assert members_seen(index, MEMBERS) == [(100 + n, False) for n in MEMBERS]
    assert member_changes(path) == 59  # as without the kill: nothing staged is folded twice


def test_a_run_with_the_segment_tag_folds_only_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    seq = sent_batch(journal, range(3))
    journal.batch_reconciled(seq, [DoneRow(n, person(n), "created") for n in range(3)])

    journal.fold_confirmed()  # the tag calls are still to come: nothing is folded yet

    assert not journal.has_members()
    journal.rows_tagged(journal.claim_untagged(10))
    journal.finish()
    journal.close()
    assert members_seen(read_members(path, "VIP"), range(3)) == [(100 + n, True) for n in range(3)]


def test_a_run_folded_early_then_resumed_under_a_tag_folds_every_tag_at_its_end(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    untagged_run(path, fold_early=True).close()  # killed before its end

    resumed = Journal(path, "k", segment_tag="VIP")  # resumed, now marking the segment
    assert resumed.resumed
    while claimed := resumed.claim_untagged(250):
        resumed.rows_tagged(claimed)
    resumed.finish()
    resumed.close()

    assert members_seen(read_members(path, "VIP"), MEMBERS) == [(100 + n, True) for n in MEMBERS]
