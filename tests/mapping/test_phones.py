"""Phones: read with the row's own country, sent only when confirmed, with libphonenumber or not.

Every table runs twice: with libphonenumber (the ``phones`` extra) and with the built-in rules,
chosen by replacing the detection hook, as a machine without the extra would choose them.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from typing import Any

import pytest

from omnisend_sdk.mapping import (
    Constant,
    ContactMapping,
    InvalidValueError,
    MappedRow,
    _phone,
    normalise_phone,
)
from omnisend_sdk.mapping._phone_builtin import BuiltinPhoneRules
from omnisend_sdk.mapping._phone_data import CONFIRMED_RANGES, DIALS_00, PHONE_PLANS

LIBPHONENUMBER = "libphonenumber"
BUILTIN = "built-in"


@pytest.fixture(params=[LIBPHONENUMBER, BUILTIN])
def rules(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of the rules in force: the built-in ones as if ``phonenumbers`` were missing."""
    if request.param == LIBPHONENUMBER:
        pytest.importorskip("phonenumbers")
    else:
        monkeypatch.setattr(_phone, "libphonenumber_rules", lambda: None)
    assert _phone.phone_rules().name == request.param
    name: str = request.param
    return name


MAPPING = ContactMapping(email="email", country="country", phone="phone")


def map_row(mapping: ContactMapping, country: str | None, phone: str) -> MappedRow:
    return mapping.preview({"email": "ann@example.com", "country": country, "phone": phone})


def sent_phone(mapped: MappedRow) -> str | None:
    """The phone identifier sent, after checking that the contact itself is always sent."""
    assert mapped.ok
    body = mapped.to_json()
    assert body is not None
    identifiers: list[dict[str, Any]] = body["identifiers"]
    assert identifiers[0] == {"type": "email", "id": "ann@example.com", "sendWelcomeMessage": False}
    phones = [identifier["id"] for identifier in identifiers if identifier["type"] == "phone"]
    return phones[0] if phones else None


def phone_codes(mapped: MappedRow) -> list[str]:
    issues = [issue for issue in mapped.issues if issue.field == "phone"]
    assert all(issue.severity == "warning" and issue.row == 1 for issue in issues)
    return [issue.code for issue in issues]


# (row's country, number as written, what libphonenumber makes of it, what the built-in rules do)
# An E.164 number is sent; an issue code means the contact goes without the phone, with a warning.
NATIONAL_NUMBERS = [
    ("FR", "06 12 34 56 78", "+33612345678", "+33612345678"),
    ("FR", "612345678", "+33612345678", "+33612345678"),  # the zero a spreadsheet ate
    ("FR", "0871774580", "invalid_phone", "unverified_phone"),  # was sent as +44871774580
    ("US", "(415) 555-2671", "+14155552671", "unverified_phone"),  # was sent as +444155552671
    ("US", "1 (415) 555-2671", "+14155552671", "unverified_phone"),
    ("CA", "(416) 555-0123", "+14165550123", "unverified_phone"),
    ("GB", "020 7946 0958", "+442079460958", "+442079460958"),
    ("GB", "07911 123456", "+447911123456", "+447911123456"),
    ("LT", "8 600 12345", "+37060012345", "+37060012345"),  # was sent as +370860012345
    ("LT", "0600 12345", "+37060012345", "+37060012345"),
    ("LT", "(8 5) 212 3456", "+37052123456", "+37052123456"),
    ("LT", "37060012345", "+37060012345", "+37060012345"),  # the calling code without its +
    ("AR", "011 15 2345-6789", "+5491123456789", "unverified_phone"),  # mobile: 15 becomes 9
    ("AR", "9 11 2345-6789", "+5491123456789", "+5491123456789"),
    ("AR", "15 2345-6789", "invalid_phone", "unverified_phone"),  # a mobile without area code
    ("DE", "0151 23456789", "+4915123456789", "+4915123456789"),
    ("DE", "030 1234567", "+49301234567", "+49301234567"),
    ("IT", "06 1234 5678", "+390612345678", "+390612345678"),  # the 0 belongs to the number
    ("IT", "312 345 6789", "+393123456789", "+393123456789"),
    ("ES", "612 34 56 78", "+34612345678", "+34612345678"),
    ("NL", "06 12345678", "+31612345678", "+31612345678"),
    ("PL", "512 345 678", "+48512345678", "+48512345678"),
    ("SE", "070-123 45 67", "+46701234567", "+46701234567"),
    ("CH", "079 123 45 67", "+41791234567", "+41791234567"),
    ("BR", "(11) 91234-5678", "+5511912345678", "+5511912345678"),
    ("MX", "55 1234 5678", "+525512345678", "+525512345678"),
    ("AU", "0412 345 678", "+61412345678", "+61412345678"),
    ("IN", "098765 43210", "+919876543210", "+919876543210"),
    ("JP", "090-1234-5678", "+819012345678", "+819012345678"),
    ("RU", "8 916 123-45-67", "+79161234567", "+79161234567"),
]


