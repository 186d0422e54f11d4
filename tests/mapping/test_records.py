"""Record fingerprints: equal only for rows a mapping reads the same way, none when unsure."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from omnisend_sdk.mapping import ContactMapping, RecordFingerprints, RowMapper, map_rows
from omnisend_sdk.mapping._records import record_fingerprinter
from omnisend_sdk.sources import open_source

MAPPING = ContactMapping(email="Email", first_name="First", custom_properties={"Points": "points"})
COLUMNS = ("Email", "First", "Points", "Notes")


def fingerprint_of(
    values: dict[str, Any], *, context: str = "2026-03-15", mapping: Any = MAPPING
) -> int:
    fingerprint = record_fingerprinter(RowMapper.bind(mapping, COLUMNS), context)
    assert fingerprint is not None
    return fingerprint(values)


ROW = {"Email": "ann@example.com", "First": "Ann", "Points": 5, "Notes": "likes cats"}


def test_the_same_record_gets_the_same_fingerprint_and_a_changed_one_another() -> None:
    assert fingerprint_of(ROW) == fingerprint_of(dict(ROW)) != 0
    assert fingerprint_of({**ROW, "First": "Anne"}) != fingerprint_of(ROW)
    # A column the mapping never reads does not change what the row becomes.
    assert fingerprint_of({**ROW, "Notes": "likes dogs"}) == fingerprint_of(ROW)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"First": None}, {"First": ""}),  # missing is not empty
        ({"First": None}, {"First": "\x1e"}),  # nor the text of the missing mark
        ({"Points": 5}, {"Points": "5"}),  # a number is not its text
        ({"Points": True}, {"Points": 1}),
        ({"First": "a\x1fb", "Points": "c"}, {"First": "a", "Points": "b\x1fc"}),
    ],
)
def test_values_that_map_differently_never_share_a_fingerprint(
    one: dict[str, Any], other: dict[str, Any]
) -> None:
    first, second = fingerprint_of({**ROW, **one}), fingerprint_of({**ROW, **other})
    assert first != second or first == second == 0


@pytest.mark.parametrize("value", [5.0, float("nan"), object(), ["a"]])
def test_values_other_than_text_whole_numbers_and_booleans_get_none(value: object) -> None:
    assert fingerprint_of({**ROW, "Points": value}) == 0


def test_whatever_else_decides_the_contact_changes_every_fingerprint() -> None:
    assert fingerprint_of(ROW, context="v3") != fingerprint_of(ROW)
    renamed = attrs.evolve(MAPPING, custom_properties={"Points": "loyalty_points"})
    assert fingerprint_of(ROW, mapping=renamed) != fingerprint_of(ROW)


def test_a_new_edition_of_the_rules_changes_every_fingerprint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records fingerprinted under older rules are mapped again by the next refresh, which
    sends what they now map to (a name the old rules sent garbled, say)."""
    before = fingerprint_of(ROW)
    monkeypatch.setattr("omnisend_sdk.mapping._records.RULES_EDITION", "a later edition")
    assert fingerprint_of(ROW) != before


def test_a_mapping_with_a_function_of_the_row_gets_no_fingerprints() -> None:
    mapping = attrs.evolve(MAPPING, first_name=lambda row: str(row["First"]).upper())
    assert record_fingerprinter(RowMapper.bind(mapping, COLUMNS), "2026-03-15") is None


def test_only_clean_rows_carry_their_record_and_known_records_skip_the_mapper() -> None:
    rows = [ROW, {**ROW, "Email": "bob@example.com", "First": "x" * 300}, {**ROW, "Email": "bad"}]
    asked: list[int] = []

    def known(mapper: RowMapper, number: int, values: Any, record: int) -> None:
        asked.append(number)

    mapped = list(map_rows(MAPPING, open_source(rows), records=RecordFingerprints("v", known)))

    assert mapped[0].record == fingerprint_of(ROW, context="v")
    assert [m.record for m in mapped[1:]] == [0, 0]  # a warning (too long) and a rejected row
    assert asked == [0, 1, 2]  # asked first; answering None maps the row as always
