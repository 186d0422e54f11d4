"""The row mapper: rows to contacts, issues, policies, JSON identical to the cattrs converter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from omnisend_sdk import _json
from omnisend_sdk._wire import contact_to_json
from omnisend_sdk.mapping import ContactMapping, MappedRow, RowIssue, RowMapper
from tests.mapping._schema import mapped_contact_problems

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SUBSCRIPTION = ContactMapping(
    email="email",
    email_status="status",
    email_status_changed_at="since",
    consent_source="form",
    consent_ip="ip",
    consent_user_agent="agent",
    phone="phone",
    default_phone_country="LT",
)


def map_one(mapping: ContactMapping, row: dict[str, Any]) -> MappedRow:
    return _bind(mapping, row).map(7, row)


def _bind(mapping: ContactMapping, row: dict[str, Any]) -> RowMapper:
    resolved = {c: c for _, c in mapping.columns()}
    return RowMapper(mapping, resolved, now=NOW)


def codes(mapped: MappedRow) -> list[tuple[str, str, str]]:
    return [(i.field, i.severity, i.code) for i in mapped.issues]


def same_json(mapped: MappedRow) -> None:
    """The fast JSON path equals the converter's, as dicts and as bytes, for both versions."""
    contact = mapped.contact
    assert contact is not None
    for version in ("2026-03-15", "v3"):
        fast, slow = mapped.to_json(version), contact_to_json(contact, version)  # type: ignore[arg-type]
        assert fast == slow
        assert _json.dumps(fast) == _json.dumps(slow) == _json.stdlib_dumps(fast)
    assert mapped_contact_problems(mapped.to_json()) == []  # type: ignore[arg-type]


ROW = {
    "email": " Ann@Example.com ",
    "status": "subscribed",
    "since": "2024-05-01T10:00:00Z",
    "form": "spring popup",
    "ip": "192.0.2.1",
    "agent": "Mozilla/5.0",
    "phone": "0600 12345",
}


@pytest.mark.parametrize(
    ("changes", "channel", "consent", "issues"),
    [
        ({}, {"status": "subscribed", "statusChangedAt": "2024-05-01T10:00:00Z"}, True, []),
        (
            {"since": ""},
            None,
            False,
            [
                ("email_status", "warning", "status_without_time"),
                ("consent_source", "warning", "consent_without_time"),
            ],
        ),
        (
            {"since": "someday"},
            None,
            False,
            [
                ("email_status_changed_at", "warning", "invalid_time"),
                ("email_status", "warning", "status_without_time"),
                ("consent_source", "warning", "consent_without_time"),
            ],
        ),
        (
            {"since": "2027-01-01"},
            None,
            False,
            [
                ("email_status", "warning", "status_time_in_future"),
                ("consent_source", "warning", "consent_without_time"),
            ],
        ),
        (
            {"status": "unsubscribed", "since": ""},
            {"status": "unsubscribed"},
            False,
            [("consent_source", "warning", "consent_without_time")],
        ),
        ({"status": "yes"}, None, True, [("email_status", "warning", "unknown_status")]),
        ({"status": ""}, None, True, []),
        (
            {"ip": "999.1.1.1"},
            {"status": "subscribed", "statusChangedAt": "2024-05-01T10:00:00Z"},
            True,
            [("consent_ip", "warning", "invalid_ip")],
        ),
    ],
)
def test_subscription_is_sent_only_with_a_real_time(
    changes: dict[str, str],
    channel: dict[str, str] | None,
    consent: bool,
    issues: list[tuple[str, str, str]],
) -> None:
    mapped = map_one(SUBSCRIPTION, {**ROW, **changes})
    assert mapped.ok
    assert codes(mapped) == issues
    identifier = mapped.to_json()["identifiers"][0]  # type: ignore[index]
    assert identifier.get("channels", {}).get("email") == channel
    assert ("consent" in identifier) is consent
    assert identifier["sendWelcomeMessage"] is False
    same_json(mapped)


def test_no_status_is_sent_when_none_is_mapped() -> None:
    mapped = map_one(ContactMapping(email="email"), {"email": "a@example.com"})
    assert mapped.to_json() == {
        "identifiers": [{"type": "email", "id": "a@example.com", "sendWelcomeMessage": False}]
    }


def test_phone_becomes_a_second_identifier() -> None:
    mapped = map_one(SUBSCRIPTION, ROW)
    identifiers = mapped.to_json()["identifiers"]  # type: ignore[index]
    assert identifiers[1] == {"type": "phone", "id": "+37060012345", "sendWelcomeMessage": False}


def test_unsafe_phone_is_dropped_with_a_warning() -> None:
    mapped = map_one(SUBSCRIPTION, {**ROW, "phone": "call me"})
    assert mapped.ok
    assert ("phone", "warning", "invalid_phone") in codes(mapped)
    assert len(mapped.to_json()["identifiers"]) == 1  # type: ignore[index]


def test_welcome_message_can_be_asked_for() -> None:
    mapping = ContactMapping(email="email", phone="phone", send_welcome_message=True)
    mapped = map_one(mapping, {"email": "a@example.com", "phone": "+37060012345"})
    assert [i["sendWelcomeMessage"] for i in mapped.to_json()["identifiers"]] == [True, True]  # type: ignore[index]
    assert mapped.to_json("v3")["sendWelcomeEmail"] is True  # type: ignore[index]
    same_json(mapped)


LONG = "x" * 300


