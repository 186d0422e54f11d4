"""The export's on-disk index of emails already sent: the first row of each email wins."""

from __future__ import annotations

from omnisend_sdk.export._seen import DiskSeenEmails
from omnisend_sdk.mapping import ContactMapping, map_rows
from omnisend_sdk.sources import open_source


def test_the_first_row_of_each_email_is_kept_across_many_commits() -> None:
    seen = DiskSeenEmails()
    try:
        rows = [seen.first_row(f"p{i % 7}@example.com", i) for i in range(25_000)]
    finally:
        seen.close()
    assert rows == [i % 7 for i in range(25_000)]


def test_map_rows_reports_duplicates_the_same_with_the_disk_index() -> None:
    data = [{"Email": e} for e in ("a@x.io", "B@x.io", " A@X.IO", "c@x.io", "b@x.io")]
    mapping = ContactMapping(email="Email")
    seen = DiskSeenEmails()
    try:
        on_disk = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data), seen=seen)]
    finally:
        seen.close()
    in_memory = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data))]
    assert on_disk == in_memory
    assert [ok for _, ok, _ in on_disk] == [True, True, False, True, False]
