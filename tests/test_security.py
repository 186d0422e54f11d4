"""The API key never leaks; plain http and unverified TLS are refused; emails stay out of logs."""

from __future__ import annotations

import logging
import pickle
import traceback
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    ApiKey,
    ConfigurationError,
    ContactInput,
    OmnisendClient,
    OmnisendError,
    RetryPolicy,
)
from tests.conftest import API_KEY, BASE_URL, FakeClock, make_client


def test_a_whole_scripted_session_never_shows_the_key(
    httpx_mock: HTTPXMock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's, httpcore's, backoff's
    httpx_mock.add_response(url=f"{BASE_URL}/contacts?limit=1", json={"contacts": []})
    httpx_mock.add_response(
        method="POST", url=f"{BASE_URL}/contacts", status_code=429, json={"retryAfter": 1}
    )
    httpx_mock.add_response(method="POST", url=f"{BASE_URL}/contacts", json={"id": "c1"})
    httpx_mock.add_response(
        url=f"{BASE_URL}/contacts/c1",
        status_code=401,
        json={"title": "Unauthorized", "detail": f"bad key {API_KEY[:4]}", "status": 401},
    )
    httpx_mock.add_exception(httpx.ReadTimeout("gone"), url=f"{BASE_URL}/batches")
    texts: list[str] = []

    with make_client(clock) as client:
        texts += [repr(client), str(client), repr(client.contacts), repr(vars(client))]
        client.verify()
        client.contacts.upsert(ContactInput.for_email("jane.doe@example.com"))
        for call in (
            lambda: client.contacts.get("c1"),
            lambda: client.batches.create([ContactInput.for_email("x@example.com")]),
        ):
            with pytest.raises(OmnisendError) as caught:
                call()
            texts += [str(caught.value), repr(caught.value)]
            texts += traceback.format_exception(caught.value)

    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    assert caplog.records, "the session should have logged something"
    assert all(API_KEY not in text for text in texts)
    assert all("jane.doe@example.com" not in text for text in texts)


def test_the_key_object_hides_itself() -> None:
    key = ApiKey(API_KEY)

    assert API_KEY not in repr(key)
    assert API_KEY not in str(key)
    assert API_KEY not in f"{key}"
    assert key.fingerprint.startswith("sha256:")
    assert key.reveal() == API_KEY
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        OmnisendClient(key)


@pytest.mark.parametrize(
    "url",
    ["http://api.omnisend.com/api", "http://10.0.0.5:8080", "ftp://example.com", "not a url"],
)
def test_plain_http_to_the_network_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        OmnisendClient(API_KEY, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:8765/api", "http://[::1]:9000"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    with OmnisendClient(API_KEY, base_url=url) as client:
        assert client.base_url == url.rstrip("/")


def test_a_client_that_skips_tls_verification_is_refused() -> None:
    with httpx.Client(verify=False) as unverified, pytest.raises(ConfigurationError, match="TLS"):
        OmnisendClient(API_KEY, http_client=unverified)


def test_v3_key_header_is_not_logged(
    httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx_mock.add_response(
        url="https://api.omnisend.com/v3/contacts?limit=1", json={"contacts": []}
    )

    with OmnisendClient(API_KEY, api_version="v3", retry=RetryPolicy.disabled()) as client:
        client.verify()

    assert httpx_mock.get_request().headers["X-API-KEY"] == API_KEY
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_logs_name_paths_not_query_strings(
    api: Any, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="omnisend_sdk")
    httpx_mock.add_response(
        method="PATCH", url=f"{BASE_URL}/contacts?email=jane%40example.com", json={"id": "c"}
    )

    api.contacts.update("jane@example.com", ContactInput(first_name="J"))

    ours = [r.getMessage() for r in caplog.records if r.name == "omnisend_sdk"]
    assert ours == [ours[0]]
    assert ours[0].startswith("PATCH /contacts -> 200")
    assert "jane" not in ours[0]