@pytest.mark.parametrize(
    ("policy", "ok", "city", "severity"),
    [
        ("truncate", True, "x" * 255, "warning"),
        ("drop", True, None, "warning"),
        ("reject", False, None, "error"),
    ],
)
def test_long_text_policy(policy: str, ok: bool, city: str | None, severity: str) -> None:
    mapping = ContactMapping(email="email", city="city", long_text=policy)  # type: ignore[arg-type]
    mapped = map_one(mapping, {"email": "a@example.com", "city": LONG})
    assert mapped.ok is ok
    assert codes(mapped) == [("city", severity, "too_long")]
    assert mapped.issues[0].value == "x***"
    if ok:
        assert mapped.contact.city == city  # type: ignore[union-attr]
    else:
        assert mapped.contact is None
        assert mapped.to_json() is None


EVERYTHING = ContactMapping(
    email="email",
    first_name="first",
    last_name="last",
    address=("street", "line2"),
    city="city",
    state="state",
    postal_code="zip",
    country="country",
    phone="phone",
    gender="gender",
    birthdate="birthday",
    custom_properties={"tier": "tier", "points": "points", "vip": "vip", "kids": "kids"},
    tags=("spring",),
    email_status="status",
    email_status_changed_at="since",
    consent_source="form",
    default_phone_country="US",
)


@pytest.mark.parametrize(
    ("changes", "issues"),
    [
        ({}, []),
        ({"gender": "x"}, [("gender", "warning", "unsupported_gender")]),
        ({"birthday": "31/31/1990"}, [("birthdate", "warning", "invalid_birthdate")]),
        ({"birthday": "03/04/1990"}, [("birthdate", "warning", "ambiguous_birthdate")]),
        (  # a national phone is not read with the default in a row whose country is unknown
            {"country": "Atlantis"},
            [("country", "warning", "unknown_country"), ("phone", "warning", "invalid_phone")],
        ),
        ({"email": "nope"}, [("email", "error", "invalid_email")]),
        ({"email": None}, [("email", "error", "missing_email")]),
        ({"first": "  ", "last": None, "street": "", "line2": ""}, []),
    ],
)
def test_every_field(changes: dict[str, Any], issues: list[tuple[str, str, str]]) -> None:
    row = {
        "email": "JOHN@EXAMPLE.COM",
        "first": "John",
        "last": "Smith",
        "street": "1 Main St",
        "line2": "Apt 4",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "usa",
        "phone": "(212) 555-0100",
        "gender": "Male",
        "birthday": "1990-04-03",
        "tier": "gold",
        "points": 120,
        "vip": True,
        "kids": ["Ann", "Bob"],
        "status": "subscribed",
        "since": "2024-05-01T10:00:00+02:00",
        "form": "checkout",
        **changes,
    }
    mapped = map_one(EVERYTHING, row)
    assert codes(mapped) == issues
    if mapped.ok:
        same_json(mapped)
        body = mapped.to_json()
        assert body is not None
        assert "" not in body.values()
    else:
        assert mapped.email is None


def test_clean_row_json() -> None:
    row = {"email": "JOHN@EXAMPLE.COM", "first": "John", "last": None, "street": "1 Main St",
           "line2": None, "city": None, "state": None, "zip": None, "country": "usa", "phone": None,
           "gender": "m", "birthday": "1990-04-03", "tier": "gold", "points": 120, "vip": True,
           "kids": ["Ann"], "status": "subscribed", "since": "2024-05-01T10:00:00+02:00",
           "form": "checkout"}  # fmt: skip
    assert map_one(EVERYTHING, row).to_json() == {
        "identifiers": [
            {
                "type": "email",
                "id": "john@example.com",
                "channels": {
                    "email": {
                        "status": "subscribed",
                        "statusChangedAt": "2024-05-01T10:00:00+02:00",
                    }
                },
                "consent": {"source": "checkout", "createdAt": "2024-05-01T10:00:00+02:00"},
                "sendWelcomeMessage": False,
            }
        ],
        "firstName": "John",
        "address": "1 Main St",
        "country": "United States",
        "countryCode": "US",
        "gender": "m",
        "birthdate": "1990-04-03",
        "tags": ["spring"],
        "customProperties": {"tier": "gold", "points": 120, "vip": True, "kids": ["Ann"]},
    }


def test_source_issues_are_kept_with_the_row() -> None:
    warning = RowIssue(
        row=7, field="row", severity="warning", code="decoded_with_fallback", message="m"
    )
    mapped = _bind(ContactMapping(email="email"), {}).map(7, {"email": "a@example.com"}, (warning,))
    assert mapped.ok
    assert mapped.issues == (warning,)


def test_repr_masks_nothing_it_should_not_show() -> None:
    mapped = map_one(ContactMapping(email="email"), {"email": "nope"})
    assert "rejected" in repr(mapped)
    assert "nope" not in repr(mapped.issues)


@pytest.mark.parametrize("long_text", ["truncate", "reject"])
@pytest.mark.parametrize("country", ["Atlantis", "Georgia, USA", "x" * 300])
def test_a_country_no_rule_recognises_is_not_sent(country: str, long_text: str) -> None:
    """Omnisend would derive a country code from the name: a value no rule confirms is left out
    with a warning, whatever its length, and the rest of the contact is sent."""
    mapping = ContactMapping(email="email", city="city", country="country", long_text=long_text)
    mapped = map_one(mapping, {"email": "ann@example.com", "city": "Tbilisi", "country": country})

    assert mapped.ok
    assert codes(mapped) == [("country", "warning", "unknown_country")]
    assert "sent without one" in mapped.issues[0].message
    body = mapped.to_json()
    assert body is not None
    assert "country" not in body
    assert "countryCode" not in body
    assert body["city"] == "Tbilisi"
