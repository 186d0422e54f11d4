"""Contacts: upsert, get, patch and the rules that matter for exports."""

from __future__ import annotations

import pytest

from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact, subscribed

A = "a@example.com"


def test_upsert_creates_then_updates(api: Api) -> None:
    created = api.http.post("/contacts", json=contact(A, firstName="Ann"))
    assert created.status_code == 201
    updated = api.http.post("/contacts", json=contact(A, lastName="Lee"))
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["firstName"] == "Ann"  # fields not sent stay
    assert updated.json()["lastName"] == "Lee"
    assert api.emulator.stats.contacts_created == 1
    assert api.emulator.stats.contacts_updated == 1


def test_full_contact_body(api: Api) -> None:
    body = {
        "identifiers": [
            subscribed(A, "2024-01-01T00:00:00Z")
            | {"consent": {"source": "form", "createdAt": "2024-01-01T00:00:00Z"}},
            {"type": "phone", "id": "+37060000000"},
        ],
        "firstName": "Ann",
        "country": "Lithuania",
        "tags": ["vip"],
        "customProperties": {"points": 3},
        "createdAt": "2020-01-01T00:00:00Z",
    }
    answer = api.http.post("/contacts", json=body).json()
    assert len(answer["id"]) == 24
    assert answer["email"] == A
    assert answer["phone"] == ["+37060000000"]
    assert answer["status"] == "subscribed"
    assert {s["channel"]: s["status"] for s in answer["statuses"]} == {
        "email": "subscribed",
        "sms": "nonSubscribed",
    }
    assert answer["optIns"] == [{"channel": "email", "optInAt": "2024-01-01T00:00:00Z"}]
    assert answer["consents"] == [
        {"channel": "email", "source": "form", "createdAt": "2024-01-01T00:00:00Z"},
    ]
    assert answer["identifiers"][0]["channels"]["email"]["statusChangedAt"] == (
        "2024-01-01T00:00:00Z"
    )
    assert answer["tags"] == ["vip"]
    assert answer["countryCode"] == "LT"
    assert answer["customProperties"] == {"points": 3, "externalCreated": "2020-01-01T00:00:00Z"}
    assert answer["createdAt"] == answer["updatedAt"] == "2026-03-15T00:00:00Z"
    assert answer["segments"] == []


def test_get_by_id(api: Api) -> None:
    created = api.http.post("/contacts", json=contact(A)).json()
    assert api.http.get(f"/contacts/{created['id']}").json() == created
    assert_problem(api.http.get("/contacts/000000000000000000000000"), 404)


@pytest.mark.parametrize(
    ("country", "code", "expected"),
    [
        ("United States", None, "US"),
        ("Lithuania", "LV", "LV"),  # countryCode wins
        ("Atlantis", None, None),  # unknown name: no code
    ],
)
def test_country_code(api: Api, country: str, code: str | None, expected: str | None) -> None:
    body = contact(A, country=country) | ({"countryCode": code} if code else {})
    assert api.http.post("/contacts", json=body).json().get("countryCode") == expected


def test_identifiers_are_case_sensitive(api: Api) -> None:
    lower = api.http.post("/contacts", json=contact(A))
    upper = api.http.post("/contacts", json=contact(A.upper()))
    assert (lower.status_code, upper.status_code) == (201, 201)
    assert lower.json()["id"] != upper.json()["id"]
    assert len(api.emulator.contacts()) == 2


def test_identifier_of_another_contact_is_ignored(api: Api) -> None:
    api.http.post("/contacts", json=contact(A, phone="+37060000000"))
    answer = api.http.post("/contacts", json=contact("b@example.com", phone="+37060000000"))
    assert answer.status_code == 201
    assert answer.json()["phone"] == []
    assert api.emulator.contact(A)["phone"] == ["+37060000000"]  # type: ignore[index]


def test_no_contact_when_the_only_identifier_is_taken(api: Api) -> None:
    owner = api.http.post("/contacts", json=contact(phone="+37060000000")).json()
    answer = api.http.post("/contacts", json=contact(phone="+37060000000", firstName="Other"))
    assert answer.status_code == 200
    assert answer.json()["id"] == owner["id"]
    assert "firstName" not in answer.json()
    assert len(api.emulator.contacts()) == 1


