"""The phone rule: to E.164 (``+37060012345``) only when that can be done without guessing.

An international number (``+`` or ``00``) needs only a known calling code and a plausible length.
A national number needs the mapping's default country: its trunk prefix is removed (``0`` in most
of Europe, ``1`` or nothing in the North American plan, ``8`` in Russia) and its calling code added.
Anything else (letters, extensions, a national number without a country) is refused rather than
sent wrong: a wrong phone identifier could belong to someone else.
"""

from __future__ import annotations

import re
from typing import Final

from omnisend_sdk._constants import MAX_E164_DIGITS, MIN_E164_DIGITS
from omnisend_sdk.mapping._issues import InvalidValueError
from omnisend_sdk.mapping._phone_data import PHONE_PLANS

_CALLING_CODES: Final = frozenset(str(code) for code, _ in PHONE_PLANS.values())
#: Characters people put in phone numbers besides digits; anything else makes the value unsafe.
_ALLOWED: Final = re.compile(r"\+?[0-9 ().\-/]+")
#: "+44 (0)20 ...": the national trunk prefix written inside an international number.
_TRUNK_IN_BRACKETS: Final = re.compile(r"\(0\)")
_NON_DIGITS: Final = re.compile(r"[^0-9]+")
_NANP_CODE: Final = 1
_NANP_NATIONAL_DIGITS: Final = 10


def phone_country_supported(country: str) -> bool:
    """Whether national numbers can be converted for this ISO 3166-1 alpha-2 code."""
    return country.upper() in PHONE_PLANS


def normalise_phone(value: str, default_country: str | None = None) -> str:
    """Turn a phone number into E.164.

    Idempotent: an E.164 number is returned unchanged.

    Args:
        value: The number as found in the source.
        default_country: ISO 3166-1 alpha-2 code for numbers written without a country code.

    Returns:
        ``+`` followed by 7 to 15 digits, beginning with a known calling code.

    Raises:
        InvalidValueError: ``invalid_phone`` for anything that cannot be converted safely.
    """
    text = value.strip()
    if not _ALLOWED.fullmatch(text):
        raise InvalidValueError("invalid_phone", "contains letters or unexpected characters")
    if text.startswith("+"):
        return _international(_digits(_TRUNK_IN_BRACKETS.sub("", text)))
    digits = _digits(text)
    plan = PHONE_PLANS.get(default_country.upper()) if default_country else None
    if digits.startswith("00"):
        return _international(_digits(_TRUNK_IN_BRACKETS.sub("", text))[2:])
    if plan is None:
        raise InvalidValueError("invalid_phone", "no country code and no default phone country")
    code, trunk = plan
    if code == _NANP_CODE:
        if digits.startswith("011"):  # the North American international call prefix
            return _international(digits[3:])
        if len(digits) == _NANP_NATIONAL_DIGITS + 1 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != _NANP_NATIONAL_DIGITS or digits[0] in "01":
            raise InvalidValueError("invalid_phone", "not a 10-digit North American number")
    elif trunk and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    if not digits or (digits[0] == "0" and trunk):
        raise InvalidValueError("invalid_phone", "not a national number")
    return _international(f"{code}{digits}")


def _digits(text: str) -> str:
    return _NON_DIGITS.sub("", text)


def _international(digits: str) -> str:
    if not MIN_E164_DIGITS <= len(digits) <= MAX_E164_DIGITS:
        raise InvalidValueError(
            "invalid_phone", f"not {MIN_E164_DIGITS} to {MAX_E164_DIGITS} digits with country code"
        )
    if not any(digits[:n] in _CALLING_CODES for n in (1, 2, 3)):
        raise InvalidValueError("invalid_phone", "unknown country calling code")
    return f"+{digits}"
