"""client.tags: selectors split into calls of 250, tags checked, paced at the tag limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import InvalidRequestError
from omnisend_sdk._constants import WINDOW_MARGIN
from tests.conftest import BASE_URL, FakeClock

URL = f"{BASE_URL}/contacts/tags"


def test_add_splits_emails_into_calls_of_250(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=202, is_reusable=True)
    emails = [f"u{i}@example.com" for i in range(600)]

    sent = api.tags.add(["VIP customers"], emails=emails, contact_ids=["c1", "c2"])

    assert sent == 4
    bodies = [json.loads(r.content) for r in httpx_mock.get_requests()]
    assert [len(b.get("emails", ())) for b in bodies] == [250, 250, 100, 0]
    assert bodies[3] == {"tags": ["VIP customers"], "contactIDs": ["c1", "c2"]}
    assert [e for b in bodies for e in b.get("emails", ())] == emails


def test_remove_uses_delete(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", url=URL, status_code=202)

    assert api.tags.remove(["lapsed"], phones=["+37060000000"]) == 1
    assert json.loads(httpx_mock.get_request().content) == {
        "tags": ["lapsed"],
        "phones": ["+37060000000"],
    }


@pytest.mark.parametrize(
    ("tags", "selectors", "message"),
    [
        ([], {"emails": ["a@b.co"]}, "at least one tag"),
        ([f"t{i}" for i in range(101)], {"emails": ["a@b.co"]}, "at most 100"),
        (["ok", " "], {"emails": ["a@b.co"]}, "non-empty"),
        ("vip", {"emails": ["a@b.co"]}, "not one string"),
        (["vip"], {}, "select contacts"),
        (["vip"], {"emails": "a@b.co"}, "not one string"),
    ],
)
def test_bad_arguments_send_nothing(
    api: Any, tags: Any, selectors: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        api.tags.add(tags, **selectors)


def test_tag_calls_are_paced_at_60_per_minute(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=202, is_reusable=True)
    started = clock.now

    api.tags.add(["vip"], emails=[f"u{i}@example.com" for i in range(250 * 61)])

    assert len(httpx_mock.get_requests()) == 61
    # the 61st call waited for the window (and its small safety margin)
    assert clock.now - started == pytest.approx(60.0 * (1 + WINDOW_MARGIN))
