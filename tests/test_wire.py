"""The wire: camelCase, nothing None sent, unknown fields tolerated, v3 spellings, and the fast
contact encoder writing the converter's bytes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import Batch, ChannelState, Consent, Contact, ContactInput, Identifier, _json
from omnisend_sdk._constants import API_VERSIONS, ApiVersion
from omnisend_sdk._wire import (
    CONTACT_ENCODERS,
    CONTACT_FIELDS,
    camel_case,
    contact_fields,
    contact_to_json,
    format_datetime,
    from_json,
    json_name,
)


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


@pytest.mark.parametrize("version", API_VERSIONS)
def test_no_version_renames_a_contact_body_field(version: ApiVersion) -> None:
    # The fast encoder copies a mapped row's fields into every version's body as they are.
    spelled = {field: json_name(ContactInput, field, version) for field in CONTACT_FIELDS}
    assert spelled == dict(CONTACT_FIELDS)


CHANGED = datetime(2024, 5, 1, 10, tzinfo=UTC)
CHANNEL = ChannelState("subscribed", CHANGED)
CONSENT = Consent(source="form", created_at=CHANGED, ip="192.0.2.1", user_agent="Mozilla/5.0")
FIELDS: dict[str, Any] = {
    "firstName": "Ann",
    "postalCode": "01001",
    "country": "Lithuania",
    "countryCode": "LT",
    "birthdate": "1990-02-03",
    "tags": ["vip"],
    "customProperties": {"sizes": ["M", "L"], "points": 3},
}


@pytest.mark.parametrize("version", API_VERSIONS)
@pytest.mark.parametrize(
    ("channel", "consent", "phone", "welcome"),
    [(None, None, None, False), (CHANNEL, CONSENT, "+37060012345", True)],
)
def test_the_fast_encoder_writes_the_converters_bytes(
    version: ApiVersion,
    channel: ChannelState | None,
    consent: Consent | None,
    phone: str | None,
    welcome: bool,
) -> None:
    identifiers = [
        Identifier(
            type="email",
            id="ann@example.com",
            channels={"email": channel} if channel else None,
            consent=consent,
            send_welcome_message=welcome,
        )
    ]
    if phone is not None:
        identifiers.append(Identifier(type="phone", id=phone, send_welcome_message=welcome))
    contact = ContactInput(identifiers=tuple(identifiers), **contact_fields(FIELDS))
    fast = CONTACT_ENCODERS[version]("ann@example.com", FIELDS, (welcome, channel, consent, phone))
    assert _json.dumps(fast) == _json.dumps(contact_to_json(contact, version))


def test_contact_fields_are_the_inverse_of_their_json() -> None:
    assert contact_fields(FIELDS) == {
        "first_name": "Ann",
        "postal_code": "01001",
        "country": "Lithuania",
        "country_code": "LT",
        "birthdate": date(1990, 2, 3),
        "tags": ("vip",),
        "custom_properties": {"sizes": ("M", "L"), "points": 3},
    }


@pytest.mark.skipif(_json.orjson is None, reason="the stdlib encoder's bytes are their size")
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the resident size")
def test_encoded_bodies_kept_in_numbers_hold_only_their_size() -> None:
    # orjson hands over its whole write buffer (about 4 KB) as the bytes: 100,000 short bodies
    # kept held about 390 MB; their text is 25 MB. Measured in a fresh process.
    code = (
        "from omnisend_sdk import _json\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "body = {'identifiers': [{'type': 'email', 'id': 'ann@example.com'}], 'city': 'x' * 186}\n"
        "before = rss()\n"
        "kept = [_json.dumps(body) for _ in range(100_000)]\n"
        "print(len(kept[0]), rss() - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    size, grown_mb = done.stdout.split()
    assert int(size) == 253
    assert float(grown_mb) < 100  # 100,000 x (253 bytes and a bytes object's header): about 30
