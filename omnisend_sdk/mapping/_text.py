"""Text rules: any source value to a clean string, and the length policy.

Sources hand over strings (CSV, JSON Lines) or Python scalars (DataFrames, Arrow). Every text field
goes through :func:`to_text` then :func:`clean_text`; an empty result means "no value", so the field
is left out rather than sent empty (which would erase what Omnisend has).
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from omnisend_sdk.mapping._issues import InvalidValueError

LongTextPolicy: TypeAlias = Literal["truncate", "drop", "reject"]
LONG_TEXT_POLICIES: Final[tuple[LongTextPolicy, ...]] = ("truncate", "drop", "reject")

# Line and paragraph breaks (a multi-line address cell) become one space; other control and format
# characters are removed. Lone surrogates are removed too: they cannot be encoded as UTF-8, so
# they would make the whole batch fail to encode.
_BREAKS: Final = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]+")
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b\ufeff\ud800-\udfff]")

#: Text that databases, spreadsheets and programs write where a value is missing: SQL tools'
#: NULL, MySQL's and PostgreSQL's \N, Python's None and pandas' nan and NaT, JavaScript's null
#: and undefined, Excel's #N/A, C's (null), and the N/A and "-" people type. Sent as a name it
#: would greet someone as "Hi NULL". Compared exactly: "Null" and "Nan" are people's names.
MISSING_VALUE_TEXTS: Final = frozenset(
    {"NULL", "null", "\\N", "None", "nan", "NaN", "NaT", "undefined", "#N/A", "(null)", "N/A",
     "n/a", "-"}
)  # fmt: skip


# A UTF-8 lead byte read as Latin-1 or Windows-1252 (Ã, Â, Ä, Å...), then a continuation byte
# read so: a C1 control, a Latin-1 sign (© ¶ ¼...) or the Windows-1252 punctuation in 0x80-0x9F.
_GARBLED_PAIR: Final = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)


#: Whether text may be garbled so (a quick look, before :func:`repaired_encoding` makes sure).
may_be_garbled: Final = _GARBLED_PAIR.search


def repaired_encoding(text: str) -> str | None:
    """The text as written, when a UTF-8 -> Latin-1 (or Windows-1252) round trip garbled it
    (``"JosÃ©"`` -> ``"José"``); ``None`` when it was not garbled so.

    The repair is the round trip undone, taken only when it decodes as UTF-8 whole: text that
    was written so, with an ``Ã`` before a ``©``, does not, so it is never "repaired".
    """
    if text.isascii() or not _GARBLED_PAIR.search(text):
        return None
    for codec in ("latin-1", "cp1252"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return None


def missing_value_error(text: str) -> InvalidValueError:
    """The ``missing_value_text`` problem of a text field that holds one of
    :data:`MISSING_VALUE_TEXTS`: the field is not sent."""
    return InvalidValueError(
        "missing_value_text", f'"{text}" is how a missing value is written out: not sent'
    )


def clean_text(text: str) -> str:
    """Trim a string and remove control characters; line breaks become a space.

    Idempotent: ``clean_text(clean_text(s)) == clean_text(s)``.

    Args:
        text: Any string, as read from a source.

    Returns:
        The cleaned string, possibly empty.
    """
    if text.isprintable():  # the common case: nothing to remove, only trim
        return text.strip()
    return _CONTROLS.sub("", _BREAKS.sub(" ", text)).strip()


def _is_numpy_float(value: object) -> bool:
    """A real number that is neither an int, a Python float nor a Decimal: a NumPy float32."""
    return isinstance(value, numbers.Real) and not isinstance(value, int | Decimal)


def to_text(value: object) -> str | None:
    """Turn a source value into a clean string, or ``None`` when it holds no value.

    ``None``, empty strings and NaN are "no value". Integral floats lose their ``.0`` (a column
    of whole numbers with gaps, which pandas holds as floats: ``12.0`` -> ``"12"``); dates
    become ISO 8601. (A postal code that is a number is read otherwise: see ``_postal``.)

    Raises:
        InvalidValueError: ``unreadable_value`` when the value cannot be turned into text.
    """
    if type(value) is str:
        text = clean_text(value)
    elif value is None:
        return None
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) or _is_numpy_float(value):
        number = float(value)  # type: ignore[arg-type]  # a NumPy float32 as well
        if not math.isfinite(number):
            return None  # NaN is how frames spell a missing value: never the text "nan"
        text = str(int(number)) if number.is_integer() else repr(number)
    elif isinstance(value, Decimal):
        # Its own digits, not a float's: a Decimal is exact on purpose.
        text = clean_text(str(value)) if value.is_finite() else ""
    elif isinstance(value, int | datetime | date | str):
        text = clean_text(value.isoformat() if isinstance(value, date) else str(value))
    elif isinstance(value, bytes):
        text = clean_text(value.decode("utf-8", "replace"))
    else:
        try:
            text = clean_text(str(value))
        except Exception as err:  # a user's object whose __str__ fails
            raise InvalidValueError(
                "unreadable_value", f"cannot read a {type(value).__name__} as text"
            ) from err
    return text or None


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, without leaving trailing spaces.

    Idempotent, and a no-op on text within the limit.
    """
    if len(text) <= limit:
        return text
    return text[:limit].rstrip()
