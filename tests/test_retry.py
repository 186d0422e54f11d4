"""Retry policy: what is retried, how long the client waits, and when it gives up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from tests.conftest import BASE_URL, FakeClock, make_client

URL = f"{BASE_URL}/contacts/c1"
CONTACT = {"id": "c1"}


def test_429_with_retry_after_in_the_body_waits_then_succeeds(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=429,
        json={"type": "x/rate-limit-exceeded", "status": 429, "retryAfter": 7},
    )
    httpx_mock.add_response(url=URL, json=CONTACT)

    assert api.contacts.get("c1").id == "c1"
    assert clock.sleeps == [7.0]
    assert api.stats.rate_limited == 1
    assert api.stats.retries == 1
    assert api.stats.requests == 2


def test_503_twice_then_200(api: Any, httpx_mock: HTTPXMock, clock: FakeClock) -> None:
    httpx_mock.add_response(url=URL, status_code=503, html="<html>CDN says no</html>")
    httpx_mock.add_response(url=URL, status_code=503, json={"status": 503})
    httpx_mock.add_response(url=URL, json=CONTACT)

    assert api.contacts.get("c1").id == "c1"
    assert api.stats.retries == 2


def test_gives_up_after_the_attempt_budget(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=502, html="<h1>Bad gateway</h1>", is_reusable=True)

    with pytest.raises(ServerError, match="502"):
        api.contacts.get("c1")
    assert len(httpx_mock.get_requests()) == 4  # FAST_RETRY allows four attempts


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, GoneError),
    ],
)
def test_final_statuses_are_never_retried(
    api: Any, httpx_mock: HTTPXMock, status: int, error: type[Exception]
) -> None:
    httpx_mock.add_response(url=URL, status_code=status, json={"status": status})

    with pytest.raises(error):
        api.contacts.get("c1")
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(api: Any, httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(url=URL, status_code=status)
    httpx_mock.add_response(url=URL, json=CONTACT)

    assert api.contacts.get("c1").id == "c1"


@pytest.mark.parametrize(
    ("exception", "raised"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("reset"), APIConnectionError),
    ],
)
def test_connection_errors_are_retried_and_translated(
    api: Any, httpx_mock: HTTPXMock, exception: Exception, raised: type[Exception]
) -> None:
    httpx_mock.add_exception(exception, url=URL)
    httpx_mock.add_response(url=URL, json=CONTACT)
    assert api.contacts.get("c1").id == "c1"

    httpx_mock.add_exception(exception, url=URL, is_reusable=True)
    with pytest.raises(raised) as caught:
        api.contacts.get("c1")
    assert isinstance(caught.value.__cause__, httpx.TransportError)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"X-Rate-Limit-Reset": "9", "X-Rate-Limit-Remaining": "0"}, 9.0),
        ({"Retry-After": "3", "X-Rate-Limit-Reset": "40"}, 3.0),
    ],
)
def test_server_delays_in_headers_win_over_backoff(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock, headers: dict[str, str], wait: float
) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers=headers)
    httpx_mock.add_response(url=URL, json=CONTACT)

    api.contacts.get("c1")
    assert clock.sleeps == [wait]


def test_retry_after_as_an_http_date(api: Any, httpx_mock: HTTPXMock, clock: FakeClock) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    httpx_mock.add_response(
        url=URL, status_code=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    httpx_mock.add_response(url=URL, json=CONTACT)

    api.contacts.get("c1")
    assert len(clock.sleeps) == 1
    assert 25 <= clock.sleeps[0] <= 31


def test_a_server_delay_over_the_cap_is_raised_not_waited(
    httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    httpx_mock.add_response(url=URL, status_code=429, json={"status": 429, "retryAfter": 3600})

    policy = RetryPolicy(max_wait=60, backoff_base=0)
    with make_client(clock, retry=policy) as client, pytest.raises(RateLimitError) as caught:
        client.contacts.get("c1")
    assert caught.value.retry_after == 3600
    assert clock.sleeps == []


def test_disabled_policy_sends_once(httpx_mock: HTTPXMock, clock: FakeClock) -> None:
    httpx_mock.add_response(url=URL, status_code=503)

    with make_client(clock, retry=RetryPolicy.disabled()) as client, pytest.raises(ServerError):
        client.contacts.get("c1")


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
def test_backoff_is_exponential_with_a_floored_jitter(attempt: int) -> None:
    policy = RetryPolicy(backoff_base=0.5, floor_ratio=0.5, max_wait=20)
    exponential = min(20, 0.5 * 2 ** (attempt - 1))
    rng = random.Random(attempt)

    waits = [policy.backoff_wait(attempt, rng) for _ in range(200)]

    assert all(exponential * 0.5 <= w <= exponential for w in waits)
    assert len(set(waits)) > 100  # jittered, not constant


def test_backoff_waits_are_slept_when_the_server_names_none(
    httpx_mock: HTTPXMock, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)  # the backoff decorator's own sleep
    httpx_mock.add_response(url=URL, status_code=500)
    httpx_mock.add_response(url=URL, status_code=500)
    httpx_mock.add_response(url=URL, json=CONTACT)
    policy = RetryPolicy(backoff_base=0.25, floor_ratio=1.0)

    with make_client(clock, retry=policy) as client:
        client.contacts.get("c1")

    assert slept == [0.25, 0.5]
    # the limiter only spread the attempts (60/400 s apart): no server delay was waited for
    assert all(wait <= 60 / 400 for wait in clock.sleeps)


@pytest.mark.parametrize(
    "settings",
    [{"max_attempts": 0}, {"backoff_base": -1}, {"floor_ratio": 1.5}, {"max_elapsed": 0}],
)
def test_nonsense_policies_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**settings)
