"""Subscription rules: status spellings, and when a status may be sent at all.

Omnisend keeps the newest status and reads a status sent without a time as "now". So:

- ``subscribed`` is sent only with a time from the data: "now" would re-subscribe anyone who
  unsubscribed since.
- ``nonSubscribed`` is sent only with a time too: "now" would erase a newer subscription, and a new
  contact is non-subscribed anyway.
- ``unsubscribed`` is sent even without a time: an opt-out must never be lost, and the worst "now"
  can do is to stop mail that someone might have wanted.
- A time in the future is refused: it would lock the status against every later change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from omnisend_sdk._constants import MAX_STATUS_TIME_SKEW_MINUTES
from omnisend_sdk._models import ChannelState, ChannelStatus
from omnisend_sdk.mapping._issues import InvalidValueError

_STATUSES: Final[dict[str, ChannelStatus]] = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "nonsubscribed": "nonSubscribed",
    "non subscribed": "nonSubscribed",
    "not subscribed": "nonSubscribed",
}
_MAX_SKEW: Final = timedelta(minutes=MAX_STATUS_TIME_SKEW_MINUTES)


def normalise_status(value: str) -> ChannelStatus:
    """Read a channel status: ``subscribed``, ``unsubscribed`` or ``nonSubscribed``.

    Case, spaces, ``-`` and ``_`` do not matter (``"Non-Subscribed"``). Yes/no style values are
    refused on purpose: whether "no" means unsubscribed or never asked is for the user to say.

    Raises:
        InvalidValueError: ``unknown_status``.
    """
    key = " ".join(value.casefold().replace("-", " ").replace("_", " ").split())
    status = _STATUSES.get(key)
    if status is None:
        raise InvalidValueError(
            "unknown_status", "expected subscribed, unsubscribed or nonSubscribed"
        )
    return status


def channel_state(
    status: ChannelStatus, changed_at: datetime | None, now: datetime
) -> ChannelState:
    """The channel state to send, or an error saying why none may be sent.

    Args:
        status: The status from the data.
        changed_at: When it was given, from the data (aware).
        now: The current time (aware), to refuse times in the future.

    Raises:
        InvalidValueError: ``status_without_time`` or ``status_time_in_future``.
    """
    if changed_at is None:
        if status == "unsubscribed":
            return ChannelState(status=status)
        raise InvalidValueError(
            "status_without_time",
            f"{status} not sent: no time in the data, and Omnisend would take it as now",
        )
    if changed_at - now > _MAX_SKEW:
        raise InvalidValueError(
            "status_time_in_future",
            f"{status} not sent: its time is in the future (check the time zone)",
        )
    return ChannelState(status=status, status_changed_at=changed_at)
