"""Date and time rules: birthdates to ``YYYY-MM-DD``, subscription times to aware datetimes.

Both refuse to guess. ``03/04/1990`` is the 3rd of April in Europe and the 4th of March in the US:
unless the mapping says which (``day_first``) or one of the numbers is over 12, it is refused.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from typing import Final

from omnisend_sdk._constants import MIN_BIRTH_YEAR
from omnisend_sdk.mapping._issues import InvalidValueError

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# Year first: ISO 8601 and its cousins, with any time part ignored.
_YMD: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[t ].*)?")
_YMD_COMPACT: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Dots: the European day.month.year.
_DMY_DOTS: Final = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})")
# Slashes or dashes with the year last: ambiguous between day and month first.
_XXY: Final = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?:[t ].*)?")
# An ISO 8601 moment with its zone (``Z`` or an offset): a time in one place, not a day.
_ZONED_MOMENT: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}(?::?\d{2})?)"
)
_D_MON_Y: Final = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[ -]([a-z]+)\.?,?[ -](\d{4})")
_MON_D_Y: Final = re.compile(r"([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})")
#: Epoch timestamps above this are in milliseconds (1e11 s is the year 5138).
_EPOCH_MILLIS_FROM: Final = 100_000_000_000
_LAST_MONTH: Final = 12


def parse_birthdate(
    value: object, *, day_first: bool | None = None, today: date | None = None
) -> date:
    """Read a birthdate in a common format.

    Accepted: ``date``/``datetime`` objects, ``1990-04-03`` (also with ``/`` or ``.``, or a time
    part), ``19900403``, ``03.04.1990`` (day first), ``03/04/1990`` (see ``day_first``),
    ``3 April 1990``, ``April 3, 1990``. A moment with a time zone (an aware ``datetime``,
    ``1990-04-02T22:00:00Z``) is accepted only at midnight in its own zone: at another time, its
    day depends on the zone it is seen from.

    Args:
        value: The source value.
        day_first: How to read ``nn/nn/yyyy`` when both numbers could be the month: ``True`` day
            first, ``False`` month first, ``None`` refuse such dates.
        today: The date birthdates may not be after (defaults to today).

    Raises:
        InvalidValueError: ``invalid_birthdate`` (unreadable, impossible, in the future or before
            ``MIN_BIRTH_YEAR``) or ``ambiguous_birthdate`` (day and month either way round, or a
            moment whose day depends on the time zone).
    """
    if isinstance(value, datetime):
        found = _day_of(value)
    elif isinstance(value, date):
        found = value
    elif isinstance(value, str):
        text = value.strip().lower()
        found = _parse_date_text(text, day_first)
        if ":" in text and _ZONED_MOMENT.fullmatch(text):  # a time part: rare in birthdates
            try:
                moment = datetime.fromisoformat(text.upper())
            except ValueError as err:  # a time of day that is none (25:00)
                raise InvalidValueError("invalid_birthdate", "no such time of day") from err
            found = _day_of(moment)
    else:
        raise InvalidValueError("invalid_birthdate", f"a {type(value).__name__} is not a date")
    if found.year < MIN_BIRTH_YEAR or found > (today or date.today()):
        raise InvalidValueError(
            "invalid_birthdate", f"not between {MIN_BIRTH_YEAR} and today: a placeholder or typo"
        )
    return found


def _day_of(moment: datetime) -> date:
    """A birthdate's day from a datetime: the date it shows, unless it is a moment in a time zone
    at another time than midnight, whose day depends on the zone it is seen from.

    A warehouse that keeps birthdates as timestamps with a zone (a TIMESTAMPTZ column, a
    JavaScript date) hands over the moment in its own session's zone: a birthdate written at
    midnight in Berlin reads as 22:00 the day before in UTC, and that day would be wrong.
    """
    if moment.utcoffset() is not None and moment.time() != time(0):
        raise InvalidValueError(
            "ambiguous_birthdate",
            "a moment in a time zone, not at midnight: its day depends on the zone it was"
            " written in (store birthdates as dates)",
        )
    return moment.date()


def _parse_date_text(text: str, day_first: bool | None) -> date:
    if match := _YMD.fullmatch(text):
        year, month, day = match.group(1, 3, 4)
    elif match := _YMD_COMPACT.fullmatch(text):
        year, month, day = match.groups()
    elif match := _DMY_DOTS.fullmatch(text):
        day, month, year = match.groups()
    elif match := _XXY.fullmatch(text):
        first, second, year = match.group(1, 3, 4)
        month, day = _order(int(first), int(second), day_first)
    elif match := _D_MON_Y.fullmatch(text):
        day, month, year = match.group(1), _month(match.group(2)), match.group(3)
    elif match := _MON_D_Y.fullmatch(text):
        month, day, year = _month(match.group(1)), match.group(2), match.group(3)
    else:
        raise InvalidValueError("invalid_birthdate", "not a date in a known format")
    try:
        return date(int(year), int(month), int(day))
    except ValueError as err:
        raise InvalidValueError("invalid_birthdate", "no such day") from err


def _order(first: int, second: int, day_first: bool | None) -> tuple[int, int]:
    """(month, day) from the two leading numbers of ``nn/nn/yyyy``."""
    if first > _LAST_MONTH:
        return second, first
    if second > _LAST_MONTH or first == second:
        return first, second
    if day_first is None:
        raise InvalidValueError(
            "ambiguous_birthdate", "day and month could be either way round; set day_first"
        )
    return (second, first) if day_first else (first, second)


def _month(name: str) -> int:
    try:
        return _MONTHS[name]
    except KeyError:
        raise InvalidValueError("invalid_birthdate", "unknown month name") from None


def parse_timestamp(value: object) -> datetime:
    """Read a point in time: an aware datetime, UTC when the source gives no offset.

    Accepted: ``datetime`` and ``date`` objects (a date is its midnight, UTC), ISO 8601 / RFC 3339
    text (``2024-05-01T10:00:00Z``, ``2024-05-01 10:00:00+02:00``, ``2024-05-01``), and Unix
    epoch seconds or milliseconds (numbers, or digit strings).

    Raises:
        InvalidValueError: ``invalid_time``.
    """
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        raise InvalidValueError("invalid_time", "a boolean is not a time")
    elif isinstance(value, int | float):
        found = _from_epoch(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            found = _from_epoch(int(text))
        else:
            try:
                found = datetime.fromisoformat(text)
            except ValueError as err:
                raise InvalidValueError("invalid_time", "not an ISO 8601 time") from err
    else:
        raise InvalidValueError("invalid_time", f"a {type(value).__name__} is not a time")
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise InvalidValueError("invalid_time", "not a number of seconds")
    if abs(seconds) >= _EPOCH_MILLIS_FROM:
        seconds = seconds / 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise InvalidValueError("invalid_time", "out of range") from err
