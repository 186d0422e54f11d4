"""/segments: tag rules, building then ready, 409 while building, statistics, paging, limits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from omnisend_sdk.testing import (
    CONTACTS_READ,
    CONTACTS_WRITE,
    READ_ONLY,
    SEGMENTS_WRITE,
    ApiProblem,
    RateLimits,
    ScopedKey,
)
from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact, error_fields

A, B, C, D = "a@example.com", "b@example.com", "c@example.com", "d@example.com"
BUILD = 2.0  # the default segment_build_delay
CONTACTS_ONLY = frozenset({CONTACTS_READ, CONTACTS_WRITE})  # a key made before segments existed


def tag_rule(*tags: str, operator: str = "anyOf") -> dict[str, Any]:
    """A filter on the contact's tags."""
    return {"operator": operator, "property": "tags", "value": list(tags)}


def condition(*filters: dict[str, Any], junction: str = "and") -> dict[str, Any]:
    return {"entity": "contact", "junction": junction, "filters": list(filters)}


def segment_body(name: str, *groups: list[dict[str, Any]]) -> dict[str, Any]:
    """A segment body: each group is a list of conditions."""
    return {"name": name, "conditionGroups": [{"conditions": group} for group in groups]}


VIP = segment_body("VIP customers", [condition(tag_rule("VIP customers"))])


def create(api: Api, body: dict[str, Any] = VIP) -> dict[str, Any]:
    response = api.http.post("/segments", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def ready(api: Api, body: dict[str, Any] = VIP) -> str:
    """Create a segment and wait until it is built; return its id."""
    segment_id: str = create(api, body)["segmentID"]
    api.clock.advance(BUILD)
    return segment_id


def count(api: Api, segment_id: str) -> int:
    response = api.http.get(f"/segments/{segment_id}/statistics")
    assert response.status_code == 200, response.text
    assert response.json().keys() == {"contactsCount"}
    contacts_count: int = response.json()["contactsCount"]
    return contacts_count


def tags_of(api: Api, email: str) -> list[str]:
    found = api.emulator.contact(email)
    assert found is not None
    tags: list[str] = found["tags"]
    return tags


def status_of(api: Api, segment_id: str) -> str:
    status: str = api.http.get(f"/segments/{segment_id}").json()["status"]
    return status


# -- create, get, update, delete ----------------------------------------------------------------


def test_create_answers_201_with_a_building_segment_that_becomes_ready(connect: Connect) -> None:
    api = connect(segment_build_delay=5.0)
    created = create(api)
    assert re.fullmatch(r"[0-9a-f]{24}", created["segmentID"])
    assert created == {
        "segmentID": created["segmentID"],
        "name": "VIP customers",
        "conditionGroups": VIP["conditionGroups"],
        "status": "building",
        "createdAt": "2026-03-15T00:00:00Z",
        "updatedAt": "2026-03-15T00:00:00Z",
        "archivedAt": None,
        "isStarred": False,
    }
    api.clock.advance(4.9)
    assert status_of(api, created["segmentID"]) == "building"
    api.clock.advance(0.1)
    assert api.http.get(f"/segments/{created['segmentID']}").json() == {
        **created,
        "status": "ready",
    }


def test_update_replaces_name_and_rules_and_builds_again(api: Api) -> None:
    segment_id = ready(api)
    api.clock.advance(10)
    body = segment_body("Everyone but VIPs", [condition(tag_rule("vip", operator="noneOf"))])
    response = api.http.put(f"/segments/{segment_id}", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["conditionGroups"]) == (body["name"], body["conditionGroups"])
    assert (updated["status"], updated["createdAt"], updated["updatedAt"]) == (
        "building",
        "2026-03-15T00:00:00Z",
        "2026-03-15T00:00:12Z",
    )
    api.clock.advance(BUILD)
    assert status_of(api, segment_id) == "ready"


def test_delete_answers_204_and_forgets_the_segment(api: Api) -> None:
    segment_id = ready(api)
    response = api.http.delete(f"/segments/{segment_id}")
    assert (response.status_code, response.content) == (204, b"")
    assert_problem(api.http.get(f"/segments/{segment_id}"), 404)
    assert api.http.get("/segments").json()["segments"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/segments/{id}"),
        ("PUT", "/segments/{id}"),
        ("DELETE", "/segments/{id}"),
        ("GET", "/segments/{id}/statistics"),
    ],
)
def test_unknown_segment_is_404(api: Api, method: str, path: str) -> None:
    body = VIP if method == "PUT" else None
    response = api.http.request(method, path.format(id="0" * 24), json=body)
    assert assert_problem(response, 404)["detail"] == "segment not found"


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", VIP), ("DELETE", None)],
)
def test_409_while_building(api: Api, method: str, body: dict[str, Any] | None) -> None:
    segment_id = create(api)["segmentID"]
    api.clock.advance(BUILD - 0.5)
    response = api.http.request(method, f"/segments/{segment_id}", json=body)
    assert "building" in assert_problem(response, 409)["detail"]
    api.clock.advance(0.5)
    assert api.http.request(method, f"/segments/{segment_id}", json=body).status_code < 300


