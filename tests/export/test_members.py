"""The refresh's building blocks: the member index, the compact duplicate index, the state file."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from omnisend_sdk.export._journal import BatchRow, DoneRow, Journal, read_members
from omnisend_sdk.export._members import MemberIndex, body_fingerprint, email_key
from omnisend_sdk.export._refresh import Diff, ShrinkGuard, ShrinkRefusedError
from omnisend_sdk.export._seen import SeenEmailKeys


def email(n: int) -> str:
    return f"person{n}@example.com"


def index_of(*members: tuple[str, int, bool, bool]) -> MemberIndex:
    rows = sorted((email_key(e), fp, tagged, leaving, 0) for e, fp, tagged, leaving in members)
    return MemberIndex(rows)


def test_keys_and_fingerprints_are_stable_signed_64_bit_numbers() -> None:
    assert email_key("ann@example.com") == email_key("ann@example.com")
    assert email_key("ann@example.com") != email_key("Ann@example.com")  # emails come normalised
    assert -(2**63) <= email_key("ann@example.com") < 2**63
    assert body_fingerprint(b'{"a":1}') != body_fingerprint(b'{"a":2}')


def test_the_index_finds_members_and_tells_who_left() -> None:
    index = index_of(
        (email(1), 11, True, False),
        (email(2), 22, True, False),
        (email(3), 33, False, False),
        (email(4), 44, True, True),  # left earlier; its tag removal is still to do
    )

    assert index.find(email_key(email(9))) == -1
    position = index.find(email_key(email(2)))
    assert index.fingerprint(position) == 22
    assert index.tag_confirmed(position)
    assert not index.tag_confirmed(index.find(email_key(email(3))))
    assert not index.tag_confirmed(index.find(email_key(email(4))))  # may have lost it already
    assert index.confirmed() == 3
    index.mark_seen(position)
    index.mark_seen(index.find(email_key(email(4))))
    assert sorted(index.leavers()) == sorted([email_key(email(1)), email_key(email(3))])
    assert list(index.rejoined()) == [email_key(email(4))]


@pytest.mark.parametrize(
    ("member", "fingerprint", "full", "expected"),
    [
        (None, 5, False, ("new", True)),
        ((5, True), 5, False, ("unchanged", False)),
        ((5, True), 6, False, ("changed", False)),
        ((5, False), 5, False, ("changed", True)),  # its tag was never confirmed
        ((5, True), 5, True, ("changed", True)),  # full=True resends and retags everyone
    ],
)
def test_diff_classifies_each_row(
    member: tuple[int, bool] | None, fingerprint: int, full: bool, expected: tuple[str, bool]
) -> None:
    members = [] if member is None else [(email(1), member[0], member[1], False)]
    diff = Diff(index_of(*members), tagging=True, full=full)

    assert diff.classify(email(1), fingerprint) == expected


def test_without_membership_no_row_needs_a_tag() -> None:
    diff = Diff(index_of((email(1), 5, False, False)), tagging=False)

    assert diff.classify(email(1), 5) == ("unchanged", False)
    assert diff.classify(email(2), 5) == ("new", False)


def test_keyed_seen_emails_keeps_the_first_row_of_each_email_while_growing() -> None:
    seen = SeenEmailKeys()  # 65,536 slots: grows twice on the way to 100,000 emails
    order = list(range(100_000))
    random.Random(3).shuffle(order)

    firsts = {n: seen.first_row(email(n), row) for row, n in enumerate(order)}
    again = {n: seen.first_row(email(n), 99_999) for n in order}

    assert firsts == {n: row for row, n in enumerate(order)}
    assert again == firsts


@pytest.mark.parametrize(
    ("members", "leaving", "rows_read", "allow", "refused"),
    [
        (100, 10, 90, False, False),
        (100, 11, 89, False, True),
        (100, 0, 0, False, True),
        (100, 100, 0, True, False),
        (0, 0, 0, False, False),  # a first export has nothing to protect
    ],
)
def test_the_shrink_guard(
    members: int, leaving: int, rows_read: int, allow: bool, refused: bool
) -> None:
    guard = ShrinkGuard(max_exit_share=0.10, allow_shrink=allow)
    if refused:
        with pytest.raises(ShrinkRefusedError) as error:
            guard.check(members=members, leaving=leaving, rows_read=rows_read)
        assert (error.value.members, error.value.leaving) == (members, leaving)
    else:
        guard.check(members=members, leaving=leaving, rows_read=rows_read)


def confirm(journal: Journal, rows: list[tuple[int, str, int, bool]]) -> None:
    seq = journal.batch_built([BatchRow(*row) for row in rows])
    journal.batch_reconciled(
        seq, [DoneRow(row, address, "upserted") for row, address, _, _ in rows]
    )


def test_confirmed_rows_become_members_in_the_same_transaction(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state.sqlite", "k", segment_tag="VIP")
    confirm(journal, [(0, email(0), 100, True), (1, email(1), 101, False)])
    seq = journal.batch_built([BatchRow(2, email(2), 102, True)])
    journal.batch_reconciled(seq, [DoneRow(2, email(2), "failed", {"row": 2})])

    index = journal.member_index()

    assert len(index) == 2  # the failed row is not a member
    first = index.find(email_key(email(0)))
    assert (index.fingerprint(first), index.tag_confirmed(first)) == (100, False)
    second = index.find(email_key(email(1)))
    assert index.tag_confirmed(second)  # sent without a tag call: it wore the tag already
    journal.rows_tagged(journal.claim_untagged(10))
    assert journal.member_index().tag_confirmed(journal.member_index().find(email_key(email(0))))


def test_members_outlive_the_run_and_a_new_tag_unconfirms_them(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = Journal(path, "k", segment_tag="VIP")
    confirm(first, [(0, email(0), 100, False)])
    first.finish()
    first.close()

    same_tag = read_members(path, "VIP")
    other_tag = read_members(path, "VIP 2027")
    reopened = Journal(path, "k", segment_tag="VIP 2027")

    assert same_tag.tag_confirmed(0)
    assert not other_tag.tag_confirmed(0)  # read-only: nothing was changed by reading
    assert not reopened.resumed
    assert len(reopened.member_index()) == 1
    assert not reopened.member_index().tag_confirmed(0)


def test_a_dry_run_reads_no_state_into_existence(tmp_path: Path) -> None:
    assert len(read_members(tmp_path / "missing.sqlite", "VIP")) == 0
    assert not (tmp_path / "missing.sqlite").exists()


def test_an_interrupted_run_over_another_source_is_abandoned_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = Journal(path, "k", source="/data/monday.csv")
    first.start("export")
    confirm(first, [(0, email(0), 100, True)])
    first.close()

    tuesday = Journal(path, "k", source="/data/tuesday.csv")

    assert (tuesday.resumed, tuesday.abandoned) == (False, True)
    assert len(tuesday.rows_done()) == 0  # row numbers of another file mean nothing here
    assert len(tuesday.member_index()) == 1  # what Omnisend confirmed stays


def test_the_state_of_another_export_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    Journal(path, "vip").close()

    with pytest.raises(ValueError, match="another export"):
        Journal(path, "lapsed")


def test_leavers_are_untagged_in_key_order_and_removed_once_confirmed(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state.sqlite", "k", segment_tag="VIP")
    confirm(journal, [(n, email(n), n, False) for n in range(5)])
    journal.finish()  # members of an earlier run: this run's first pass found them gone
    keys = sorted(email_key(email(n)) for n in range(3))
    journal.refresh_planned({}, [], left=keys, rejoined=[], untag=True)

    first = journal.leaving(None, 2)
    rest = journal.leaving(first[-1][0], 2)
    journal.members_untagged([key for key, _ in first])

    assert [key for key, _ in first + rest] == keys
    assert journal.leaving_count() == 1
    assert journal.member_count() == 2


def test_a_dry_run_counts_what_an_unfinished_run_confirmed_as_its_end_will(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    journal = Journal(path, "k", segment_tag="VIP")
    confirm(
        journal, [(0, email(0), 100, True), (1, email(1), 101, False), (2, email(2), 102, True)]
    )
    journal.rows_tagged(journal.claim_untagged(1))  # row 0's tag call was accepted

    def seen(index: MemberIndex) -> list[tuple[int, bool]]:
        return [
            (
                index.fingerprint(index.find(email_key(email(n)))),
                index.tag_confirmed(index.find(email_key(email(n)))),
            )
            for n in range(3)
        ]

    expected = [(100, True), (101, True), (102, False)]
    assert seen(read_members(path, "VIP")) == expected  # the run is still going
    assert seen(journal.member_index()) == expected
    journal.finish()
    assert seen(read_members(path, "VIP")) == expected  # recorded among the members now
    journal.close()


def test_a_tag_call_under_way_holds_its_rows_and_a_failed_one_gives_them_back(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "state.sqlite", "k", segment_tag="VIP")
    confirm(journal, [(n, email(n), n, True) for n in range(5)])

    first = journal.claim_untagged(2)
    second = journal.claim_untagged(2)
    assert [row for row, _ in first + second] == [0, 1, 2, 3]  # never the same row twice
    assert journal.untagged_count() == 1

    journal.rows_tag_failed(row for row, _ in first)
    journal.rows_tagged(second)
    assert journal.untagged_count() == 1  # failed rows wait for a rerun, not this run
    assert journal.claim_untagged(10) == [(4, email(4))]
    journal.close()

    rerun = Journal(tmp_path / "state.sqlite", "k", segment_tag="VIP")  # resumed: same source
    assert [row for row, _ in rerun.claim_untagged(10)] == [0, 1, 4]  # failed and never answered


#: The state file as the version before December 2026 wrote it: members written as each batch
#: was reconciled, and rows without their membership columns.
_OLD_ROWS = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('status', 'running'), ('source', ''), ('kind', 'export');
CREATE TABLE rows (row INTEGER PRIMARY KEY, email TEXT NOT NULL, outcome TEXT NOT NULL,
    tagged INTEGER NOT NULL DEFAULT 0, issue TEXT);
CREATE TABLE members (key INTEGER PRIMARY KEY, email TEXT NOT NULL, fingerprint INTEGER NOT NULL,
    tagged INTEGER NOT NULL, leaving INTEGER NOT NULL DEFAULT 0);
"""


