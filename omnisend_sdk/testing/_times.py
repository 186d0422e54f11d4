"""Conversions between emulator timestamps (float epoch seconds) and the API's text forms.

The emulator keeps every time as a float of seconds since the Unix epoch, in *emulator* time,
because comparing and scheduling floats is cheap; only the wire sees RFC 3339 text.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re

# RFC 3339 demands a full date, a time and an offset. Omnisend documents RFC 3339 timestamps, so a
# naive "2024-01-01T00:00:00" (no offset) is the client's mistake and must not pass silently.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.lru_cache(maxsize=4096)
def format_time(epoch: float) -> str:
    """Render an epoch as RFC 3339 in UTC with a ``Z`` suffix.

    Milliseconds are shown only when present, so whole-second times look like Omnisend's examples
    (``2024-01-01T00:00:00Z``) while client-sent fractions survive a round trip.

    Cached, like the seconds below: a contact shows the same moment several times (created,
    updated, its status changed), and rendering contacts is most of what reading them costs.
    """
    # Round to the millisecond first, so 3.9999999 (float error) shows as 4, not 3.999.
    rounded = round(epoch, 3)
    second = math.floor(rounded)
    millis = round((rounded - second) * 1000)
    if millis:
        return f"{_format_second(second)}.{millis:03d}Z"
    return f"{_format_second(second)}Z"


@functools.lru_cache(maxsize=4096)
def _format_second(epoch: int) -> str:
    # strftime was the largest cost of rendering a contact; the moments of one batch fall in a few
    # seconds.
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_rfc3339(text: str) -> float | None:
    """Parse an RFC 3339 timestamp into epoch seconds, or None when it is not one."""
    if not _RFC3339.match(text):
        return None
    normalised = text.upper().replace(" ", "T").replace("Z", "+00:00")
    # fromisoformat accepts at most microseconds; trim nanosecond precision rather than reject it.
    head, dot, tail = normalised.partition(".")
    if dot:
        digits = re.match(r"\d+", tail)
        assert digits is not None  # guaranteed by _RFC3339
        normalised = f"{head}.{digits.group()[:6].ljust(6, '0')}{tail[digits.end() :]}"
    try:
        return dt.datetime.fromisoformat(normalised).timestamp()
    except ValueError:  # e.g. month 13: the pattern matched, the calendar did not
        return None


def parse_date(text: str) -> dt.date | None:
    """Parse a ``YYYY-MM-DD`` calendar date, or None when it is not a real date."""
    if not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def to_epoch(moment: dt.datetime | float) -> float:
    """Accept a timezone-aware datetime or epoch seconds; reject naive datetimes (ambiguous)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            msg = "naive datetime: give a timezone (e.g. datetime.UTC)"
            raise ValueError(msg)
        return moment.timestamp()
    return float(moment)