def test_an_invalid_update_is_400_even_while_building(api: Api) -> None:
    segment_id = create(api)["segmentID"]
    response = api.http.put(f"/segments/{segment_id}", json={"name": "x"})
    assert ("conditionGroups", "required") in error_fields(response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PATCH", "/segments/x", 405),
        ("DELETE", "/segments", 405),
        ("POST", "/segments/x/statistics", 405),
        ("GET", "/segments/x/items", 404),
        ("GET", "/contacts/x/statistics", 404),
        ("GET", "/batches/x/statistics", 404),
    ],
)
def test_unknown_routes_and_methods(api: Api, method: str, path: str, status: int) -> None:
    assert_problem(api.http.request(method, path), status)


def test_query_parameters_are_rejected_where_none_are_taken(api: Api) -> None:
    response = api.http.post("/segments", params={"dryRun": "true"}, json=VIP)
    assert ("dryRun", "unknown_parameter") in error_fields(response)


# -- statistics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "members"),
    [
        pytest.param([[condition(tag_rule("vip"))]], {A, B}, id="anyOf"),
        pytest.param([[condition(tag_rule("vip", "eu"))]], {A, B, C}, id="anyOf-several"),
        pytest.param([[condition(tag_rule("vip", operator="noneOf"))]], {C, D}, id="noneOf"),
        pytest.param(
            [[condition(tag_rule("vip"), tag_rule("eu"))]],
            {A},
            id="filters-and",
        ),
        pytest.param(
            [[condition(tag_rule("vip"), tag_rule("eu"), junction="or")]],
            {A, B, C},
            id="filters-or",
        ),
        pytest.param(
            [[condition(tag_rule("vip")), condition(tag_rule("eu", operator="noneOf"))]],
            {B},
            id="conditions-and",
        ),
        pytest.param(
            [[condition(tag_rule("vip"))], [condition(tag_rule("eu"))]],
            {A, B, C},
            id="groups-or",
        ),
        pytest.param([[condition(tag_rule("VIP"))]], set(), id="case-sensitive"),
    ],
)
def test_statistics_count_the_contacts_matching_the_rules(
    api: Api,
    groups: list[list[dict[str, Any]]],
    members: set[str],
) -> None:
    for email, tags in ((A, ["vip", "eu"]), (B, ["vip"]), (C, ["eu"]), (D, [])):
        api.emulator.add_contact(contact(email, tags=tags))
    segment_id = ready(api, segment_body("s", *groups))
    assert count(api, segment_id) == len(members)
    listed = api.http.get("/contacts", params={"segmentID": segment_id}).json()["contacts"]
    assert {c["email"] for c in listed} == members


def test_statistics_follow_tag_changes(connect: Connect) -> None:
    api = connect(tag_delay=5.0)
    api.emulator.add_contact(contact(A, tags=["VIP customers"]))
    api.emulator.add_contact(contact(B))
    segment_id = ready(api)
    assert count(api, segment_id) == 1
    api.http.post("/contacts/tags", json={"tags": ["VIP customers"], "emails": [B, C]})
    assert count(api, segment_id) == 1  # not applied yet
    api.clock.advance(5)
    assert count(api, segment_id) == 2
    api.http.request("DELETE", "/contacts/tags", json={"tags": ["VIP customers"], "emails": [A]})
    api.clock.advance(5)
    assert count(api, segment_id) == 1
    api.emulator.add_contact(contact(D, tags=["VIP customers"]))  # tags in a contact body count
    assert count(api, segment_id) == 2


