"""Emulator clocks: a manual one for deterministic tests and a scaled one that follows real time.

Everything time-based in the emulator (the rate-limit window, batch processing pace, tag
delays, batch retention, ``createdAt``/``updatedAt``) reads *emulator* time from one clock. With
``time_scale=60`` a minute of Omnisend time passes in one real second, so a test can exercise a
one-minute rate window without waiting a minute.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ._times import to_epoch

# A fixed, recognisable starting point: the release date of the emulated API version, so
# manual-clock tests produce the same timestamps on every run.
DEFAULT_MANUAL_START = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)


@runtime_checkable
class Clock(Protocol):
    """What the emulator needs from a clock."""

    @property
    def time_scale(self) -> float:
        """Emulator seconds that pass per real second (1.0 for manual clocks)."""
        ...

    def now(self) -> float:
        """The current emulator time, in epoch seconds."""
        ...

    def advance(self, seconds: float) -> None:
        """Jump emulator time forward by ``seconds`` (emulator seconds)."""
        ...


def _check_forward(seconds: float) -> None:
    """Refuse a negative jump: no clock moves back, as that would break the sliding windows."""
    if seconds < 0:
        msg = f"cannot move the clock backwards ({seconds} s)"
        raise ValueError(msg)


class ManualClock:
    """A clock that moves only when told to: for deterministic tests.

    Its ``time_scale`` is 1.0, so ``retryAfter`` values are reported in emulator seconds, which is
    what a test driving this clock needs to advance by.
    """

    def __init__(self, start: dt.datetime | float = DEFAULT_MANUAL_START) -> None:
        """Start the clock at ``start`` (a timezone-aware datetime or epoch seconds)."""
        self._now = to_epoch(start)
        self._lock = threading.Lock()

    @property
    def time_scale(self) -> float:
        """Always 1.0: no real time passes on a manual clock."""
        return 1.0

    def now(self) -> float:
        """The current emulator time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back)."""
        _check_forward(seconds)
        with self._lock:
            self._now += seconds


class ScaledClock:
    """Real time multiplied by ``time_scale``, plus any jumps made with :meth:`advance`."""

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        start: dt.datetime | float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the clock.

        Args:
            time_scale: emulator seconds per real second; must be positive.
            start: emulator time at creation; defaults to the real current time.
            monotonic: the real-time source, injectable for tests of the clock itself.
        """
        if time_scale <= 0:
            msg = f"time_scale must be positive, got {time_scale}"
            raise ValueError(msg)
        self._scale = float(time_scale)
        self._origin = time.time() if start is None else to_epoch(start)
        self._monotonic = monotonic
        self._real_origin = monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def time_scale(self) -> float:
        """Emulator seconds per real second."""
        return self._scale

    def now(self) -> float:
        """The current emulator time."""
        with self._lock:
            elapsed = self._monotonic() - self._real_origin
            return self._origin + elapsed * self._scale + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward on top of the scaled real time."""
        _check_forward(seconds)
        with self._lock:
            self._offset += seconds
