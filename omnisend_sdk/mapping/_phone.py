"""The phone rule: to E.164 (``+37060012345``) only when the number is confirmed, never by guessing.

A wrong phone identifier can belong to someone else, so a number is sent only when it is read
with the right country and found valid:

- An international number (``+``, or ``00`` with a country or without) carries its country.
- A national number is read with the row's own country (its mapped ``country``); the mapping's
  ``default_phone_country`` serves only rows without one. A row whose country is not recognised
  gets no default: its national numbers are refused.
- With Google's libphonenumber installed (the ``phones`` extra), a number is sent when it is valid
  for its country: real lengths and assigned ranges. Without it, the built-in rules send only the
  numbers their own data confirms (see :mod:`._phone_builtin`) and refuse the rest.

Anything else (letters, extensions) is refused. Which rules apply is decided once, on first need
(:func:`libphonenumber_rules`), not per number.
"""

from __future__ import annotations

import functools
import re
from typing import Final, Protocol

from omnisend_sdk.mapping._issues import InvalidValueError
from omnisend_sdk.mapping._phone_builtin import BuiltinPhoneRules
from omnisend_sdk.mapping._phone_data import PHONE_PLANS

#: Characters people put in phone numbers besides digits; anything else makes the value unsafe.
_ALLOWED: Final = re.compile(r"\+?[0-9 ().\-/]+")
#: "+44 (0)20 ...": the national trunk prefix written inside an international number.
_TRUNK_IN_BRACKETS: Final = re.compile(r"\(0\)")

#: Why a national number was refused, by what the row had instead of a country.
NO_DEFAULT_COUNTRY: Final = "no country code and no default phone country"
NO_ROW_COUNTRY: Final = "no country code, no country in the row and no default phone country"
UNKNOWN_ROW_COUNTRY: Final = "no country code, and the row's country is not recognised"


class PhoneRules(Protocol):
    """A way to turn a cleaned phone number into E.164, or refuse it."""

    @property
    def name(self) -> str:
        """``"libphonenumber"`` or ``"built-in"``."""
        ...

    def to_e164(self, text: str, country: str | None) -> str:
        """The number in E.164.

        Args:
            text: Digits, spaces and ``+ ( ) . - /`` only; beginning with ``+`` when ``country``
                is ``None``.
            country: Upper-case alpha-2 code of the country national numbers belong to.

        Raises:
            InvalidValueError: ``invalid_phone`` or ``unverified_phone``.
        """
        ...


_BUILTIN_RULES: Final = BuiltinPhoneRules()


class _ConfirmedFirst:
    """libphonenumber, asked only about the numbers the built-in rules do not confirm.

    libphonenumber takes 50 to 150 microseconds a number, which would make phones the slowest
    part of mapping a row. The built-in rules answer in a few, and confirm only numbers that
    libphonenumber finds valid too, written the same way (the tests hold their ranges to it), so
    the common mobile numbers skip it; everything they refuse goes to libphonenumber, which has
    the last word.
    """

    def __init__(self, library: PhoneRules) -> None:
        self._library = library

    @property
    def name(self) -> str:
        return self._library.name

    def to_e164(self, text: str, country: str | None) -> str:
        try:
            return _BUILTIN_RULES.to_e164(text, country)
        except InvalidValueError:
            return self._library.to_e164(text, country)


@functools.cache
def libphonenumber_rules() -> PhoneRules | None:
    """The libphonenumber rules, or ``None`` when the ``phones`` extra is not installed.

    The detection hook: imported on the first call and remembered, so that ``phonenumbers`` is
    loaded only by mappings that have phones, and once. Tests replace this function to run the
    built-in rules with the package installed.
    """
    try:
        from omnisend_sdk.mapping._phone_libphonenumber import LibPhoneNumberRules  # noqa: PLC0415
    except ModuleNotFoundError as err:
        if err.name != "phonenumbers":  # a broken installation of ours must not pass unnoticed
            raise
        return None
    return _ConfirmedFirst(LibPhoneNumberRules())


def phone_rules() -> PhoneRules:
    """The rules phones are checked with: libphonenumber when installed, else the built-in ones."""
    return libphonenumber_rules() or _BUILTIN_RULES


def phone_country_supported(country: str) -> bool:
    """Whether national numbers can be read for this ISO 3166-1 alpha-2 code."""
    return country.upper() in PHONE_PLANS


def normalise_phone(value: str, default_country: str | None = None) -> str:
    """Turn a phone number into E.164, when it is confirmed valid.

    Idempotent: an E.164 number is returned unchanged.

    Args:
        value: The number as found in the source.
        default_country: ISO 3166-1 alpha-2 code of the country numbers written without a country
            code belong to. In a mapping, that is the row's own country, or
            ``default_phone_country`` for rows without one.

    Returns:
        ``+`` followed by 7 to 15 digits.

    Raises:
        InvalidValueError: ``invalid_phone`` for a number that is not valid or cannot be read;
            ``unverified_phone`` for one the built-in rules cannot confirm (only without the
            ``phones`` extra).
    """
    country = default_country.upper() if default_country else None
    return phone_to_e164(value, country, phone_rules())


def phone_to_e164(
    value: str,
    country: str | None,
    rules: PhoneRules,
    no_country: str = NO_DEFAULT_COUNTRY,
) -> str:
    """:func:`normalise_phone` with the rules chosen by the caller (a mapper, once).

    Args:
        value: The number as found in the source.
        country: Upper-case alpha-2 code of the country national numbers belong to, or ``None``.
        rules: The rules to check the number with.
        no_country: Why a national number is refused when ``country`` is ``None``.
    """
    text = value.strip()
    if not _ALLOWED.fullmatch(text):
        raise InvalidValueError("invalid_phone", "contains letters or unexpected characters")
    if text.startswith(("+", "00")):
        text = _TRUNK_IN_BRACKETS.sub("", text)
    if country is None:
        # "00" is the international prefix of most of the world; no national number begins with
        # it, so without a country it can only mean "+".
        if text.startswith("00"):
            text = f"+{text[2:]}"
        elif not text.startswith("+"):
            raise InvalidValueError("invalid_phone", no_country)
    return rules.to_e164(text, country)