def test_while_building_statistics_show_the_last_ready_count(api: Api) -> None:
    api.emulator.add_contact(contact(A, tags=["VIP customers"]))
    api.emulator.add_contact(contact(B, tags=["new"]))
    segment_id = create(api)["segmentID"]
    assert count(api, segment_id) == 0  # a new segment has never been ready
    api.clock.advance(BUILD)
    assert count(api, segment_id) == 1
    everyone = segment_body("n", [condition(tag_rule("VIP customers", "new"))])
    api.http.put(f"/segments/{segment_id}", json=everyone)
    api.emulator.add_contact(contact(C, tags=["VIP customers"]))
    assert count(api, segment_id) == 1  # A, as when the build started
    api.clock.advance(BUILD)
    assert count(api, segment_id) == 3


def test_membership_shows_in_contacts_and_tag_selectors(api: Api) -> None:
    api.emulator.add_contact(contact(A, tags=["VIP customers", "keep"]))
    api.emulator.add_contact(contact(B, tags=["keep"]))
    segment_id = create(api)["segmentID"]
    assert api.http.get("/contacts", params={"email": A}).json()["contacts"][0]["segments"] == []
    api.clock.advance(BUILD)
    found = api.emulator.contact(A)
    assert found is not None
    assert found["segments"] == [segment_id]
    body = {"tags": ["keep"], "segmentID": segment_id}
    assert api.http.request("DELETE", "/contacts/tags", json=body).status_code == 202
    api.emulator.run_until_idle()
    assert [tags_of(api, email) for email in (A, B)] == [["VIP customers"], ["keep"]]


# -- rules the emulator does not evaluate, and malformed bodies ---------------------------------


@pytest.mark.parametrize(
    ("condition_json", "field"),
    [
        pytest.param(
            {"entity": "event", "junction": "and", "filters": [tag_rule("vip")]},
            "conditionGroups.0.conditions.0.entity",
            id="event",
        ),
        pytest.param(
            condition({"operator": "anyOf", "property": "email", "value": ["a@example.com"]}),
            "conditionGroups.0.conditions.0.filters.0.property",
            id="property",
        ),
        pytest.param(
            condition(tag_rule("vip", operator="allOf")),
            "conditionGroups.0.conditions.0.filters.0.operator",
            id="operator",
        ),
        pytest.param(
            condition(tag_rule("vip"), {"operator": "equals", "property": "city", "value": "X"}),
            "conditionGroups.0.conditions.0.filters.1.property",
            id="second-filter",
        ),
    ],
)
def test_rules_other_than_contact_tags_are_not_emulated(
    api: Api,
    condition_json: dict[str, Any],
    field: str,
) -> None:
    response = api.http.post("/segments", json=segment_body("s", [condition_json]))
    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/not-emulated")
    assert "not emulated" in problem["detail"]
    assert field in problem["detail"]
    assert field in {error["field"] for error in problem["errors"]}
    assert api.emulator.segments() == []


def test_a_malformed_body_is_a_validation_problem_before_anything_is_not_emulated(
    api: Api,
) -> None:
    body = {"conditionGroups": [{"conditions": [{**condition(tag_rule("v")), "entity": "event"}]}]}
    problem = assert_problem(api.http.post("/segments", json=body), 400)
    assert problem["type"].endswith("/validation-failed")
    assert [error["field"] for error in problem["errors"]] == ["name"]


GROUP = "conditionGroups.0"
CONDITION = f"{GROUP}.conditions.0"
FILTER = f"{CONDITION}.filters.0"


def with_condition(**members: Any) -> dict[str, Any]:
    return segment_body("s", [{**condition(tag_rule("vip")), **members}])


def with_filter(**members: Any) -> dict[str, Any]:
    return segment_body("s", [condition({**tag_rule("vip"), **members})])


