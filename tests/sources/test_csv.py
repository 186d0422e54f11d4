"""CSV: a file full of real defects, sniffing, encodings, ragged rows, and arbitrary bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping import ContactMapping
from omnisend_sdk.sources import CsvSource, SourceError, open_source

DEFECTS = (
    "\ufeffEmail Address;First Name;Country\r\n"  # line 1: BOM, semicolons, CRLF
    "  Ann@Example.COM ;  Ann  ;UK\r\n"  # 2: whitespace, mixed case
    "\r\n"  # 3: empty line
    "bob@example.com;Bob;Narnia\r\n"  # 4: unknown country
    "ANN@example.com;Annie;GB\r\n"  # 5: duplicate of 2
    "not-an-email;Nobody;DE\r\n"  # 6: invalid email
).encode() + (
    "zoe@example.com;Zoë;Česko\r\n".encode()  # 7: UTF-8 accents
    + "chloe@example.com;Chloé;France\r\n".encode("cp1252")  # 8: a cp1252 line
    + b"dan@example.com;D\x81n;DE\r\n"  # 9: a byte neither encoding reads
    + b'eve@example.com;"Eve\nMulti";LT\r\n'  # 10-11: quoted multi-line field
    + b"fay@example.com;Fay;LT;extra\r\n"  # 12: ragged (too many)
    + b"gus@example.com;Gus\r\n"  # 13: ragged (too few)
    + b";;\r\n"  # 14: only delimiters
    + b"hal@example.com;Hal;de"  # 15: no final newline
)

MAPPING = ContactMapping(
    email="email address", first_name="first name", country="country", ignore_case=True
)


def test_a_csv_full_of_defects(tmp_path: Path) -> None:
    path = tmp_path / "segment.csv"
    path.write_bytes(DEFECTS)
    source = open_source(path)
    assert isinstance(source, CsvSource)
    assert source.columns == ("Email Address", "First Name", "Country")
    assert source.delimiter == ";"
    outcome = {
        row.row: (
            row.contact.email if row.contact else None,
            row.contact.first_name if row.contact else None,
            row.contact.country_code if row.contact else None,
            [(i.severity, i.code) for i in row.issues],
        )
        for row in MAPPING.map_rows(source)
    }
    assert outcome == {
        2: ("ann@example.com", "Ann", "GB", []),
        4: ("bob@example.com", "Bob", None, [("warning", "unknown_country")]),
        5: (None, None, None, [("error", "duplicate_email")]),
        6: (None, None, None, [("error", "invalid_email")]),
        7: ("zoe@example.com", "Zoë", "CZ", []),
        8: ("chloe@example.com", "Chloé", "FR", [("warning", "decoded_with_fallback")]),
        9: (None, None, None, [("error", "undecodable_line")]),
        10: ("eve@example.com", "Eve Multi", "LT", []),
        12: (None, None, None, [("error", "ragged_row")]),
        13: (None, None, None, [("error", "ragged_row")]),
        15: ("hal@example.com", "Hal", "DE", []),
    }
    assert source.blank_lines == 2  # line 3, and line 14's empty fields
    issues = {i.row: i for row in MAPPING.map_rows(source) for i in row.issues}
    assert issues[5].related_row == 2
    assert "line 12 has 4 fields, the header has 3" in issues[12].message
    assert "line 9" in issues[9].message
    assert "line 8" in issues[8].message
    assert issues[6].value == "n***"


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        (b"email,name\na@example.com,A\n", ","),
        (b"email;name\na@example.com;A\n", ";"),
        (b"email\tname\na@example.com\tA\n", "\t"),
        (b"email|name\na@example.com|A\n", "|"),
        (b"email\na@example.com\n", ","),
    ],
)
def test_delimiter_sniffing(tmp_path: Path, content: bytes, delimiter: str) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(content)
    source = CsvSource(path)
    assert source.delimiter == delimiter
    assert next(row.values for row in source)["email"] == "a@example.com"  # type: ignore[index]


def test_explicit_encoding_and_file_objects() -> None:
    data = "email,name\na@example.com,Zoë\n".encode("latin-1")
    source = CsvSource(io.BytesIO(data), encoding="latin-1")
    assert [row.values for row in source] == [{"email": "a@example.com", "name": "Zoë"}]
    assert source.reiterable


def test_explicit_encoding_failure_names_the_line() -> None:
    data = b"email,name\na@example.com,A\nb@example.com,\xff\xfe\xfd\n"
    rows = list(CsvSource(io.BytesIO(data), encoding="ascii"))
    assert rows[1].values is None
    assert rows[1].issues[0].message == "line 3 is not ascii: row not read"


def test_utf16_with_explicit_encoding() -> None:
    data = "email,name\na@example.com,Zoë\n".encode("utf-16")
    rows = list(CsvSource(io.BytesIO(data), encoding="utf-16"))
    assert [(r.number, r.values) for r in rows] == [(2, {"email": "a@example.com", "name": "Zoë"})]


def test_no_fallback_rejects_rows_that_are_not_utf8() -> None:
    data = b"email,name\na@example.com,Zo\xeb\n"
    rows = list(CsvSource(io.BytesIO(data), fallback_encoding=None))
    assert rows[0].values is None
    assert rows[0].issues[0].code == "undecodable_line"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no header"),
        (b"\n\n", "no header"),
        ("email\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files(content: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        CsvSource(io.BytesIO(content))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        CsvSource(tmp_path / "nope.csv")


def test_header_names_are_made_usable() -> None:
    source = CsvSource(io.BytesIO(b" email ,,name,name\n"))
    assert source.columns == ("email", "column_2", "name", "name (column 4)")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_rows_or_a_mapping_error(data: bytes) -> None:
    try:
        source = CsvSource(io.BytesIO(b"email,name\n" + data))
        for row in ContactMapping(email="email").map_rows(source):
            assert row.ok or row.issues
    except MappingError:
        pass
