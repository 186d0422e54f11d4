"""Fixtures shared by the client tests: a fake clock, fast retry, sync and async clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from omnisend_sdk import AsyncOmnisendClient, OmnisendClient, RateLimiter, RetryPolicy
from tests.omnisend_schema import (
    batch_request_problems,
    contact_request_problems,
    segment_request_problems,
    tags_request_problems,
)

#: A key-shaped secret that must never show up in logs, reprs or errors.
API_KEY = "osk-test-1234567890abcdef-SECRET"
BASE_URL = "https://api.omnisend.com/api"
#: Retry without waiting, so tests never sleep for real.
FAST_RETRY = RetryPolicy(backoff_base=0.0, max_attempts=4)


class FakeClock:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(clock: FakeClock, **options: Any) -> OmnisendClient:
    settings: dict[str, Any] = {
        "retry": FAST_RETRY,
        "rate_limiter": RateLimiter(clock=clock),
        "sleep": clock.sleep,
    }
    return OmnisendClient(API_KEY, **(settings | options))


@pytest.fixture
def client(clock: FakeClock) -> Iterator[OmnisendClient]:
    with make_client(clock) as c:
        yield c


class _Blocking:
    """Runs an async client's methods to completion, so one test body serves both clients."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value):
            return self._wrap(value)
        if hasattr(value, "__dict__") and not isinstance(value, type):
            return _Blocking(value, self._loop)
        return value

    def _wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = func(*args, **kwargs)
            if asyncio.iscoroutine(result):
                return self._loop.run_until_complete(result)
            if isinstance(result, AsyncIterator):
                return self._iterate(result)
            return result

        return call

    def _iterate(self, iterator: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._loop.run_until_complete(anext(iterator))
            except StopAsyncIteration:
                return


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Any]:
    """The sync client, or the async client driven to completion: same calls, same results."""
    if request.param == "sync":
        with make_client(clock) as sync_client:
            yield sync_client
        return
    loop = asyncio.new_event_loop()
    async_client = AsyncOmnisendClient(
        API_KEY, retry=FAST_RETRY, rate_limiter=RateLimiter(clock=clock), sleep=clock.async_sleep
    )
    try:
        yield _Blocking(async_client, loop)
    finally:
        loop.run_until_complete(async_client.aclose())
        loop.close()


def request_problems(request: httpx.Request) -> list[str]:
    """Schema problems of one request the client sent (bodies checked by endpoint)."""
    path = request.url.path.removeprefix("/api")
    body = json.loads(request.content) if request.content else None
    if request.method == "POST" and path == "/contacts":
        return contact_request_problems(body)
    if request.method == "PATCH" and path.startswith("/contacts"):
        return contact_request_problems(body, new=False)
    if request.method == "POST" and path == "/batches":
        return batch_request_problems(body)
    if path == "/contacts/tags":
        return tags_request_problems(body)
    if request.method in ("POST", "PUT") and path.startswith("/segments"):
        return segment_request_problems(body)
    return [] if body is None else [f"unexpected body on {request.method} {path}"]


@pytest.fixture(autouse=True)
def _every_request_matches_the_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """Check every request a test sent through pytest-httpx against Omnisend's request schemas."""
    if "httpx_mock" not in request.fixturenames:
        yield
        return
    mock = request.getfixturevalue("httpx_mock")  # set up first, so it is torn down after us
    yield
    for sent in mock.get_requests():
        assert request_problems(sent) == [], f"{sent.method} {sent.url.path}"