BAD_SEGMENTS = [
    pytest.param([], ("body", "invalid_type"), id="not-an-object"),
    pytest.param({"conditionGroups": VIP["conditionGroups"]}, ("name", "required"), id="no-name"),
    pytest.param({**VIP, "name": ""}, ("name", "invalid_value"), id="empty-name"),
    pytest.param({**VIP, "name": "   "}, ("name", "invalid_value"), id="blank-name"),
    pytest.param({**VIP, "name": "x" * 257}, ("name", "invalid_value"), id="long-name"),
    pytest.param({**VIP, "name": 7}, ("name", "invalid_type"), id="name-not-a-string"),
    pytest.param({"name": "s"}, ("conditionGroups", "required"), id="no-groups"),
    pytest.param(
        {"name": "s", "conditionGroups": []}, ("conditionGroups", "too_few"), id="no-group"
    ),
    pytest.param(
        {"name": "s", "conditionGroups": {}},
        ("conditionGroups", "invalid_type"),
        id="groups-not-an-array",
    ),
    pytest.param({**VIP, "starred": True}, ("starred", "unknown_field"), id="unknown-field"),
    pytest.param(
        {"name": "s", "conditionGroups": ["x"]},
        (GROUP, "invalid_type"),
        id="group-not-an-object",
    ),
    pytest.param(
        {"name": "s", "conditionGroups": [{}]},
        (f"{GROUP}.conditions", "required"),
        id="no-conditions",
    ),
    pytest.param(segment_body("s", []), (f"{GROUP}.conditions", "too_few"), id="empty-conditions"),
    pytest.param(
        segment_body("s", [{"junction": "and", "filters": [tag_rule("v")]}]),
        (f"{CONDITION}.entity", "required"),
        id="no-entity",
    ),
    pytest.param(
        with_condition(entity="profile"), (f"{CONDITION}.entity", "invalid_value"), id="bad-entity"
    ),
    pytest.param(
        segment_body("s", [{"entity": "contact", "filters": [tag_rule("v")]}]),
        (f"{CONDITION}.junction", "required"),
        id="no-junction",
    ),
    pytest.param(
        with_condition(junction="xor"),
        (f"{CONDITION}.junction", "invalid_value"),
        id="bad-junction",
    ),
    pytest.param(with_condition(filters=[]), (f"{CONDITION}.filters", "too_few"), id="no-filters"),
    pytest.param(
        with_condition(negate=True), (f"{CONDITION}.negate", "unknown_field"), id="condition-field"
    ),
    pytest.param(
        segment_body("s", [condition({"operator": "anyOf", "property": "tags"})]),
        (f"{FILTER}.value", "required"),
        id="no-value",
    ),
    pytest.param(
        segment_body("s", [condition({"property": "tags", "value": ["v"]})]),
        (f"{FILTER}.operator", "required"),
        id="no-operator",
    ),
    pytest.param(
        with_filter(property=None), (f"{FILTER}.property", "invalid_type"), id="null-property"
    ),
    pytest.param(with_filter(value=[]), (f"{FILTER}.value", "too_few"), id="no-tags"),
    pytest.param(with_filter(value="vip"), (f"{FILTER}.value", "invalid_type"), id="tags-string"),
    pytest.param(with_filter(value=[1]), (f"{FILTER}.value.0", "invalid_type"), id="tag-number"),
    pytest.param(with_filter(value=[" "]), (f"{FILTER}.value.0", "invalid_value"), id="blank-tag"),
    pytest.param(with_filter(value=["t"] * 101), (f"{FILTER}.value", "too_many"), id="many-tags"),
    pytest.param(with_filter(field="x"), (f"{FILTER}.field", "unknown_field"), id="filter-field"),
]


@pytest.mark.parametrize(("body", "error"), BAD_SEGMENTS)
def test_malformed_bodies_are_validation_problems(
    api: Api,
    body: Any,
    error: tuple[str, str],
) -> None:
    assert error in error_fields(api.http.post("/segments", json=body))
    assert api.emulator.segments() == []


def test_a_256_character_name_is_accepted(api: Api) -> None:
    assert create(api, {**VIP, "name": "x" * 256})["name"] == "x" * 256


# -- listing ------------------------------------------------------------------------------------


def seed(api: Api, names: list[str]) -> list[str]:
    """Create segments one emulator second apart (bypassing the rate limit); return their ids."""
    ids = []
    for name in names:
        ids.append(api.emulator.add_segment({**VIP, "name": name})["segmentID"])
        api.clock.advance(1)
    return ids


def page_through(api: Api, **params: str | int) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        body = api.http.get("/segments", params=query).json()
        ids.extend(segment["segmentID"] for segment in body["segments"])
        if not body["paging"]["hasMore"]:
            assert body["paging"]["cursors"]["after"] is None
            return ids
        after = body["paging"]["cursors"]["after"]


def test_list_defaults_to_ten_newest_first(api: Api) -> None:
    ids = seed(api, [f"s{i:02d}" for i in range(12)])
    body = api.http.get("/segments").json()
    assert [s["segmentID"] for s in body["segments"]] == ids[::-1][:10]
    assert body["paging"]["limit"] == 10
    assert body["paging"]["hasMore"] is True
    assert body["paging"]["cursors"]["before"] is None
    assert body["segments"][0] == api.emulator.segment(ids[-1])


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_after_cursor_visits_everything_once(api: Api, limit: int) -> None:
    ids = seed(api, [f"s{i}" for i in range(7)])
    assert page_through(api, limit=limit) == ids[::-1]
    assert page_through(api, limit=limit, direction="asc") == ids


