"""Text a UTF-8 -> Latin-1 round trip garbled (``JosÃ©``) is sent repaired, with a warning;
text written so on purpose, and every other text, is left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnisend_sdk.mapping import ContactMapping, map_rows
from omnisend_sdk.mapping._text import repaired_encoding
from omnisend_sdk.sources import open_source
from tests.mapping.test_columnar import both_ways, takes_columnar_path

NAMES = ["José", "Siobhán", "García-Márquez", "Ölöf", "Åberg", "Dvořák", "Nguyễn", "Zoë", "Renée"]


def garbled(text: str, codec: str = "latin-1") -> str:
    """What a misconfigured export leaves: UTF-8 bytes read as ``codec``."""
    return text.encode("utf-8").decode(codec)


@pytest.mark.parametrize("name", NAMES)
def test_a_latin_1_round_trip_is_undone(name: str) -> None:
    assert repaired_encoding(garbled(name)) == name


@pytest.mark.parametrize("name", ["José", "Siobhán", "Zoë", "Ölöf"])
def test_a_windows_1252_round_trip_is_undone(name: str) -> None:
    assert repaired_encoding(garbled(name, "cp1252")) == name


@pytest.mark.parametrize(
    "text",
    [
        *NAMES,  # written as they should be
        "Müller",
        "Ñúñez",
        "Ça va",
        "Café™",  # a lead-byte letter before a sign, but not UTF-8 when undone
        "Łódź",  # beyond Latin-1: never garbled so
        "plain ascii",
        "",
    ],
)
def test_text_that_is_not_garbled_is_left_alone(text: str) -> None:
    assert repaired_encoding(text) is None


def test_half_garbled_text_is_left_alone() -> None:
    """Garbled next to a letter Latin-1 cannot hold: undoing would need guessing."""
    assert repaired_encoding(garbled("José") + " Łukasz") is None


MAPPING = ContactMapping(email="email", first_name="first", last_name="last", city="city")


def test_the_mapper_repairs_and_warns() -> None:
    mapped = MAPPING.preview(
        {"email": "a@example.com", "first": garbled("Siobhán"), "last": "Lee", "city": "Köln"}
    )
    assert mapped.contact is not None
    assert (mapped.contact.first_name, mapped.contact.last_name, mapped.contact.city) == (
        "Siobhán",
        "Lee",
        "Köln",
    )
    [issue] = mapped.issues
    assert (issue.field, issue.severity, issue.code) == (
        "first_name",
        "warning",
        "repaired_encoding",
    )
    assert issue.value == "S***"


def test_a_joined_address_is_repaired_whole() -> None:
    """Its C1 control characters (Ö read as Latin-1 is Ã and U+0096) must reach the repair."""
    mapping = ContactMapping(email="email", address=("street", "line2"))
    street = garbled("Österreichische Straße 5")
    assert "\x96" in street
    mapped = mapping.preview({"email": "a@example.com", "street": street, "line2": "Top 3"})
    assert mapped.contact is not None
    assert mapped.contact.address == "Österreichische Straße 5, Top 3"
    assert [issue.code for issue in mapped.issues] == ["repaired_encoding"]


def test_a_csv_file_is_repaired_a_batch_at_a_time_as_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    lines = ["email,first,last,city"]
    lines += [
        f"u{index}@example.com,{garbled(name)},{name},{'Köln' if index % 2 else garbled('Köln')}"
        for index, name in enumerate(NAMES)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert takes_columnar_path(MAPPING, open_source(path))
    mapped = both_ways(MAPPING, lambda: open_source(path))
    fields = [dict(row[6]) for row in mapped]
    assert [row["firstName"] for row in fields] == NAMES
    assert [row["lastName"] for row in fields] == NAMES
    assert {row["city"] for row in fields} == {"Köln"}


def test_map_rows_reports_each_repair_with_its_row(tmp_path: Path) -> None:
    rows = [{"email": "a@example.com", "first": garbled("Zoë")}, {"email": "b@example.com"}]
    mapped = list(map_rows(MAPPING, open_source(rows, columns=["email", "first", "last", "city"])))
    assert [[(issue.row, issue.code) for issue in row.issues] for row in mapped] == [
        [(0, "repaired_encoding")],
        [],
    ]


def test_a_custom_property_is_repaired_too() -> None:
    mapping = ContactMapping(email="email", custom_properties={"tier": "tier", "city": "city"})
    mapped = mapping.preview(
        {"email": "a@example.com", "tier": garbled("Gold Ölöf"), "city": "Köln"}
    )
    assert mapped.contact is not None
    assert mapped.contact.custom_properties == {"tier": "Gold Ölöf", "city": "Köln"}
    assert [(issue.field, issue.code) for issue in mapped.issues] == [
        ("custom_properties.tier", "repaired_encoding")
    ]