@pytest.mark.parametrize(("country", "raw", "with_library", "built_in"), NATIONAL_NUMBERS)
def test_national_numbers_are_read_with_the_rows_country(
    rules: str, country: str, raw: str, with_library: str, built_in: str
) -> None:
    expected = with_library if rules == LIBPHONENUMBER else built_in
    # A default of another country changes nothing for a row that has its own.
    default = "FR" if country == "GB" else "GB"
    mapping = ContactMapping(
        email="email", country="country", phone="phone", default_phone_country=default
    )
    mapped = map_row(mapping, country, raw)
    if expected.startswith("+"):
        assert (sent_phone(mapped), phone_codes(mapped)) == (expected, [])
    else:
        assert (sent_phone(mapped), phone_codes(mapped)) == (None, [expected])


# Numbers that cannot exist: refused by both rules, whatever the row says.
IMPOSSIBLE_NUMBERS = [
    (None, "+1 123 456 7890"),  # no North American area code begins with 1; was sent
    ("US", "123 456 7890"),
    ("US", "555-0100"),  # no area code
    ("US", "0 212 555 0100"),
    (None, "+999 1234567"),  # an unassigned calling code
    (None, "+065 9123 4567"),  # no calling code begins with 0
    (None, "000 65 9123 4567"),
    (None, "+1234"),  # too short
    (None, "+1234567890123456"),  # too long
    ("GB", "+44 20 7946 0958 ext 12"),  # an extension
    ("FR", "call me"),
    ("DE", "12"),
]


@pytest.mark.parametrize(("country", "raw"), IMPOSSIBLE_NUMBERS)
def test_impossible_numbers_are_not_sent(rules: str, country: str | None, raw: str) -> None:
    mapped = map_row(MAPPING, country, raw)
    assert sent_phone(mapped) is None
    assert phone_codes(mapped) == ["invalid_phone"]


# Numbers of the right shape that are too short, too long or outside the country's ranges:
# libphonenumber knows they are invalid; the built-in rules only that they cannot confirm them.
UNCONFIRMED_NUMBERS = [
    ("GB", "+44 20 1234"),
    ("DE", "0151 234"),
    ("FR", "06 12 34 56 78 9"),
    ("GB", "612345678"),
    ("AR", "0351 15 123-4567"),
]


@pytest.mark.parametrize(("country", "raw"), UNCONFIRMED_NUMBERS)
def test_numbers_the_built_in_rules_cannot_confirm(rules: str, country: str, raw: str) -> None:
    mapped = map_row(MAPPING, country, raw)
    assert sent_phone(mapped) is None
    assert phone_codes(mapped) == [
        "invalid_phone" if rules == LIBPHONENUMBER else "unverified_phone"
    ]


@pytest.mark.parametrize(
    ("country", "raw"),
    [
        ("AU", "0011 44 7911 123456"),  # Australia's international prefix is 0011
        ("JP", "010 44 7911 123456"),  # Japan's is 010
        ("BR", "0021 44 7911 123456"),  # Brazil's is 00 and a carrier's code
    ],
)
def test_other_international_prefixes_are_left_to_libphonenumber(
    rules: str, country: str, raw: str
) -> None:
    mapped = map_row(MAPPING, country, raw)
    if rules == LIBPHONENUMBER:
        assert (sent_phone(mapped), phone_codes(mapped)) == ("+447911123456", [])
    else:  # never read as "00" and a calling code: 0021 44... is not a South African number
        assert sent_phone(mapped) is None
        assert len(phone_codes(mapped)) == 1


# International numbers carry their country: the row's country does not matter.
INTERNATIONAL_NUMBERS = [
    (None, "+37060012345", "+37060012345"),  # E.164 stays as it is
    ("FR", "+44 7911 123456", "+447911123456"),
    ("US", "+33 6 12 34 56 78", "+33612345678"),
    (None, "+44 (0)20 7946 0958", "+442079460958"),
    (None, "0044 20 7946 0958", "+442079460958"),
    ("GB", "0049 151 23456789", "+4915123456789"),
    ("US", "011 44 7911 123456", "+447911123456"),  # the North American international prefix
    (None, "+54 9 11 2345 6789", "+5491123456789"),
    (None, "+55 11 91234 5678", "+5511912345678"),
]