def test_sort_by_name(api: Api) -> None:
    ids = seed(api, ["b", "c", "a"])
    assert page_through(api, limit=2, sort="name", direction="asc") == [ids[2], ids[0], ids[1]]
    assert page_through(api, limit=2, sort="name") == [ids[1], ids[0], ids[2]]


def test_before_cursor_goes_back(api: Api) -> None:
    ids = seed(api, [f"s{i}" for i in range(8)])
    asc = {"limit": 3, "direction": "asc"}
    first = api.http.get("/segments", params=asc).json()
    second = api.http.get(
        "/segments", params={**asc, "after": first["paging"]["cursors"]["after"]}
    ).json()
    assert [s["segmentID"] for s in second["segments"]] == ids[3:6]
    back = api.http.get(
        "/segments", params={**asc, "before": second["paging"]["cursors"]["before"]}
    ).json()
    assert [s["segmentID"] for s in back["segments"]] == ids[:3]
    assert back["paging"]["cursors"]["before"] is None
    assert back["paging"]["cursors"]["after"] is not None


def test_a_cursor_outlives_the_segment_it_came_from(api: Api) -> None:
    ids = seed(api, [f"s{i}" for i in range(5)])
    first = api.http.get("/segments", params={"limit": 2, "direction": "asc"}).json()
    api.emulator.delete_segment(ids[1])
    rest = api.http.get(
        "/segments",
        params={"direction": "asc", "after": first["paging"]["cursors"]["after"]},
    ).json()
    assert [s["segmentID"] for s in rest["segments"]] == ids[2:]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"limit": 0}, "limit", "out_of_range"),
        ({"limit": 51}, "limit", "out_of_range"),
        ({"limit": "ten"}, "limit", "invalid_type"),
        ({"sort": "updatedAt"}, "sort", "invalid_value"),
        ({"direction": "up"}, "direction", "invalid_value"),
        ({"after": "not-a-cursor"}, "after", "invalid_value"),
        ({"before": "bm9wZQ"}, "before", "invalid_value"),
        ({"after": "x", "before": "y"}, "before", "conflict"),
        ({"offset": 10}, "offset", "unknown_parameter"),
    ],
)
def test_bad_queries(api: Api, params: dict[str, str | int], field: str, code: str) -> None:
    seed(api, ["s"])
    assert (field, code) in error_fields(api.http.get("/segments", params=params))


def test_a_cursor_of_another_sort_or_listing_is_rejected(api: Api) -> None:
    seed(api, ["a", "b"])
    api.emulator.add_contact(contact(A))
    api.emulator.add_contact(contact(B))
    by_time = api.http.get("/segments", params={"limit": 1}).json()["paging"]["cursors"]["after"]
    response = api.http.get("/segments", params={"after": by_time, "sort": "name"})
    assert ("after", "invalid_value") in error_fields(response)
    by_name = api.http.get("/segments", params={"limit": 1, "sort": "name"}).json()
    response = api.http.get("/contacts", params={"after": by_name["paging"]["cursors"]["after"]})
    assert ("after", "invalid_value") in error_fields(response)


# -- rate limits and scopes ---------------------------------------------------------------------


def test_15_writes_per_minute_then_429(api: Api) -> None:
    segment_id = ready(api)
    for _ in range(13):
        create(api)
    assert api.http.put(f"/segments/{segment_id}", json=VIP).status_code == 200  # the 15th write
    body = assert_problem(api.http.post("/segments", json=VIP), 429)
    assert body["retryAfter"] == 60 - BUILD
    assert api.http.get("/segments").status_code == 200  # reads have their own window
    assert api.http.get("/contacts").status_code == 200  # and so has the brand
    api.clock.advance(60 - BUILD)
    create(api)
    stats = api.emulator.stats
    assert (stats.requests["segment_writes"], stats.requests["segments"]) == (17, 1)
    assert stats.rate_limited == 1


