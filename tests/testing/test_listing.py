"""GET /contacts: cursor paging, sorting and filters."""

from __future__ import annotations

import pytest

from tests.testing.conftest import Api
from tests.testing.helpers import contact, error_fields, subscribed


def seed(api: Api, count: int) -> list[str]:
    """Create ``count`` contacts one emulator second apart; return their emails, oldest first."""
    emails = [f"u{i:03d}@example.com" for i in range(count)]
    for email in emails:
        api.http.post("/contacts", json=contact(email))
        api.clock.advance(1)
    return emails


def page_through(api: Api, **params: str | int) -> list[str]:
    emails: list[str] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        body = api.http.get("/contacts", params=query).json()
        emails.extend(c["email"] for c in body["contacts"])
        if not body["paging"]["hasMore"]:
            assert body["paging"]["cursors"]["after"] is None
            return emails
        after = body["paging"]["cursors"]["after"]


def test_default_is_newest_first_100(api: Api) -> None:
    emails = seed(api, 120)
    body = api.http.get("/contacts").json()
    assert [c["email"] for c in body["contacts"]] == emails[::-1][:100]
    assert body["paging"]["limit"] == 100
    assert body["paging"]["hasMore"] is True
    assert body["paging"]["cursors"]["before"] is None


@pytest.mark.parametrize("limit", [1, 7, 250])
def test_after_cursor_visits_everything_once(api: Api, limit: int) -> None:
    emails = seed(api, 23)
    assert page_through(api, limit=limit) == emails[::-1]
    assert page_through(api, limit=limit, direction="asc") == emails


def test_before_cursor_goes_back(api: Api) -> None:
    emails = seed(api, 10)
    first = api.http.get("/contacts", params={"limit": 4, "direction": "asc"}).json()
    second = api.http.get(
        "/contacts",
        params={"limit": 4, "direction": "asc", "after": first["paging"]["cursors"]["after"]},
    ).json()
    assert [c["email"] for c in second["contacts"]] == emails[4:8]
    back = api.http.get(
        "/contacts",
        params={"limit": 4, "direction": "asc", "before": second["paging"]["cursors"]["before"]},
    ).json()
    assert [c["email"] for c in back["contacts"]] == emails[:4]
    assert back["paging"]["cursors"]["before"] is None


def test_paging_is_stable_when_contacts_are_added(api: Api) -> None:
    emails = seed(api, 6)
    first = api.http.get("/contacts", params={"limit": 3, "direction": "asc"}).json()
    api.http.post("/contacts", json=contact("late@example.com"))
    rest = api.http.get(
        "/contacts",
        params={"limit": 10, "direction": "asc", "after": first["paging"]["cursors"]["after"]},
    ).json()
    assert [c["email"] for c in rest["contacts"]] == [*emails[3:], "late@example.com"]


def test_sort_by_updated_at(api: Api) -> None:
    emails = seed(api, 3)
    api.http.post("/contacts", json=contact(emails[0], firstName="touched"))
    body = api.http.get("/contacts", params={"sort": "updatedAt"}).json()
    assert body["contacts"][0]["email"] == emails[0]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"limit": 0}, "limit", "out_of_range"),
        ({"limit": 251}, "limit", "out_of_range"),
        ({"limit": "ten"}, "limit", "invalid_type"),
        ({"sort": "email"}, "sort", "invalid_value"),
        ({"direction": "up"}, "direction", "invalid_value"),
        ({"status": "active"}, "status", "invalid_value"),
        ({"after": "not-a-cursor"}, "after", "invalid_value"),
        ({"after": "x", "before": "y"}, "before", "conflict"),
        ({"tag": "vip", "status": "subscribed"}, "tag", "conflict"),
        ({"updatedAtFrom": "2026-01-01T00:00:00Z", "tag": "vip"}, "updatedAtFrom", "conflict"),
        ({"updatedAtFrom": "2026-01-01T00:00:00Z", "email": "a@b.co"}, "updatedAtFrom", "conflict"),
        ({"updatedAtFrom": "2026-01-01"}, "updatedAtFrom", "invalid_format"),
        ({"cursor": "abc"}, "cursor", "unknown_parameter"),
        ({"page": 2}, "page", "unknown_parameter"),
    ],
)
def test_bad_queries(api: Api, params: dict[str, str | int], field: str, code: str) -> None:
    assert (field, code) in error_fields(api.http.get("/contacts", params=params))


def test_cursor_of_another_sort_is_rejected(api: Api) -> None:
    seed(api, 3)
    after = api.http.get("/contacts", params={"limit": 1}).json()["paging"]["cursors"]["after"]
    response = api.http.get("/contacts", params={"after": after, "sort": "updatedAt"})
    assert ("after", "invalid_value") in error_fields(response)


def test_repeated_parameter_is_rejected(api: Api) -> None:
    response = api.http.get("/contacts", params=[("tag", "a"), ("tag", "b")])
    assert ("tag", "invalid_value") in error_fields(response)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"email": "a@example.com"}, ["a@example.com"]),
        ({"email": "A@example.com"}, []),
        ({"phone": "+37060000000"}, ["b@example.com"]),
        ({"status": "subscribed"}, ["a@example.com"]),
        ({"status": "nonSubscribed"}, ["c@example.com", "b@example.com"]),
        ({"tag": "vip"}, ["c@example.com", "a@example.com"]),
        ({"segmentID": "seg"}, ["b@example.com"]),
        ({"tag": "vip", "email": "c@example.com"}, ["c@example.com"]),
        ({"updatedAtFrom": "2026-03-15T00:00:10Z"}, ["c@example.com", "b@example.com"]),
    ],
)
def test_filters(api: Api, params: dict[str, str], expected: list[str]) -> None:
    api.http.post("/contacts", json={"identifiers": [subscribed("a@example.com")], "tags": ["vip"]})
    api.clock.advance(10)
    api.http.post("/contacts", json=contact("b@example.com", phone="+37060000000"))
    api.clock.advance(10)
    api.http.post("/contacts", json=contact("c@example.com", tags=["vip"]))
    api.emulator.add_to_segment("seg", ["b@example.com"])
    body = api.http.get("/contacts", params=params).json()
    assert [c["email"] for c in body["contacts"]] == expected
