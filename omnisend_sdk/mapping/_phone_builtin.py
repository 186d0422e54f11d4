"""The built-in phone rules: all there is without libphonenumber (the ``phones`` extra), and its
fast first step with it.

They confirm only what their own data can confirm (:data:`~._phone_data.CONFIRMED_RANGES`: mostly
the mobile ranges of 44 countries, and a few cities' landlines), and refuse the rest: a number
they cannot confirm is not sent, because a wrong phone identifier can belong to someone else.
Refusals say which kind they are: ``invalid_phone`` for a number that cannot exist (an unknown
calling code, too few or too many digits, a North American number that breaks the plan's shape),
``unverified_phone`` for one that may well exist but that these rules cannot vouch for.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import Final

from omnisend_sdk._constants import MAX_E164_DIGITS, MIN_E164_DIGITS
from omnisend_sdk.mapping._issues import InvalidValueError
from omnisend_sdk.mapping._phone_data import CONFIRMED_RANGES, DIALS_00, PHONE_PLANS

_NON_DIGITS: Final = re.compile(r"[^0-9]+")
_NANP_CODE: Final = 1
#: The North American international call prefix, which replaces "00" there.
_NANP_INTERNATIONAL: Final = "011"
#: Area code and exchange: 3 digits each, neither beginning with 0 or 1 nor ending in 11 (N11
#: codes are services such as 911), then 4 digits.
_NANP_NUMBER: Final = re.compile(r"[2-9](?!11)\d\d[2-9](?!11)\d{6}")
#: Where the phones extra is needed, said in each refusal it could have avoided.
_EXTRA_HINT: Final = "install omnisend-sdk[phones] to check it"


def _countries_by_calling_code() -> dict[int, tuple[str, ...]]:
    by_code: defaultdict[int, list[str]] = defaultdict(list)
    for country, (code, _) in PHONE_PLANS.items():
        by_code[code].append(country)
    return {code: tuple(countries) for code, countries in by_code.items()}


#: calling code -> the countries that share it (+44: GB, GG, IM, JE).
_COUNTRIES_BY_CODE: Final = _countries_by_calling_code()


@functools.cache
def _confirmed_ranges(calling_code: int) -> re.Pattern[str] | None:
    """One pattern for the confirmed ranges of every country sharing a calling code.

    Compiled on first use, then kept: the pattern of a row's country is built once per export,
    not once per row.
    """
    ranges = [
        CONFIRMED_RANGES[country]
        for country in _COUNTRIES_BY_CODE[calling_code]
        if country in CONFIRMED_RANGES
    ]
    return re.compile("|".join(f"(?:{pattern})" for pattern in ranges)) if ranges else None


class BuiltinPhoneRules:
    """E.164 conversion from the SDK's own numbering data, refusing what it cannot confirm."""

    #: For messages and documentation.
    name: Final = "built-in"

    def to_e164(self, text: str, country: str | None) -> str:
        """The number in E.164 (see :meth:`PhoneRules.to_e164`), when the built-in data
        confirms it; ``unverified_phone`` when it does not."""
        digits = _NON_DIGITS.sub("", text)
        if text.startswith("+"):
            return _international(digits)
        plan = PHONE_PLANS.get(country) if country else None
        if plan is None:
            raise InvalidValueError("invalid_phone", f"no phone numbering plan known for {country}")
        if country in DIALS_00 and digits.startswith("00"):
            return _international(digits[2:])
        code, trunk_prefixes = plan
        if code == _NANP_CODE:
            return _north_american(digits)
        return _national(code, trunk_prefixes, digits)


def _international(digits: str) -> str:
    """Digits after ``+`` (or ``00``): calling code, then the national significant number."""
    _check_length(digits)
    if digits.startswith("0"):  # no calling code begins with 0: "+065..." is not Singapore's
        raise InvalidValueError("invalid_phone", "unknown country calling code")
    # Calling codes are prefix-free (no code begins another), so the first match is the only one.
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in _COUNTRIES_BY_CODE:
            return _confirmed(code, digits[length:])
    raise InvalidValueError("invalid_phone", "unknown country calling code")


def _check_length(digits: str) -> None:
    if not MIN_E164_DIGITS <= len(digits) <= MAX_E164_DIGITS:
        raise InvalidValueError(
            "invalid_phone", f"not {MIN_E164_DIGITS} to {MAX_E164_DIGITS} digits with country code"
        )


def _north_american(digits: str) -> str:
    if digits.startswith(_NANP_INTERNATIONAL):
        return _international(digits[len(_NANP_INTERNATIONAL) :])
    if len(digits) == 11 and digits.startswith("1"):  # the trunk prefix: 1-212-555-0100
        digits = digits[1:]
    return _confirmed(_NANP_CODE, digits)


def _national(code: int, trunk_prefixes: tuple[str, ...], digits: str) -> str:
    """A national number: trunk prefix removed, or the calling code written without ``+``."""
    number = next(
        (digits[len(prefix) :] for prefix in trunk_prefixes if digits.startswith(prefix)), digits
    )
    try:
        return _confirmed(code, number)
    except InvalidValueError:
        # "37060012345" in a Lithuanian row: the calling code without its "+". Only the row's own
        # code is tried, so this reads the number the one way the row allows.
        calling_code = str(code)
        if digits.startswith(calling_code):
            return _confirmed(code, digits[len(calling_code) :])
        raise


def _confirmed(code: int, number: str) -> str:
    """``+`` code number, when ``number`` lies in a range confirmed for that calling code."""
    _check_length(f"{code}{number}")
    if code == _NANP_CODE and not _NANP_NUMBER.fullmatch(number):
        raise InvalidValueError("invalid_phone", "not a 10-digit North American number")
    ranges = _confirmed_ranges(code)
    if ranges is None:
        raise InvalidValueError(
            "unverified_phone", f"no built-in rules for +{code} numbers: {_EXTRA_HINT}"
        )
    if not ranges.fullmatch(number):
        raise InvalidValueError(
            "unverified_phone",
            f"not in the +{code} ranges the built-in rules confirm: {_EXTRA_HINT}",
        )
    return f"+{code}{number}"
