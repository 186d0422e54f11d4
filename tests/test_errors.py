"""Error bodies of every shape become the right exception with a useful message."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    APIStatusError,
    BadRequestError,
    FieldError,
    OmnisendError,
    ProblemDetails,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from omnisend_sdk._errors import error_class_for
from tests.conftest import BASE_URL

URL = f"{BASE_URL}/contacts/c1"


def test_problem_details_reach_the_message(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        headers={"Content-Type": "application/problem+json"},
        json={
            "type": "https://api.omnisend.com/problems/validation",
            "title": "Validation failed",
            "status": 400,
            "detail": "2 fields are invalid",
            "instance": "/trace/7f3a",
            "errors": [
                {"field": "identifiers[0].id", "code": "email", "message": "not an email"},
                {"field": "birthdate", "message": "not a date"},
            ],
        },
    )

    with pytest.raises(BadRequestError) as caught:
        api.contacts.get("c1")

    error = caught.value
    assert str(error) == (
        "400 Validation failed: 2 fields are invalid (GET /contacts/c1); "
        "identifiers[0].id: not an email; birthdate: not a date [trace /trace/7f3a]"
    )
    assert error.status_code == 400
    assert error.request_id == "/trace/7f3a"
    assert error.problem.errors[0] == FieldError("identifiers[0].id", "not an email", "email")


def test_v3_error_bodies_are_read(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        status_code=400,
        json={"error": "Invalid data", "fields": {"0": ["email is invalid"], "1": "bad phone"}},
    )

    with pytest.raises(BadRequestError) as caught:
        api.contacts.get("c1")

    assert caught.value.problem.detail == "Invalid data"
    assert [e.message for e in caught.value.problem.errors] == ["email is invalid", "bad phone"]


@pytest.mark.parametrize(
    "body",
    [
        {"html": "<html><body><h1>502 Bad Gateway</h1></body></html>"},
        {"content": b"\xff\xfe not even text"},
        {"json": ["a", "list"]},
        {"content": b""},
    ],
)
def test_unreadable_error_bodies_do_not_crash(
    api: Any, httpx_mock: HTTPXMock, body: dict[str, Any]
) -> None:
    httpx_mock.add_response(url=URL, status_code=502, is_reusable=True, **body)

    with pytest.raises(ServerError, match=r"^502 Omnisend server error \(GET /contacts/c1\)$"):
        api.contacts.get("c1")


@pytest.mark.parametrize(
    "body", [{"html": "<html>ok?</html>"}, {"json": ["not", "an", "object"]}, {"json": {"x": 1}}]
)
def test_unreadable_success_bodies_raise_one_clear_error(
    api: Any, httpx_mock: HTTPXMock, body: dict[str, Any]
) -> None:
    httpx_mock.add_response(url=URL, status_code=200, **body)

    with pytest.raises(UnexpectedResponseError, match="200"):
        api.contacts.get("c1")


def test_rate_limit_error_carries_retry_after() -> None:
    problem = ProblemDetails.from_body(429, {"status": 429, "retryAfter": "2.5"})
    error = RateLimitError(problem, method="GET", path="/contacts")

    assert error.retry_after == 2.5
    assert isinstance(error, OmnisendError)


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (410, "GoneError"),
        (418, "APIStatusError"),
        (429, "RateLimitError"),
        (500, "ServerError"),
        (503, "ServerError"),
        (599, "ServerError"),
    ],
)
def test_status_to_exception_table(status: int, name: str) -> None:
    cls = error_class_for(status)
    assert cls.__name__ == name
    assert issubclass(cls, APIStatusError)


@pytest.mark.parametrize("retry_after", [-1, "soon", True, None, [1]])
def test_nonsense_retry_after_is_ignored(retry_after: Any) -> None:
    assert ProblemDetails.from_body(429, {"retryAfter": retry_after}).retry_after is None