@pytest.mark.parametrize(("country", "raw", "expected"), INTERNATIONAL_NUMBERS)
def test_international_numbers(rules: str, country: str | None, raw: str, expected: str) -> None:
    mapped = map_row(MAPPING, country, raw)
    assert (sent_phone(mapped), phone_codes(mapped)) == (expected, [])
    assert normalise_phone(expected) == expected  # idempotent


def test_e164_numbers_of_countries_without_built_in_ranges(rules: str) -> None:
    mapped = map_row(MAPPING, None, "+1 415 555 2671")
    if rules == LIBPHONENUMBER:
        assert sent_phone(mapped) == "+14155552671"
    else:
        assert sent_phone(mapped) is None
        issue = mapped.issues[0]
        assert issue.code == "unverified_phone"
        assert "omnisend-sdk[phones]" in issue.message


def test_the_default_country_serves_only_rows_without_one(rules: str) -> None:
    mapping = ContactMapping(
        email="email", country="country", phone="phone", default_phone_country="GB"
    )
    assert sent_phone(map_row(mapping, None, "020 7946 0958")) == "+442079460958"
    assert sent_phone(map_row(mapping, "", "07911 123456")) == "+447911123456"
    assert sent_phone(map_row(mapping, "United Kingdom", "020 7946 0958")) == "+442079460958"
    # A French row's number is French, not British.
    assert sent_phone(map_row(mapping, "France", "06 12 34 56 78")) == "+33612345678"
    french_as_british = map_row(mapping, "France", "0871774580")
    assert sent_phone(french_as_british) is None
    assert phone_codes(french_as_british) != []


def test_a_row_whose_country_is_not_recognised_gets_no_default(rules: str) -> None:
    mapping = ContactMapping(
        email="email", country="country", phone="phone", default_phone_country="GB"
    )
    mapped = map_row(mapping, "Atlantis", "020 7946 0958")
    assert sent_phone(mapped) is None
    assert [(i.field, i.code) for i in mapped.issues] == [
        ("country", "unknown_country"),
        ("phone", "invalid_phone"),
    ]
    assert mapped.issues[1].message == _phone.UNKNOWN_ROW_COUNTRY
    # An international number needs no country.
    assert sent_phone(map_row(mapping, "Atlantis", "+44 20 7946 0958")) == "+442079460958"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (ContactMapping(email="email", phone="phone"), _phone.NO_DEFAULT_COUNTRY),
        (ContactMapping(email="email", country="country", phone="phone"), _phone.NO_ROW_COUNTRY),
    ],
)
def test_a_national_number_without_any_country_is_refused(
    rules: str, mapping: ContactMapping, message: str
) -> None:
    mapped = map_row(mapping, None, "020 7946 0958")
    assert sent_phone(mapped) is None
    assert [(i.code, i.message, i.value) for i in mapped.issues] == [
        ("invalid_phone", message, "0***")
    ]


def test_the_default_country_without_a_country_column(rules: str) -> None:
    mapping = ContactMapping(email="email", phone="phone", default_phone_country="lt")
    assert sent_phone(map_row(mapping, None, "8 600 12345")) == "+37060012345"


def test_a_constant_country_reads_every_number(rules: str) -> None:
    mapping = ContactMapping(email="email", country=Constant("DE"), phone="phone")
    mapped = mapping.preview({"email": "ann@example.com", "phone": "0151 23456789"})
    assert sent_phone(mapped) == "+4915123456789"


def test_normalise_phone_alone(rules: str) -> None:
    assert normalise_phone("8 600 12345", "lt") == "+37060012345"
    with pytest.raises(InvalidValueError) as caught:
        normalise_phone("0600 12345")
    assert (caught.value.code, caught.value.message) == ("invalid_phone", _phone.NO_DEFAULT_COUNTRY)


# --- the built-in data, held to libphonenumber ----------------------------------------------------


