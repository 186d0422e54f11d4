"""The emulator's behaviour switches, gathered in frozen value objects with documented defaults."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ._auth import ScopedKey
from ._ratelimit import RateLimits

# The API version the emulator speaks.
API_VERSION = "2026-03-15"

# Omnisend does not publish its processing times; these defaults keep batches visibly asynchronous
# (a client must poll) while a 100-item batch still finishes within about two emulator seconds.
BATCH_START_DELAY = 1.0  # emulator seconds from creation to inProgress
BATCH_ITEMS_PER_SECOND = 100.0  # items processed per emulator second, per batch
# The error threshold that stops a batch is unconfirmed; half a full batch is a visible default.
BATCH_STOP_AFTER_ERRORS = 50
BATCH_RETENTION = 7 * 24 * 3600.0  # Omnisend keeps batches 7 days
TAG_DELAY = 2.0  # emulator seconds before an accepted /contacts/tags change is applied
# How long a segment stays `building` after a create or update is unconfirmed; two emulator seconds
# keep the 409-while-building rule visible without slowing tests that advance the clock.
SEGMENT_BUILD_DELAY = 2.0
# "Keep a request under about 1 MB": the exact limit is unconfirmed, 1 MiB is the generous reading.
MAX_BODY_BYTES = 1024 * 1024


@attrs.frozen(kw_only=True)
class BatchProcessing:
    """How batches are processed.

    Attributes:
        start_delay: emulator seconds a batch stays ``pending``.
        items_per_second: items processed per emulator second once ``inProgress`` (batches are
            processed side by side; Omnisend's concurrency limits are unconfirmed).
        stop_after_errors: item errors after which the batch is ``stopped`` (None: never).
        retention: emulator seconds a batch is kept; afterwards it answers 404.
        shuffle_items: list a batch's items in a random (seeded) order, because Omnisend does not
            promise any order: clients must match items by their request, not by position.
    """

    start_delay: float = BATCH_START_DELAY
    items_per_second: float = BATCH_ITEMS_PER_SECOND
    stop_after_errors: int | None = BATCH_STOP_AFTER_ERRORS
    retention: float = BATCH_RETENTION
    shuffle_items: bool = True

    def __attrs_post_init__(self) -> None:
        """Refuse settings that would stall processing forever."""
        if self.items_per_second <= 0:
            msg = f"items_per_second must be positive, got {self.items_per_second}"
            raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Settings:
    """Everything that shapes the emulator's answers (see ``OmnisendEmulator`` for each one)."""

    api_keys: Mapping[str, ScopedKey]
    retired_versions: frozenset[str]
    welcome_workflow: bool
    tag_delay: float
    segment_build_delay: float
    batches: BatchProcessing
    rate_limits: RateLimits
    max_body_bytes: int
