"""client.segments: bodies and paths, decoding, paging, 404 and 409, retries, and the two limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from omnisend_sdk import (
    ConditionGroup,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimiter,
    Segment,
    SegmentBuildingError,
    SegmentCondition,
    SegmentFilter,
    SegmentPage,
    SegmentStatistics,
    tag_rule,
)
from omnisend_sdk import _segments as segments
from omnisend_sdk._constants import WINDOW_MARGIN
from omnisend_sdk._wire import segment_to_json
from tests.conftest import BASE_URL, FakeClock

URL = f"{BASE_URL}/segments"
SEGMENT_ID = "65f1c0ffee0123456789abcd"
ONE = f"{URL}/{SEGMENT_ID}"

#: The tag rule of ../shared/omnisend-api.md, as JSON.
TAG_RULE_JSON = [
    {
        "conditions": [
            {
                "entity": "contact",
                "junction": "and",
                "filters": [{"operator": "anyOf", "property": "tags", "value": ["VIP customers"]}],
            }
        ]
    }
]


def _segment(**fields: Any) -> dict[str, Any]:
    return {
        "segmentID": SEGMENT_ID,
        "name": "VIP customers",
        "conditionGroups": TAG_RULE_JSON,
        "status": "ready",
        "createdAt": "2026-11-29T10:00:00Z",
        "updatedAt": "2026-11-29T10:05:00Z",
        "archivedAt": None,
        "isStarred": False,
        **fields,
    }


# --- requests and answers ----------------------------------------------------------------------


def test_create_posts_the_name_and_the_rule(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST", url=URL, status_code=201, json=_segment(status="building")
    )

    segment = api.segments.create("VIP customers", tag_rule("VIP customers"))

    sent = httpx_mock.get_request()
    assert sent.url.path == "/api/segments"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.content) == {"name": "VIP customers", "conditionGroups": TAG_RULE_JSON}
    assert segment.segment_id == SEGMENT_ID
    assert segment.status == "building"


def test_get_decodes_every_field(api: Any, httpx_mock: HTTPXMock) -> None:
    answer = _segment(archivedAt="2026-12-01T00:00:00+02:00", isStarred=True, status="archived")
    httpx_mock.add_response(method="GET", url=ONE, json={**answer, "newField": {"x": 1}})

    segment = api.segments.get(SEGMENT_ID)

    assert isinstance(segment, Segment)
    assert (segment.segment_id, segment.name, segment.status, segment.is_starred) == (
        SEGMENT_ID,
        "VIP customers",
        "archived",
        True,
    )
    assert segment.condition_groups == tag_rule("VIP customers")
    assert segment.created_at is not None
    assert segment.created_at.isoformat() == "2026-11-29T10:00:00+00:00"
    assert segment.archived_at is not None
    assert segment.archived_at.isoformat() == "2026-12-01T00:00:00+02:00"


def test_update_puts_the_whole_segment(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PUT", url=ONE, json=_segment(name="VIP 2026"))

    segment = api.segments.update(SEGMENT_ID, "VIP 2026", tag_rule("VIP customers"))

    sent = httpx_mock.get_request()
    assert sent.url.path == f"/api/segments/{SEGMENT_ID}"
    assert json.loads(sent.content) == {"name": "VIP 2026", "conditionGroups": TAG_RULE_JSON}
    assert segment.name == "VIP 2026"


def test_a_rule_read_back_is_sent_back_whole(api: Any, httpx_mock: HTTPXMock) -> None:
    # Fields the SDK does not model survive get -> update: a rename must not change the rule.
    rule = [
        {
            "conditions": [
                {
                    "entity": "event",
                    "junction": "or",
                    "eventName": "placed order",
                    "filters": [
                        {"operator": "gte", "property": "total", "value": 100, "unit": "EUR"},
                        {"operator": "anyOf", "property": "tags", "value": ["a", "b"]},
                    ],
                }
            ],
            "label": "big spenders",
        }
    ]
    httpx_mock.add_response(method="GET", url=ONE, json=_segment(conditionGroups=rule))
    httpx_mock.add_response(method="PUT", url=ONE, json=_segment(conditionGroups=rule))

    segment = api.segments.get(SEGMENT_ID)
    api.segments.update(segment.segment_id, "Renamed", segment.condition_groups)

    condition = segment.condition_groups[0].conditions[0]
    assert condition.extra == {"eventName": "placed order"}
    assert condition.filters[0].extra == {"unit": "EUR"}
    assert condition.filters[1].value == ("a", "b")
    put = httpx_mock.get_requests()[1]
    assert json.loads(put.content) == {"name": "Renamed", "conditionGroups": rule}


def test_delete_sends_no_body_and_returns_none(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", url=ONE, status_code=204)

    assert api.segments.delete(SEGMENT_ID) is None
    sent = httpx_mock.get_request()
    assert sent.url.path == f"/api/segments/{SEGMENT_ID}"
    assert sent.content == b""


def test_statistics_reads_the_contact_count(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{ONE}/statistics", json={"contactsCount": 1913})

    assert api.segments.statistics(SEGMENT_ID) == SegmentStatistics(contacts_count=1913)


def test_list_sends_the_query_and_reads_the_cursors(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="GET",
        json={
            "segments": [_segment(), _segment(segmentID="b" * 24, name="Lapsed")],
            "paging": {"cursors": {"after": "c-after", "before": "c-before"}, "hasMore": True},
        },
    )

    page = api.segments.list(limit=20, after="c0", sort="name", direction="desc")

    sent = httpx_mock.get_request()
    assert sent.url.path == "/api/segments"
    assert sent.url.params.multi_items() == [
        ("limit", "20"),
        ("after", "c0"),
        ("sort", "name"),
        ("direction", "desc"),
    ]
    assert isinstance(page, SegmentPage)
    assert [s.name for s in page.segments] == ["VIP customers", "Lapsed"]
    assert (page.after, page.before, page.has_more) == ("c-after", "c-before", True)


def test_list_asks_for_omnisends_default_page(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json={"segments": []})

    page = api.segments.list()

    assert httpx_mock.get_request().url.params.multi_items() == [("limit", "10")]
    assert page == SegmentPage()


def test_iter_walks_every_page(api: Any, httpx_mock: HTTPXMock) -> None:
    pages = [
        (["s1", "s2"], {"cursors": {"after": "c1", "before": None}, "hasMore": True}),
        (["s3"], {"cursors": {"after": "c2", "before": "c1"}, "hasMore": True}),
        (["s4"], {"cursors": {"after": "c3", "before": "c2"}, "hasMore": False}),
    ]
    for ids, paging in pages:
        segments_json = [_segment(segmentID=i, name=i) for i in ids]
        httpx_mock.add_response(method="GET", json={"segments": segments_json, "paging": paging})

    found = [s.segment_id for s in api.segments.iter(sort="createdAt", direction="asc")]

    assert found == ["s1", "s2", "s3", "s4"]
    assert [r.url.params.multi_items() for r in httpx_mock.get_requests()] == [
        [("limit", "50"), ("sort", "createdAt"), ("direction", "asc")],
        [("limit", "50"), ("sort", "createdAt"), ("direction", "asc"), ("after", "c1")],
        [("limit", "50"), ("sort", "createdAt"), ("direction", "asc"), ("after", "c2")],
    ]


def test_iter_stops_when_no_cursor_leads_on(api: Any, httpx_mock: HTTPXMock) -> None:
    # hasMore without an after cursor: nothing to follow, so no endless loop.
    paging = {"cursors": {"after": ""}, "hasMore": True}
    httpx_mock.add_response(method="GET", json={"segments": [_segment()], "paging": paging})

    assert [s.segment_id for s in api.segments.iter(page_size=5)] == [SEGMENT_ID]
    assert len(httpx_mock.get_requests()) == 1


# --- errors ------------------------------------------------------------------------------------

CALLS = {
    "get": ("GET", ONE, lambda api: api.segments.get(SEGMENT_ID)),
    "update": ("PUT", ONE, lambda api: api.segments.update(SEGMENT_ID, "x", tag_rule("x"))),
    "delete": ("DELETE", ONE, lambda api: api.segments.delete(SEGMENT_ID)),
    "statistics": ("GET", f"{ONE}/statistics", lambda api: api.segments.statistics(SEGMENT_ID)),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_unknown_segment_raises_not_found(api: Any, httpx_mock: HTTPXMock, call: str) -> None:
    method, url, send = CALLS[call]
    problem = {"status": 404, "title": "Not Found", "detail": "segment not found"}
    httpx_mock.add_response(method=method, url=url, status_code=404, json=problem)

    with pytest.raises(NotFoundError, match="segment not found") as raised:
        send(api)

    assert not isinstance(raised.value, ConflictError)
    assert len(httpx_mock.get_requests()) == 1  # 404 is final


@pytest.mark.parametrize("call", ["update", "delete"])
def test_a_building_segment_raises_segment_building_error(
    api: Any, httpx_mock: HTTPXMock, call: str
) -> None:
    method, url, send = CALLS[call]
    problem = {
        "status": 409,
        "title": "Conflict",
        "detail": "segment is being built",
        "instance": "trace-9",
    }
    httpx_mock.add_response(method=method, url=url, status_code=409, json=problem)

    with pytest.raises(SegmentBuildingError) as raised:
        send(api)

    error = raised.value
    assert isinstance(error, ConflictError)  # caught by existing `except ConflictError` too
    assert str(error) == (
        f"409 Conflict: segment is being built ({method} /segments/{SEGMENT_ID}) [trace trace-9]"
    )
    assert error.request_id == "trace-9"
    assert len(httpx_mock.get_requests()) == 1  # 409 is not retried


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_after_an_ambiguous_gateway_error_is_not_resent(
    api: Any, httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=status)

    with pytest.raises(OutcomeUnknownError, match="may have taken effect"):
        api.segments.create("VIP customers", tag_rule("VIP customers"))

    assert len(httpx_mock.get_requests()) == 1


def test_a_create_whose_answer_was_lost_is_not_resent(api: Any, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("lost"), method="POST", url=URL)

    with pytest.raises(OutcomeUnknownError, match=r"POST /segments"):
        api.segments.create("VIP customers", tag_rule("VIP customers"))

    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "failure",
    [{"status_code": 503}, {"status_code": 429, "json": {"status": 429, "retryAfter": 2}}],
)
def test_a_create_refused_unprocessed_is_retried(
    api: Any, httpx_mock: HTTPXMock, failure: dict[str, Any]
) -> None:
    httpx_mock.add_response(method="POST", url=URL, **failure)
    httpx_mock.add_response(method="POST", url=URL, status_code=201, json=_segment())

    assert api.segments.create("VIP customers", tag_rule("VIP customers")).segment_id == SEGMENT_ID
    assert len(httpx_mock.get_requests()) == 2


@pytest.mark.parametrize("call", sorted(CALLS))
def test_reads_puts_and_deletes_are_retried_after_a_lost_answer(
    api: Any, httpx_mock: HTTPXMock, call: str
) -> None:
    method, url, send = CALLS[call]
    answer = {"contactsCount": 3} if call == "statistics" else _segment()
    httpx_mock.add_exception(httpx.ReadTimeout("lost"), method=method, url=url)
    httpx_mock.add_response(method=method, url=url, json=answer)

    send(api)

    assert len(httpx_mock.get_requests()) == 2


# --- pacing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "method", "family"),
    [
        (segments.create_operation("n", tag_rule("t"), "2026-03-15"), "POST", "segment_writes"),
        (
            segments.update_operation(SEGMENT_ID, "n", tag_rule("t"), "2026-03-15"),
            "PUT",
            "segment_writes",
        ),
        (segments.get_operation(SEGMENT_ID, "2026-03-15"), "GET", "segments"),
        (segments.list_operation((("limit", "10"),), "2026-03-15"), "GET", "segments"),
        (segments.statistics_operation(SEGMENT_ID, "2026-03-15"), "GET", "segments"),
        (segments.delete_operation(SEGMENT_ID), "DELETE", "segments"),
    ],
    ids=["create", "update", "get", "list", "statistics", "delete"],
)
def test_each_request_is_paced_in_its_segment_family(
    operation: Any, method: str, family: str
) -> None:
    assert (operation.request.method, operation.request.family) == (method, family)
    assert operation.request.idempotent is (method != "POST")


def test_the_limiter_knows_both_segment_limits() -> None:
    limiter = RateLimiter()
    assert (limiter.limit("segments"), limiter.limit("segment_writes")) == (100, 15)
    custom = RateLimiter(segment_requests_per_minute=50, segment_write_requests_per_minute=5)
    assert (custom.limit("segments"), custom.limit("segment_writes")) == (50, 5)


@pytest.mark.parametrize(
    "settings_", [{"segment_requests_per_minute": 0}, {"segment_write_requests_per_minute": 0}]
)
def test_nonsense_segment_limits_are_refused(settings_: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RateLimiter(**settings_)


def test_creates_are_paced_at_15_per_minute(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    httpx_mock.add_response(
        method="POST", url=URL, status_code=201, json=_segment(), is_reusable=True
    )
    started = clock.now

    for n in range(16):
        api.segments.create(f"segment {n}", tag_rule(f"tag {n}"))

    assert len(httpx_mock.get_requests()) == 16
    # spread evenly: one every 60/15 s; the 16th waited for the first to leave the window
    assert clock.now - started == pytest.approx(60.0 * (1 + WINDOW_MARGIN))


def test_reads_are_paced_at_100_per_minute_apart_from_writes_and_the_400(
    api: Any, httpx_mock: HTTPXMock, clock: FakeClock
) -> None:
    httpx_mock.add_response(method="GET", url=ONE, json=_segment(), is_reusable=True)
    httpx_mock.add_response(
        method="POST", url=URL, status_code=201, json=_segment(), is_reusable=True
    )
    httpx_mock.add_response(method="GET", url=f"{BASE_URL}/contacts/c1", json={"id": "c1"})
    started = clock.now

    for _ in range(100):
        api.segments.get(SEGMENT_ID)
    reads_took = clock.now - started
    api.segments.create("VIP customers", tag_rule("VIP customers"))
    api.contacts.get("c1")

    # The quiet window's first tenth at once, then one every 0.6 s, no more.
    assert reads_took == pytest.approx(90 * 60.0 / 100)
    # neither the write window nor the brand's 400 was spent by the reads: no extra wait
    assert clock.now - started == pytest.approx(reads_took)


# --- refused before sending --------------------------------------------------------------------

_NO_FILTER = (ConditionGroup((SegmentCondition("contact", "and", ()),)),)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda api: api.segments.create("", tag_rule("t")), "non-empty name"),
        (lambda api: api.segments.create("x" * 257, tag_rule("t")), "at most 256"),
        (lambda api: api.segments.create("n", ()), "non-empty sequence"),
        (lambda api: api.segments.create("n", tag_rule("t")[0]), "non-empty sequence"),
        (lambda api: api.segments.create("n", (ConditionGroup(()),)), "at least one condition"),
        (lambda api: api.segments.create("n", _NO_FILTER), "at least one filter"),
        (lambda api: api.segments.create("n", [{"conditions": []}]), "not a ConditionGroup"),
        (lambda api: api.segments.update("", "n", tag_rule("t")), "not a segment id"),
        (lambda api: api.segments.get("a/b"), "not a segment id"),
        (lambda api: api.segments.delete(""), "not a segment id"),
        (lambda api: api.segments.list(limit=0), "between 1 and 50"),
        (lambda api: api.segments.list(limit=51), "between 1 and 50"),
        (lambda api: api.segments.list(after="a", before="b"), "not both"),
        (lambda api: api.segments.list(after=""), "must not be empty"),
        (lambda api: api.segments.list(sort="updatedAt"), "sort must be one of"),
        (lambda api: api.segments.list(direction="up"), "direction must be one of"),
        (lambda api: list(api.segments.iter(page_size=100)), "between 1 and 50"),
    ],
)
def test_bad_arguments_send_nothing(api: Any, call: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        call(api)


@pytest.mark.parametrize("tag", ["", "  ", None])
def test_a_tag_rule_needs_a_tag(tag: Any) -> None:
    with pytest.raises(InvalidRequestError, match="non-empty tag"):
        tag_rule(tag)


def test_the_tag_rule_is_the_documented_one() -> None:
    rule = tag_rule("VIP customers")

    assert rule == (
        ConditionGroup(
            conditions=(
                SegmentCondition(
                    entity="contact",
                    junction="and",
                    filters=(
                        SegmentFilter(property="tags", operator="anyOf", value=("VIP customers",)),
                    ),
                ),
            )
        ),
    )
    assert segment_to_json("n", rule, "2026-03-15") == {
        "name": "n",
        "conditionGroups": TAG_RULE_JSON,
    }
