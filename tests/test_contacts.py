"""client.contacts against pytest-httpx, for the sync and the async client alike."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    ChannelState,
    ContactInput,
    Identifier,
    InvalidRequestError,
    NotFoundError,
)
from tests.conftest import API_KEY, BASE_URL

CONTACT = {
    "id": "64f0c1",
    "email": "jane@example.com",
    "firstName": "Jane",
    "status": "nonSubscribed",
    "statuses": [{"channel": "email", "status": "nonSubscribed", "statusChangedAt": None}],
    "tags": ["vip"],
    "createdAt": "2026-03-15T10:00:00Z",
    "somethingNew": {"omnisend": "adds fields"},
}


@pytest.mark.parametrize(("status", "created"), [(201, True), (200, False)])
def test_upsert_reports_created_or_updated(
    api: Any, httpx_mock: HTTPXMock, status: int, created: bool
) -> None:
    httpx_mock.add_response(
        method="POST", url=f"{BASE_URL}/contacts", status_code=status, json=CONTACT
    )

    result = api.contacts.upsert(ContactInput.for_email("jane@example.com", first_name="Jane"))

    assert result.created is created
    assert result.contact.id == "64f0c1"
    assert result.contact.tags == ("vip",)
    assert result.contact.created_at == datetime(2026, 3, 15, 10, tzinfo=UTC)


def test_upsert_sends_the_exact_body_and_headers(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE_URL}/contacts", json=CONTACT)
    contact = ContactInput(
        identifiers=(
            Identifier(
                type="email",
                id="jane@example.com",
                channels={
                    "email": ChannelState("subscribed", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
                },
                send_welcome_message=False,
            ),
        ),
        first_name="Jane",
        country_code="DE",
        birthdate=date(1990, 5, 17),
        custom_properties={"loyalty_tier": "gold", "orders": 12, "likes": ("tea", "jazz")},
    )

    api.contacts.upsert(contact)

    request = httpx_mock.get_request()
    assert request.headers["Authorization"] == f"Omnisend-API-Key {API_KEY}"
    assert request.headers["Omnisend-Version"] == "2026-03-15"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "identifiers": [
            {
                "type": "email",
                "id": "jane@example.com",
                "channels": {
                    "email": {"status": "subscribed", "statusChangedAt": "2025-01-02T03:04:05Z"}
                },
                "sendWelcomeMessage": False,
            }
        ],
        "firstName": "Jane",
        "countryCode": "DE",
        "birthdate": "1990-05-17",
        "customProperties": {"loyalty_tier": "gold", "orders": 12, "likes": ["tea", "jazz"]},
    }


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        (ContactInput(first_name="No identifier"), "email or phone identifier"),
        (ContactInput.for_email("a@b.co", tags=tuple(f"t{i}" for i in range(101))), "100 tags"),
        (
            ContactInput.for_email("a@b.co", custom_properties={f"p{i}": i for i in range(201)}),
            "200 properties",
        ),
    ],
)
def test_upsert_refuses_what_omnisend_would_reject_before_sending(
    api: Any, contact: ContactInput, message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        api.contacts.upsert(contact)


def test_get_reads_a_contact_and_404_is_not_found(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{BASE_URL}/contacts/64f0c1", json=CONTACT)
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE_URL}/contacts/missing%2Fid",
        status_code=404,
        json={"type": "about:blank", "title": "Not Found", "status": 404, "instance": "/t/abc"},
    )

    assert api.contacts.get("64f0c1").email == "jane@example.com"
    with pytest.raises(NotFoundError) as caught:
        api.contacts.get("missing/id")
    assert caught.value.request_id == "/t/abc"
    assert "[trace /t/abc]" in str(caught.value)


def test_find_by_email_returns_the_contact_or_none(api: Any, httpx_mock: HTTPXMock) -> None:
    page = {"contacts": [CONTACT], "paging": {"cursors": {"after": "x"}, "hasMore": True}}
    httpx_mock.add_response(
        method="GET", url=f"{BASE_URL}/contacts?limit=1&email=jane%40example.com", json=page
    )
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE_URL}/contacts?limit=1&email=nobody%40example.com",
        json={"contacts": [], "paging": {"hasMore": False}},
    )

    found = api.contacts.find_by_email("jane@example.com")
    assert found is not None
    assert found.id == "64f0c1"
    assert api.contacts.find_by_email("nobody@example.com") is None
    assert len(httpx_mock.get_requests()) == 2  # no second page fetched for a single answer


def _page(ids: list[str], after: str | None) -> dict[str, Any]:
    return {
        "contacts": [{"id": i, "email": f"{i}@example.com"} for i in ids],
        "paging": {"cursors": {"after": after, "before": None}, "hasMore": after is not None},
    }


def test_iter_follows_cursor_pages_lazily(api: Any, httpx_mock: HTTPXMock) -> None:
    url = f"{BASE_URL}/contacts?limit=2&tag=vip"
    httpx_mock.add_response(url=url, json=_page(["a", "b"], "c1"))
    httpx_mock.add_response(url=f"{url}&after=c1", json=_page(["c", "d"], "c2"))
    httpx_mock.add_response(url=f"{url}&after=c2", json=_page(["e"], None))

    contacts = api.contacts.iter(tag="vip", page_size=2)
    assert next(contacts).id == "a"
    assert len(httpx_mock.get_requests()) == 1  # nothing fetched ahead of the caller

    assert [c.id for c in contacts] == ["b", "c", "d", "e"]
    assert len(httpx_mock.get_requests()) == 3


def test_iter_sends_every_filter(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE_URL}/contacts?limit=250&status=subscribed&segmentID=seg1&sort=createdAt"
        "&direction=desc",
        json=_page([], None),
    )
    httpx_mock.add_response(
        url=f"{BASE_URL}/contacts?limit=100&updatedAtFrom=2026-01-01T00%3A00%3A00Z",
        json=_page([], None),
    )

    listed = api.contacts.iter(
        status="subscribed", segment_id="seg1", sort="createdAt", direction="desc", page_size=250
    )
    assert list(listed) == []
    assert list(api.contacts.iter(updated_since=datetime(2026, 1, 1, tzinfo=UTC))) == []


@pytest.mark.parametrize(
    "filters",
    [
        {"tag": "vip", "status": "subscribed"},
        {"updated_since": datetime(2026, 1, 1, tzinfo=UTC), "email": "a@b.co"},
        {"updated_since": datetime(2026, 1, 1, tzinfo=UTC), "segment_id": "s"},
        {"page_size": 0},
        {"page_size": 251},
    ],
)
def test_iter_refuses_forbidden_filters_before_sending(api: Any, filters: dict[str, Any]) -> None:
    # httpx_mock is not used: any request would fail the test as unexpected network access.
    with pytest.raises(InvalidRequestError):
        api.contacts.iter(**filters)


def test_update_by_id_and_by_email(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PATCH", url=f"{BASE_URL}/contacts/64f0c1", json=CONTACT)
    httpx_mock.add_response(
        method="PATCH", url=f"{BASE_URL}/contacts?email=jane%40example.com", json=CONTACT
    )

    api.contacts.update("64f0c1", ContactInput(last_name="Doe"))
    api.contacts.update("jane@example.com", ContactInput(city="Vilnius"))

    first, second = httpx_mock.get_requests()
    assert json.loads(first.content) == {"lastName": "Doe"}
    assert json.loads(second.content) == {"city": "Vilnius"}
