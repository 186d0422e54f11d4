"""Validation as Omnisend does it: RFC 9457 problems with errors[{field, code, message}]."""

from __future__ import annotations

from typing import Any

import pytest

from tests.testing.conftest import Api, Connect
from tests.testing.helpers import assert_problem, contact, error_fields

EMAIL = {"type": "email", "id": "a@example.com"}


def with_identifier(**fields: Any) -> dict[str, Any]:
    return {"identifiers": [{**EMAIL, **fields}]}


BAD_CONTACTS = [
    pytest.param([], ("body", "invalid_type"), id="not-an-object"),
    pytest.param({}, ("identifiers", "required"), id="no-identifier"),
    pytest.param({"identifiers": []}, ("identifiers", "required"), id="empty-identifiers"),
    pytest.param({"identifiers": {}}, ("identifiers", "invalid_type"), id="identifiers-not-array"),
    pytest.param(
        {"identifiers": [{"id": "a@example.com"}]},
        ("identifiers.0.type", "required"),
        id="identifier-without-type",
    ),
    pytest.param(
        {"identifiers": [{"type": "email"}]},
        ("identifiers.0.id", "required"),
        id="identifier-without-id",
    ),
    pytest.param(
        {"identifiers": [{"type": "fax", "id": "1"}]},
        ("identifiers.0.type", "invalid_value"),
        id="bad-identifier-type",
    ),
    pytest.param(contact("not-an-email"), ("identifiers.0.id", "invalid_format"), id="bad-email"),
    pytest.param(
        contact(" a@example.com"),
        ("identifiers.0.id", "invalid_format"),
        id="untrimmed-email",
    ),
    pytest.param(contact("a@localhost"), ("identifiers.0.id", "invalid_format"), id="no-tld"),
    pytest.param(
        contact(phone="0037060000000"),
        ("identifiers.0.id", "invalid_format"),
        id="phone-not-e164",
    ),
    pytest.param(
        contact(phone="+37060 000000"),
        ("identifiers.0.id", "invalid_format"),
        id="phone-with-space",
    ),
    pytest.param(
        with_identifier(channels={"email": {"status": "active"}}),
        ("identifiers.0.channels.email.status", "invalid_value"),
        id="bad-status",
    ),
    pytest.param(
        with_identifier(channels={"email": {}}),
        ("identifiers.0.channels.email.status", "required"),
        id="channel-without-status",
    ),
    pytest.param(
        with_identifier(channels={"sms": {"status": "subscribed"}}),
        ("identifiers.0.channels.sms", "invalid_value"),
        id="sms-channel-on-email",
    ),
    pytest.param(
        with_identifier(channels={"push": {"status": "subscribed"}}),
        ("identifiers.0.channels.push", "unknown_field"),
        id="unknown-channel",
    ),
    pytest.param(
        with_identifier(
            channels={"email": {"status": "subscribed", "statusChangedAt": "2024-01-01T00:00:00"}},
        ),
        ("identifiers.0.channels.email.statusChangedAt", "invalid_format"),
        id="status-time-without-zone",
    ),
    pytest.param(
        with_identifier(
            channels={"email": {"status": "subscribed", "statusChangedAt": "2024-13-01T00:00:00Z"}},
        ),
        ("identifiers.0.channels.email.statusChangedAt", "invalid_format"),
        id="status-time-month-13",
    ),
    pytest.param(
        with_identifier(consent={"createdAt": "yesterday"}),
        ("identifiers.0.consent.createdAt", "invalid_format"),
        id="bad-consent-time",
    ),
    pytest.param(
        with_identifier(consent={"origin": "form"}),
        ("identifiers.0.consent.origin", "unknown_field"),
        id="unknown-consent-field",
    ),
    pytest.param(
        with_identifier(sendWelcomeMessage="no"),
        ("identifiers.0.sendWelcomeMessage", "invalid_type"),
        id="welcome-flag-not-boolean",
    ),
    pytest.param(
        with_identifier(sendWelcomeEmail=False),
        ("identifiers.0.sendWelcomeEmail", "unknown_field"),
        id="v3-welcome-flag",
    ),
    pytest.param(
        with_identifier(channels={"email": {"status": "subscribed", "statusDate": "x"}}),
        ("identifiers.0.channels.email.statusDate", "unknown_field"),
        id="v3-status-date",
    ),
    pytest.param(
        contact("a@example.com", first_name="A"), ("first_name", "unknown_field"), id="snake-case"
    ),
    pytest.param(
        contact("a@example.com", firstName=None), ("firstName", "invalid_type"), id="null"
    ),
    pytest.param(contact("a@example.com", city=7), ("city", "invalid_type"), id="number-city"),
    pytest.param(
        contact("a@example.com", gender="x"), ("gender", "invalid_value"), id="bad-gender"
    ),
    pytest.param(
        contact("a@example.com", birthdate="1990-02-30"),
        ("birthdate", "invalid_format"),
        id="impossible-birthdate",
    ),
    pytest.param(
        contact("a@example.com", birthdate="01/02/1990"),
        ("birthdate", "invalid_format"),
        id="birthdate-format",
    ),
    pytest.param(
        contact("a@example.com", countryCode="us"),
        ("countryCode", "invalid_format"),
        id="lowercase-country-code",
    ),
    pytest.param(
        contact("a@example.com", countryCode="USA"),
        ("countryCode", "invalid_format"),
        id="alpha-3-country-code",
    ),
    pytest.param(
        contact("a@example.com", createdAt="2024-01-01"),
        ("createdAt", "invalid_format"),
        id="created-at-date-only",
    ),
    pytest.param(
        contact("a@example.com", tags=[f"t{i}" for i in range(101)]),
        ("tags", "too_many"),
        id="101-tags",
    ),
    pytest.param(contact("a@example.com", tags="vip"), ("tags", "invalid_type"), id="tags-string"),
    pytest.param(contact("a@example.com", tags=[""]), ("tags.0", "invalid_value"), id="empty-tag"),
    pytest.param(
        contact("a@example.com", tags=["x" * 129]),
        ("tags.0", "invalid_value"),
        id="long-tag",
    ),
    pytest.param(contact("a@example.com", tags=[1]), ("tags.0", "invalid_type"), id="number-tag"),
    pytest.param(
        contact("a@example.com", customProperties=[]),
        ("customProperties", "invalid_type"),
        id="properties-not-object",
    ),
    pytest.param(
        contact("a@example.com", customProperties={"bad-name": 1}),
        ("customProperties.bad-name", "invalid_format"),
        id="property-name-dash",
    ),
    pytest.param(
        contact("a@example.com", customProperties={"p" * 129: 1}),
        ("customProperties." + "p" * 129, "invalid_format"),
        id="property-name-too-long",
    ),
    pytest.param(
        contact("a@example.com", customProperties={"nested": {"a": 1}}),
        ("customProperties.nested", "invalid_type"),
        id="nested-property",
    ),
    pytest.param(
        contact("a@example.com", customProperties={"nothing": None}),
        ("customProperties.nothing", "invalid_type"),
        id="null-property",
    ),
    pytest.param(
        contact("a@example.com", customProperties={"mixed": ["a", 1]}),
        ("customProperties.mixed", "invalid_type"),
        id="mixed-array-property",
    ),
    pytest.param(
        contact("a@example.com", customProperties={f"p{i}": i for i in range(201)}),
        ("customProperties", "too_many"),
        id="201-properties",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_CONTACTS)
def test_bad_contact_bodies(api: Api, body: Any, expected: tuple[str, str]) -> None:
    response = api.http.post("/contacts", json=body)
    assert expected in error_fields(response)
    assert api.emulator.contacts() == []


@pytest.mark.parametrize(("body", "expected"), BAD_CONTACTS[5:])
def test_patch_uses_the_same_rules(api: Api, body: Any, expected: tuple[str, str]) -> None:
    api.emulator.add_contact(contact("a@example.com"))
    response = api.http.patch("/contacts", params={"email": "a@example.com"}, json=body)
    assert expected in error_fields(response)


def test_every_error_is_reported_at_once(api: Api) -> None:
    body = {"identifiers": [{"type": "email", "id": "bad"}], "gender": "x", "tags": "y"}
    assert error_fields(api.http.post("/contacts", json=body)) == {
        ("identifiers.0.id", "invalid_format"),
        ("gender", "invalid_value"),
        ("tags", "invalid_type"),
    }


def test_every_error_has_a_message(api: Api) -> None:
    body = assert_problem(api.http.post("/contacts", json={"x": 1}), 400)
    assert all(error["message"] for error in body["errors"])


def test_valid_values_pass(api: Api) -> None:
    body = {
        "identifiers": [
            {
                "type": "email",
                "id": "Mixed.Case+tag@Example.co.uk",
                "channels": {
                    "email": {
                        "status": "subscribed",
                        "statusChangedAt": "2024-01-01T10:00:00.123+02:00",
                    },
                },
                "consent": {"source": "form", "createdAt": "2024-01-01T00:00:00Z", "ip": "1.2.3.4"},
                "sendWelcomeMessage": False,
                "source": "import",
            },
            {
                "type": "phone",
                "id": "+37060000000",
                "channels": {"sms": {"status": "nonSubscribed"}},
            },
        ],
        "firstName": "Ann",
        "lastName": "Lee",
        "address": "Main st. 1",
        "city": "Vilnius",
        "state": "",
        "postalCode": "01100",
        "country": "Lithuania",
        "countryCode": "LT",
        "gender": "f",
        "birthdate": "1990-02-28",
        "tags": ["source: shopify", "VIP"],
        "customProperties": {
            "points": 10,
            "ratio": 0.5,
            "vip": True,
            "skus": ["a", "b"],
            "note": "x",
        },
        "createdAt": "2020-05-05T05:05:05Z",
    }
    assert api.http.post("/contacts", json=body).status_code == 201


def test_malformed_json(api: Api) -> None:
    response = api.http.post(
        "/contacts",
        content=b'{"identifiers": [',
        headers={"content-type": "application/json"},
    )
    assert assert_problem(response, 400)["type"].endswith("malformed-json")


def test_nan_is_not_json(api: Api) -> None:
    response = api.http.post(
        "/contacts",
        content=b'{"identifiers": [{"type": "email", "id": "a@example.com"}], '
        b'"customProperties": {"x": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400)


def test_missing_body(api: Api) -> None:
    assert ("body", "required") in error_fields(api.http.post("/contacts"))


def test_form_body_is_415(api: Api) -> None:
    assert_problem(api.http.post("/contacts", data={"email": "a@example.com"}), 415)


def test_body_over_the_limit_is_413(connect: Connect) -> None:
    api = connect(max_body_bytes=1000)
    body = contact("a@example.com", customProperties={"big": "x" * 1000})
    assert_problem(api.http.post("/contacts", json=body), 413)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/contacts?email=a@example.com"),
        ("GET", "/contacts/abc?x=1"),
        ("POST", "/batches?a=b"),
    ],
)
def test_unknown_query_parameters(api: Api, method: str, path: str) -> None:
    response = api.http.request(method, path, json=contact("a@example.com"))
    assert any(code == "unknown_parameter" for _, code in error_fields(response))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"emails": ["a@example.com"]}, ("tags", "required"), id="no-tags"),
        pytest.param(
            {"tags": [], "emails": ["a@example.com"]}, ("tags", "too_few"), id="zero-tags"
        ),
        pytest.param(
            {"tags": [f"t{i}" for i in range(101)], "emails": ["a@example.com"]},
            ("tags", "too_many"),
            id="101-tags",
        ),
        pytest.param({"tags": ["x"]}, ("contactIDs", "required"), id="no-selector"),
        pytest.param(
            {"tags": ["x"], "emails": []}, ("contactIDs", "required"), id="empty-selector"
        ),
        pytest.param(
            {"tags": ["x"], "emails": [f"u{i}@example.com" for i in range(251)]},
            ("emails", "too_many"),
            id="251-emails",
        ),
        pytest.param(
            {"tags": ["x"], "phones": ["+1"] * 251},
            ("phones", "too_many"),
            id="251-phones",
        ),
        pytest.param(
            {"tags": ["x"], "contactIDs": ["a"] * 251},
            ("contactIDs", "too_many"),
            id="251-contact-ids",
        ),
        pytest.param(
            {"tags": ["x"], "emails": ["nope"]}, ("emails.0", "invalid_format"), id="bad-email"
        ),
        pytest.param(
            {"tags": ["x"], "phones": ["123"]}, ("phones.0", "invalid_format"), id="bad-phone"
        ),
        pytest.param(
            {"tags": ["x"], "segmentID": 5}, ("segmentID", "invalid_type"), id="bad-segment"
        ),
        pytest.param(
            {"tags": ["x"], "email": ["a@example.com"]}, ("email", "unknown_field"), id="typo"
        ),
    ],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_bad_tag_requests(api: Api, method: str, body: Any, expected: tuple[str, str]) -> None:
    response = api.http.request(method, "/contacts/tags", json=body)
    assert expected in error_fields(response)


