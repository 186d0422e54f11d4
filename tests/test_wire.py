"""The cattrs converter: camelCase, nothing None sent, unknown fields tolerated, v3 spellings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnisend_sdk import Batch, ChannelState, Contact, ContactInput, Identifier
from omnisend_sdk._wire import camel_case, contact_to_json, format_datetime, from_json


@pytest.mark.parametrize(
    ("name", "json_name"),
    [("first_name", "firstName"), ("status_changed_at", "statusChangedAt"), ("id", "id")],
)
def test_camel_case(name: str, json_name: str) -> None:
    assert camel_case(name) == json_name


def test_nothing_unset_is_sent() -> None:
    assert contact_to_json(ContactInput(city="Kaunas"), "2026-03-15") == {"city": "Kaunas"}


def test_an_empty_tag_list_is_sent_because_it_means_remove_all() -> None:
    assert contact_to_json(ContactInput(tags=()), "2026-03-15") == {"tags": []}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-02T03:04:05+02:00",
        ),
    ],
)
def test_datetimes_are_rfc3339(value: datetime, text: str) -> None:
    assert format_datetime(value) == text


def test_v3_spellings() -> None:
    contact = ContactInput(
        identifiers=(
            Identifier(
                type="email",
                id="a@b.co",
                channels={"email": ChannelState("unsubscribed", datetime(2026, 1, 1, tzinfo=UTC))},
                send_welcome_message=False,
            ),
        )
    )
    assert contact_to_json(contact, "v3") == {
        "identifiers": [
            {
                "type": "email",
                "id": "a@b.co",
                "channels": {
                    "email": {"status": "unsubscribed", "statusDate": "2026-01-01T00:00:00Z"}
                },
            }
        ],
        "sendWelcomeEmail": False,
    }
    assert from_json(Contact, {"contactID": "v3id"}, "v3").id == "v3id"


def test_responses_tolerate_unknown_fields_and_nulls() -> None:
    batch = from_json(
        Batch,
        {
            "batchID": "b",
            "status": "finished",
            "endedAt": None,
            "newField": [1, 2],
            "totalCount": 3,
        },
        "2026-03-15",
    )
    assert (batch.batch_id, batch.status, batch.ended_at, batch.total_count) == (
        "b",
        "finished",
        None,
        3,
    )
