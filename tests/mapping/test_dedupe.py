"""Duplicate emails: sent once, each dropped row reported with the row that was kept."""

from __future__ import annotations

import pytest

from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.sources import IterableSource

ROWS = [
    {"email": "ann@example.com", "city": "A"},
    {"email": "bob@example.com", "city": "B"},
    {"email": " ANN@example.com", "city": "C"},
    {"email": "broken", "city": "D"},
    {"email": "Ann@Example.com", "city": "E"},
    {"email": "bob@example.com", "city": "F", "long": "x"},
]


@pytest.mark.parametrize(
    ("policy", "sent", "dropped"),
    [
        ("first", {0: "A", 1: "B"}, {2: 0, 4: 0, 5: 1}),
        ("last", {4: "E", 5: "F"}, {0: 4, 2: 4, 1: 5}),
    ],
)
def test_duplicates(policy: str, sent: dict[int, str], dropped: dict[int, int]) -> None:
    mapping = ContactMapping(email="email", city="city", duplicates=policy)  # type: ignore[arg-type]
    rows = list(mapping.map_rows(IterableSource(ROWS)))
    assert [row.row for row in rows] == list(range(6))  # one result per row, in order
    assert {r.row: r.contact.city for r in rows if r.ok} == sent  # type: ignore[union-attr]
    found = {r.row: i.related_row for r in rows for i in r.issues if i.code == "duplicate_email"}
    assert found == dropped
    assert [i.code for i in rows[3].issues] == ["invalid_email"]


def test_last_wins_ignores_a_last_row_that_is_rejected() -> None:
    mapping = ContactMapping(email="email", city="city", duplicates="last", long_text="reject")
    rows = [{"email": "a@example.com", "city": "ok"}, {"email": "a@example.com", "city": "x" * 300}]
    mapped = list(mapping.map_rows(IterableSource(rows)))
    assert [r.ok for r in mapped] == [True, False]
    assert [i.code for i in mapped[1].issues] == ["too_long"]


def test_last_wins_needs_a_source_read_twice() -> None:
    mapping = ContactMapping(email="email", duplicates="last")
    with pytest.raises(MappingError, match="read only once"):
        mapping.map_rows(IterableSource(iter(ROWS)))


def test_first_wins_streams() -> None:
    mapping = ContactMapping(email="email")
    stream = mapping.map_rows(IterableSource(iter(ROWS * 1000)))
    assert next(iter(stream)).row == 0  # no need to read everything first
