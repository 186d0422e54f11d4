"""The index of emails a run has seen: the first row of each email wins."""

from __future__ import annotations

from omnisend_sdk.export._seen import SeenEmailKeys
from omnisend_sdk.mapping import ContactMapping, map_rows
from omnisend_sdk.sources import open_source


def test_the_first_row_of_each_email_is_kept() -> None:
    seen = SeenEmailKeys()
    rows = [seen.first_row(f"p{i % 7}@example.com", i) for i in range(25_000)]
    assert rows == [i % 7 for i in range(25_000)]


def test_map_rows_reports_duplicates_the_same_with_the_keyed_index() -> None:
    data = [{"Email": e} for e in ("a@x.io", "B@x.io", " A@X.IO", "c@x.io", "b@x.io")]
    mapping = ContactMapping(email="Email")
    seen = SeenEmailKeys()
    keyed = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data), seen=seen)]
    by_address = [(m.row, m.ok, m.issues) for m in map_rows(mapping, open_source(data))]
    assert keyed == by_address
    assert [ok for _, ok, _ in keyed] == [True, True, False, True, False]
