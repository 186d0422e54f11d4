"""Pacing requests to Omnisend's per-brand limits before a 429 happens.

Omnisend counts a brand's requests over a sliding window of one minute: 400 by default, 60 for
``/contacts/tags``, 100 for GET and DELETE of ``/segments`` and 15 for its POST and PUT. The
limiter hands each request a *slot*, a moment when sending it keeps every window under its limit,
and remembers the slot; callers then sleep until their slot. Because a slot is booked under the
lock, many threads or tasks share one budget without overshooting it, and no lock is held while
anyone sleeps.

Omnisend counts a request when it arrives, which is some time after it was sent: a burst sent at
once may arrive spread over seconds. So once a request is answered its slot moves to the moment of
the answer, a time at or after its arrival; a later request reusing that slot then cannot arrive
while the earlier one is still in Omnisend's window.

Tag and segment calls are booked against their own limit only: Omnisend documents each as a
separate limit beside the brand's 400 ("/contacts/tags: 60", "/segments: 100 or 15"), so they are
modelled alike. Whether they also count in the 400 is unconfirmed; if they do, the 429s that follow
make the limiter back off, and ``_WINDOWS_BY_FAMILY`` is the one place to change. The two segment
limits are separate windows too: a request is in one of them by its method ("100 (GET, DELETE) or
15 (POST, PUT)"), never in both.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Literal, TypeAlias

from omnisend_sdk._constants import (
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_SEGMENT_REQUESTS_PER_MINUTE,
    DEFAULT_SEGMENT_WRITE_REQUESTS_PER_MINUTE,
    DEFAULT_TAG_REQUESTS_PER_MINUTE,
    OPENING_BURST_SHARE,
    RATE_LIMIT_WINDOW_SECONDS,
    THROTTLED_SHARE,
    WINDOW_MARGIN,
)
from omnisend_sdk._errors import ConfigurationError

EndpointFamily: TypeAlias = Literal["default", "tags", "segments", "segment_writes"]
"""The limit a request is paced by: ``default`` (the brand's 400), ``tags`` (``/contacts/tags``),
``segments`` (GET and DELETE of ``/segments``) or ``segment_writes`` (its POST and PUT)."""

#: Which windows a request of each family is counted in. Each family only in its own: see the
#: module's docstring for why tag and segment calls are not also counted in the 400.
_WINDOWS_BY_FAMILY: Mapping[EndpointFamily, tuple[EndpointFamily, ...]] = {
    "default": ("default",),
    "tags": ("tags",),
    "segments": ("segments",),
    "segment_writes": ("segment_writes",),
}


class _Slot:
    """When one request counts in a window: booked when it may go, moved to when it was answered."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class _Window:
    """One sliding window: the slots of the requests of the last ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.slots: deque[_Slot] = deque()  # in booking order; answers may move them later
        self.last_booked = -math.inf
        #: The last booking's slot on the even pace. It lags the clock by at most the opening
        #: burst: a request that came late (its sender was busy) gives its turn to the ones
        #: after it, which go back to back until the pace is kept again.
        self.on_pace = -math.inf
        self.throttled_until = 0.0  # while in the future, use only THROTTLED_SHARE of the limit

    def booked(self, at: float, now: float) -> None:
        """A slot at ``at`` was booked at ``now``."""
        self.last_booked = at
        if at > now:  # held back by the limiter itself: its slot is the pace
            self.on_pace = at
            return
        # Sent at once: on time, or late (then the pace lags the clock, by less than the
        # opening burst, so that what follows makes up for it).
        interval = self.window / self.effective_limit(now)
        lag = max(0.0, self.window * OPENING_BURST_SHARE - interval)  # none under 10 a window
        self.on_pace = max(self.on_pace + interval, at - lag)

    def effective_limit(self, now: float) -> int:
        if now < self.throttled_until:
            return max(1, int(self.limit * THROTTLED_SHARE))
        return self.limit

    def earliest_slot(self, now: float) -> float:
        horizon = now - self.window
        if self.slots and self.slots[0].at <= horizon:
            self.slots = deque(slot for slot in self.slots if slot.at > horizon)
        limit = self.effective_limit(now)
        throttled = now < self.throttled_until  # after a 429 someone else spends the budget too
        if not throttled and len(self.slots) < int(limit * OPENING_BURST_SHARE):
            return now  # a quiet window: its first tenth goes at once
        # The rest is spread evenly over the window rather than fired in one burst: a burst
        # only moves the wait to the end of the window, and a server meets it all at once.
        # Throttled, nothing late is made up: someone else spends the budget too.
        spaced = (self.last_booked if throttled else self.on_pace) + self.window / limit
        if len(self.slots) < limit:
            return max(now, spaced)
        # The request may go once the limit-th latest slot has left the window (with a small
        # margin for requests whose answer came back much faster than the earlier one's).
        latest = sorted(slot.at for slot in self.slots)[-limit]
        return max(spaced, latest + self.window * (1 + WINDOW_MARGIN))


class Reservation:
    """A booked slot: wait ``wait`` seconds (until ``at`` on the limiter's clock), send, then
    call :meth:`answered`."""

    __slots__ = ("_clock", "_slots", "at", "wait")

    def __init__(
        self, at: float, wait: float, slots: list[_Slot], clock: Callable[[], float]
    ) -> None:
        self.at = at
        self.wait = wait
        self._slots = slots
        self._clock = clock

    def answered(self) -> None:
        """The answer (or a failure) came back: count the request from now on."""
        now = self._clock()
        for slot in self._slots:
            slot.at = max(slot.at, now)


class RateLimiter:
    """Books request slots so a brand's requests stay within Omnisend's sliding windows.

    One limiter is shared by every thread or task using a client; pass the same instance to
    several clients of one store (sync and async alike) to share the brand's budget.

    Args:
        requests_per_minute: The brand's general limit (400 on Omnisend's default plan).
        tag_requests_per_minute: The limit of ``/contacts/tags`` (60).
        segment_requests_per_minute: The limit of GET and DELETE on ``/segments`` (100).
        segment_write_requests_per_minute: The limit of POST and PUT on ``/segments`` (15).
        window: The window's length in seconds (60). Shorten it together with the limits to
            run against an emulator whose clock runs faster than real time.
        clock: A monotonic clock in seconds; inject a fake one in tests.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        tag_requests_per_minute: int = DEFAULT_TAG_REQUESTS_PER_MINUTE,
        segment_requests_per_minute: int = DEFAULT_SEGMENT_REQUESTS_PER_MINUTE,
        segment_write_requests_per_minute: int = DEFAULT_SEGMENT_WRITE_REQUESTS_PER_MINUTE,
        window: float = RATE_LIMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        limits = (
            requests_per_minute,
            tag_requests_per_minute,
            segment_requests_per_minute,
            segment_write_requests_per_minute,
        )
        if min(limits) < 1:
            raise ConfigurationError("rate limits must allow at least one request per window")
        if window <= 0:
            raise ConfigurationError("the rate-limit window must be longer than zero seconds")
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[EndpointFamily, _Window] = {
            "default": _Window(requests_per_minute, window),
            "tags": _Window(tag_requests_per_minute, window),
            "segments": _Window(segment_requests_per_minute, window),
            "segment_writes": _Window(segment_write_requests_per_minute, window),
        }
        self._paused_until = 0.0

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the limiter books slots on."""
        return self._clock

    def limit(self, family: EndpointFamily = "default") -> int:
        """Requests allowed per window for a family, before any throttling."""
        return self._windows[family].limit

    @property
    def window(self) -> float:
        """The window's length in seconds."""
        return self._windows["default"].window

    def reserve(self, family: EndpointFamily = "default") -> float:
        """Book the next free slot for one request and return how long to wait for it (seconds)."""
        return self.book(family).wait

    def next_wait(self, family: EndpointFamily = "default") -> float:
        """How long a request booked now would wait for its slot, in seconds; books nothing.

        For callers with a deadline (an export's): a request whose slot comes after it is
        better not started at all than sent late.
        """
        with self._lock:
            now = self._clock()
            return self._next_slot(now, family) - now

    def _next_slot(self, now: float, family: EndpointFamily) -> float:
        windows = [self._windows[name] for name in _WINDOWS_BY_FAMILY[family]]
        # In each window a later booking never gets an earlier slot: first come, first served.
        return max(
            now,
            self._paused_until,
            *(w.earliest_slot(now) for w in windows),
            *(w.last_booked for w in windows),
        )

    def book(self, family: EndpointFamily = "default") -> Reservation:
        """Book the next free slot for one request; call ``answered()`` on the result after it."""
        with self._lock:
            now = self._clock()
            windows = [self._windows[name] for name in _WINDOWS_BY_FAMILY[family]]
            at = self._next_slot(now, family)
            slots = [_Slot(at) for _ in windows]
            for window, slot in zip(windows, slots, strict=True):
                window.slots.append(slot)
                window.booked(at, now)
            return Reservation(at, at - now, slots, self._clock)

    def pause(self, seconds: float) -> None:
        """Hold back every request for ``seconds`` (the server asked for it)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def note_rate_limited(self, family: EndpointFamily, retry_after: float | None) -> None:
        """A 429 came: wait as the server asked and use less of the limit for a window."""
        with self._lock:
            now = self._clock()
            for name in _WINDOWS_BY_FAMILY[family]:
                window = self._windows[name]
                window.throttled_until = now + window.window
            if retry_after is not None:
                self._paused_until = max(self._paused_until, now + retry_after)

    def note_headers(self, remaining: int | None, reset: float | None) -> None:
        """Follow ``X-Rate-Limit-Remaining`` / ``-Reset`` when the server sends them.

        Other integrations of the same store spend the same budget, so the server's count is the
        truth: when it says nothing remains, every request waits for the reset.
        """
        if remaining is not None and remaining <= 0 and reset is not None:
            self.pause(reset)
