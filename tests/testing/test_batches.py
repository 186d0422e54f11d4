"""Batches: asynchronous processing, items answered like single calls, stop, list, retention."""

from __future__ import annotations

from typing import Any

import pytest

from omnisend_sdk.testing import BatchProcessing
from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact, error_fields

DAY = 86400.0


def batch_of(items: list[Any], **extra: Any) -> dict[str, Any]:
    return {"method": "POST", "endpoint": "contacts", "items": items, **extra}


def emails(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [contact(f"u{i}@example.com") for i in range(start, start + count)]


def test_create_answers_201_with_id_and_count(api: Api) -> None:
    response = api.http.post("/batches", json=batch_of(emails(3)))
    assert response.status_code == 201
    assert set(response.json()) == {"batchID", "totalCount"}
    assert response.json()["totalCount"] == 3
    assert api.emulator.stats.batches_created == 1


def test_lifecycle_follows_the_emulator_clock(connect: Connect) -> None:
    api = connect(batches=BatchProcessing(start_delay=2.0, items_per_second=10.0))
    batch_id = api.http.post("/batches", json=batch_of(emails(20), origin="tests")).json()[
        "batchID"
    ]

    def state() -> dict[str, Any]:
        body: dict[str, Any] = api.http.get(f"/batches/{batch_id}").json()
        return body

    pending = state()
    assert (pending["status"], pending["finishedCount"]) == ("pending", 0)
    assert pending["origin"] == "tests"
    assert "startedAt" not in pending
    api.clock.advance(2.0)
    assert state()["status"] == "inProgress"
    api.clock.advance(1.0)  # 10 items at 10 per second
    halfway = state()
    assert (halfway["status"], halfway["finishedCount"]) == ("inProgress", 10)
    assert len(api.emulator.contacts()) == 10
    api.clock.advance(1.0)
    done = state()
    assert (done["status"], done["finishedCount"], done["errorsCount"]) == ("finished", 20, 0)
    assert done["startedAt"] == "2026-03-15T00:00:02Z"
    assert done["endedAt"] == "2026-03-15T00:00:04Z"


def test_items_are_answered_like_single_calls(api: Api) -> None:
    items = [
        contact("new@example.com", firstName="New"),
        contact("old@example.com", lastName="Updated"),
        contact("bad-email"),
        {"identifiers": [{"type": "email", "id": "x@example.com"}], "gender": "x"},
    ]
    api.http.post("/contacts", json=contact("old@example.com"))
    batch_id = api.http.post("/batches", json=batch_of(items)).json()["batchID"]
    api.emulator.run_until_idle()
    body = api.http.get(f"/batches/{batch_id}/items").json()
    assert (body["status"], body["finishedCount"], body["errorsCount"]) == ("finished", 4, 2)
    by_request = {
        item["request"]["identifiers"][0]["id"]: item for item in body["responses"] + body["errors"]
    }
    assert by_request["new@example.com"]["responseCode"] == 201
    assert by_request["new@example.com"]["status"] == "finished"
    assert by_request["new@example.com"]["response"]["firstName"] == "New"
    assert by_request["old@example.com"]["responseCode"] == 200
    assert by_request["old@example.com"]["response"]["lastName"] == "Updated"
    # The same body sent alone gets the same problem.
    for email in ("bad-email", "x@example.com"):
        item = by_request[email]
        assert item["status"] == "failed"
        single = api.http.post("/contacts", json=item["request"])
        assert item["responseCode"] == single.status_code == 400
        same = ("type", "title", "status", "detail", "errors")
        assert {k: item["response"][k] for k in same} == {k: single.json()[k] for k in same}
    assert {len(i["itemID"]) for i in body["responses"] + body["errors"]} == {24}


def test_item_order_is_not_promised(connect: Connect) -> None:
    api = connect(batches=BatchProcessing(shuffle_items=True))
    batch_id = api.http.post("/batches", json=batch_of(emails(30))).json()["batchID"]
    api.emulator.run_until_idle()
    listed = [
        i["request"]["identifiers"][0]["id"]
        for i in api.http.get(f"/batches/{batch_id}/items").json()["responses"]
    ]
    assert sorted(listed) == sorted(f"u{i}@example.com" for i in range(30))
    assert listed != [f"u{i}@example.com" for i in range(30)]


def test_items_listed_in_order_when_asked(connect: Connect) -> None:
    api = connect(batches=BatchProcessing(shuffle_items=False))
    batch_id = api.http.post("/batches", json=batch_of(emails(5))).json()["batchID"]
    api.emulator.run_until_idle()
    listed = [
        i["request"]["identifiers"][0]["id"]
        for i in api.http.get(f"/batches/{batch_id}/items").json()["responses"]
    ]
    assert listed == [f"u{i}@example.com" for i in range(5)]


def test_stopped_after_too_many_errors(connect: Connect) -> None:
    api = connect(batches=BatchProcessing(stop_after_errors=3))
    items = [contact("bad") for _ in range(3)] + emails(5)
    batch_id = api.http.post("/batches", json=batch_of(items)).json()["batchID"]
    api.emulator.run_until_idle()
    body = api.http.get(f"/batches/{batch_id}").json()
    assert (body["status"], body["finishedCount"], body["errorsCount"]) == ("stopped", 3, 3)
    assert "endedAt" in body
    assert api.emulator.contacts() == []


def test_batch_items_reuse_the_upsert_rules(api: Api) -> None:
    api.http.post("/contacts", json=contact("a@example.com", tags=["keep"]))
    items = [contact("a@example.com", tags=["other"]), contact("b@example.com")]
    api.http.post("/batches", json=batch_of(items))
    api.emulator.run_until_idle()
    stats = api.emulator.stats
    assert (stats.tag_replacements, stats.welcome_messages, stats.contacts_created) == (1, 2, 2)


def test_batches_run_side_by_side(api: Api) -> None:
    first = api.http.post("/batches", json=batch_of(emails(100))).json()["batchID"]
    second = api.http.post("/batches", json=batch_of(emails(100, 100))).json()["batchID"]
    api.clock.advance(1.0 + 1.0)  # start delay + 100 items at 100 per second
    assert {api.http.get(f"/batches/{b}").json()["status"] for b in (first, second)} == {"finished"}


def test_unknown_batch_is_404(api: Api) -> None:
    assert_problem(api.http.get("/batches/000000000000000000000000"), 404)
    assert_problem(api.http.get("/batches/000000000000000000000000/items"), 404)


def test_batches_are_kept_seven_days(api: Api) -> None:
    batch_id = api.http.post("/batches", json=batch_of(emails(1))).json()["batchID"]
    api.clock.advance(7 * DAY)
    assert api.http.get(f"/batches/{batch_id}").status_code == 200
    api.clock.advance(1)
    assert_problem(api.http.get(f"/batches/{batch_id}"), 404)
    listed = api.http.get("/batches", params={"endpoint": "contacts"}).json()["batches"]
    assert listed == []


def test_list_filters_and_pages(api: Api) -> None:
    ids = []
    for _ in range(5):
        ids.append(api.http.post("/batches", json=batch_of(emails(1))).json()["batchID"])
        api.clock.advance(DAY)
    pending = api.http.post("/batches", json=batch_of(emails(1))).json()["batchID"]

    def listed(**params: Any) -> list[str]:
        body = api.http.get("/batches", params={"endpoint": "contacts", **params}).json()
        return [b["batchID"] for b in body["batches"]]

    assert listed() == [pending, *ids[::-1]]
    assert listed(status="pending") == [pending]
    assert listed(status="finished") == ids[::-1]
    assert listed(dateFrom="2026-03-16", dateTo="2026-03-17") == [ids[2], ids[1]]
    assert listed(offset=1, limit=2) == [ids[4], ids[3]]
    paging = api.http.get(
        "/batches", params={"endpoint": "contacts", "offset": 2, "limit": 2}
    ).json()["paging"]
    assert (paging["offset"], paging["limit"]) == (2, 2)
    assert "offset=4" in paging["next"]
    assert "offset=0" in paging["previous"]
    assert listed(endpoint="products") == []


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({}, "endpoint", "required"),
        ({"endpoint": "orders"}, "endpoint", "invalid_value"),
        ({"endpoint": "contacts", "status": "done"}, "status", "invalid_value"),
        (
            {"endpoint": "contacts", "dateFrom": "2026-03-15T00:00:00Z"},
            "dateFrom",
            "invalid_format",
        ),
        ({"endpoint": "contacts", "offset": -1}, "offset", "out_of_range"),
        ({"endpoint": "contacts", "limit": 0}, "limit", "out_of_range"),
        ({"endpoint": "contacts", "limit": 251}, "limit", "out_of_range"),
        ({"endpoint": "contacts", "page": 1}, "page", "unknown_parameter"),
    ],
)
def test_bad_list_queries(api: Api, params: dict[str, Any], field: str, code: str) -> None:
    assert (field, code) in error_fields(api.http.get("/batches", params=params))


def test_inspection_helpers(api: Api) -> None:
    batch_id = api.http.post("/batches", json=batch_of(emails(2))).json()["batchID"]
    assert [b["batchID"] for b in api.emulator.batches()] == [batch_id]
    api.emulator.run_until_idle()
    found = api.emulator.batch(batch_id)
    assert found is not None
    assert len(found["responses"]) == 2
    assert api.emulator.batch("missing") is None
