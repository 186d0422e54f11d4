"""Client construction, configuration, context management and verify()."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    AsyncOmnisendClient,
    AuthenticationError,
    ConfigurationError,
    ContactInput,
    OmnisendClient,
    PermissionDeniedError,
    RateLimiter,
    _http,
)
from omnisend_sdk._client import _Counters
from tests.conftest import API_KEY, BASE_URL, FakeClock


def test_from_env_reads_key_url_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNISEND_API_KEY", API_KEY)
    monkeypatch.setenv("OMNISEND_BASE_URL", "http://127.0.0.1:9999/v3/")
    monkeypatch.setenv("OMNISEND_API_VERSION", "v3")

    with OmnisendClient.from_env(timeout=3) as client:
        assert client.base_url == "http://127.0.0.1:9999/v3"
        assert client.api_version == "v3"


def test_from_env_without_a_key_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNISEND_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="OMNISEND_API_KEY is not set"):
        OmnisendClient.from_env()


def test_default_urls_per_version() -> None:
    assert OmnisendClient(API_KEY).base_url == "https://api.omnisend.com/api"
    assert OmnisendClient(API_KEY, api_version="v3").base_url == "https://api.omnisend.com/v3"
    with pytest.raises(ConfigurationError, match="unsupported"):
        OmnisendClient(API_KEY, api_version="2020-01-01")


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        OmnisendClient(API_KEY, "https://api.omnisend.com/api")  # type: ignore[misc]


def test_a_users_http_client_is_used_and_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "c1", "email": "a@b.co"})

    own = httpx.Client(transport=httpx.MockTransport(handler), timeout=99)
    with OmnisendClient(API_KEY, http_client=own, timeout=4) as client:
        assert client.contacts.upsert(ContactInput.for_email("a@b.co")).created

    assert not own.is_closed
    assert seen[0].extensions["timeout"]["read"] == 4  # the SDK's timeout travels with the request
    own.close()


def test_a_client_closes_only_what_it_created() -> None:
    client = OmnisendClient(API_KEY)
    client.close()
    assert client._http.is_closed


async def test_async_client_with_a_users_transport() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"contacts": [{"id": "x"}], "paging": {"hasMore": False}})

    own = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncOmnisendClient(API_KEY, http_client=own) as client:
        assert [c.id async for c in client.contacts.iter()] == ["x"]
    assert not own.is_closed
    await own.aclose()


@pytest.mark.parametrize(
    ("status", "error", "hint"),
    [(401, AuthenticationError, "mistyped or revoked"), (403, PermissionDeniedError, "contacts")],
)
def test_verify_explains_401_and_403(
    api: Any, httpx_mock: HTTPXMock, status: int, error: type[Exception], hint: str
) -> None:
    httpx_mock.add_response(url=f"{BASE_URL}/contacts?limit=1", status_code=status)

    with pytest.raises(error) as caught:
        api.verify()
    assert any(hint in note for note in caught.value.__notes__)


def test_verify_passes_with_a_working_key(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE_URL}/contacts?limit=1", json={"contacts": []})
    api.verify()


def test_user_agent_names_the_sdk_and_the_integration(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE_URL}/contacts?limit=1", json={"contacts": []})

    with OmnisendClient(API_KEY, user_agent="acme-pipeline/2") as client:
        client.verify()

    agent = httpx_mock.get_request().headers["User-Agent"]
    assert agent.startswith("acme-pipeline/2 omnisend-sdk-python/")


def test_stats_count_requests(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE_URL}/contacts?limit=1", json={"contacts": []}, is_reusable=True
    )
    for _ in range(3):
        api.verify()
    assert api.stats.requests == 3
    assert api.stats.retries == 0


def test_throttled_time_counts_concurrent_waits_once() -> None:
    # Sixteen senders waiting through the same second were held back one second, not sixteen.
    counters = _Counters()
    for sender in range(16):
        counters.held_back(0.0 + sender * 0.01, 1.0 + sender * 0.01)
    assert counters.snapshot().throttled_seconds == pytest.approx(1.15)
    counters.held_back(5.0, 7.0)  # a later, separate wait adds its whole length
    assert counters.snapshot().throttled_seconds == pytest.approx(3.15)


def test_a_client_sharing_a_limiter_reports_the_time_it_was_held_back(clock: FakeClock) -> None:
    limiter = RateLimiter(requests_per_minute=60, clock=clock)  # one request a second
    client = OmnisendClient(api_key=API_KEY, rate_limiter=limiter)
    # Booked at once: the quiet window's first tenth (6) waits for nothing, the next four wait
    # 1, 2, 3 and 4 s, and those waits overlap.
    for _ in range(10):
        client._pace(_http.RequestSpec(method="GET", path="/contacts"))
    assert client.stats.throttled_seconds == pytest.approx(4.0)
