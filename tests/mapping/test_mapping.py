"""ContactMapping: construction checks, column validation, preview, saving and loading."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from omnisend_sdk._documents import toml_dumps
from omnisend_sdk._errors import MappingError
from omnisend_sdk.mapping import Constant, ContactMapping, RowMapper

COLUMNS = ["Email Address", "FirstName", "LastName", "Street", "Line2", "Country", "Zip"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": ""}, "email"),
        ({"email": 3}, "email"),
        ({"email": "E", "address": ()}, "address"),
        ({"email": "E", "tags": ["ok", " padded "]}, "tag"),
        ({"email": "E", "tags": ["x"] * 101}, "101 tags"),
        ({"email": "E", "tags": ["a", "a"]}, "repeat"),
        ({"email": "E", "custom_properties": {"Col": "bad name"}}, "custom property name"),
        ({"email": "E", "custom_properties": {"A": "x", "B": "x"}}, "mapped twice"),
        ({"email": "E", "custom_properties": {f"c{i}": f"p{i}" for i in range(201)}}, "201"),
        ({"email": "E", "duplicates": "newest"}, "duplicates"),
        ({"email": "E", "long_text": "ignore"}, "long_text"),
        ({"email": "E", "default_phone_country": "XX"}, "default_phone_country"),
        ({"email": "E", "send_welcome_message": "yes"}, "send_welcome_message"),
    ],
)
def test_invalid_mappings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        ContactMapping(**kwargs)  # type: ignore[arg-type]


def test_missing_email_column_is_named_with_close_matches() -> None:
    mapping = ContactMapping(email="EmailAddress", first_name="FirstName")
    with pytest.raises(MappingError) as caught:
        mapping.validate_columns(COLUMNS)
    message = str(caught.value)
    assert "email: no column 'EmailAddress'" in message
    assert "did you mean 'Email Address'" in message


def test_every_missing_column_is_reported() -> None:
    mapping = ContactMapping(email="Email Address", city="Town", custom_properties={"Tier": "tier"})
    with pytest.raises(MappingError) as caught:
        mapping.validate_columns(COLUMNS)
    assert "city: no column 'Town'" in str(caught.value)
    assert "custom_properties['tier']: no column 'Tier'" in str(caught.value)


def test_ignore_case_matches_columns() -> None:
    mapping = ContactMapping(email="email address", postal_code=" ZIP", ignore_case=True)
    mapper = RowMapper.bind(mapping, COLUMNS)
    assert mapper.columns == {"email address": "Email Address", " ZIP": "Zip"}
    with pytest.raises(MappingError, match="no column"):
        ContactMapping(email="email address").validate_columns(COLUMNS)


def test_ignore_case_refuses_ambiguous_columns() -> None:
    mapping = ContactMapping(email="email", ignore_case=True)
    with pytest.raises(MappingError, match="several columns"):
        mapping.validate_columns(["Email", "EMAIL"])


def test_preview_shows_the_contact_and_its_issues() -> None:
    mapping = ContactMapping(
        email="Email Address",
        first_name="FirstName",
        address=("Street", "Line2"),
        country="Country",
        postal_code="Zip",
    )
    row = {
        "Email Address": " Ann@Example.COM ",
        "FirstName": "Ann",
        "Street": "1 Main St",
        "Line2": "Apt 4",
        "Country": "Narnia",
        "Zip": 62701.0,
    }
    mapped = mapping.preview(row)
    assert mapped.ok
    assert mapped.row == 1
    contact = mapped.contact
    assert contact is not None
    assert contact.email == "ann@example.com"
    assert contact.address == "1 Main St, Apt 4"
    assert (contact.country, contact.country_code) == (None, None)  # not confirmed: not sent
    # A number, and no known country to say how many digits: its lost zeros cannot be put back.
    assert contact.postal_code is None
    assert [(i.code, i.severity, i.value) for i in mapped.issues] == [
        ("unknown_country", "warning", "Narnia"),
        ("unconfirmed_postal_code", "warning", "6***"),
    ]
    assert "unknown_country" in str(mapped.issues[0])


def test_constants_and_functions_as_sources() -> None:
    mapping = ContactMapping(
        email=lambda row: f"{row['user']}@example.com",
        country=Constant("LT"),
        first_name=lambda row: str(row["name"]).title(),
    )
    contact = mapping.preview({"user": "ann", "name": "ANN"}).contact
    assert contact is not None
    assert (contact.email, contact.first_name, contact.country_code) == (
        "ann@example.com",
        "Ann",
        "LT",
    )


def test_a_failing_function_rejects_the_row() -> None:
    mapping = ContactMapping(email="e", city=lambda row: row["missing"])
    mapped = mapping.preview({"e": "a@example.com"})
    assert not mapped.ok
    assert [(i.code, i.severity, i.field) for i in mapped.issues] == [
        ("callable_failed", "error", "city")
    ]


FULL = ContactMapping(
    email="Email Address",
    first_name="FirstName",
    address=("Street", "Line2"),
    country=Constant("LT"),
    custom_properties={"Tier": "loyalty_tier", "Zip Code": "zip"},
    tags=("vip", "segment: spring"),
    email_status="Status",
    email_status_changed_at="Since",
    ignore_case=True,
    duplicates="last",
    default_phone_country="LT",
    long_text="drop",
    day_first=True,
)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"mapping{suffix}"
    FULL.save(path)
    assert ContactMapping.load(path) == FULL


def test_saved_toml_is_readable() -> None:
    text = toml_dumps(FULL.to_dict())
    assert 'email = "Email Address"' in text
    assert 'address = ["Street", "Line2"]' in text
    assert 'country = {constant = "LT"}' in text
    assert '[custom_properties]\nTier = "loyalty_tier"\n"Zip Code" = "zip"' in text


@pytest.mark.parametrize(
    "text",
    ['weird = "a\\"b\\\\c\\n\\u0007\\u007f é"', 'x = "plain"'],
)
def test_toml_strings_round_trip(text: str) -> None:
    data = tomllib.loads(text)
    assert tomllib.loads(toml_dumps(data)) == data


def test_functions_cannot_be_saved(tmp_path: Path) -> None:
    mapping = ContactMapping(email=lambda row: row["e"])
    with pytest.raises(MappingError, match="email is a function"):
        mapping.save(tmp_path / "m.toml")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.yaml", "email: x", "must end in .toml or .json"),
        ("m.toml", "email = ", "cannot read"),
        ("m.json", "[1]", "must hold a table"),
        ("m.json", '{"first_name": "x"}', "no email"),
        ("m.json", '{"email": "x", "colour": "red"}', "unknown mapping keys: colour"),
        ("m.json", '{"email": {"column": "x"}}', "constant"),
        ("m.json", '{"email": "x", "duplicates": "all"}', "duplicates"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MappingError, match=message) as caught:
        ContactMapping.load(path)
    assert name in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        ContactMapping.load(tmp_path / "nope.json")


def test_json_file_is_plain(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    ContactMapping(email="E", tags=("a",)).save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"email": "E", "tags": ["a"]}


def test_describe() -> None:
    text = FULL.describe()
    assert "email: column 'Email Address'" in text
    assert "country: constant 'LT'" in text
    assert "custom property loyalty_tier: column 'Tier'" in text


def test_bind_on_the_mapping_still_works_with_a_warning() -> None:
    mapping = ContactMapping(email="Email")
    with pytest.deprecated_call(match=r"RowMapper\.bind\(mapping, columns\)"):
        mapper = mapping.bind(["Email"])
    assert mapper.map(1, {"Email": " A@B.com "}, ()).email == "a@b.com"