def test_100_reads_and_deletes_per_minute_then_429(connect: Connect) -> None:
    api = connect(rate_limits=RateLimits(default_limit=5))
    segment_id = api.emulator.add_segment(VIP)["segmentID"]
    api.clock.advance(BUILD)
    for _ in range(99):
        assert api.http.get(f"/segments/{segment_id}/statistics").status_code == 200
    assert api.http.delete(f"/segments/{segment_id}").status_code == 204  # the 100th read
    assert_problem(api.http.get("/segments"), 429)
    assert_problem(api.http.delete(f"/segments/{segment_id}"), 429)
    assert api.http.post("/segments", json=VIP).status_code == 201  # writes have their own
    assert api.http.get("/contacts").status_code == 200  # and the brand its own
    assert api.emulator.stats.requests["segments"] == 102


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        (READ_ONLY, "GET", "/segments", 200),
        (READ_ONLY, "POST", "/segments", 403),
        (READ_ONLY, "DELETE", "/segments/{id}", 403),
        (CONTACTS_ONLY, "GET", "/segments", 403),
        (CONTACTS_ONLY, "GET", "/segments/{id}/statistics", 403),
        (frozenset({SEGMENTS_WRITE}), "PUT", "/segments/{id}", 200),
        (frozenset({SEGMENTS_WRITE}), "DELETE", "/segments/{id}", 204),
        (frozenset({SEGMENTS_WRITE}), "GET", "/segments/{id}", 403),
    ],
)
def test_scopes(
    connect: Connect,
    scopes: frozenset[str],
    method: str,
    path: str,
    status: int,
) -> None:
    api = connect(api_keys=[ScopedKey("limited", scopes)])
    segment_id = api.emulator.add_segment(VIP)["segmentID"]
    api.clock.advance(BUILD)
    response = api.http.request(
        method,
        path.format(id=segment_id),
        json=VIP if method in {"POST", "PUT"} else None,
        headers={"Authorization": "Omnisend-API-Key limited"},
    )
    assert response.status_code == status, response.text


# -- inspection helpers -------------------------------------------------------------------------


def test_helpers_show_segments_as_the_api_does(api: Api) -> None:
    api.emulator.add_contact(contact(A, tags=["VIP customers"]))
    segment_id = create(api)["segmentID"]
    assert api.emulator.segments() == [api.http.get(f"/segments/{segment_id}").json()]
    assert api.emulator.segment_contacts_count(segment_id) == 0
    assert api.emulator.run_until_idle() == BUILD  # builds are pending work too
    segment = api.emulator.segment(segment_id)
    assert segment is not None
    assert segment["status"] == "ready"
    assert api.emulator.segment_contacts_count(segment_id) == 1
    assert api.emulator.segment("0" * 24) is None
    assert api.emulator.segment_contacts_count("0" * 24) is None


def test_delete_segment_out_of_band_even_while_building(api: Api) -> None:
    segment_id = create(api)["segmentID"]
    api.emulator.delete_segment(segment_id)
    api.emulator.run_until_idle()
    assert api.emulator.segments() == []
    assert_problem(api.http.get(f"/segments/{segment_id}"), 404)
    with pytest.raises(ApiProblem, match="404"):
        api.emulator.delete_segment(segment_id)


def test_forced_building_holds_until_forced_ready(api: Api) -> None:
    api.emulator.add_contact(contact(A, tags=["VIP customers"]))
    segment_id = ready(api)
    api.emulator.set_segment_status(segment_id, "building")
    api.emulator.add_contact(contact(B, tags=["VIP customers"]))
    api.clock.advance(3600)
    assert status_of(api, segment_id) == "building"
    assert count(api, segment_id) == 1
    assert_problem(api.http.delete(f"/segments/{segment_id}"), 409)
    api.emulator.set_segment_status(segment_id, "ready")
    assert count(api, segment_id) == 2
    assert api.http.delete(f"/segments/{segment_id}").status_code == 204


def test_forced_ready_ends_a_build_and_its_timer_does_not_end_a_later_one(api: Api) -> None:
    segment_id = create(api)["segmentID"]
    api.emulator.set_segment_status(segment_id, "ready")
    assert status_of(api, segment_id) == "ready"
    api.emulator.set_segment_status(segment_id, "building")
    api.clock.advance(BUILD)  # the first build's end is due now: it is no longer this build's
    assert status_of(api, segment_id) == "building"


def test_hand_made_members_and_rule_segments_stay_apart(api: Api) -> None:
    api.emulator.add_contact(contact(A))
    api.emulator.add_to_segment("imported", [A])
    assert api.emulator.segment_contacts_count("imported") == 1
    assert api.emulator.segments() == []  # members only: not listed
    segment_id = create(api)["segmentID"]
    with pytest.raises(ValueError, match="tag its contacts"):
        api.emulator.add_to_segment(segment_id, [A])


def test_add_segment_validates_like_the_api(api: Api) -> None:
    with pytest.raises(ApiProblem, match="not-emulated"):
        api.emulator.add_segment(segment_body("s", [condition(tag_rule("v", operator="x"))]))
