"""The indexes of emails a run has seen: the first row of each email wins, in both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
