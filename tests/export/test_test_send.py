"""send_test_profile(): one profile to Omnisend, and Omnisend's own answer back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omnisend_sdk import ConfigurationError, PrivacyAcknowledgementError, send_test_profile
from omnisend_sdk.testing import Fault, OmnisendEmulator
from tests.export.conftest import MAPPING, make_client, segment_rows


def test_the_first_clean_row_is_sent_and_omnisend_answers(
    emulator: OmnisendEmulator, client: Any
) -> None:
    rows = [{"Email": "broken", "First": "", "Last": "", "Country": ""}, *segment_rows(3)]

    sent = send_test_profile(rows, MAPPING, client=client)

    assert sent.ok
    assert sent.row == 1  # row 0 has no valid email
    assert sent.result is not None
    assert sent.result.created
    assert sent.request is not None
    assert sent.request["identifiers"][0] == {
        "type": "email",
        "id": "person0@example.com",
        "sendWelcomeMessage": False,
    }
    assert [c["email"] for c in emulator.contacts()] == ["person0@example.com"]
    assert str(sent) == f"row 1: Omnisend created contact {sent.result.contact.id}"


@pytest.mark.parametrize(
    ("selector", "row"), [({"row": 2}, 2), ({"email": " PERSON1@example.com"}, 1)]
)
def test_a_chosen_row_is_sent(client: Any, selector: dict[str, Any], row: int) -> None:
    sent = send_test_profile(segment_rows(3), MAPPING, client=client, **selector)
    assert (sent.row, sent.ok) == (row, True)


def test_a_row_the_mapper_rejects_is_not_sent(emulator: OmnisendEmulator, client: Any) -> None:
    rows = [{"Email": "nobody-at-example.com", "First": "", "Last": "", "Country": ""}]

    sent = send_test_profile(rows, MAPPING, client=client, row=0)

    assert not sent.ok
    assert sent.request is None
    assert [i.code for i in sent.issues] == ["invalid_email"]
    assert emulator.requests == []


def test_omnisends_refusal_comes_back(emulator: OmnisendEmulator, client: Any) -> None:
    emulator.inject(Fault.server_error(502), method="POST", path="/contacts", times=10)

    sent = send_test_profile(segment_rows(1), MAPPING, client=client)

    assert not sent.ok
    assert sent.error is not None
    assert sent.error.status_code == 502


def test_nothing_to_send_is_a_clear_error(client: Any) -> None:
    with pytest.raises(ConfigurationError, match="no row 9"):
        send_test_profile(segment_rows(3), MAPPING, client=client, row=9)


def test_a_remote_store_needs_the_acknowledgement(
    emulator: OmnisendEmulator, tmp_path: Path
) -> None:
    remote = make_client(emulator, base_url="https://api.omnisend.com/api")
    with remote, pytest.raises(PrivacyAcknowledgementError):
        send_test_profile(segment_rows(1), MAPPING, client=remote, state_dir=tmp_path)
    assert emulator.requests == []
