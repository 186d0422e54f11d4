"""Fixtures for export tests: a fast emulator, a client paced to match it, a sample segment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnisend_sdk import (
    AsyncOmnisendClient,
    ContactMapping,
    OmnisendClient,
    RateLimiter,
    RetryPolicy,
)
from omnisend_sdk.testing import EMULATOR_API_KEY, OmnisendEmulator

#: Ten emulator minutes pass in one real second: rate windows, batch processing and tag delays.
TIME_SCALE = 600.0
#: A loopback URL: exports to it need no privacy acknowledgement (data stays on this machine).
LOCAL_URL = "http://127.0.0.1/api"

MAPPING = ContactMapping(email="Email", first_name="First", last_name="Last", country="Country")


def segment_rows(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """``count`` valid, distinct profiles with mixed-case, padded emails."""
    return [
        {
            "Email": f"  Person{i}@Example.COM ",
            "First": f"First{i}",
            "Last": f"Last{i}",
            "Country": ("Germany", "UK", "Lithuania", "USA")[i % 4],
        }
        for i in range(start, start + count)
    ]


def expected_email(i: int) -> str:
    return f"person{i}@example.com"


def make_emulator(**options: Any) -> OmnisendEmulator:
    options.setdefault("time_scale", TIME_SCALE)
    options.setdefault("seed", 7)
    return OmnisendEmulator(**options)


def _client_settings(http_client: httpx.Client | httpx.AsyncClient) -> dict[str, Any]:
    """What a test's client needs to reach the emulator: its URL, pace and quick retries."""
    return {
        "base_url": LOCAL_URL,
        "http_client": http_client,
        "rate_limiter": RateLimiter(window=60.0 / TIME_SCALE),
        "retry": RetryPolicy(backoff_base=0.001, max_attempts=6),
    }


def make_client(
    emulator: OmnisendEmulator, *, api_key: str = EMULATOR_API_KEY, **options: Any
) -> OmnisendClient:
    settings = _client_settings(httpx.Client(transport=emulator.transport()))
    return OmnisendClient(api_key, **(settings | options))


def make_async_client(emulator: OmnisendEmulator, **options: Any) -> AsyncOmnisendClient:
    """Like :func:`make_client`, for the async client."""
    settings = _client_settings(httpx.AsyncClient(transport=emulator.transport()))
    return AsyncOmnisendClient(EMULATOR_API_KEY, **(settings | options))


@pytest.fixture
def emulator() -> OmnisendEmulator:
    return make_emulator()


@pytest.fixture
def client(emulator: OmnisendEmulator) -> Iterator[OmnisendClient]:
    with make_client(emulator) as c:
        yield c


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
