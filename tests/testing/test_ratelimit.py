"""Rate limits: per brand and endpoint family, sliding window, 429 problem with retryAfter."""

from __future__ import annotations

import httpx
import pytest

from omnisend_sdk.testing import OmnisendEmulator, RateLimits, ScaledClock
from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem

TAGS = {"tags": ["x"], "emails": ["a@example.com"]}


def fill(api: Api, count: int, method: str = "GET", path: str = "/contacts") -> None:
    body = TAGS if path == "/contacts/tags" else None
    for _ in range(count):
        assert api.http.request(method, path, json=body).status_code < 300


def test_400_per_minute_then_429(api: Api) -> None:
    fill(api, 400)
    body = assert_problem(api.http.get("/contacts"), 429)
    assert body["type"].endswith("rate-limit-exceeded")
    assert body["retryAfter"] == 60
    assert api.emulator.stats.rate_limited == 1


def test_the_window_slides(api: Api) -> None:
    fill(api, 200)
    api.clock.advance(30)
    fill(api, 200)
    assert api.http.get("/contacts").json()["retryAfter"] == 30
    api.clock.advance(30)  # the first 200 leave the window
    fill(api, 200)
    assert api.http.get("/contacts").status_code == 429


def test_rejected_requests_do_not_count(api: Api) -> None:
    fill(api, 400)
    for _ in range(50):
        api.http.get("/contacts")
    api.clock.advance(60)
    fill(api, 400)


def test_tags_have_their_own_60_per_minute(api: Api) -> None:
    fill(api, 60, "POST", "/contacts/tags")
    assert_problem(api.http.post("/contacts/tags", json=TAGS), 429)
    fill(api, 10)  # contacts are not affected


@pytest.mark.parametrize(("family", "method", "path"), [("batches", "GET", "/batches/x")])
def test_other_endpoints_share_the_brand_window(
    api: Api, family: str, method: str, path: str
) -> None:
    # Omnisend's 400 per minute counts every request of the brand: contacts and batches alike.
    fill(api, 400)
    assert_problem(api.http.request(method, path), 429)
    assert api.emulator.stats.requests[family] == 1


def test_all_keys_share_the_brand_limit(connect: Connect) -> None:
    api = connect(api_keys=["k1", "k2"], rate_limits=RateLimits(default_limit=4))
    for key in ("k1", "k2", "k1", "k2"):
        api.http.get("/contacts", headers={"Authorization": f"Omnisend-API-Key {key}"})
    response = api.http.get("/contacts", headers={"Authorization": "Omnisend-API-Key k2"})
    assert response.status_code == 429


def test_headers_when_enabled(connect: Connect) -> None:
    api = connect(rate_limits=RateLimits(default_limit=3, headers=True, retry_after_header=True))
    first = api.http.get("/contacts")
    assert (first.headers["X-Rate-Limit-Limit"], first.headers["X-Rate-Limit-Remaining"]) == (
        "3",
        "2",
    )
    assert first.headers["X-Rate-Limit-Reset"] == "60"
    api.clock.advance(10)
    fill(api, 2)
    limited = api.http.get("/contacts")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert limited.headers["Retry-After"] == "50"
    assert limited.json()["retryAfter"] == 50


def test_no_headers_by_default(api: Api) -> None:
    response = api.http.get("/contacts")
    assert not any(name.lower().startswith("x-rate-limit") for name in response.headers)


def test_disabled(connect: Connect) -> None:
    api = connect(rate_limits=RateLimits(enabled=False, default_limit=1))
    fill(api, 5)


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


def test_retry_after_is_the_real_wait_under_a_time_scale() -> None:
    real = FakeMonotonic()
    emulator = OmnisendEmulator(
        clock=ScaledClock(60, start=0.0, monotonic=real),
        rate_limits=RateLimits(default_limit=2),
    )
    with httpx.Client(
        transport=emulator.transport(),
        base_url=emulator.base_url,
        headers=emulator.headers(),
    ) as http:
        http.get("/contacts")
        real.value = 0.25  # 15 emulator seconds later
        http.get("/contacts")
        limited = http.get("/contacts")
        # 45 emulator seconds until the first request leaves the window: 0.75 real seconds.
        assert limited.json()["retryAfter"] == 0.75
        real.value = 1.0  # one real second is a whole emulator minute
        assert http.get("/contacts").status_code == 200