def test_upsert_matches_any_email_and_adds_new_identifiers(api: Api) -> None:
    first = api.http.post("/contacts", json=contact(A)).json()
    body = {"identifiers": [{"type": "email", "id": "new@example.com"}, {"type": "email", "id": A}]}
    answer = api.http.post("/contacts", json=body)
    assert answer.status_code == 200
    assert answer.json()["id"] == first["id"]
    assert [i["id"] for i in answer.json()["identifiers"]] == [A, "new@example.com"]


@pytest.mark.parametrize(
    ("stored_at", "sent_at", "applied"),
    [
        ("2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", False),  # older than stored: ignored
        ("2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z", True),  # same time: applied
        ("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", True),  # newer: applied
        ("2024-01-02T00:00:00Z", None, True),  # no time counts as now
    ],
)
def test_older_status_is_ignored(
    api: Api,
    stored_at: str,
    sent_at: str | None,
    applied: bool,
) -> None:
    api.http.post("/contacts", json={"identifiers": [subscribed(A, stored_at, "unsubscribed")]})
    answer = api.http.post("/contacts", json={"identifiers": [subscribed(A, sent_at)]}).json()
    assert answer["status"] == ("subscribed" if applied else "unsubscribed")
    stats = api.emulator.stats
    assert (stats.status_changes, stats.resubscriptions) == ((1, 1) if applied else (0, 0))


def test_status_change_counters(api: Api) -> None:
    api.http.post("/contacts", json={"identifiers": [subscribed(A)]})
    api.clock.advance(1)
    api.http.post("/contacts", json={"identifiers": [subscribed(A, status="unsubscribed")]})
    api.clock.advance(1)
    api.http.post("/contacts", json={"identifiers": [subscribed(A, status="nonSubscribed")]})
    api.clock.advance(1)
    api.http.post("/contacts", json={"identifiers": [subscribed(A)]})
    stats = api.emulator.stats
    assert stats.status_changes == 3
    assert (
        stats.resubscriptions == 0
    )  # unsubscribed -> nonSubscribed -> subscribed is no direct flip


def test_sending_no_channel_keeps_the_status(api: Api) -> None:
    api.http.post("/contacts", json={"identifiers": [subscribed(A, status="unsubscribed")]})
    api.clock.advance(60)
    assert api.http.post("/contacts", json=contact(A)).json()["status"] == "unsubscribed"
    assert api.emulator.stats.status_changes == 0


def test_sms_status_and_resubscription(api: Api) -> None:
    def sms(status: str) -> dict[str, object]:
        return {"type": "phone", "id": "+37060000000", "channels": {"sms": {"status": status}}}

    email = {"type": "email", "id": A}
    api.http.post("/contacts", json={"identifiers": [email, sms("unsubscribed")]})
    api.clock.advance(1)
    answer = api.http.post("/contacts", json={"identifiers": [email, sms("subscribed")]})
    assert {s["channel"]: s["status"] for s in answer.json()["statuses"]}["sms"] == "subscribed"
    assert api.emulator.stats.resubscriptions == 1


@pytest.mark.parametrize(
    ("workflow", "flag", "expected"),
    [
        (True, None, 1),
        (True, True, 1),
        (True, False, 0),
        (False, None, 0),
    ],
)
def test_welcome_messages(
    connect: Connect, workflow: bool, flag: bool | None, expected: int
) -> None:
    api = connect(welcome_workflow=workflow)
    identifier: dict[str, object] = {"type": "email", "id": A}
    if flag is not None:
        identifier["sendWelcomeMessage"] = flag
    api.http.post("/contacts", json={"identifiers": [identifier]})
    api.http.post("/contacts", json={"identifiers": [identifier]})  # not new the second time
    assert api.emulator.stats.welcome_messages == expected


def test_welcome_message_for_a_new_identifier_on_an_existing_contact(api: Api) -> None:
    api.http.post("/contacts", json=contact(A))
    api.http.post("/contacts", json=contact(A, phone="+37060000000"))
    assert api.emulator.stats.welcome_messages == 2


