"""Text that stands for a missing value (NULL, \\N, nan, #N/A...) is never sent as a value:
no contact is greeted as "Hi NULL"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import export_segment
from omnisend_sdk.mapping import ContactMapping, map_rows
from omnisend_sdk.mapping._text import MISSING_VALUE_TEXTS
from omnisend_sdk.sources import open_source
from omnisend_sdk.testing import OmnisendEmulator
from tests.export.conftest import make_client, make_emulator
from tests.mapping.test_columnar import both_ways, takes_columnar_path

MAPPING_COLUMNS = ("email", "first", "last", "street", "line2", "city", "state", "zip")
MAPPING = ContactMapping(
    email="email",
    first_name="first",
    last_name="last",
    address=("street", "line2"),
    city="city",
    state="state",
    postal_code="zip",
)


@pytest.mark.parametrize("marker", sorted(MISSING_VALUE_TEXTS))
@pytest.mark.parametrize("field", ["first", "last", "city", "state", "zip"])
def test_a_text_field_that_says_it_is_missing_is_not_sent(marker: str, field: str) -> None:
    row = {"email": "ann@example.com", "first": "Ann", "last": "Lee", "city": "Riga"}
    row[field] = f" {marker} "  # as a cell may hold it
    mapped = MAPPING.preview(row)
    assert mapped.ok
    body = mapped.to_json()
    assert body is not None
    assert marker not in body.values()
    wire = {"first": "firstName", "last": "lastName", "city": "city", "state": "state"}
    wire["zip"] = "postalCode"
    assert wire[field] not in body
    kept = {"first": "Ann", "last": "Lee", "city": "Riga"}
    assert all(body[wire[name]] == value for name, value in kept.items() if name != field)
    field_names = {"first": "first_name", "last": "last_name", "zip": "postal_code"}
    [issue] = mapped.issues
    assert (issue.field, issue.severity, issue.code) == (
        field_names.get(field, field),
        "warning",
        "missing_value_text",
    )
    assert f'"{marker}" is how a missing value is written out' in issue.message


@pytest.mark.parametrize("name", ["Null", "Nan", "Nil", "Na", "Nonny", "N/Aa", "Ann-Marie"])
def test_names_that_only_look_alike_are_sent(name: str) -> None:
    """Christopher Null and Nan Goldin: a surname and a given name, in their own case."""
    mapped = MAPPING.preview({"email": "ann@example.com", "first": name, "last": name})
    assert mapped.issues == ()
    assert mapped.contact is not None
    assert (mapped.contact.first_name, mapped.contact.last_name) == (name, name)


def test_an_address_part_that_says_it_is_missing_is_skipped() -> None:
    mapped = MAPPING.preview({"email": "ann@example.com", "street": "1 Main St", "line2": "NULL"})
    assert mapped.contact is not None
    assert mapped.contact.address == "1 Main St"
    assert mapped.issues == ()  # the address is whole without it
    mapped = MAPPING.preview({"email": "ann@example.com", "street": "\\N", "line2": "nan"})
    assert mapped.contact is not None
    assert mapped.contact.address is None


def test_a_custom_property_that_says_it_is_missing_is_not_sent() -> None:
    mapping = ContactMapping(email="email", custom_properties={"tier": "tier", "tags": "tags"})
    mapped = mapping.preview({"email": "ann@example.com", "tier": "NULL", "tags": ["a", "None"]})
    assert mapped.contact is not None
    assert mapped.contact.custom_properties == {"tags": ("a",)}
    assert [(issue.field, issue.code) for issue in mapped.issues] == [
        ("custom_properties.tier", "missing_value_text")
    ]


def _write_csv(path: Path) -> Path:
    """What a database tool's export holds: NULL for the missing cells."""
    path.write_text(
        "email,first,last,street,line2,city,state,zip\n"
        "ann@example.com,Ann,NULL,1 Main St,NULL,Riga,NULL,LV-1010\n"
        "bob@example.com,NULL,Marsh,NULL,NULL,NULL,NULL,NULL\n"
        "cy@example.com,Cy,Null,2 High St,Flat 3,Leeds,-,LS1 4AP\n",
        encoding="utf-8",
    )
    return path


