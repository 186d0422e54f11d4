"""The export journal: batch states, done rows, tagging, and what reopening a journal file means."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from omnisend_sdk.export._journal import DoneRow, Journal, RowSet

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
