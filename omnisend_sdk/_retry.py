"""When and how long to retry a failed request: the one retry decorator of the SDK.

Server delays win over backoff: a wait Omnisend asked for (``retryAfter``, ``Retry-After``,
``X-Rate-Limit-Reset``) is served by the client's rate limiter, which holds back *every* thread
and task sharing the brand's budget, so the decorator itself then waits nothing extra.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import attrs
import backoff

from omnisend_sdk._constants import (
    DEFAULT_BACKOFF_BASE_SECONDS,
    DEFAULT_BACKOFF_FLOOR_RATIO,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_ELAPSED_SECONDS,
    DEFAULT_MAX_WAIT_SECONDS,
    RETRYABLE_STATUSES,
)
from omnisend_sdk._errors import (
    APIConnectionError,
    APIStatusError,
    ConfigurationError,
)

F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How the client retries connection errors, 408, 429 and 5xx answers.

    Attributes:
        max_attempts: Attempts per request, the first included (1 turns retrying off).
        backoff_base: First wait in seconds; it doubles with every attempt.
        floor_ratio: Jitter keeps each wait between this share of its exponential value and the
            whole of it, so waits spread out but never collapse to zero.
        max_wait: The longest single wait, in seconds. A server that asks for longer is not
            retried: the error is raised with its ``retry_after``.
        max_elapsed: Stop retrying once a request has taken this long in total, in seconds.
        retry_statuses: The statuses worth another attempt.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE_SECONDS
    floor_ratio: float = DEFAULT_BACKOFF_FLOOR_RATIO
    max_wait: float = DEFAULT_MAX_WAIT_SECONDS
    max_elapsed: float = DEFAULT_MAX_ELAPSED_SECONDS
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        if self.backoff_base < 0 or self.max_wait < 0 or self.max_elapsed <= 0:
            raise ConfigurationError("RetryPolicy waits must not be negative")
        if not 0 <= self.floor_ratio <= 1:
            raise ConfigurationError("RetryPolicy.floor_ratio must be between 0 and 1")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """One attempt per request, no retrying."""
        return cls(max_attempts=1)

    def is_retryable(self, error: BaseException) -> bool:
        """Whether another attempt can help after ``error``."""
        if isinstance(error, APIConnectionError):
            return True
        if isinstance(error, APIStatusError):
            if error.status_code not in self.retry_statuses:
                return False
            return error.retry_after is None or error.retry_after <= self.max_wait
        return False

    def backoff_wait(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``attempt`` (1-based) when the server named none."""
        exponential = min(self.max_wait, self.backoff_base * 2 ** (attempt - 1))
        low = exponential * self.floor_ratio
        return (rng or random).uniform(low, exponential)

    def decorate(self, func: F, *, on_retry: Callable[[BaseException], None] | None = None) -> F:
        """Wrap ``func`` (sync or async) so that it is retried under this policy."""
        policy = self

        def waits() -> Generator[float, BaseException | None, None]:
            attempt = 0
            error = yield 0.0  # backoff primes the generator with one send(None)
            while True:
                attempt += 1
                server_delay = isinstance(error, APIStatusError) and error.retry_after is not None
                error = yield 0.0 if server_delay else policy.backoff_wait(attempt)

        def note_retry(details: Any) -> None:
            if on_retry is not None:
                on_retry(details["exception"])

        decorated: F = backoff.on_exception(
            waits,
            (APIConnectionError, APIStatusError),
            max_tries=self.max_attempts,
            max_time=self.max_elapsed,
            giveup=lambda error: not self.is_retryable(error),
            jitter=None,  # the policy applies its own jitter, with a floor
            on_backoff=note_retry,
            logger=None,
        )(func)
        return decorated
