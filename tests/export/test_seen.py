"""The indexes of emails a run has seen: the first row of each email wins, in both."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from omnisend_sdk import ExportStateError
from omnisend_sdk.export import _seen
from omnisend_sdk.export._members import email_key
from omnisend_sdk.export._seen import DiskSeenEmails, SeenEmailKeys
from omnisend_sdk.mapping import ContactMapping, SeenEmails, map_rows
from omnisend_sdk.sources import open_source


@pytest.fixture(params=[DiskSeenEmails, SeenEmailKeys], ids=["disk", "keys"])
def seen(request: pytest.FixtureRequest) -> Iterator[SeenEmails]:
    """Each table, made fresh for the test (and the one on disk closed after it)."""
    table = request.param()
    yield table
    if isinstance(table, DiskSeenEmails):
        table.close()


def test_the_first_row_of_each_email_is_kept_across_many_commits(seen: SeenEmails) -> None:
    rows = [seen.first_row(f"p{i % 7}@example.com", i) for i in range(25_000)]
    assert rows == [i % 7 for i in range(25_000)]


def test_map_rows_reports_duplicates_the_same_with_either_index(seen: SeenEmails) -> None:
    data = [{"Email": e} for e in ("a@x.io", "B@x.io", " A@X.IO", "c@x.io", "b@x.io")]
    mapping = ContactMapping(email="Email")

    indexed = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data), seen=seen)]

    in_memory = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data))]
    assert indexed == in_memory
    assert [ok for _, ok, _ in indexed] == [True, True, False, True, False]


def test_a_key_counts_as_the_email_it_was_made_from() -> None:
    keys = SeenEmailKeys()
    assert keys.first_row("ann@example.com", 3) == 3
    assert keys.first_row_of(email_key("ann@example.com"), 9) == 3
    assert keys.first_row_of(email_key("bob@example.com"), 9) == 9


def test_disk_answers_are_exact_when_the_filter_takes_most_emails_for_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A filter of 64 bits is full after a few dozen emails: nearly every email is then "maybe
    # seen" and must be looked up, among the emails kept in memory and those written to disk.
    monkeypatch.setattr(_seen, "_FILTER_MIN_BITS", 64)
    monkeypatch.setattr(_seen, "_PENDING_ROWS", 50)
    emails = [f"p{(i * 7919) % 400}@example.com" for i in range(2_000)]  # 400 emails, repeated
    table = DiskSeenEmails()
    try:
        rows = [table.first_row(email, row) for row, email in enumerate(emails)]
    finally:
        table.close()
    first: dict[str, int] = {}
    assert rows == [first.setdefault(email, row) for row, email in enumerate(emails)]


def test_disk_finds_an_email_written_to_disk_and_one_still_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_seen, "_PENDING_ROWS", 3)
    table = DiskSeenEmails()
    try:
        for row, email in enumerate(["a@x.io", "b@x.io", "c@x.io", "d@x.io"]):
            assert table.first_row(email, row) == row
        # a, b and c were written together; d is still in memory.
        assert [table.first_row(email, 10) for email in ("b@x.io", "d@x.io", "e@x.io")] == [
            1,
            3,
            10,
        ]
    finally:
        table.close()


def test_disk_full_while_writing_emails_is_an_export_state_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_seen, "_PENDING_ROWS", 100)
    table = DiskSeenEmails()
    full = sqlite3.connect(":memory:", isolation_level=None)
    full.execute("CREATE TABLE seen (email TEXT, row INTEGER)")
    pages = full.execute("PRAGMA page_count").fetchone()[0]
    full.execute(f"PRAGMA max_page_count = {pages}")  # no page more: as if the disk were full
    table._db.close()
    table._db = full
    emails = [f"{'p' * 60}{row}@x.io" for row in range(100)]  # more than a page holds
    for row, email in enumerate(emails[:-1]):
        assert table.first_row(email, row) == row  # kept in memory, not written yet
    with pytest.raises(ExportStateError, match="temporary file of emails"):
        table.first_row(emails[-1], 99)  # the hundredth: all are written
    table.close()
