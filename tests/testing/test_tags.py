"""POST/DELETE /contacts/tags: 202, applied after the configured delay, selectors united."""

from __future__ import annotations

from tests.testing.conftest import Api, Connect
from tests.testing.helpers import contact

A, B, C = "a@example.com", "b@example.com", "c@example.com"


def tags_of(api: Api, email: str) -> list[str]:
    found = api.emulator.contact(email)
    assert found is not None
    tags: list[str] = found["tags"]
    return tags


def test_add_is_accepted_then_applied_after_the_delay(connect: Connect) -> None:
    api = connect(tag_delay=5.0)
    api.http.post("/contacts", json=contact(A, tags=["old"]))
    response = api.http.post("/contacts/tags", json={"tags": ["vip"], "emails": [A]})
    assert response.status_code == 202
    assert response.content == b""
    api.clock.advance(4.9)
    assert tags_of(api, A) == ["old"]
    api.clock.advance(0.1)
    assert tags_of(api, A) == ["old", "vip"]
    assert api.emulator.stats.tag_replacements == 0


def test_selectors_are_united_and_unknown_ones_ignored(api: Api) -> None:
    a = api.http.post("/contacts", json=contact(A)).json()
    api.http.post("/contacts", json=contact(B, phone="+37060000000"))
    api.http.post("/contacts", json=contact(C))
    api.http.post("/contacts", json=contact("d@example.com"))
    api.emulator.add_to_segment("seg", [C])
    body = {
        "tags": ["t1", "t2"],
        "contactIDs": [a["id"], "000000000000000000000000"],
        "emails": [A, "nobody@example.com"],
        "phones": ["+37060000000", "+19999999999"],
        "segmentID": "seg",
    }
    assert api.http.post("/contacts/tags", json=body).status_code == 202
    api.emulator.run_until_idle()
    assert [tags_of(api, e) for e in (A, B, C, "d@example.com")] == [
        ["t1", "t2"],
        ["t1", "t2"],
        ["t1", "t2"],
        [],
    ]


def test_adding_is_idempotent(api: Api) -> None:
    api.http.post("/contacts", json=contact(A, tags=["vip"]))
    for _ in range(2):
        api.http.post("/contacts/tags", json={"tags": ["vip", "new"], "emails": [A]})
    api.emulator.run_until_idle()
    assert tags_of(api, A) == ["vip", "new"]


def test_remove(api: Api) -> None:
    api.http.post("/contacts", json=contact(A, tags=["a", "b", "c"]))
    response = api.http.request(
        "DELETE", "/contacts/tags", json={"tags": ["b", "x"], "emails": [A]}
    )
    assert response.status_code == 202
    api.emulator.run_until_idle()
    assert tags_of(api, A) == ["a", "c"]


def test_remove_is_applied_after_the_delay_to_the_named_tags_only(connect: Connect) -> None:
    api = connect(tag_delay=5.0)
    api.http.post("/contacts", json=contact(A, tags=["a", "b", "c"], firstName="Ann"))
    api.http.post("/contacts", json=contact(B, tags=["b"]))
    api.http.post("/contacts", json=contact(C, tags=["b", "x"]))
    untouched = api.emulator.contact(C)
    api.clock.advance(1)
    body = {"tags": ["b", "never-set"], "emails": [A, B, "nobody@example.com"]}
    response = api.http.request("DELETE", "/contacts/tags", json=body)
    assert (response.status_code, response.content) == (202, b"")
    api.clock.advance(4.9)
    assert [tags_of(api, e) for e in (A, B, C)] == [["a", "b", "c"], ["b"], ["b", "x"]]
    api.clock.advance(0.1)
    assert [tags_of(api, e) for e in (A, B, C)] == [["a", "c"], [], ["b", "x"]]
    found = api.emulator.contact(A)
    assert found is not None
    assert (found["firstName"], found["status"]) == ("Ann", "nonSubscribed")
    assert found["updatedAt"] == "2026-03-15T00:00:06Z"
    assert api.emulator.contact(C) == untouched  # not selected: not even updatedAt moves
    assert len(api.emulator.contacts()) == 3  # an unknown email creates no one
    assert api.emulator.stats.tag_replacements == 0


def test_selectors_resolve_when_applied(api: Api) -> None:
    api.http.post("/contacts/tags", json={"tags": ["early"], "emails": [A]})
    api.http.post("/contacts", json=contact(A))  # created after the request, before it is applied
    api.emulator.run_until_idle()
    assert tags_of(api, A) == ["early"]


def test_tagging_updates_updated_at(api: Api) -> None:
    api.http.post("/contacts", json=contact(A))
    api.http.post("/contacts/tags", json={"tags": ["x"], "emails": [A]})
    moved = api.emulator.run_until_idle()
    assert moved == 2.0  # the default delay
    found = api.emulator.contact(A)
    assert found is not None
    assert found["updatedAt"] == "2026-03-15T00:00:02Z"
