"""Postal codes whose leading zeros are gone.

A typed source cannot keep a postal code's leading zero when it holds the code as a number: a
warehouse's INTEGER column, a DataFrame that read a CSV file's codes as numbers, a spreadsheet's
number cell. Boston's ``02139`` arrives as ``2139``, which is no US postal code, and sent as it
is, it would be a wrong value in Omnisend. Text that went through such a number comes back the
same way: ``2139.0`` (pandas wrote a column of numbers with gaps to a CSV file) or ``2139`` (a
spreadsheet read the file's codes as numbers and saved it again).

The row's country says how many digits its postal codes have, where that number is fixed, and
so how many zeros to put back. Where it does not (no country, or one whose codes hold letters or
vary in length), a number cannot be confirmed as a postal code, and is not sent; text is sent as
written (it may be a code of that country, which the number never is).
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from typing import Final, SupportsInt, cast

from omnisend_sdk.mapping._issues import InvalidValueError

#: Countries whose postal codes are all digits, always as many (a separator some write, such as
#: Poland's ``00-950`` or Japan's ``100-0001``, is not a digit: the number holds the same
#: digits). Each national post's published format. A length here that was too long would turn a
#: right number into a wrong code, so a country is left out when in doubt: one whose codes
#: changed form or length (Argentina's took letters in 1999) or whose format this table could
#: not confirm, and those with letters (the UK, Canada, the Netherlands, Ireland) or of several
#: lengths. Left out, a country gets no postal code from a number, with a warning; its postal
#: codes written as text are sent as written.
POSTAL_CODE_DIGITS: Final[dict[str, int]] = {
    **dict.fromkeys(["FO", "IS", "MG", "OM", "PG"], 3),
    **dict.fromkeys(
        [
            "AF", "AL", "AM", "AT", "AU", "BD", "BE", "BG", "CC", "CH", "CV", "CX", "CY", "DK",
            "ET", "GE", "GL", "GW", "HM", "HU", "LI", "LR", "LU", "LV", "MD", "MK", "MZ", "NE",
            "NF", "NO", "NZ", "PH", "SI", "SJ", "TN", "VE", "ZA",
        ],
        4,
    ),
    **dict.fromkeys(
        [
            "AS", "BA", "BL", "BT", "CR", "CU", "CZ", "DE", "DO", "DZ", "EE", "EG", "ES", "FI",
            "FM", "FR", "GF", "GP", "GR", "GT", "GU", "HR", "ID", "IQ", "IT", "JO", "KE", "KR",
            "KW", "LA", "LK", "LT", "MA", "MC", "ME", "MF", "MH", "MM", "MP", "MQ", "MV", "MX",
            "MY", "NC", "NP", "PF", "PK", "PL", "PM", "PR", "PW", "RE", "RS", "SA", "SE", "SK",
            "SM", "SN", "TH", "TR", "UA", "UM", "US", "UY", "VA", "VI", "WF", "YT", "ZM",
        ],
        5,
    ),
    **dict.fromkeys(
        ["BY", "CN", "CO", "EC", "IN", "KG", "NG", "RO", "RU", "SG", "TJ", "TM", "UZ"],
        6,
    ),
    **dict.fromkeys(["CL", "IL", "JP"], 7),
    "BR": 8,
    "IR": 10,
}  # fmt: skip

#: A whole number written as a float (``62701.0``): what pandas writes to a CSV file for a column
#: of numbers with gaps. No postal code is written so.
_FLOAT_WRITING: Final = re.compile(r"(\d+)\.0+")
#: Advice repeated by every issue about a number: the fix is in the source.
_STORE_AS_TEXT: Final = "store postal codes as text"


def is_number(value: object) -> bool:
    """Whether a postal code's value is a number (a boolean too), which is not how postal codes
    are written. NaN and infinities are no value, as everywhere else."""
    if isinstance(value, numbers.Integral):
        return True
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, numbers.Real):
        return math.isfinite(value)
    return isinstance(value, numbers.Number)


def number_written(text: str) -> int | None:
    """The number a postal code's text holds when it is a float's writing (``"62701.0"`` ->
    ``62701``): a number that went through a float, whose leading zeros are gone too."""
    match = _FLOAT_WRITING.fullmatch(text)
    return int(match.group(1)) if match else None


def postal_code_of_number(value: object, country_code: str | None) -> tuple[str, int]:
    """The postal code a number stands for in a country, and how many leading zeros were put
    back into it (``2139`` in the US: ``("02139", 1)``).

    Args:
        value: A number (see :func:`is_number`).
        country_code: The row's ISO 3166-1 alpha-2 code, or ``None`` when it has none.

    Raises:
        InvalidValueError: ``invalid_postal_code`` when the number cannot be a postal code (not a
            whole positive number, or longer than the country's codes); ``unconfirmed_postal_code``
            when nothing says how many digits the row's postal code has (no country, or one whose
            codes are not all digits of one length).
    """
    digits = _digits_of(value)
    if digits is None:
        kind = "a true or false value" if isinstance(value, bool) else "not a whole positive number"
        raise InvalidValueError("invalid_postal_code", f"{kind}, so no postal code: not sent")
    length = POSTAL_CODE_DIGITS.get(country_code or "")
    if length is None:
        unknown = (
            f"{country_code} postal codes are not all digits of one length"
            if country_code
            else "the row has no known country to say how many digits it has"
        )
        raise InvalidValueError(
            "unconfirmed_postal_code",
            f"a number, which may have lost leading zeros, and {unknown}: not sent"
            f" ({_STORE_AS_TEXT})",
        )
    if len(digits) > length:
        raise InvalidValueError(
            "invalid_postal_code",
            f"{len(digits)} digits, where {country_code} postal codes have {length}: not sent",
        )
    return digits.zfill(length), length - len(digits)


def padded_digits(text: str, country_code: str | None) -> tuple[str, int] | None:
    """A postal code written as fewer digits than its country's codes have (``2139`` in the US),
    with the leading zeros put back, and how many: a spreadsheet drops them when it reads a
    CSV file's codes as numbers and writes them out again. ``None`` for any other text, which is
    sent as written."""
    length = POSTAL_CODE_DIGITS.get(country_code or "", 0)
    if not too_few_digits(text, length):
        return None
    return text.zfill(length), length - len(text)


def too_few_digits(text: str, length: int) -> bool:
    """Whether a postal code is digits (ASCII: not what a spreadsheet leaves otherwise), fewer
    than ``length`` (0 for a country whose codes have no one length)."""
    return len(text) < length and text.isascii() and text.isdigit()


def restored_message(code: str, restored: int, country_code: str, *, text: bool = False) -> str:
    """What the ``restored_postal_code`` warning says about a code that got zeros back (given as
    a number, or as digits in ``text``)."""
    zeros = "zero" if restored == 1 else "zeros"
    given = "digits, which lost their" if text else "a number, which lost its"
    advice = "a spreadsheet drops them: have it read the column as text" if text else _STORE_AS_TEXT
    return (
        f"{given} leading {zeros}: sent with {restored} {zeros} put back, as"
        f" {country_code} postal codes have {len(code)} digits ({advice})"
    )


def _digits_of(value: object) -> str | None:
    """A whole positive number's digits; ``None`` for anything else (a boolean, a fraction)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        return None
    whole = int(cast("SupportsInt", value))  # a Real or a Decimal: each has __int__
    if whole != value or whole <= 0:
        return None
    return str(whole)
