"""Postal codes given as numbers: the leading zeros a number lost are put back by the row's
country, or the code is not sent; text is sent as written."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from omnisend_sdk.mapping import Constant, ContactMapping, InvalidValueError, normalise_country
from omnisend_sdk.mapping._postal import POSTAL_CODE_DIGITS, is_number, postal_code_of_number


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        (2139, "US", ("02139", 1)),  # Cambridge, Massachusetts
        (501, "US", ("00501", 2)),
        (12345, "US", ("12345", 0)),
        (2139.0, "US", ("02139", 1)),  # pandas reads a column with gaps as floats
        (Decimal("2139"), "US", ("02139", 1)),
        (Decimal("2139.00"), "US", ("02139", 1)),
        (800, "AU", ("0800", 1)),  # Darwin
        (150, "NO", ("0150", 1)),  # Oslo
        (10115, "DE", ("10115", 0)),
        (1067, "DE", ("01067", 1)),  # Dresden
        (950, "PL", ("00950", 2)),  # Warsaw, written 00-950
        (10011, "RO", ("010011", 1)),  # Bucharest
        (600001, "JP", ("0600001", 1)),  # Sapporo, written 060-0001
        (1310100, "BR", ("01310100", 1)),  # São Paulo, written 01310-100
        (101, "IS", ("101", 0)),
    ],
)
def test_a_number_gets_back_the_zeros_its_country_codes_have(
    value: object, country: str, expected: tuple[str, int]
) -> None:
    assert postal_code_of_number(value, country) == expected


@pytest.mark.parametrize(
    ("value", "country", "code", "message"),
    [
        (2139, None, "unconfirmed_postal_code", "no known country"),
        (2139, "GB", "unconfirmed_postal_code", "GB postal codes are not all digits"),
        (1234, "NL", "unconfirmed_postal_code", "NL postal codes"),  # 1234 AB: letters follow
        (1425, "AR", "unconfirmed_postal_code", "AR postal codes"),  # now C1425ABC
        (123456, "US", "invalid_postal_code", "6 digits, where US postal codes have 5"),
        (123456789, "US", "invalid_postal_code", "9 digits"),  # ZIP+4 belongs in text
        (2139.5, "US", "invalid_postal_code", "not a whole positive number"),
        (Decimal("2139.5"), "US", "invalid_postal_code", "not a whole positive number"),
        (-2139, "US", "invalid_postal_code", "not a whole positive number"),
        (0, "US", "invalid_postal_code", "not a whole positive number"),
        (True, "US", "invalid_postal_code", "a true or false value"),
        (1 + 2j, "US", "invalid_postal_code", "not a whole positive number"),
    ],
)
def test_a_number_nothing_confirms_is_refused_and_says_why(
    value: object, country: str | None, code: str, message: str
) -> None:
    with pytest.raises(InvalidValueError) as raised:
        postal_code_of_number(value, country)
    assert raised.value.code == code
    assert message in raised.value.message
    if code == "unconfirmed_postal_code":
        assert "store postal codes as text" in raised.value.message


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (2139, True),
        (2139.0, True),
        (Decimal(2139), True),
        (False, True),  # not a postal code, but a number: refused with its own warning
        (math.nan, False),  # how frames spell no value
        (math.inf, False),
        (Decimal("NaN"), False),
        (10**400, True),  # past a float's range: still a number
        ("02139", False),
        (None, False),
        (b"02139", False),
    ],
)
def test_what_counts_as_a_number(value: object, number: bool) -> None:
    assert is_number(value) is number


def test_numpy_numbers_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    assert postal_code_of_number(np.int64(2139), "US") == ("02139", 1)
    assert postal_code_of_number(np.float32(800.0), "AU") == ("0800", 1)
    assert not is_number(np.float64("nan"))


@pytest.mark.parametrize("country", sorted(POSTAL_CODE_DIGITS))
def test_every_country_in_the_table_is_one_the_country_rules_send(country: str) -> None:
    """A code the country rules never send could never be looked up: a typo in the table."""
    recognised = normalise_country(country)
    assert recognised is not None
    assert recognised.code == country
    assert 3 <= POSTAL_CODE_DIGITS[country] <= 10


def _mapped(postal: object, country: Any = "Country", **values: object) -> Any:
    mapping = ContactMapping(email="Email", first_name="First", postal_code="Zip", country=country)
    row = {"Email": "ann@example.com", "First": "Ann", "Zip": postal, **values}
    return mapping.preview(row)


def test_the_mapper_puts_back_the_zeros_and_warns() -> None:
    mapped = _mapped(2139, Country="USA")
    assert mapped.ok
    assert mapped.contact.postal_code == "02139"
    [issue] = mapped.issues
    assert (issue.field, issue.severity, issue.code) == (
        "postal_code",
        "warning",
        "restored_postal_code",
    )
    assert issue.value == "2***"  # masked, as every personal value
    assert "1 zero put back, as US postal codes have 5 digits" in issue.message


def test_a_postal_code_number_keeps_its_place_in_the_json() -> None:
    """The body's keys are in Omnisend's order, whichever way the postal code came."""
    as_number = _mapped(2139, Country="US").to_json()
    as_text = _mapped("02139", Country="US").to_json()
    assert as_number == as_text
    assert list(as_number) == list(as_text)
    assert list(as_number).index("postalCode") < list(as_number).index("country")


def test_a_constant_country_is_the_rows_country() -> None:
    mapped = _mapped(800, country=Constant("AU"))
    assert mapped.contact.postal_code == "0800"


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("Narnia", "unconfirmed_postal_code"),  # not recognised: not sent, nor its digits known
        (None, "unconfirmed_postal_code"),
        ("United Kingdom", "unconfirmed_postal_code"),
        ("US", "invalid_postal_code"),  # too long for a US code
    ],
)
def test_a_number_nothing_confirms_is_not_sent_and_the_contact_is(
    country: str | None, code: str
) -> None:
    mapped = _mapped(213945, Country=country)
    assert mapped.ok
    assert mapped.contact.postal_code is None
    assert mapped.contact.first_name == "Ann"
    postal = [issue for issue in mapped.issues if issue.field == "postal_code"]
    assert [(issue.severity, issue.code) for issue in postal] == [("warning", code)]


def test_without_a_country_mapped_a_number_is_not_sent() -> None:
    mapping = ContactMapping(email="Email", postal_code="Zip")
    mapped = mapping.preview({"Email": "ann@example.com", "Zip": 62701})
    assert mapped.ok
    assert mapped.contact.postal_code is None
    assert [issue.code for issue in mapped.issues] == ["unconfirmed_postal_code"]


@pytest.mark.parametrize(
    ("text", "country", "sent", "code"),
    [
        ("2139.0", "US", "02139", "restored_postal_code"),  # pandas wrote a float column
        (" 800.00 ", "AU", "0800", "restored_postal_code"),
        ("62701.0", "US", "62701", None),
        ("2139.0", None, None, "unconfirmed_postal_code"),
        ("2139.5", "US", "2139.5", None),  # not a float's writing of a whole number: text
    ],
)
def test_a_float_written_as_text_is_read_as_the_number_it_was(
    text: str, country: str | None, sent: str | None, code: str | None
) -> None:
    mapped = _mapped(text, Country=country)
    assert mapped.contact.postal_code == sent
    assert [issue.code for issue in mapped.issues if issue.field == "postal_code"] == (
        [code] if code else []
    )


@pytest.mark.parametrize("text", ["02139", "02139-4307", "021394307", "213945", "SW1A 1AA"])
def test_text_is_sent_as_written(text: str) -> None:
    mapped = _mapped(text, Country="US")
    assert mapped.contact.postal_code == text
    assert mapped.issues == ()


@pytest.mark.parametrize(
    ("text", "country", "sent"),
    [
        ("2139", "US", "02139"),  # a spreadsheet read the column as numbers, then saved it
        ("501", "US", "00501"),
        ("800", "Australia", "0800"),
        ("1067", "DE", "01067"),
    ],
)
def test_digits_fewer_than_the_countrys_codes_get_their_zeros_back(
    text: str, country: str, sent: str
) -> None:
    mapped = _mapped(text, Country=country)
    assert mapped.contact.postal_code == sent
    [issue] = mapped.issues
    assert (issue.field, issue.severity, issue.code) == (
        "postal_code",
        "warning",
        "restored_postal_code",
    )
    assert "digits, which lost their leading zero" in issue.message
    assert "a spreadsheet drops them" in issue.message


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("2139", None),  # no country to say how many digits: sent as written
        ("2139", "Narnia"),
        ("1234", "GB"),  # not a code of one length: sent as written
        ("٢١٣٩", "US"),  # Arabic-Indic digits: not what a spreadsheet leaves
        ("21 39", "US"),
    ],
)
def test_digits_nothing_says_are_too_few_are_sent_as_written(
    text: str, country: str | None
) -> None:
    mapped = _mapped(text, Country=country)
    assert mapped.contact.postal_code == text
    assert [issue.field for issue in mapped.issues if issue.field == "postal_code"] == []


@pytest.mark.parametrize("value", [None, math.nan, ""])
def test_no_value_is_no_postal_code_and_no_issue(value: object) -> None:
    mapped = _mapped(value, Country="US")
    assert mapped.contact.postal_code is None
    assert mapped.issues == ()


def test_a_function_that_gives_a_number_is_read_the_same_way() -> None:
    mapping = ContactMapping(email="Email", postal_code=lambda row: row["Zip"] + 0, country="C")
    mapped = mapping.preview({"Email": "ann@example.com", "Zip": 1067, "C": "DE"})
    assert mapped.contact.postal_code == "01067"
    assert [issue.code for issue in mapped.issues] == ["restored_postal_code"]
