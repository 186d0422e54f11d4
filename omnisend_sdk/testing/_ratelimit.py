"""Omnisend's rate limits: per brand, per endpoint family, over a sliding window of emulator time.

One emulator is one brand, so every key shares the same windows, as all keys and integrations of a
store do on Omnisend.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping

import attrs

# Omnisend's documented limits: 400 requests per minute by default, 60 for /contacts/tags, and for
# /segments 100 for GET and DELETE, 15 for POST and PUT (the ones that start a segment build).
DEFAULT_LIMIT = 400
TAGS_LIMIT = 60
SEGMENTS_LIMIT = 100
SEGMENT_WRITES_LIMIT = 15
WINDOW_SECONDS = 60.0

Family = str
"""An endpoint family: ``contacts``, ``tags`` (``/contacts/tags``), ``batches``, ``segments``
(GET and DELETE of ``/segments...``), ``segment_writes`` (its POST and PUT) or ``other``."""


def _default_family_limits() -> dict[Family, int]:
    return {"tags": TAGS_LIMIT, "segments": SEGMENTS_LIMIT, "segment_writes": SEGMENT_WRITES_LIMIT}


@attrs.frozen(kw_only=True)
class RateLimits:
    """Rate-limit configuration.

    Attributes:
        enabled: False turns rate limiting off (random or scripted 429 faults still happen).
        window: the sliding window, in emulator seconds.
        default_limit: requests per window shared by every family without a limit of its own.
        family_limits: families with a window of their own and its limit. Default:
            ``{"tags": 60, "segments": 100, "segment_writes": 15}``. The API document gives these
            endpoints limits "of their own"; whether they also count toward the brand's 400 is
            unconfirmed, so each is counted in its own window only.
        headers: send ``X-Rate-Limit-Limit``/``-Remaining``/``-Reset`` on every answer. v3 sends
            them; whether 2026-03-15 does is unconfirmed, so they are off by default: a client
            that paces correctly without them works either way.
        retry_after_header: also send a ``Retry-After`` header on 429 (unconfirmed on Omnisend too).
    """

    enabled: bool = True
    window: float = WINDOW_SECONDS
    default_limit: int = DEFAULT_LIMIT
    family_limits: Mapping[Family, int] = attrs.field(factory=_default_family_limits)
    headers: bool = False
    retry_after_header: bool = False

    def limit_for(self, family: Family) -> int:
        """The limit of ``family``."""
        return self.family_limits.get(family, self.default_limit)


@attrs.frozen
class Admission:
    """The limiter's answer for one request.

    Attributes:
        allowed: whether the request may proceed.
        limit: the family's limit.
        remaining: requests left in the window after this one.
        reset: emulator seconds until the oldest counted request leaves the window.
    """

    allowed: bool
    limit: int
    remaining: int
    reset: float


class SlidingWindowLimiter:
    """Counts admitted requests per family; rejected requests are not counted.

    Not counting rejections is a choice: Omnisend does not say, and counting them would let a client
    that retries too eagerly lock itself out, which hides the pacing problem behind a bigger one.
    """

    def __init__(self, limits: RateLimits) -> None:
        """Create the limiter for ``limits``."""
        self._limits = limits
        self._admitted: dict[Family, collections.deque[float]] = collections.defaultdict(
            collections.deque,
        )

    def admit(self, family: Family, now: float) -> Admission:
        """Decide on one request of ``family`` arriving at ``now`` and count it if admitted.

        Families without a limit of their own share one window: Omnisend's 400 per minute counts
        every request of the brand, whatever its endpoint.
        """
        limit = self._limits.limit_for(family)
        bucket = family if family in self._limits.family_limits else "default"
        times = self._admitted[bucket]
        while times and times[0] <= now - self._limits.window:
            times.popleft()
        if not self._limits.enabled:
            return Admission(True, limit, limit, 0.0)
        allowed = len(times) < limit
        if allowed:
            times.append(now)
        reset = times[0] + self._limits.window - now if times else 0.0
        return Admission(allowed, limit, max(limit - len(times), 0), max(reset, 0.0))


def real_seconds(emulator_seconds: float, time_scale: float) -> int | float:
    """Convert an emulator delay into the real wait a client must do.

    At ``time_scale`` 1 the answer is whole seconds, rounded up, like Omnisend's integer
    ``retryAfter``. Under a time scale it is rounded up to the millisecond instead, because rounding
    0.5 real seconds up to 1 would make a client wait twice as long as needed.
    """
    whole = math.ceil(max(emulator_seconds, 0.0) - 1e-9)
    if time_scale == 1.0:
        return whole
    return math.ceil(whole / time_scale * 1000) / 1000
