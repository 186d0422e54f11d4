"""Addresses that come wrapped (``Ann Lee <ann@example.com>``, ``mailto:``, a trailing full
stop) map to the address alone on both mapping paths, and count as duplicates of it."""

from __future__ import annotations

from pathlib import Path

from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.sources import open_source
from tests.mapping.test_columnar import both_ways, takes_columnar_path


def test_wrapped_emails_map_and_dedupe_a_batch_at_a_time_as_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "outlook.csv"
    path.write_text(
        "email,first\n"
        '"Ann Lee <Ann@Example.com>",Ann\n'
        "mailto:bob@example.com,Bob\n"
        "ann@example.com,Ann again\n"
        "cy@example.com.,Cy\n",
        encoding="utf-8",
    )
    mapping = ContactMapping(email="email", first_name="first")
    assert takes_columnar_path(mapping, open_source(path))
    mapped = both_ways(mapping, lambda: open_source(path))
    assert [(row[1], row[3]) for row in mapped] == [
        ("ann@example.com", True),
        ("bob@example.com", True),
        ("ann@example.com", False),  # the same address as row 2: a duplicate
        ("cy@example.com", True),
    ]
    assert [issue.code for issue in mapped[2][2]] == ["duplicate_email"]