@pytest.mark.parametrize(
    ("before", "sent", "after", "replacements"),
    [
        (["a"], ["a", "b"], ["a", "b"], 0),
        (["a", "b"], ["b"], ["b"], 1),
        (["a"], [], [], 1),
        ([], ["x", "x"], ["x"], 0),
    ],
)
def test_tags_in_the_body_replace_tags(
    api: Api,
    before: list[str],
    sent: list[str],
    after: list[str],
    replacements: int,
) -> None:
    api.http.post("/contacts", json=contact(A, tags=before))
    assert api.http.post("/contacts", json=contact(A, tags=sent)).json()["tags"] == after
    assert api.emulator.stats.tag_replacements == replacements


def test_no_tags_in_the_body_keeps_tags(api: Api) -> None:
    api.http.post("/contacts", json=contact(A, tags=["keep"]))
    assert api.http.post("/contacts", json=contact(A)).json()["tags"] == ["keep"]


def test_custom_properties_merge_and_count(api: Api) -> None:
    api.http.post("/contacts", json=contact(A, customProperties={f"p{i}": i for i in range(150)}))
    merged = api.http.post("/contacts", json=contact(A, customProperties={"p0": "x"}))
    assert merged.json()["customProperties"]["p0"] == "x"
    too_many = contact(A, customProperties={f"q{i}": i for i in range(51)})
    response = api.http.post("/contacts", json=too_many)
    assert assert_problem(response, 400)["errors"][0]["code"] == "too_many"
    assert len(api.emulator.contact(A)["customProperties"]) == 150  # type: ignore[index]


def test_patch_by_id_changes_only_what_is_sent(api: Api) -> None:
    created = api.http.post("/contacts", json=contact(A, firstName="Ann", city="Riga")).json()
    api.clock.advance(5)
    patched = api.http.patch(f"/contacts/{created['id']}", json={"city": "Vilnius"})
    assert patched.status_code == 200
    assert (patched.json()["firstName"], patched.json()["city"]) == ("Ann", "Vilnius")
    assert patched.json()["updatedAt"] == "2026-03-15T00:00:05Z"
    assert patched.json()["createdAt"] == "2026-03-15T00:00:00Z"


def test_patch_by_email(api: Api) -> None:
    api.http.post("/contacts", json=contact(A))
    patched = api.http.patch("/contacts", params={"email": A}, json={"lastName": "Lee"})
    assert patched.json()["lastName"] == "Lee"
    assert_problem(api.http.patch("/contacts", params={"email": A.upper()}, json={}), 404)


@pytest.mark.parametrize("params", [{}, {"email": A, "phone": "+1"}])
def test_patch_by_email_needs_exactly_the_email(api: Api, params: dict[str, str]) -> None:
    assert_problem(api.http.patch("/contacts", params=params, json={}), 400)


def test_patch_unknown_id_is_404(api: Api) -> None:
    assert_problem(api.http.patch("/contacts/nope", json={"firstName": "x"}), 404)


def test_patch_with_identifier_of_another_contact_is_409(api: Api) -> None:
    api.http.post("/contacts", json=contact("b@example.com"))
    mine = api.http.post("/contacts", json=contact(A)).json()
    body = {"identifiers": [{"type": "email", "id": "b@example.com"}], "firstName": "x"}
    assert_problem(api.http.patch(f"/contacts/{mine['id']}", json=body), 409)
    assert "firstName" not in api.emulator.contact(A)  # type: ignore[operator]


def test_patch_adds_identifiers_and_statuses(api: Api) -> None:
    mine = api.http.post("/contacts", json=contact(A)).json()
    body = {"identifiers": [subscribed(A), {"type": "phone", "id": "+37060000000"}]}
    patched = api.http.patch(f"/contacts/{mine['id']}", json=body).json()
    assert patched["status"] == "subscribed"
    assert patched["phone"] == ["+37060000000"]


def test_add_contact_and_segments_for_seeding(api: Api) -> None:
    seeded = api.emulator.add_contact(contact(A))
    api.emulator.add_to_segment("seg1", [A])
    assert api.http.get(f"/contacts/{seeded['id']}").json()["segments"] == ["seg1"]