def test_a_state_file_of_the_version_before_resumes_with_its_members(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    old = sqlite3.connect(path)
    old.executescript(_OLD_ROWS)
    old.execute("INSERT INTO rows VALUES (0, ?, 'created', 1, NULL)", (email(0),))
    old.execute("INSERT INTO members VALUES (?, ?, 100, 1, 0)", (email_key(email(0)), email(0)))
    old.commit()
    old.close()
    journal = Journal(path, "k", segment_tag="VIP")
    assert journal.resumed
    assert journal.outcome_of(0) == "created"

    confirm(journal, [(1, email(1), 101, False)])
    assert len(journal.member_index()) == 2
    journal.finish()
    journal.close()

    index = read_members(path, "VIP")
    assert [index.fingerprint(index.find(email_key(email(n)))) for n in range(2)] == [100, 101]


def tagged_run(path: Path, *, source: str) -> None:
    """A run under the tag "VIP" that confirmed and tagged rows 0 and 1, then stopped."""
    journal = Journal(path, "k", source=source, segment_tag="VIP")
    journal.start("export")
    confirm(journal, [(0, email(0), 100, True), (1, email(1), 101, True)])
    journal.rows_tagged(journal.claim_untagged(10))
    journal.close()


def test_an_abandoned_run_keeps_its_members_but_not_its_tag_under_another_tag(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    tagged_run(path, source="/data/monday.csv")

    tuesday = Journal(path, "k", source="/data/tuesday.csv", segment_tag="VIP 2027")
    index = tuesday.member_index()

    assert tuesday.abandoned
    assert [index.fingerprint(index.find(email_key(email(n)))) for n in range(2)] == [100, 101]
    assert not any(index.tag_confirmed(index.find(email_key(email(n)))) for n in range(2))
    tuesday.close()


def test_a_run_resumed_under_another_tag_tags_its_rows_again(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    tagged_run(path, source="/data/monday.csv")

    resumed = Journal(path, "k", source="/data/monday.csv", segment_tag="VIP 2027")

    assert resumed.resumed
    assert [row for row, _ in resumed.claim_untagged(10)] == [0, 1]
    resumed.finish()
    index = read_members(path, "VIP 2027")
    assert not index.tag_confirmed(index.find(email_key(email(0))))  # until its call is accepted
    resumed.close()