def test_a_csv_file_maps_its_markers_a_batch_at_a_time_as_row_by_row(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "export.csv")
    mapping = ContactMapping(
        email="email", first_name="first", last_name="last", address="street", state="state"
    )
    assert takes_columnar_path(mapping, open_source(path))
    mapped = both_ways(mapping, lambda: open_source(path))
    fields = [dict(row[6]) for row in mapped]
    assert [row.get("firstName") for row in fields] == ["Ann", None, "Cy"]
    assert [row.get("lastName") for row in fields] == [None, "Marsh", "Null"]
    assert [row.get("state") for row in fields] == [None, None, None]
    assert [row.get("address") for row in fields] == ["1 Main St", None, "2 High St"]


def test_an_export_sends_no_marker_to_omnisend(tmp_path: Path) -> None:
    emulator: OmnisendEmulator = make_emulator()
    path = _write_csv(tmp_path / "export.csv")
    with make_client(emulator) as client:
        report = export_segment(
            path, MAPPING, client=client, segment="VIP", state_dir=tmp_path / "s", progress=None
        )
    emulator.run_until_idle()
    assert report.exported == 3
    stored: list[dict[str, Any]] = emulator.contacts()
    values = {value for contact in stored for value in contact.values() if isinstance(value, str)}
    assert not values & MISSING_VALUE_TEXTS
    assert {contact["email"]: contact.get("lastName") for contact in stored} == {
        "ann@example.com": None,
        "bob@example.com": "Marsh",
        "cy@example.com": "Null",
    }
    warned = sorted(
        (issue.row, issue.field) for issue in report.issues if issue.code == "missing_value_text"
    )
    assert warned == [
        (2, "last_name"),
        (2, "state"),
        (3, "city"),
        (3, "first_name"),
        (3, "postal_code"),
        (3, "state"),
        (4, "state"),
    ]


def test_map_rows_reports_each_marker_with_its_row() -> None:
    rows = [{"email": "ann@example.com", "first": "None"}, {"email": "bob@example.com"}]
    mapped = list(map_rows(MAPPING, open_source(rows, columns=list(MAPPING_COLUMNS))))
    assert [[issue.code for issue in row.issues] for row in mapped] == [
        ["missing_value_text"],
        [],
    ]


def test_every_row_that_holds_a_marker_or_garbled_text_is_reported() -> None:
    """The mapper remembers the texts values came to, but never a value that raised an issue:
    the tenth row with the same NULL or the same garbled name is reported as the first was."""
    garbled = "José".encode().decode("latin-1")
    rows = [{"email": f"u{i}@example.com", "first": garbled, "last": "NULL"} for i in range(10)]
    rows += [{"email": "v@example.com", "first": "Ann", "last": "Lee"}] * 2
    mapped = list(map_rows(MAPPING, open_source(rows, columns=list(MAPPING_COLUMNS))))
    assert [[issue.code for issue in row.issues] for row in mapped[:10]] == [
        ["repaired_encoding", "missing_value_text"]
    ] * 10
    assert [row.to_json()["firstName"] for row in mapped[:10]] == ["José"] * 10  # type: ignore[index]
    assert [row.to_json().get("lastName") for row in mapped[:10]] == [None] * 10  # type: ignore[union-attr]


def test_every_row_with_a_value_cut_or_trimmed_is_mapped_as_the_first() -> None:
    """A value whose text is not the string read (cut to the limit, trimmed) is worked out on
    every row: the tenth row with the same over-long city is reported as the first was."""
    long_city = "C" * 300
    rows = [{"email": f"u{i}@example.com", "city": long_city, "first": " Ann "} for i in range(10)]
    mapped = list(map_rows(MAPPING, open_source(rows, columns=list(MAPPING_COLUMNS))))
    assert [[issue.code for issue in row.issues] for row in mapped] == [["too_long"]] * 10
    assert {row.contact.city for row in mapped if row.contact} == {"C" * 255}
    assert {row.contact.first_name for row in mapped if row.contact} == {"Ann"}