ITEM = contact("a@example.com")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"endpoint": "contacts", "items": [ITEM]}, ("method", "required"), id="no-method"
        ),
        pytest.param(
            {"method": "POST", "items": [ITEM]}, ("endpoint", "required"), id="no-endpoint"
        ),
        pytest.param(
            {"method": "POST", "endpoint": "contacts"}, ("items", "required"), id="no-items"
        ),
        pytest.param(
            {"method": "GET", "endpoint": "contacts", "items": [ITEM]},
            ("method", "invalid_value"),
            id="bad-method",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "orders", "items": [ITEM]},
            ("endpoint", "invalid_value"),
            id="bad-endpoint",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "events", "items": [ITEM]},
            ("endpoint", "unsupported"),
            id="events-not-emulated",
        ),
        pytest.param(
            {"method": "PUT", "endpoint": "contacts", "items": [ITEM]},
            ("method", "unsupported"),
            id="put-not-emulated",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "contacts", "items": []},
            ("items", "too_few"),
            id="zero-items",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "contacts", "items": [ITEM] * 101},
            ("items", "too_many"),
            id="101-items",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "contacts", "items": [ITEM], "origin": 1},
            ("origin", "invalid_type"),
            id="bad-origin",
        ),
        pytest.param(
            {"method": "POST", "endpoint": "contacts", "items": [ITEM], "eventID": "x"},
            ("eventID", "unknown_field"),
            id="unknown-field",
        ),
    ],
)
def test_bad_batch_requests(api: Api, body: Any, expected: tuple[str, str]) -> None:
    assert expected in error_fields(api.http.post("/batches", json=body))
    assert api.emulator.stats.batches_created == 0
