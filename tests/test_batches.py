"""client.batches: create, get, items, list, wait; and the read-timeout rule."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    BatchWaitTimeoutError,
    ContactInput,
    InvalidRequestError,
    OutcomeUnknownError,
)
from omnisend_sdk._constants import DEFAULT_API_VERSION
from omnisend_sdk._wire import contact_to_json
from tests.conftest import BASE_URL, FakeClock


def _contacts(n: int, **fields: Any) -> list[ContactInput]:
    return [ContactInput.for_email(f"user{i}@example.com", **fields) for i in range(n)]


def _batch(status: str, **counts: int) -> dict[str, Any]:
    return {
        "batchID": "b-1",
        "method": "POST",
        "endpoint": "contacts",
        "status": status,
        "createdAt": "2026-11-29T10:00:00Z",
        "totalCount": 100,
        **counts,
    }


def test_create_posts_one_batch_of_contacts(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE_URL}/batches",
        status_code=201,
        json={"batchID": "b-1", "totalCount": 100},
    )

    batch = api.batches.create(_contacts(100), origin="omnisend_sdk")

    assert (batch.batch_id, batch.total_count, batch.status) == ("b-1", 100, "pending")
    body = json.loads(httpx_mock.get_request().content)
    assert body["method"] == "POST"
    assert body["endpoint"] == "contacts"
    assert body["origin"] == "omnisend_sdk"
    assert [item["identifiers"][0]["id"] for item in body["items"]] == [
        f"user{i}@example.com" for i in range(100)
    ]
    assert all(item["identifiers"][0]["sendWelcomeMessage"] is False for item in body["items"])


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "1 to 100 items"),
        (_contacts(101), "1 to 100 items"),
        (_contacts(100, last_name="x" * 11_000), "bytes"),
        ([ContactInput(first_name="nobody")], "identifier"),
    ],
)
def test_create_refuses_locally_what_omnisend_would_refuse(
    api: Any, items: list[ContactInput], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        api.batches.create(items)


@pytest.mark.parametrize("origin", [None, "omnisend_sdk"])
def test_items_given_as_contacts_bodies_or_encoded_bodies_post_the_same_bytes(
    api: Any, httpx_mock: HTTPXMock, origin: str | None
) -> None:
    contacts = _contacts(3, first_name="Zoë")
    bodies = [contact_to_json(c, DEFAULT_API_VERSION) for c in contacts]
    encoded = [json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode() for b in bodies]
    for _ in range(3):
        httpx_mock.add_response(
            method="POST", url=f"{BASE_URL}/batches", status_code=201, json={"batchID": "b-1"}
        )

    for items in (contacts, bodies, [bodies[0], encoded[1], contacts[2]]):
        api.batches.create(items, origin=origin)

    sent = [request.content for request in httpx_mock.get_requests()]
    envelope = {"method": "POST", "endpoint": "contacts", "items": bodies}
    if origin is not None:
        envelope["origin"] = origin
    assert sent == [json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()] * 3


@pytest.mark.parametrize("item", [b"", b"[1]", b'"text"', b'{"identifiers": []'])
def test_an_encoded_item_must_be_a_json_object(api: Any, item: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="JSON object"):
        api.batches.create([item])


def test_a_lost_answer_is_never_resent(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("lost"), method="POST", url=f"{BASE_URL}/batches")

    with pytest.raises(OutcomeUnknownError, match="may have taken effect"):
        api.batches.create(_contacts(3))

    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_an_ambiguous_gateway_error_is_not_resent(
    api: Any, httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE_URL}/batches", status_code=status)

    with pytest.raises(OutcomeUnknownError):
        api.batches.create(_contacts(1))
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 429, "json": {"status": 429, "retryAfter": 1}},
        {"status_code": 503, "html": "<html>Service Unavailable</html>"},
    ],
)
def test_a_batch_refused_unprocessed_is_retried(
    api: Any, httpx_mock: HTTPXMock, failure: dict[str, Any]
) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE_URL}/batches", **failure)
    httpx_mock.add_response(
        method="POST", url=f"{BASE_URL}/batches", status_code=201, json={"batchID": "b-2"}
    )

    assert api.batches.create(_contacts(1)).batch_id == "b-2"


def test_a_connection_that_never_opened_is_retried(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{BASE_URL}/batches")
    httpx_mock.add_response(url=f"{BASE_URL}/batches", status_code=201, json={"batchID": "b-3"})

    assert api.batches.create(_contacts(1)).batch_id == "b-3"


def test_get_and_items(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE_URL}/batches/b-1", json=_batch("finished", finishedCount=100, errorsCount=1)
    )
    ok = {
        "itemID": "i1",
        "request": {"identifiers": [{"type": "email", "id": "a@example.com"}]},
        "responseCode": 201,
        "response": {"id": "c1"},
        "status": "finished",
    }
    bad = {
        "itemID": "i2",
        "request": {"identifiers": [{"type": "email", "id": "b@example.com"}]},
        "responseCode": 400,
        "response": {"title": "Bad Request", "errors": [{"field": "email"}]},
        "status": "finished",
    }
    httpx_mock.add_response(
        url=f"{BASE_URL}/batches/b-1/items",
        json={**_batch("finished"), "responses": [ok], "errors": [bad], "future": 1},
    )

    batch = api.batches.get("b-1")
    assert batch.done
    assert (batch.finished_count, batch.errors_count) == (100, 1)

    items = api.batches.items("b-1")
    assert items.batch.batch_id == "b-1"
    assert [(i.email, i.ok) for i in items.responses] == [("a@example.com", True)]
    assert [(i.email, i.ok, i.response_code) for i in items.errors] == [
        ("b@example.com", False, 400)
    ]


def test_list_sends_filters_and_reads_batches(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE_URL}/batches?endpoint=contacts&status=inProgress&offset=0&limit=50",
        json={"batches": [_batch("inProgress")], "paging": {"offset": 0, "limit": 50}},
    )

    listed = api.batches.list(status="inProgress", limit=50)

    assert [(b.batch_id, b.status) for b in listed] == [("b-1", "inProgress")]


def test_wait_polls_less_often_until_the_batch_finishes(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    for status in ("pending", "inProgress", "inProgress", "inProgress"):
        httpx_mock.add_response(url=f"{BASE_URL}/batches/b-1", json=_batch(status))
    httpx_mock.add_response(url=f"{BASE_URL}/batches/b-1", json=_batch("stopped"))

    batch = api.batches.wait("b-1", poll_interval=2.0)

    assert batch.status == "stopped"
    assert clock.sleeps == [2.0, 3.0, 4.5, 6.75]


def test_wait_gives_up_after_its_timeout(api: Any, httpx_mock: HTTPXMock, clock: FakeClock) -> None:
    httpx_mock.add_response(url=f"{BASE_URL}/batches/b-1", json=_batch("pending"), is_reusable=True)

    with pytest.raises(BatchWaitTimeoutError, match="b-1 still pending after 10 s"):
        api.batches.wait("b-1", timeout=10, poll_interval=4)
    assert sum(clock.sleeps) == pytest.approx(10)
