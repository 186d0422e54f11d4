"""Each per-row rule, as a table: input -> output, or input -> issue code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from omnisend_sdk.mapping import (
    InvalidValueError,
    channel_state,
    clean_text,
    normalise_country,
    normalise_email,
    normalise_gender,
    normalise_phone,
    normalise_property_value,
    normalise_status,
    parse_birthdate,
    parse_timestamp,
    to_text,
)
from omnisend_sdk.mapping._country import country_by_code, country_key
from omnisend_sdk.mapping._country_data import COUNTRIES
from omnisend_sdk.mapping._issues import mask_email, mask_value
from omnisend_sdk.mapping._text import truncate

TODAY = date(2026, 1, 1)
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("  John.Smith@Example.COM \t", "john.smith@example.com"),
        ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
        ("x@" + "a" * 63 + ".com", "x@" + "a" * 63 + ".com"),
        ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
        # Wrapped so that nothing else can be meant: the address alone is kept.
        ("Ann Lee <Ann@Example.com>", "ann@example.com"),
        ('"Lee, Ann" <ann@example.com>', "ann@example.com"),
        ("<ann@example.com>", "ann@example.com"),
        ("ann@example.com <ann@example.com>", "ann@example.com"),
        ("mailto:ann@example.com", "ann@example.com"),
        ("MailTo:Ann@Example.com", "ann@example.com"),
        ("ann@example.com.", "ann@example.com"),  # a sentence's full stop
    ],
)
def test_valid_emails(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "missing_email"),
        ("   ", "missing_email"),
        ("john.example.com", "invalid_email"),
        ("john@@example.com", "invalid_email"),
        ("jo hn@example.com", "invalid_email"),
        ("john@example.com, ann@example.com", "invalid_email"),
        ("john@localhost", "invalid_email"),
        ("john..smith@example.com", "invalid_email"),
        (".john@example.com", "invalid_email"),
        ("john@-example.com", "invalid_email"),
        ("john@example.c", "invalid_email"),
        ("john@example.123", "invalid_email"),
        ("zoë@example.com", "invalid_email"),
        ("@example.com", "invalid_email"),
        ("john@", "invalid_email"),
        ("a" * 65 + "@example.com", "invalid_email"),
        ("x@" + "a" * 64 + ".com", "invalid_email"),
        ("x@" + ".".join(["a" * 60] * 5) + ".com", "invalid_email"),
        ('"john"@example.com', "invalid_email"),
        ("john@[127.0.0.1]", "invalid_email"),
        # Wrapped in ways that leave a doubt: refused.
        ("Ann <ann@example.com> (work)", "invalid_email"),
        ("<ann@example.com>, <bob@example.com>", "invalid_email"),
        ("Ann <ann at example.com>", "invalid_email"),
        ("Ann <>", "invalid_email"),
        ("ann@example.com..", "invalid_email"),
        ("mailto:", "invalid_email"),
    ],
)
def test_invalid_emails(raw: str, code: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        normalise_email(raw)
    assert caught.value.code == code
    if "@" in raw and len(raw) > 3:
        assert raw not in caught.value.message  # the message never repeats the address


@pytest.mark.parametrize(
    ("raw", "code", "name"),
    [
        ("DE", "DE", "Germany"),
        ("deu", "DE", "Germany"),
        ("Deutschland", "DE", "Germany"),
        ("UK", "GB", "United Kingdom"),
        ("Great Britain", "GB", "United Kingdom"),
        ("USA", "US", "United States"),
        ("U.S.A.", "US", "United States"),
        ("united states of america", "US", "United States"),
        ("Czechia", "CZ", "Czechia"),
        ("Czech Republic", "CZ", "Czechia"),
        ("  lithuania ", "LT", "Lithuania"),
        ("Cote d'Ivoire", "CI", "Côte d'Ivoire"),
        ("The Netherlands", "NL", "Netherlands"),
        ("Korea, Republic of", "KR", "South Korea"),
        ("Türkiye", "TR", "Türkiye"),
        ("Turkey", "TR", "Türkiye"),
    ],
)
def test_known_countries(raw: str, code: str, name: str) -> None:
    assert normalise_country(raw) == (code, name)


@pytest.mark.parametrize("raw", ["Narnia", "XX", "", "Europe", "123"])
def test_unknown_countries(raw: str) -> None:
    assert normalise_country(raw) is None


def test_country_table_is_complete_and_unambiguous() -> None:
    assert len(COUNTRIES) == 249
    owners: dict[str, str] = {}
    for alpha2, alpha3, name, aliases in COUNTRIES:
        assert len(alpha2) == 2
        assert alpha2.isupper()
        assert len(alpha3) == 3
        for spelling in (alpha2, alpha3, name, *aliases):
            assert owners.setdefault(country_key(spelling), alpha2) == alpha2, spelling
        assert country_by_code(alpha2.lower()) == (alpha2, name)
    assert country_by_code("UK") is None  # an alias, not a code


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+37060012345", None, "+37060012345"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("1-212-555-0100", "us", "+12125550100"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("8 916 123-45-67", "RU", "+79161234567"),
        ("030 1234567", "DE", "+49301234567"),
    ],
)
def test_phones(raw: str, country: str | None, expected: str) -> None:
    assert normalise_phone(raw, country) == expected
    assert normalise_phone(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("020 7946 0958", None),  # national, no country
        ("+44 20 7946 0958 ext 12", None),  # extension
        ("call me", None),
        ("+0123456789", None),
        ("+999 1234567", None),  # unassigned calling code
        ("+1234", None),  # too short
        ("+1234567890123456", None),  # too long
        ("555-0100", "US"),  # seven digits, no area code
        ("0 212 555 0100", "US"),
    ],
)
def test_unsafe_phones(raw: str, country: str | None) -> None:
    with pytest.raises(InvalidValueError) as caught:
        normalise_phone(raw, country)
    assert caught.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("1990-04-03", None, date(1990, 4, 3)),
        ("1901-01-01", None, date(1901, 1, 1)),
        ("1990/4/3", None, date(1990, 4, 3)),
        ("1990-04-03T00:00:00Z", None, date(1990, 4, 3)),
        ("19900403", None, date(1990, 4, 3)),
        ("03.04.1990", None, date(1990, 4, 3)),
        ("25/12/1990", None, date(1990, 12, 25)),
        ("12/25/1990", None, date(1990, 12, 25)),
        ("03/04/1990", True, date(1990, 4, 3)),
        ("03/04/1990", False, date(1990, 3, 4)),
        ("04/04/1990", None, date(1990, 4, 4)),
        ("3 April 1990", None, date(1990, 4, 3)),
        ("April 3, 1990", None, date(1990, 4, 3)),
        ("3rd Apr 1990", None, date(1990, 4, 3)),
        (date(1990, 4, 3), None, date(1990, 4, 3)),
        (datetime(1990, 4, 3, 10), None, date(1990, 4, 3)),  # no zone: the day it shows
        # A moment at midnight in its own zone: the day it was written for.
        (datetime(1990, 4, 3, tzinfo=UTC), None, date(1990, 4, 3)),
        (datetime(1990, 4, 3, tzinfo=timezone(timedelta(hours=2))), None, date(1990, 4, 3)),
        ("1990-04-03T00:00:00+02:00", None, date(1990, 4, 3)),
        ("1990-04-03 00:00-0500", None, date(1990, 4, 3)),
        ("1990-04-03 10:00:00", None, date(1990, 4, 3)),
    ],
)
def test_birthdates(raw: object, day_first: bool | None, expected: date) -> None:
    assert parse_birthdate(raw, day_first=day_first, today=TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("03/04/1990", "ambiguous_birthdate"),
        ("1990-02-30", "invalid_birthdate"),
        ("1899-12-31", "invalid_birthdate"),
        ("1900-01-01", "invalid_birthdate"),  # the commonest placeholder date
        (datetime(1900, 1, 1), "invalid_birthdate"),
        ("2030-01-01", "invalid_birthdate"),
        ("yesterday", "invalid_birthdate"),
        ("3 Smarch 1990", "invalid_birthdate"),
        ("90-04-03", "invalid_birthdate"),
        (19900403, "invalid_birthdate"),
        # Midnight in Berlin, seen from UTC (a TIMESTAMPTZ column): the day depends on the zone.
        (datetime(1990, 4, 2, 22, tzinfo=UTC), "ambiguous_birthdate"),
        (datetime(1990, 4, 3, 10, 30, tzinfo=timezone(timedelta(hours=-5))), "ambiguous_birthdate"),
        ("1990-04-02T22:00:00Z", "ambiguous_birthdate"),
        ("1990-04-02t22:00:00.000+00:00", "ambiguous_birthdate"),
        ("1990-04-03 10:00+01", "ambiguous_birthdate"),
        ("1990-04-03T25:00:00Z", "invalid_birthdate"),
    ],
)
def test_bad_birthdates(raw: object, code: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_birthdate(raw, today=TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01 12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714557600", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (1714557600000, datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (datetime(2024, 5, 1, 10), datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (date(2024, 5, 1), datetime(2024, 5, 1, tzinfo=UTC)),
    ],
)
def test_timestamps(raw: object, expected: datetime) -> None:
    found = parse_timestamp(raw)
    assert found == expected
    assert found.tzinfo is not None


@pytest.mark.parametrize("raw", ["soon", "2024-13-01", True, float("nan"), 1e30, None, [1]])
def test_bad_timestamps(raw: object) -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_timestamp(raw)
    assert caught.value.code == "invalid_time"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("M", "m"), (" male ", "m"), ("Woman", "f"), ("F", "f"), ("mrs", "f")],
)
def test_genders(raw: str, expected: str) -> None:
    assert normalise_gender(raw) == expected


@pytest.mark.parametrize("raw", ["x", "other", "non-binary", "unknown", ""])
def test_unsupported_genders(raw: str) -> None:
    with pytest.raises(InvalidValueError, match="unsupported_gender"):
        normalise_gender(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("subscribed", "subscribed"),
        ("Unsubscribed", "unsubscribed"),
        ("nonSubscribed", "nonSubscribed"),
        ("non-subscribed", "nonSubscribed"),
        ("NOT_SUBSCRIBED", "nonSubscribed"),
    ],
)
def test_statuses(raw: str, expected: str) -> None:
    assert normalise_status(raw) == expected


@pytest.mark.parametrize("raw", ["yes", "no", "true", "1", "opted in"])
def test_yes_no_is_not_a_status(raw: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown_status"):
        normalise_status(raw)


@pytest.mark.parametrize(
    ("status", "changed_at", "outcome"),
    [
        ("subscribed", NOW - timedelta(days=3), "sent"),
        ("subscribed", None, "status_without_time"),
        ("nonSubscribed", None, "status_without_time"),
        ("unsubscribed", None, "sent"),
        ("subscribed", NOW + timedelta(minutes=10), "sent"),  # within clock skew
        ("subscribed", NOW + timedelta(hours=2), "status_time_in_future"),
        ("unsubscribed", NOW + timedelta(days=1), "status_time_in_future"),
    ],
)
def test_subscription_safety(status: str, changed_at: datetime | None, outcome: str) -> None:
    if outcome == "sent":
        state = channel_state(status, changed_at, NOW)  # type: ignore[arg-type]
        assert (state.status, state.status_changed_at) == (status, changed_at)
    else:
        with pytest.raises(InvalidValueError) as caught:
            channel_state(status, changed_at, NOW)  # type: ignore[arg-type]
        assert caught.value.code == outcome


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann  ", "Ann"),
        ("1 Main St\nApt 4", "1 Main St Apt 4"),
        ("A\x00B\x7fC", "ABC"),
        ("\ufeffAnn\u200b", "Ann"),
        ("bad\ud800surrogate", "badsurrogate"),
        ("\xa0Ann\xa0", "Ann"),
        ("Zoë 😀", "Zoë 😀"),
        ("\t\r\n", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (float("nan"), None),
        (62701.0, "62701"),
        (1.5, "1.5"),
        (42, "42"),
        (True, "true"),
        (date(2024, 1, 2), "2024-01-02"),
        (b"caf\xc3\xa9", "café"),
    ],
)
def test_to_text(raw: object, expected: str | None) -> None:
    assert to_text(raw) == expected


def test_to_text_of_an_unprintable_object() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    with pytest.raises(InvalidValueError, match="unreadable_value"):
        to_text(Broken())


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("abcdef", 3, "abc"), ("ab  cd", 3, "ab"), ("abc", 3, "abc"), ("", 3, "")],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert truncate(expected, limit) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" gold ", "gold"),
        ("00123", "00123"),
        ("", None),
        (True, True),
        (12, 12),
        (2**60, str(2**60)),
        (1.25, 1.25),
        (1e20, "1e+20"),
        (["a", " b ", "", None], ("a", "b")),
        ([], None),
        (date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_custom_property_values(raw: object, expected: object) -> None:
    assert normalise_property_value(raw) == expected


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", "john@example.com", "j***@e***.com"),
        ("email", "not an email", "n***"),
        ("first_name", "Ann", "A***"),
        ("country", "Narnia", "Narnia"),
        ("phone", "+37060012345", "+***"),
        ("first_name", None, None),
        ("first_name", "", ""),
    ],
)
def test_masking(field: str, value: object, expected: str | None) -> None:
    assert mask_value(field, value) == expected


def test_mask_email_keeps_only_the_shape() -> None:
    assert mask_email("someone.long@very-private-domain.example") == "s***@v***.example"
    assert mask_email("x@localhost") == "x***@l***"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float32("nan"), None),  # a frame's missing value, never the text "nan"
        (np.float64("nan"), None),
        (np.float32(62701), "62701"),  # a postal code read as a number
        (np.float32(1.5), "1.5"),
        (Decimal("NaN"), None),
        (Decimal("-Infinity"), None),
        (Decimal("1.10"), "1.10"),  # a Decimal keeps its own digits
    ],
)
def test_numpy_floats_and_decimals_as_text(value: object, expected: str | None) -> None:
    assert to_text(value) == expected