def test_built_in_ranges_hold_only_numbers_libphonenumber_finds_valid() -> None:
    """Sampled from every confirmed range: a number the built-in rules send must be valid.

    For each country, one number of each length (6 to 13 digits) under each 3-digit prefix; the
    ranges were narrowed until a finer search (each 5-digit prefix) found nothing.
    """
    phonenumbers = pytest.importorskip("phonenumbers")
    rng = random.Random(20260315)
    wrong: list[str] = []
    sampled: set[str] = set()
    for country, ranges in CONFIRMED_RANGES.items():
        pattern = re.compile(ranges)
        code = PHONE_PLANS[country][0]
        for prefix in range(1000):
            for length in range(6, 14):
                digits = f"{prefix:03d}{rng.randrange(10 ** (length - 3)):0{length - 3}d}"
                if pattern.fullmatch(digits):
                    sampled.add(country)
                    number = phonenumbers.parse(f"+{code}{digits}")
                    if not phonenumbers.is_valid_number(number):
                        wrong.append(f"{country} +{code}{digits}")
    assert wrong == []
    assert sampled == set(CONFIRMED_RANGES)


def test_built_in_rules_agree_with_libphonenumber_on_its_examples() -> None:
    """Each country's example numbers, written nationally: the same E.164 or no answer."""
    phonenumbers = pytest.importorskip("phonenumbers")
    builtin = BuiltinPhoneRules()
    confirmed = 0
    refusals: list[str] = []
    for country in CONFIRMED_RANGES:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(country, kind)
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            try:
                found = _phone.phone_to_e164(national, country, builtin)
            except InvalidValueError as err:
                refusals.append(err.code)
                continue
            assert found == expected, (country, national)
            confirmed += 1
    assert set(refusals) == {"unverified_phone"}
    assert confirmed >= len(CONFIRMED_RANGES)  # about one example in two, mostly the mobiles


def test_numbering_plans_agree_with_libphonenumber() -> None:
    """Calling codes, trunk prefixes and the "00" international prefix."""
    phonenumbers = pytest.importorskip("phonenumbers")
    for country, (code, trunk_prefixes) in PHONE_PLANS.items():
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
        assert metadata is not None, country
        assert metadata.country_code == code, country
        expected = (metadata.national_prefix,) if metadata.national_prefix else ()
        assert set(expected) <= set(trunk_prefixes), country
        if country in DIALS_00:
            assert re.fullmatch(metadata.international_prefix, "00"), country
    assert set(CONFIRMED_RANGES) >= DIALS_00


def test_built_in_rules_answer_as_libphonenumber_does() -> None:
    """With the extra, the built-in rules answer first: they must never answer otherwise.

    Random numbers of every confirmed country, written internationally, nationally with a trunk
    prefix and without one, and after "00": each confirmation must be libphonenumber's answer.
    """
    pytest.importorskip("phonenumbers")
    from omnisend_sdk.mapping._phone_libphonenumber import LibPhoneNumberRules  # noqa: PLC0415

    library, builtin = LibPhoneNumberRules(), BuiltinPhoneRules()
    rng = random.Random(8)
    disagreements: list[tuple[str, str, str]] = []
    for country in CONFIRMED_RANGES:
        code, trunk_prefixes = PHONE_PLANS[country]
        trunk = trunk_prefixes[0] if trunk_prefixes else ""
        for _ in range(150):
            number = f"{rng.randrange(10**11, 10**12)}"[: rng.randint(6, 12)]
            for text, row_country in (
                (f"+{code} {number}", None),
                (f"{trunk}{number}", country),
                (number, country),
                (f"00{rng.choice([1, 33, 44, 49, 61, 65, 7])}{number}", country),
            ):
                try:
                    confirmed = _phone.phone_to_e164(text, row_country, builtin)
                except InvalidValueError:
                    continue
                try:
                    expected = _phone.phone_to_e164(text, row_country, library)
                except InvalidValueError as err:
                    expected = err.code
                if confirmed != expected:
                    disagreements.append((country, text, expected))
    assert disagreements == []


# --- how the rules are found ----------------------------------------------------------------------


def test_the_detection_hook_falls_back_when_phonenumbers_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # what a failed import looks like
    monkeypatch.delitem(sys.modules, "omnisend_sdk.mapping._phone_libphonenumber", raising=False)
    assert _phone.libphonenumber_rules.__wrapped__() is None


def test_phonenumbers_is_imported_only_by_mappings_with_phones() -> None:
    pytest.importorskip("phonenumbers")
    script = (
        "import sys\n"
        "from omnisend_sdk.mapping import ContactMapping\n"
        "ContactMapping(email='e').preview({'e': 'a@example.com'})\n"
        "assert 'phonenumbers' not in sys.modules\n"
        "row = {'e': 'a@example.com', 'p': '+37060012345'}\n"
        "ContactMapping(email='e', phone='p').preview(row)\n"
        "assert 'phonenumbers' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
